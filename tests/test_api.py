"""Both estimators inside scikit-learn: cloning, pickling, pipelines, search,
reproducibility, devices, and clear errors for bad input."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler
from sklearn.utils._param_validation import InvalidParameterError

from skae import AutoencoderOutlierDetector, AutoencoderTransformer

from .conftest import TINY

ESTIMATORS = [AutoencoderTransformer, AutoencoderOutlierDetector]


@pytest.fixture(params=ESTIMATORS, ids=lambda cls: cls.__name__)
def estimator(request):
    return request.param(**TINY)


def _outputs(estimator, X):
    """Everything a fitted estimator computes from X."""
    outputs = [estimator.score_samples(X)]
    if hasattr(estimator, "transform"):
        outputs.append(estimator.transform(X))
    else:
        outputs.append(estimator.predict(X))
    return outputs


def test_init_only_stores_arguments():
    params = {"n_components": 5, "hidden_layer_sizes": (3, 2), "random_state": 7}
    for cls in ESTIMATORS:
        estimator = cls(**params)
        assert {k: getattr(estimator, k) for k in params} == params
        assert not any(key.endswith("_") for key in vars(estimator))


def test_clone_and_set_params_after_fit(estimator, digits):
    X = digits[0][:60]
    estimator.fit(X)
    clone_ = clone(estimator)
    assert not hasattr(clone_, "net_")
    assert clone_.get_params() == estimator.get_params()
    estimator.set_params(n_components=3, hidden_layer_sizes=(5,))
    assert estimator.get_params()["n_components"] == 3
    # New parameters take effect at the next fit.
    assert estimator.fit(X).score_samples(X).shape == (60,)
    assert estimator.net_.module_.encoder[0].out_features == 5


def test_pickle_round_trip_gives_equal_outputs(estimator, digits):
    X = digits[0][:60]
    estimator.fit(X)
    restored = pickle.loads(pickle.dumps(estimator))
    for before, after in zip(
        _outputs(estimator, X), _outputs(restored, X), strict=True
    ):
        np.testing.assert_array_equal(before, after)


def test_same_random_state_gives_identical_models(estimator, digits):
    X = digits[0][:100]
    first = _outputs(clone(estimator).fit(X), X)
    second = _outputs(clone(estimator).fit(X), X)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    other = _outputs(clone(estimator).set_params(random_state=1).fit(X), X)
    assert not np.array_equal(first[0], other[0])


def test_fit_leaves_global_state_alone(estimator, digits):
    torch_state = torch.get_rng_state()
    numpy_state = np.random.get_state()[1].copy()
    threads = torch.get_num_threads()
    estimator.set_params(random_state=None).fit(digits[0][:60])
    assert torch.equal(torch_state, torch.get_rng_state())
    np.testing.assert_array_equal(numpy_state, np.random.get_state()[1])
    assert torch.get_num_threads() == threads


def test_pipeline_and_cross_val_score(estimator, digits):
    X = digits[0][:120] * 16
    pipe = make_pipeline(MinMaxScaler(), estimator)
    if isinstance(estimator, AutoencoderTransformer):
        assert pipe.fit_transform(X).shape == (120, 2)
        scores = cross_val_score(pipe, X, cv=3)
        assert scores.shape == (3,) and np.all(scores < 0)
    else:
        assert set(pipe.fit_predict(X)) <= {-1, 1}


def test_grid_search_in_parallel(digits):
    # Scored by AutoencoderTransformer.score (minus reconstruction error),
    # across two worker processes: estimators must pickle and carry no
    # global state.
    X = digits[0][:150]
    search = GridSearchCV(
        AutoencoderTransformer(max_iter=15, tol=0, random_state=0),
        {
            "n_components": [1, 8],
            "hidden_layer_sizes": [(16,), (32, 16)],
            "learning_rate_init": [1e-3, 1e-2],
        },
        cv=2,
        n_jobs=2,
    ).fit(X)
    assert search.best_params_["n_components"] == 8
    assert search.best_estimator_.transform(X).shape == (150, 8)


@pytest.mark.parametrize(
    "X, message",
    [
        (np.array([[0.0, np.nan], [1.0, 2.0]]), "NaN"),
        (np.array([[0.0, np.inf], [1.0, 2.0]]), "infinity"),
        (np.empty((0, 3)), "0 sample"),
        (np.arange(5.0), "Expected 2D array"),
        (np.array([["a", "b"], ["c", "d"]], dtype=object), "could not convert"),
    ],
    ids=["nan", "inf", "empty", "1d", "strings"],
)
def test_bad_training_data_is_rejected(estimator, X, message):
    with pytest.raises(ValueError, match=message):
        estimator.fit(X)


def test_wrong_feature_count_after_fit(estimator, digits):
    estimator.fit(digits[0][:50])
    with pytest.raises(ValueError, match="X has 10 features, but .* is expecting 64"):
        estimator.score_samples(digits[0][:5, :10])


def test_not_fitted(estimator, digits):
    with pytest.raises(NotFittedError):
        estimator.score_samples(digits[0][:5])


def test_bce_needs_data_in_unit_interval(estimator, digits):
    estimator.set_params(loss="bce")
    with pytest.raises(ValueError, match=r"loss='bce'.*\[0, 1\].*MinMaxScaler"):
        estimator.fit(digits[0][:50] * 16)
    estimator.fit(digits[0][:50])
    with pytest.raises(ValueError, match=r"loss='bce'"):
        estimator.score_samples(digits[0][:5] - 1)


@pytest.mark.parametrize(
    "params",
    [
        {"n_components": 0},
        {"activation": "swish"},
        {"loss": "cross_entropy"},
        {"optimizer": "lbfgs"},
        {"learning_rate_init": 0},
        {"validation_fraction": 1.0},
        {"batch_size": 0},
    ],
)
def test_invalid_parameters(estimator, params, digits):
    with pytest.raises(InvalidParameterError):
        estimator.set_params(**params).fit(digits[0][:20])


def test_invalid_hidden_layer_sizes(estimator, digits):
    with pytest.raises(ValueError, match="hidden_layer_sizes must hold positive"):
        estimator.set_params(hidden_layer_sizes=(8, 0)).fit(digits[0][:20])


def test_invalid_contamination(digits):
    with pytest.raises(InvalidParameterError, match="contamination"):
        AutoencoderOutlierDetector(contamination=0.7).fit(digits[0][:20])


def test_divergence_raises_instead_of_returning_nan_model(estimator, digits):
    X = digits[0][:100] * 1e6
    estimator.set_params(activation="relu", optimizer="sgd", learning_rate_init=10.0)
    with pytest.raises(ValueError, match="diverged.*learning_rate_init.*scale"):
        estimator.fit(X)
    assert not hasattr(estimator, "net_")


def test_divergence_in_partial_fit_keeps_previous_weights(digits):
    X = digits[0][:100]
    ae = AutoencoderTransformer(**TINY).partial_fit(X)
    before = ae.transform(X)
    ae.set_params(learning_rate_init=1e10)
    with pytest.raises(ValueError, match="diverged"):
        ae.partial_fit(X * 1e10)
    np.testing.assert_array_equal(ae.transform(X), before)
    assert ae.n_iter_ == 1


def test_unavailable_or_invalid_device(estimator, digits, monkeypatch):
    with pytest.raises(ValueError, match="not a torch device"):
        estimator.set_params(device="gpu0").fit(digits[0][:20])
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="CUDA is not available"):
        estimator.set_params(device="cuda").fit(digits[0][:20])
    estimator.set_params(device="auto").fit(digits[0][:20])
    assert estimator.net_.device == "cpu"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_fit_matches_api_and_loads_on_cpu(estimator, digits, monkeypatch):
    X = digits[0][:200].astype(np.float32)
    estimator.set_params(device="cuda").fit(X)
    assert next(estimator.net_.module_.parameters()).is_cuda
    outputs = _outputs(estimator, X)
    blob = pickle.dumps(estimator)
    # Unpickling where CUDA is missing maps the weights to the CPU.
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(UserWarning, match="CUDA"):
        restored = pickle.loads(blob)
    assert restored.net_.device == "cpu"
    for a, b in zip(outputs, _outputs(restored, X), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
