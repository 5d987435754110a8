"""Calibration: ECE by its definition, and a temperature that really minimises the NLL."""

import pytest
import torch

from tinyvgg.calibration import (
    T_RANGE,
    UNSURE_BELOW,
    calibrated,
    ece,
    fit_temperature,
    is_unsure,
    logits_of,
    nll,
    temperature_of,
)


def test_ece_by_hand():
    # two bins used: 0.95 (right, wrong) and 0.55 (right); 15 bins of width 1/15
    probs = torch.tensor([[0.95, 0.05], [0.95, 0.05], [0.55, 0.45]])
    labels = torch.tensor([0, 1, 0])
    want = (2 / 3) * abs(0.95 - 0.5) + (1 / 3) * abs(0.55 - 1.0)
    assert ece(probs, labels) == pytest.approx(want, abs=1e-6)
    assert ece(torch.eye(4), torch.arange(4)) == 0.0  # sure and right: calibrated


def test_fitted_temperature_minimises_the_nll_and_keeps_the_answers():
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 10, (2000,), generator=g)
    logits = torch.randn(2000, 10, generator=g)
    logits[torch.arange(2000), labels] += 2.0  # right more often than not...
    sharp = logits * 4.0  # ...but far too sure of it
    t = fit_temperature(sharp, labels)
    assert t == pytest.approx(4.0 * fit_temperature(logits, labels), rel=1e-4)  # undone exactly
    for other in (t * 0.9, t * 1.1, 1.0):
        assert nll(sharp, labels, t) <= nll(sharp, labels, other)
    before = ece(calibrated(sharp), labels)
    after = ece(calibrated(sharp, t), labels)
    assert after < before / 2
    assert torch.equal(calibrated(sharp, t).argmax(1), sharp.argmax(1))
    torch.testing.assert_close(calibrated(sharp, t).sum(1), torch.ones(2000))


def test_temperature_of_reads_a_checkpoints_number_or_gives_one():
    assert temperature_of({"temperature": 1.7}) == 1.7
    for bad in (None, {}, {"temperature": 0}, {"temperature": -2.0}, {"temperature": "2"},
                {"temperature": float("nan")}, {"temperature": float("inf")},
                {"temperature": True}):  # fmt: skip
        assert temperature_of(bad) == 1.0


def test_unsure_below_the_threshold_only():
    assert is_unsure(torch.tensor([UNSURE_BELOW - 0.01, 0.3, 0.1]))
    assert not is_unsure(torch.tensor([UNSURE_BELOW, 0.3, 0.1]))


def test_logits_of_batches_like_one_pass_and_keeps_the_mode():
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 3)).train()
    x = torch.randn(7, 1, 2, 2)
    torch.testing.assert_close(logits_of(model, x, batch_size=3), model(x).detach())
    assert model.training


def test_fit_holds_images_out_and_stores_a_fitted_temperature(real_data):
    from tinyvgg.train import TrainConfig, fit

    cfg = TrainConfig(epochs=1, subset=1500, holdout=500, batch_size=16, clip_norm=2.0,
                      snapshots=0, log_every=1000, test_subset=500)  # fmt: skip
    starts = []
    r = fit(cfg, on_event=lambda e: starts.append(e) if e["kind"] == "start" else None,
            train=real_data[0], test=real_data[1])  # fmt: skip
    assert starts[0]["n_train"] == 1000  # the held-out images are not trained on
    res = r.results
    assert res["holdout_images"] == 500 and T_RANGE[0] < res["temperature"] < T_RANGE[1]
    assert 0 <= res["test_ece_calibrated"] <= 1 and 0 <= res["test_ece"] <= 1
    again = fit(cfg, train=real_data[0], test=real_data[1])
    assert again.results["temperature"] == res["temperature"]  # seeded: the same images, the same T
    assert "temperature" not in fit(TrainConfig(**{**cfg.__dict__, "holdout": 0}),
                                    train=real_data[0], test=real_data[1]).results  # fmt: skip
    with pytest.raises(ValueError, match="leaves none of the 1,500 to train on"):
        fit(TrainConfig(**{**cfg.__dict__, "holdout": 1500}), train=real_data[0],
            test=real_data[1])  # fmt: skip
