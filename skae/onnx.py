"""ONNX export of the skae estimators, through skl2onnx.

Importing this module registers converters for
:class:`~skae.AutoencoderTransformer` and
:class:`~skae.AutoencoderOutlierDetector` with skl2onnx, so that
``skl2onnx.to_onnx`` exports a fitted estimator, alone or as the last step
of a :class:`~sklearn.pipeline.Pipeline` of scikit-learn preprocessing. The
exported model runs with onnxruntime (or any ONNX runtime) without Python,
PyTorch or skae, and gives skae's results to float32 rounding:

- the transformer's graph has one output, the codes (``transform``);
- the detector's graph has two, as skl2onnx's IsolationForest converter:
  ``label`` (``predict``: -1 for outliers, +1 for inliers) and ``scores``
  (``decision_function``).

Every built-in network exports: each activation, the output activation,
dropout (nothing at inference), batch normalisation (its running
statistics), the variational autoencoder (the posterior mean), sparse
codes (``sparsity > 0``: the largest entries of each code, with ONNX's
``TopK``), every loss of the detector's score, and the detector's ensemble.
A custom ``module`` does not: exporting it raises ``ValueError``. Rows that
overflow float32 inside the network score ``-inf`` in skae; the graph
returns whatever float32 arithmetic gives for them (NaN or ``inf``).

Install the extra first: ``pip install "skae[onnx]"`` (skl2onnx, onnx and
onnxruntime).

Examples
--------
>>> import numpy as np
>>> import onnxruntime
>>> import skl2onnx
>>> from sklearn.pipeline import make_pipeline
>>> from sklearn.preprocessing import StandardScaler
>>> import skae.onnx  # registers the converters
>>> from skae import AutoencoderOutlierDetector
>>> X = np.random.RandomState(0).normal(size=(300, 4)).astype(np.float32)
>>> model = make_pipeline(
...     StandardScaler(), AutoencoderOutlierDetector(random_state=0)
... ).fit(X)
>>> onx = skl2onnx.to_onnx(model, X[:1])
>>> session = onnxruntime.InferenceSession(
...     onx.SerializeToString(), providers=["CPUExecutionProvider"]
... )
>>> label, scores = session.run(None, {"X": X})
>>> bool(np.array_equal(label.ravel(), model.predict(X)))
True
>>> bool(np.allclose(scores.ravel(), model.decision_function(X), atol=1e-5))
True
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import math

import numpy as np
from skl2onnx import update_registered_converter
from skl2onnx.algebra.onnx_ops import (
    OnnxAbs,
    OnnxAdd,
    OnnxCast,
    OnnxDiv,
    OnnxElu,
    OnnxErf,
    OnnxGather,
    OnnxGreaterOrEqual,
    OnnxIdentity,
    OnnxLeakyRelu,
    OnnxLess,
    OnnxLog,
    OnnxMatMul,
    OnnxMax,
    OnnxMul,
    OnnxReduceMeanApi18,
    OnnxRelu,
    OnnxSelu,
    OnnxSigmoid,
    OnnxSub,
    OnnxTanh,
    OnnxTopK,
    OnnxWhere,
)
from skl2onnx.common.data_types import Int64TensorType, guess_numpy_type
from skl2onnx.proto import onnx_proto
from torch import nn

from ._modules import ACTIVATIONS, AutoencoderModule, EnsembleModule
from ._outlier import AutoencoderOutlierDetector
from ._transformer import AutoencoderTransformer

__all__ = []

#: torch activation class -> skae's name for it.
_ACTIVATION_NAMES = {cls: name for name, cls in ACTIVATIONS.items()}


# %% The network as a list of stacked operations ---------------------------


def _members(estimator):
    """The fitted estimator's networks: one, or an ensemble's members."""
    module = estimator.net_.module_
    members = list(module.members) if isinstance(module, EnsembleModule) else [module]
    if not all(isinstance(member, AutoencoderModule) for member in members):
        raise ValueError(
            f"{type(members[0]).__name__} is a custom module: skae exports the "
            "built-in networks to ONNX only. Export it with torch.onnx and "
            "build the graph around it yourself."
        )
    return members


def _layers(sequential):
    """The layers of a Sequential, nested Sequentials flattened."""
    for layer in sequential:
        if isinstance(layer, nn.Sequential):
            yield from _layers(layer)
        else:
            yield layer


def _operations(members, part, dtype):
    """The encoder (``part="encode"``) or decoder of the members, as a list
    of operations whose parameters are stacked on a leading member axis."""
    if part == "encode":
        stacks = [[*_layers(m.encoder), m.code] for m in members]
    else:
        stacks = [list(_layers(m.decoder)) for m in members]
    operations = []
    for layers in zip(*stacks, strict=True):
        first = layers[0]
        if isinstance(first, nn.Linear):
            weights = np.stack(
                [layer.weight.detach().cpu().numpy().T for layer in layers]
            )
            biases = np.stack(
                [layer.bias.detach().cpu().numpy()[None] for layer in layers]
            )
            operations.append(("linear", weights.astype(dtype), biases.astype(dtype)))
        elif isinstance(first, nn.BatchNorm1d):
            # Evaluation mode: a fixed affine map per unit.
            scales, shifts = [], []
            for layer in layers:
                std = np.sqrt(layer.running_var.cpu().numpy() + layer.eps)
                scale = layer.weight.detach().cpu().numpy() / std
                shift = (
                    layer.bias.detach().cpu().numpy()
                    - layer.running_mean.cpu().numpy() * scale
                )
                scales.append(scale[None])
                shifts.append(shift[None])
            operations.append(
                (
                    "affine",
                    np.stack(scales).astype(dtype),
                    np.stack(shifts).astype(dtype),
                )
            )
        elif isinstance(first, nn.Dropout):
            continue  # identity at inference
        else:
            operations.append(("activation", _ACTIVATION_NAMES[type(first)]))
    if len(members) == 1:
        # One network: plain 2-D products, which runtimes run fastest.
        operations = [
            (kind, *(p[0] if isinstance(p, np.ndarray) else p for p in parameters))
            for kind, *parameters in operations
        ]
    k = members[0].active_components
    if part == "encode" and k is not None:
        operations.append(("top_k", k))
    return operations


def _activation(x, name, opv, dtype):
    if name == "identity":
        return x
    if name == "gelu":
        # torch's exact GELU: x * (1 + erf(x / sqrt(2))) / 2.
        erf = OnnxErf(
            OnnxMul(x, np.array([1 / math.sqrt(2)], dtype=dtype), op_version=opv),
            op_version=opv,
        )
        half = OnnxMul(x, np.array([0.5], dtype=dtype), op_version=opv)
        return OnnxMul(
            half,
            OnnxAdd(erf, np.array([1.0], dtype=dtype), op_version=opv),
            op_version=opv,
        )
    simple = {
        "relu": lambda: OnnxRelu(x, op_version=opv),
        "tanh": lambda: OnnxTanh(x, op_version=opv),
        "sigmoid": lambda: OnnxSigmoid(x, op_version=opv),
        "elu": lambda: OnnxElu(x, alpha=1.0, op_version=opv),
        "selu": lambda: OnnxSelu(x, op_version=opv),
        "leaky_relu": lambda: OnnxLeakyRelu(x, alpha=0.01, op_version=opv),
    }
    return simple[name]()


def _top_k(code, k, opv, dtype):
    """Keep the k entries of largest magnitude of each code, zero the rest."""
    magnitude = OnnxAbs(code, op_version=opv)
    largest = OnnxTopK(
        magnitude, np.array([k], dtype=np.int64), axis=-1, op_version=opv
    )
    # The k-th largest magnitude of each row, along the codes' last axis.
    kth = OnnxGather(
        largest[0], np.array([k - 1], dtype=np.int64), axis=-1, op_version=opv
    )
    kept = OnnxGreaterOrEqual(magnitude, kth, op_version=opv)
    return OnnxWhere(kept, code, np.array([0], dtype=dtype), op_version=opv)


def _apply(x, operations, opv, dtype):
    """The graph of ``operations`` applied to ``x``: (n_members, n, out)."""
    for kind, *parameters in operations:
        if kind == "linear":
            weights, biases = parameters
            x = OnnxAdd(OnnxMatMul(x, weights, op_version=opv), biases, op_version=opv)
        elif kind == "affine":
            scale, shift = parameters
            x = OnnxAdd(OnnxMul(x, scale, op_version=opv), shift, op_version=opv)
        elif kind == "activation":
            x = _activation(x, parameters[0], opv, dtype)
        else:
            x = _top_k(x, parameters[0], opv, dtype)
    return x


# %% The detector's score ----------------------------------------------------


def _elementwise_loss(reconstruction, x, loss, opv, dtype):
    """skae's elementwise loss of the reconstruction of x."""
    error = OnnxSub(reconstruction, x, op_version=opv)
    if loss == "mse":
        return OnnxMul(error, error, op_version=opv)
    if loss == "l1":
        return OnnxAbs(error, op_version=opv)
    if loss == "huber":
        size = OnnxAbs(error, op_version=opv)
        small = OnnxLess(size, np.array([1.0], dtype=dtype), op_version=opv)
        squared = OnnxMul(
            OnnxMul(error, error, op_version=opv),
            np.array([0.5], dtype=dtype),
            op_version=opv,
        )
        linear = OnnxSub(size, np.array([0.5], dtype=dtype), op_version=opv)
        return OnnxWhere(small, squared, linear, op_version=opv)
    # Binary cross-entropy, its logarithms clamped at -100 as torch's are.
    one = np.array([1.0], dtype=dtype)
    floor = np.array([-100.0], dtype=dtype)
    log_p = OnnxMax(OnnxLog(reconstruction, op_version=opv), floor, op_version=opv)
    log_q = OnnxMax(
        OnnxLog(OnnxSub(one, reconstruction, op_version=opv), op_version=opv),
        floor,
        op_version=opv,
    )
    positive = OnnxMul(x, log_p, op_version=opv)
    negative = OnnxMul(OnnxSub(one, x, op_version=opv), log_q, op_version=opv)
    return OnnxSub(
        np.array([0.0], dtype=dtype),
        OnnxAdd(positive, negative, op_version=opv),
        op_version=opv,
    )


