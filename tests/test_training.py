"""Training controls: epochs, stopping rules, early stopping, divergence,
interrupts, verbosity and seeding."""

import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning

from skae import AutoencoderOutlierDetector, AutoencoderTransformer
from skae._training import _AutoencoderNet, _seeded

from .conftest import TINY


def test_history_attributes(digits):
    X = digits[0][:60]
    ae = AutoencoderTransformer(**{**TINY, "max_iter": 4, "tol": 0}).fit(X)
    assert ae.n_features_in_ == 64
    assert ae.n_iter_ == 4
    assert ae.loss_curve_ == [row["train_loss"] for row in ae.net_.history]
    assert ae.validation_scores_ is None


def test_loss_decreases_with_training(digits):
    X = digits[0][:500]
    ae = AutoencoderTransformer(max_iter=30, tol=0, random_state=0).fit(X)
    assert ae.loss_curve_[-1] < 0.5 * ae.loss_curve_[0]


def test_max_iter_reached_warns_convergence(digits):
    with pytest.warns(ConvergenceWarning, match="Maximum iterations \\(3\\)"):
        AutoencoderTransformer(**TINY).fit(digits[0][:50])


def test_detector_budget_raises_no_convergence_warning(digits):
    # The detector's max_iter is a budget, not a convergence limit.
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        AutoencoderOutlierDetector(**TINY).fit(digits[0][:50])


def test_stops_when_training_loss_plateaus(digits):
    # A huge tol means no epoch ever counts as an improvement after the
    # first, so training stops after 1 + n_iter_no_change epochs.
    X = digits[0][:100]
    ae = AutoencoderTransformer(tol=10.0, n_iter_no_change=2, **TINY)
    ae.set_params(max_iter=50).fit(X)
    assert ae.n_iter_ == 3


def test_early_stopping_restores_best_weights(digits):
    X = digits[0][:300]
    ae = AutoencoderTransformer(
        early_stopping=True, n_iter_no_change=3, max_iter=100, random_state=0
    ).fit(X)
    assert ae.n_iter_ < 100
    assert len(ae.validation_scores_) == ae.n_iter_
    # The model ends at the best validation epoch, not the last one.
    best = int(np.argmax(ae.validation_scores_))
    assert best < ae.n_iter_ - 1
    history = ae.net_.history
    assert history[best, "valid_loss"] == pytest.approx(-max(ae.validation_scores_))


def test_early_stopping_holds_out_validation_fraction(digits):
    X = digits[0][:200]
    ae = AutoencoderTransformer(
        early_stopping=True, validation_fraction=0.25, **TINY
    ).fit(X)
    split = ae.net_.train_split(ae.net_.get_dataset(X))
    assert len(split[1]) == 50


def test_verbose_prints_one_line_per_epoch(digits, capsys):
    X = digits[0][:50]
    AutoencoderTransformer(**TINY).fit(X)
    assert capsys.readouterr().out == ""
    AutoencoderTransformer(verbose=1, early_stopping=True, **TINY).fit(X)
    out = capsys.readouterr().out
    assert "train_loss" in out and "valid_loss" in out and "dur" in out
    epoch_lines = [line for line in out.splitlines() if line.strip()[:1].isdigit()]
    assert len(epoch_lines) == 3


@pytest.mark.parametrize(
    "estimator", [AutoencoderTransformer, AutoencoderOutlierDetector]
)
def test_divergence_raises_instead_of_returning_nan_model(estimator, digits):
    X = digits[0][:100] * 1e6
    model = estimator(
        activation="relu", optimizer="sgd", learning_rate_init=10.0, **TINY
    )
    with pytest.raises(ValueError, match="diverged.*learning_rate_init.*scale"):
        model.fit(X)
    assert not hasattr(model, "net_")


def test_keyboard_interrupt_keeps_a_usable_model(digits, monkeypatch):
    # Ctrl-C during fit: skorch ends training cleanly; skae warns and keeps
    # the best weights reached so far.
    X = digits[0][:200]
    run_single_epoch = _AutoencoderNet.run_single_epoch
    calls = {"train": 0}

    def interrupt_third_epoch(self, iterator, training, prefix, step_fn, **kwargs):
        if training:
            calls["train"] += 1
            if calls["train"] == 3:
                raise KeyboardInterrupt
        return run_single_epoch(self, iterator, training, prefix, step_fn, **kwargs)

    monkeypatch.setattr(_AutoencoderNet, "run_single_epoch", interrupt_third_epoch)
    ae = AutoencoderTransformer(early_stopping=True, max_iter=50, random_state=0)
    with pytest.warns(UserWarning, match="interrupted after 2 of 50 epochs"):
        ae.fit(X)
    assert ae.n_iter_ == 2
    assert np.all(np.isfinite(ae.score_samples(X)))


def test_seeded_is_reproducible_and_restores_global_state():
    state = torch.get_rng_state()
    with _seeded(3, torch.device("cpu")):
        first = torch.rand(3)
    with _seeded(3, torch.device("cpu")):
        second = torch.rand(3)
    torch.testing.assert_close(first, second)
    assert torch.equal(state, torch.get_rng_state())
