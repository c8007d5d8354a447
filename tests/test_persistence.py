"""Saving and loading fitted estimators: pickle, joblib and skops."""

import io
import pickle
import warnings

import joblib
import numpy as np
import pytest
import skops.io
import torch
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch.exceptions import DeviceWarning

from skae import AutoencoderOutlierDetector, AutoencoderTransformer
from skae._io import TRUSTED_TYPES

from .conftest import TINY


def _joblib_round_trip(model):
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    buffer.seek(0)
    return joblib.load(buffer)


def _skops_round_trip(model):
    return skops.io.loads(skops.io.dumps(model), trusted=TRUSTED_TYPES)


ROUND_TRIPS = {
    "pickle": lambda model: pickle.loads(pickle.dumps(model)),
    "joblib": _joblib_round_trip,
    "skops": _skops_round_trip,
}

# Batches of 100 rows: a few steps per epoch keep each fit well under a
# second, even on a busy machine.
_SMALL = {**TINY, "batch_size": 100}
ESTIMATORS = [
    AutoencoderTransformer(n_components=3, **_SMALL),
    AutoencoderOutlierDetector(early_stopping=True, contamination=0.05, **_SMALL),
    # The family's state: batch-norm buffers, dropout and noise during
    # training, the VAE's second encoder head.
    AutoencoderTransformer(
        variational=True, batch_norm=True, dropout=0.1, loss="bce", **_SMALL
    ),
    AutoencoderOutlierDetector(noise="gaussian", sparsity=0.01, **_SMALL),
]

ESTIMATOR_IDS = ["transformer", "detector", "vae", "denoising-detector"]


def _outputs(model, X):
    """Every output of a fitted model on X."""
    names = ["score_samples", "transform", "decision_function", "predict"]
    outputs = {name: getattr(model, name)(X) for name in names if hasattr(model, name)}
    if hasattr(model, "transform"):
        outputs["inverse_transform"] = model.inverse_transform(outputs["transform"])
    return outputs


@pytest.fixture(scope="module", params=ESTIMATORS, ids=ESTIMATOR_IDS)
def fitted(request, digits):
    return clone(request.param).fit(digits[0][:300])


@pytest.mark.parametrize("round_trip", ROUND_TRIPS.values(), ids=ROUND_TRIPS.keys())
def test_round_trip_reproduces_outputs_exactly(fitted, round_trip, digits):
    X = digits[0][300:400]
    loaded = round_trip(fitted)
    for name, expected in _outputs(fitted, X).items():
        assert_array_equal(_outputs(loaded, X)[name], expected, err_msg=name)
    for attribute in ["n_iter_", "loss_curve_", "validation_scores_", "offset_"]:
        assert getattr(loaded, attribute, None) == getattr(fitted, attribute, None)
    assert loaded.get_params() == fitted.get_params()


@pytest.mark.parametrize("round_trip", ROUND_TRIPS.values(), ids=ROUND_TRIPS.keys())
def test_training_continues_as_if_never_saved(fitted, round_trip, digits):
    # The optimizer state, the history and the seed come back too, so one
    # more epoch gives the same weights with or without a save in between.
    X = digits[0][:300]
    loaded = round_trip(fitted)
    original = pickle.loads(pickle.dumps(fitted))  # leave the fixture as is
    original.partial_fit(X)
    loaded.partial_fit(X)
    assert loaded.n_iter_ == original.n_iter_
    assert_array_equal(loaded.score_samples(X), original.score_samples(X))


def test_skops_needs_to_trust_only_the_skae_class(fitted):
    # The documented trusted list is all a skae model needs, bare or in a
    # Pipeline: the network is saved as NumPy arrays, not as a nested pickle.
    expected = [f"{type(fitted).__module__}.{type(fitted).__name__}"]
    assert expected[0] in TRUSTED_TYPES
    assert skops.io.get_untrusted_types(data=skops.io.dumps(fitted)) == expected
    pipeline = make_pipeline(StandardScaler(), fitted)
    assert skops.io.get_untrusted_types(data=skops.io.dumps(pipeline)) == expected


