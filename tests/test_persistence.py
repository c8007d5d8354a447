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

import skae._base
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


def _crafted(fitted, **spec_changes):
    """The saved state of ``fitted`` with its net spec changed."""
    state = fitted.__getstate__()
    spec = state["_net_spec_"]
    kwargs = spec_changes.pop("module_kwargs", {})
    state["_net_spec_"] = {
        **spec,
        **spec_changes,
        "module_kwargs": {**spec["module_kwargs"], **kwargs},
    }
    return state


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"module": np.add}, "not a torch.nn.Module subclass"),
        ({"module": int}, "not a torch.nn.Module subclass"),
        ({"module": print}, "not a torch.nn.Module subclass"),
        (
            {"module_kwargs": {"hidden_layer_sizes": (200_000, 200_000)}},
            "do not match the network",
        ),
        ({"module_kwargs": {"n_components": 7}}, "do not match the network"),
        ({"module_kwargs": {"activation": "os.system"}}, "cannot be built"),
        ({"module_kwargs": {"surprise": 1}}, "cannot be built"),
    ],
    ids=["ufunc", "int", "print", "huge-layers", "code-size", "activation", "kwarg"],
)
def test_a_crafted_state_is_refused_before_anything_is_built(
    fitted, changes, message, monkeypatch
):
    # What a crafted file can hold: a callable that is not a module class
    # (crafted files made skae call numpy.add and int while loading), or
    # layer sizes that would allocate far more than the saved weights (a
    # 200,000 x 200,000 layer is 160 GB). Both are refused before the
    # network is built.
    built = []
    monkeypatch.setattr("skae._persistence.build_net", lambda *args: built.append(args))
    loaded = type(fitted).__new__(type(fitted))
    with pytest.raises(ValueError, match=message):
        loaded.__setstate__(_crafted(fitted, **changes))
    assert built == []


@pytest.mark.parametrize(
    "changes",
    [
        {"module": np.add},
        {"module_kwargs": {"hidden_layer_sizes": (200_000, 200_000)}},
    ],
    ids=["ufunc", "huge-layers"],
)
def test_a_crafted_skops_file_is_refused(fitted, changes, monkeypatch):
    # The same through a file: skops either refuses the types, or skae
    # refuses the state, before anything is built.
    crafted = pickle.loads(pickle.dumps(fitted))
    crafted._net_spec_ = _crafted(fitted, **changes)["_net_spec_"]
    data = skops.io.dumps(crafted)
    monkeypatch.setattr(
        "skae._persistence.build_net", lambda *args: pytest.fail("built")
    )
    with pytest.raises((ValueError, skops.io.exceptions.UntrustedTypesFoundException)):
        skops.io.loads(data, trusted=TRUSTED_TYPES)


def test_the_saved_network_is_the_fitted_one_whatever_set_params_did(digits):
    # The reproduction: set_params after fit changed what loading
    # rebuilt: a VAE head that the weights lack, an SGD optimizer holding
    # Adam's state.
    X = digits[0][:100]
    model = AutoencoderTransformer(**_SMALL).fit(X)
    expected = model.score_samples(X)
    model.set_params(variational=True, optimizer="sgd", hidden_layer_sizes=(3,))
    for round_trip in ROUND_TRIPS.values():
        loaded = round_trip(model)
        assert_array_equal(loaded.score_samples(X), expected)
        assert type(loaded.net_.optimizer_).__name__ == "Adam"
    # The next fit follows the parameters: a cold fit builds the new network.
    loaded.fit(X)
    assert loaded.net_.module_.encoder[0].out_features == 3


def test_set_params_then_a_warm_fit_after_loading(digits):
    X = digits[0][:100]
    model = AutoencoderTransformer(warm_start=True, **_SMALL).fit(X)
    model.set_params(optimizer="sgd")
    loaded = pickle.loads(pickle.dumps(model))
    loaded.fit(X)  # raised KeyError: 'momentum' when SGD got Adam's state
    assert type(loaded.net_.optimizer_).__name__ == "SGD"
    assert loaded.n_iter_ == 2 * _SMALL["max_iter"]


def test_loading_with_another_skae_version_warns(digits, monkeypatch):
    blob = pickle.dumps(AutoencoderTransformer(**TINY).fit(digits[0][:30]))
    monkeypatch.setattr(skae._base, "__version__", "9.9.9")
    with pytest.warns(
        UserWarning, match=r"saved with skae \S+ and is loaded with skae 9\.9\.9"
    ):
        pickle.loads(blob)


def test_a_model_saved_on_a_gpu_loads_on_the_cpu(fitted, digits, monkeypatch):
    # The saved weights are NumPy arrays wherever the model trained; only the
    # device name is kept. Where it names a GPU this machine lacks, the model
    # loads on the CPU with skorch's DeviceWarning, as skorch's own unpickling
    # does. (A real GPU round trip runs in test_gpu_model_loads_on_cpu.)
    state = _crafted(fitted, device="cuda")
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
