"""Is a run learning? The warnings fit() emits while training, and its verdict at the end.

A TinyVGG starts with logits near zero: a test loss of about ln 10 = 2.303 and 10% accuracy,
chance for ten classes (ln k and 100/k % for k classes; the thresholds below are for ten and
scale with k). A run that ends there, or above that loss, or with nearly every image
put in one class, has not learned, whatever it says about finishing; the verdict names why in
plain words and what to try, and the app keeps such a model out of the way.
"""

from __future__ import annotations

import math
from typing import Any

CHANCE_LOSS = math.log(10)  # cross-entropy of a uniform guess over 10 classes: 2.3026
CHANCE_ACC = 10.0  # percent, a guess among ten classes
MIN_STEPS_BEFORE_WARNING = 100  # the first steps of any run sit near chance
FAILED_BELOW_ACC = 20.0  # test accuracy (%) under which a finished run has not learned
LOSS_MARGIN = 0.05  # a final test loss this far above CHANCE_LOSS: worse than a guess
TRY = "lower the learning rate, try Adam, or train on more images or for more epochs"


def chance(classes: int = 10) -> tuple[float, float]:
    """(cross-entropy, accuracy in percent) of a uniform guess among `classes` classes."""
    return math.log(classes), 100.0 / classes


def _above_chance(acc: float, classes: int) -> float:
    """The accuracy that lies as far above chance, for `classes` classes, as `acc` does for ten
    (the same share of the way from chance to 100%)."""
    guess = chance(classes)[1]
    return guess + (100.0 - guess) * (acc - CHANCE_ACC) / (100.0 - CHANCE_ACC)


def while_training(
    loss: float, acc: float, steps: int, lr: float, optimizer: str, seed: int, classes: int = 10
) -> str | None:
    """A sentence for a run that cannot learn as it stands, or None while it looks healthy."""
    if steps < MIN_STEPS_BEFORE_WARNING:
        return None
    chance_loss, _ = chance(classes)
    if not math.isfinite(loss) or loss > 10 * chance_loss:
        return (
            f"Training diverged (loss {loss:.3g}): learning rate {lr:g} is too large for this "
            "model; try a smaller one, or Adam."
        )
    if not (chance_loss - 0.02 <= loss <= chance_loss + 0.15) or acc > _above_chance(12.0, classes):
        return None
    name = {"sgd": "SGD", "adam": "Adam"}.get(optimizer, optimizer)
    return (
        f"Training is stuck at chance (loss {loss:.3f} ≈ ln {classes} = {chance_loss:.3f}, "
        f"accuracy {acc:.1f}%): "
        f"the first large {name} steps at lr {lr:g} pushed every ReLU to zero for seed {seed}, "
        "so no gradient flows and the model can only guess. Try another seed, a smaller "
        "learning rate (0.01), or Adam."
    )


def verdict(results: dict[str, Any], classes: int = 10) -> tuple[str, str] | None:
    """(a short label, a sentence saying why and what to try) for a run on `classes` classes
    that ended without learning, judged on the whole test set; None for a run that learned."""
    loss, acc = results["model_loss"], results["model_acc"]
    if not math.isfinite(loss):
        return "diverged", (
            "This run diverged: its loss became infinite or not a number, so the model is "
            f"broken. To fix it, {TRY}."
        )
    chance_loss, chance_acc = chance(classes)
    low = acc < _above_chance(FAILED_BELOW_ACC, classes)
    above = loss > chance_loss + LOSS_MARGIN
    if not (low or above):
        return None
    why = []
    if low:
        why.append(f"it gets {acc:.1f}% of the test images right, close to the "
                   f"{chance_acc:.0f}% of guessing")  # fmt: skip
    if above:
        why.append(f"its test loss ended at {loss:.2f}, above the {chance_loss:.2f} of a "
                   "model that guesses, so it is sure of wrong answers")  # fmt: skip
    label = "near chance" if low else "loss above chance"
    return label, f"This run did not learn: {'; '.join(why)}. To fix it, {TRY}."
