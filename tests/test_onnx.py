"""ONNX export: onnxruntime gives skae's results, for every built-in network."""

import subprocess
import sys

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from torch import nn

from skae import AutoencoderOutlierDetector, AutoencoderTransformer

skl2onnx = pytest.importorskip("skl2onnx")
onnxruntime = pytest.importorskip("onnxruntime")
pytest.importorskip("skae.onnx")

#: Small networks and few epochs: the export is judged, not the training.
_SMALL = {
    "hidden_layer_sizes": (8,),
    "max_iter": 2,
    "batch_size": 32,
    "random_state": 0,
}


def _run(model, X):
    """onnxruntime's outputs for X of the model exported on X's first row."""
    onx = skl2onnx.to_onnx(model, X[:1])
    session = onnxruntime.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    return session.run(None, {session.get_inputs()[0].name: X})


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 6)) @ rng.normal(size=(6, 6))
    return X.astype(np.float32)


VARIANTS = {
    **{
        f"activation={name}": {"activation": name}
        for name in ("relu", "tanh", "sigmoid", "elu", "gelu", "leaky_relu", "selu")
    },
    "identity-network": {"activation": "identity", "output_activation": "tanh"},
    "no-hidden-layer": {"hidden_layer_sizes": ()},
    "two-hidden-layers": {"hidden_layer_sizes": (8, 5)},
    "dropout": {"dropout": 0.3},
    "batch_norm": {"batch_norm": True},
    "variational": {"variational": True},
    "sparse": {"n_components": 6, "sparsity": 0.3},
    "denoising": {"noise": "gaussian"},
}


def _check_transformer(model, X):
    (codes,) = _run(model, X)
    np.testing.assert_allclose(codes, model.transform(X), rtol=1e-5, atol=1e-5)


def _check_detector(model, X):
    label, scores = _run(model, X)
    decision = model.decision_function(X)
    offset = model[-1].offset_ if hasattr(model, "steps") else model.offset_
    # Relative to the score; the decision passes near 0 at the threshold.
    np.testing.assert_allclose(scores.ravel() + offset, decision + offset, rtol=1e-5)
    clear = np.abs(decision) > 1e-5
    np.testing.assert_array_equal(label.ravel()[clear], model.predict(X)[clear])


@pytest.mark.parametrize("params", VARIANTS.values(), ids=VARIANTS.keys())
def test_transformer_exports_every_variant(data, params):
    model = AutoencoderTransformer(**{**_SMALL, "n_components": 3, **params})
    _check_transformer(model.fit(data), data)


@pytest.mark.parametrize("params", VARIANTS.values(), ids=VARIANTS.keys())
def test_detector_exports_every_variant(data, params):
    model = AutoencoderOutlierDetector(**{**_SMALL, "n_estimators": 3, **params})
    _check_detector(model.fit(data), data)


@pytest.mark.parametrize("loss", ["mse", "l1", "huber", "bce"])
def test_detector_exports_every_loss(data, loss):
    X = MinMaxScaler().fit_transform(data).astype(np.float32)
    model = AutoencoderOutlierDetector(loss=loss, **{**_SMALL, "n_estimators": 2})
    _check_detector(model.fit(X), X)


def test_estimators_at_the_end_of_a_pipeline(data):
    transformer = make_pipeline(StandardScaler(), AutoencoderTransformer(**_SMALL))
    _check_transformer(transformer.fit(data), data)
    detector = make_pipeline(
        StandardScaler(), AutoencoderOutlierDetector(random_state=0)
    ).fit(data)
    _check_detector(detector, data)


class _Custom(nn.Module):
    def __init__(self, n_features, n_components):
        super().__init__()
        self.encode = nn.Linear(n_features, n_components)
        self.decode = nn.Linear(n_components, n_features)


def test_a_custom_module_refuses_with_a_clear_error(data):
    model = AutoencoderTransformer(module=_Custom, **_SMALL).fit(data)
    with pytest.raises(ValueError, match="_Custom is a custom module"):
        skl2onnx.to_onnx(model, data[:1])


def test_importing_skae_does_not_import_skl2onnx():
    code = "import sys, skae; print('skl2onnx' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
