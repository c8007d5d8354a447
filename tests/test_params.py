"""Parameters: storing, getting, setting, cloning, and refusing bad values or
combinations before torch sees them."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError
from torch import nn

from skae import AutoencoderOutlierDetector, AutoencoderTransformer

from .conftest import TINY

ESTIMATORS = [AutoencoderTransformer, AutoencoderOutlierDetector]


class _Linear(nn.Module):
    """A custom module with one extra argument."""

    def __init__(self, n_features, n_components, channels=2):
        super().__init__()
        self.encode = nn.Linear(n_features, n_components)
        self.decode = nn.Linear(n_components, n_features)
        self.channels = channels


def _network(model):
    """The fitted torch network, or the first of an ensemble's."""
    module = model.net_.module_
    return module.members[0] if hasattr(module, "members") else module


@pytest.fixture(params=ESTIMATORS, ids=lambda cls: cls.__name__)
def estimator(request):
    return request.param(**TINY)


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
    assert _network(estimator).encoder[0].out_features == 5


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_module_arguments_in_the_constructor_round_trip(cls, digits):
    # As skorch users type them: module__<name> in the constructor.
    model = cls(module=_Linear, module__channels=3, **TINY)
    assert model.get_params()["module__channels"] == 3
    assert model.get_params(deep=False)["module__channels"] == 3
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    assert "module__channels=3" in repr(model)
    model.set_params(module__channels=5)
    assert model.get_params()["module__channels"] == 5
    model.fit(digits[0][:40])
    assert _network(model).channels == 5


def test_module_arguments_take_precedence_over_module_params(digits):
    model = AutoencoderTransformer(
        module=_Linear, module_params={"channels": 4}, module__channels=6, **TINY
    ).fit(digits[0][:40])
    assert model.net_.module_.channels == 6
    assert model.module_params == {"channels": 4}  # parameters are not changed


def test_module_params_through_set_params_and_a_pipeline(digits):
    params = {"channels": 4}
    model = AutoencoderTransformer(module=_Linear, module_params=params)
    assert "module__channels" not in model.get_params()
    pipe = make_pipeline(model).set_params(autoencodertransformer__module__channels=2)
    assert pipe[-1].get_params()["module__channels"] == 2
    assert params == {"channels": 4}  # the given dict is not modified
    pipe.set_params(autoencodertransformer__max_iter=1).fit(digits[0][:40])
    assert pipe[-1].net_.module_.channels == 2


def test_unknown_keyword_arguments_are_refused():
    with pytest.raises(TypeError, match="unexpected keyword argument 'hidden'"):
        AutoencoderTransformer(hidden=(3,))
    with pytest.raises(ValueError, match="Invalid parameter 'hidden'"):
        AutoencoderTransformer().set_params(hidden=(3,))


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


@pytest.mark.parametrize("sizes", [(8, 0), (True,), (2.5,), ("8",), (-1,)])
def test_invalid_hidden_layer_sizes(estimator, digits, sizes):
    with pytest.raises(ValueError, match="hidden_layer_sizes must hold positive"):
        estimator.set_params(hidden_layer_sizes=sizes).fit(digits[0][:20])


def test_invalid_contamination(digits):
    with pytest.raises(InvalidParameterError, match="contamination"):
        AutoencoderOutlierDetector(contamination=0.7).fit(digits[0][:20])


class _NoDecode(nn.Module):
    def __init__(self, n_features):
        super().__init__()
        self.encode = nn.Linear(n_features, 2)


@pytest.mark.parametrize(
    "params, n_samples, message",
    [
        ({"noise": "masking", "noise_level": 1.0}, 20, "below 1"),
        ({"variational": True, "sparsity": 0.1}, 20, "sparsity does not combine"),
        ({"module_params": {"channels": 2}}, 20, "module=None"),
        ({"module": _Linear, "variational": True}, 20, "variational head"),
        ({"module": _NoDecode}, 20, r"must define encode\(x\) and decode\(z\)"),
        ({"module": dict}, 20, "torch.nn.Module subclass"),
        ({"module": _Linear, "dropout": 0.1}, 20, "dropout and batch_norm"),
        ({"module": _Linear, "sparsity": 0.2}, 20, "build sparse codes into"),
        (
            {"module": _Linear, "module_params": {"n_components": 3}},
            20,
            "must not set n_components",
        ),
        ({"module": _Linear, "module__n_features": 3}, 20, "must not set n_features"),
        ({"batch_norm": True}, 1, "at least 2 training samples.*got 1 sample"),
        ({"batch_norm": True, "batch_size": 1}, 20, "batch_size >= 2"),
        (
            {"batch_norm": True, "early_stopping": True},
            2,
            "got 1 sample after the early-stopping split",
        ),
        ({"early_stopping": True}, 1, "leaves no training row"),
    ],
)
def test_nonsense_combinations_fail_before_torch(
    estimator, digits, params, n_samples, message
):
    estimator.set_params(**params)
    with pytest.raises(ValueError, match=message):
        estimator.fit(digits[0][:n_samples])


def test_repr_shows_changed_parameters_only():
    assert repr(AutoencoderTransformer(n_components=3)) == (
        "AutoencoderTransformer(n_components=3)"
    )
    assert np.isscalar(AutoencoderOutlierDetector().get_params()["contamination"])
