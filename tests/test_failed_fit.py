"""A fit that fails leaves the estimator as it was before the call."""

import pickle

import numpy as np
import pytest
import torch

from skae import AutoencoderOutlierDetector, AutoencoderTransformer
from skae._training import _AutoencoderNet

from .conftest import TINY


class _Boom(RuntimeError):
    pass


def _state(model, X):
    outputs = [model.score_samples(X), model.n_iter_, list(model.loss_curve_)]
    if hasattr(model, "offset_"):
        outputs.append(model.offset_)
    return outputs


@pytest.mark.parametrize("cls", [AutoencoderTransformer, AutoencoderOutlierDetector])
@pytest.mark.parametrize("how", ["fit", "warm_start", "partial_fit"])
def test_an_error_mid_epoch_leaves_the_model_as_it_was(cls, how, digits, monkeypatch):
    # The reproduction: an exception other than ValueError mid-epoch
    # left a half-written history row, and every later fit raised KeyError.
    X = digits[0][:96]
    model = cls(warm_start=how == "warm_start", **TINY).fit(X)
    before = _state(model, X)
    net_before = model.net_
    step = _AutoencoderNet.train_step_single
    calls = {"n": 0}
    # 6 batches an epoch: fail in the second epoch of a fit, after a whole
    # epoch's history row, and within the one epoch of partial_fit.
    failing_batch = 3 if how == "partial_fit" else 8

    def failing_step(self, batch, **fit_params):
        calls["n"] += 1
        if calls["n"] == failing_batch:
            raise _Boom("CUDA out of memory (simulated)")
        return step(self, batch, **fit_params)

    monkeypatch.setattr(_AutoencoderNet, "train_step_single", failing_step)
    with pytest.raises(_Boom):
        if how == "partial_fit":
            model.partial_fit(X)
        else:
            model.fit(X)
    assert model.net_ is net_before
    for a, b in zip(_state(model, X), before, strict=True):
        np.testing.assert_array_equal(a, b)
    monkeypatch.setattr(_AutoencoderNet, "train_step_single", step)
    # Later fits work.
    model.partial_fit(X)
    assert model.n_iter_ == before[1] + 1
    model.fit(X)


class _Fragile(torch.nn.Module):
    """A custom module whose encoder fails once ``broken`` is set."""

    broken = False

    def __init__(self, n_features, n_components):
        super().__init__()
        self.encoder = torch.nn.Linear(n_features, n_components)
        self.decode = torch.nn.Linear(n_components, n_features)

    def encode(self, x):
        if self.broken and self.training:
            raise RuntimeError("bug in the user's module")
        return self.encoder(x)


def test_an_error_in_a_custom_module_leaves_the_model_as_it_was(digits, monkeypatch):
    X = digits[0][:60]
    model = AutoencoderTransformer(module=_Fragile, **TINY).fit(X)
    before = pickle.loads(pickle.dumps(model))
    monkeypatch.setattr(_Fragile, "broken", True, raising=False)
    with pytest.raises(RuntimeError, match="user's module"):
        model.partial_fit(X)
    assert model.n_iter_ == before.n_iter_
    np.testing.assert_array_equal(model.transform(X), before.transform(X))
