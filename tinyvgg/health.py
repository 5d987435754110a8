"""Is a run learning? The warnings fit() emits while training, and its verdict at the end.

A TinyVGG starts with logits near zero: a test loss of about ln 10 = 2.303 and 10% accuracy,
chance for ten classes. A run that ends there, or above that loss, or with nearly every image
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


def while_training(
    loss: float, acc: float, steps: int, lr: float, optimizer: str, seed: int
) -> str | None:
    """A sentence for a run that cannot learn as it stands, or None while it looks healthy."""
    if steps < MIN_STEPS_BEFORE_WARNING:
        return None
    if not math.isfinite(loss) or loss > 10 * CHANCE_LOSS:
        return (
            f"Training diverged (loss {loss:.3g}): learning rate {lr:g} is too large for this "
            "model; try a smaller one, or Adam."
        )
    if not (CHANCE_LOSS - 0.02 <= loss <= CHANCE_LOSS + 0.15) or acc > 12.0:
        return None
    name = {"sgd": "SGD", "adam": "Adam"}.get(optimizer, optimizer)
    return (
        f"Training is stuck at chance (loss {loss:.3f} ≈ ln 10 = 2.303, accuracy {acc:.1f}%): "
        f"the first large {name} steps at lr {lr:g} pushed every ReLU to zero for seed {seed}, "
        "so no gradient flows and the model can only guess. Try another seed, a smaller "
        "learning rate (0.01), or Adam."
    )


def verdict(results: dict[str, Any]) -> tuple[str, str] | None:
    """(a short label, a sentence saying why and what to try) for a run that ended without
    learning, judged on the whole test set; None for a run that learned."""
    loss, acc = results["model_loss"], results["model_acc"]
    if not math.isfinite(loss):
        return "diverged", (
            "This run diverged: its loss became infinite or not a number, so the model is "
            f"broken. To fix it, {TRY}."
        )
    low, above = acc < FAILED_BELOW_ACC, loss > CHANCE_LOSS + LOSS_MARGIN
    if not (low or above):
        return None
    why = []
    if low:
        why.append(f"it gets {acc:.1f}% of the test images right, close to the "
                   f"{CHANCE_ACC:.0f}% of guessing")  # fmt: skip
    if above:
        why.append(f"its test loss ended at {loss:.2f}, above the {CHANCE_LOSS:.2f} of a "
                   "model that guesses, so it is sure of wrong answers")  # fmt: skip
    label = "near chance" if low else "loss above chance"
    return label, f"This run did not learn: {'; '.join(why)}. To fix it, {TRY}."