def _convert_detector(scope, operator, container):
    detector = operator.raw_operator
    opv = container.target_opset
    dtype = guess_numpy_type(operator.inputs[0].type)
    x = operator.inputs[0]
    members = _members(detector)
    code = _apply(x, _operations(members, "encode", dtype), opv, dtype)
    reconstruction = _apply(code, _operations(members, "decode", dtype), opv, dtype)
    loss = detector._net_spec_["criterion"]["loss"]
    elementwise = OnnxDiv(
        _elementwise_loss(reconstruction, x, loss, opv, dtype),
        detector.error_scale_[:, None, :].astype(dtype),
        op_version=opv,
    )
    whitened = OnnxMatMul(
        OnnxSub(code, detector.code_mean_[:, None, :].astype(dtype), op_version=opv),
        detector._code_whitener.astype(dtype),
        op_version=opv,
    )
    code_terms = OnnxMatMul(
        OnnxMul(whitened, whitened, op_version=opv),
        detector._code_shares.astype(dtype),
        op_version=opv,
    )
    terms = OnnxReduceMeanApi18(
        OnnxAdd(elementwise, code_terms, op_version=opv),
        axes=[0],
        keepdims=0,
        op_version=opv,
    )
    error = OnnxReduceMeanApi18(terms, axes=[1], keepdims=1, op_version=opv)
    decision = OnnxSub(
        np.array([-detector.offset_], dtype=dtype),
        error,
        op_version=opv,
        output_names=operator.outputs[1].full_name,
    )
    outlier = OnnxLess(decision, np.array([0], dtype=dtype), op_version=opv)
    label = OnnxAdd(
        OnnxMul(
            OnnxCast(outlier, to=onnx_proto.TensorProto.INT64, op_version=opv),
            np.array([-2], dtype=np.int64),
            op_version=opv,
        ),
        np.array([1], dtype=np.int64),
        op_version=opv,
        output_names=operator.outputs[0].full_name,
    )
    label.add_to(scope, container)
    decision.add_to(scope, container)


def _detector_shapes(operator):
    n_rows = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = Int64TensorType([n_rows, 1])
    operator.outputs[1].type = operator.inputs[0].type.__class__([n_rows, 1])


# %% The transformer's codes -------------------------------------------------


def _convert_transformer(scope, operator, container):
    transformer = operator.raw_operator
    opv = container.target_opset
    dtype = guess_numpy_type(operator.inputs[0].type)
    members = _members(transformer)
    code = _apply(operator.inputs[0], _operations(members, "encode", dtype), opv, dtype)
    OnnxIdentity(
        code, op_version=opv, output_names=operator.outputs[0].full_name
    ).add_to(scope, container)


def _transformer_shapes(operator):
    n_rows = operator.inputs[0].get_first_dimension()
    width = operator.raw_operator._n_features_out
    operator.outputs[0].type = operator.inputs[0].type.__class__([n_rows, width])


update_registered_converter(
    AutoencoderTransformer,
    "SkaeAutoencoderTransformer",
    _transformer_shapes,
    _convert_transformer,
)
update_registered_converter(
    AutoencoderOutlierDetector,
    "SkaeAutoencoderOutlierDetector",
    _detector_shapes,
    _convert_detector,
)