def test_skops_refuses_an_untrusted_load(fitted):
    with pytest.raises(skops.io.exceptions.UntrustedTypesFoundException):
        skops.io.loads(skops.io.dumps(fitted))


def test_unfitted_estimator_round_trips(digits):
    loaded = _skops_round_trip(AutoencoderTransformer(**TINY))
    assert not hasattr(loaded, "net_")
    assert loaded.fit(digits[0][:50]).transform(digits[0][:5]).shape == (5, 2)


def test_loading_leaves_torch_random_state_alone(fitted):
    # Rebuilding the network draws initial weights; that must not shift the
    # random numbers the user's own code gets next.
    data = skops.io.dumps(fitted)
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    skops.io.loads(data, trusted=TRUSTED_TYPES)
    assert torch.equal(torch.rand(3), expected)


def test_saved_state_holds_no_objects(fitted):
    # What pickle and skops save for the network: containers of numbers,
    # strings and arrays, which a secure loader can check.
    def plain(value):
        if isinstance(value, dict):
            return all(isinstance(k, str | int) and plain(v) for k, v in value.items())
        if isinstance(value, list | tuple):
            return all(plain(item) for item in value)
        return isinstance(value, bool | int | float | str | np.ndarray | type(None))

    assert plain(fitted.__getstate__()["net_"])


def test_a_crafted_state_cannot_swap_the_network_classes(fitted):
    state = fitted.__getstate__()
    state["net_"]["params"].update(module="builtins.print", callbacks="x")
    loaded = type(fitted).__new__(type(fitted))
    loaded.__setstate__(state)
    assert loaded.net_.module is type(fitted.net_.module_)
    assert_array_equal(
        loaded.score_samples(np.zeros((1, 64))), fitted.score_samples(np.zeros((1, 64)))
    )


def test_a_model_saved_on_a_gpu_loads_on_the_cpu(fitted, digits, monkeypatch):
    # The saved weights are NumPy arrays wherever the model trained; only the
    # device name is kept. Where it names a GPU this machine lacks, the model
    # loads on the CPU with skorch's DeviceWarning, as skorch's own unpickling
    # does. (A real GPU round trip runs in test_gpu_model_loads_on_cpu.)
    state = fitted.__getstate__()
    state["net_"]["params"]["device"] = "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    loaded = type(fitted).__new__(type(fitted))
    with pytest.warns(DeviceWarning, match="no CUDA devices"):
        loaded.__setstate__(state)
    assert loaded.net_.device == "cpu"
    X = digits[0][300:320]
    assert_array_equal(loaded.score_samples(X), fitted.score_samples(X))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_model_loads_on_cpu(digits, monkeypatch):
    X = digits[0][:200]
    model = AutoencoderTransformer(device="cuda", **TINY).fit(X)
    data = skops.io.dumps(model)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeviceWarning)
        loaded = skops.io.loads(data, trusted=TRUSTED_TYPES)
    assert loaded.net_.device == "cpu"
    np.testing.assert_allclose(loaded.transform(X), model.transform(X), atol=1e-5)


class CustomModule(torch.nn.Module):
    """A user's own network: one linear layer each way."""

    def __init__(self, n_features, n_components, scale=1.0):
        super().__init__()
        self.encoder = torch.nn.Linear(n_features, n_components)
        self.decoder = torch.nn.Linear(n_components, n_features)
        self.scale = scale

    def encode(self, x):
        return self.encoder(x) * self.scale

    def decode(self, z):
        return self.decoder(z)


def test_a_custom_module_is_one_more_type_to_trust(digits):
    # Loading builds the user's module class, so skops must be told to
    # trust it: the documented rule for custom modules.
    X = digits[0][:100]
    model = AutoencoderTransformer(
        module=CustomModule, module_params={"scale": 0.5}, **_SMALL
    ).fit(X)
    data = skops.io.dumps(model)
    module_type = f"{__name__}.CustomModule"
    assert skops.io.get_untrusted_types(data=data) == sorted(
        [module_type, "skae._transformer.AutoencoderTransformer"]
    )
    loaded = skops.io.loads(data, trusted=[*TRUSTED_TYPES, module_type])
    assert_array_equal(loaded.transform(X), model.transform(X))
