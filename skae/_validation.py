"""Checks that go beyond scikit-learn's: float32's range, and parameter
combinations that would otherwise fail inside torch."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import math
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from torch import nn

__all__ = ["check_combinations", "check_float32_range", "check_loss_domain"]

# Python floats: compared with a NumPy float32, a float beyond its range
# would be cast down and overflow.
_FLOAT32_MAX = float(np.finfo(np.float32).max)
_FLOAT32_TINY = float(np.finfo(np.float32).tiny)

#: Entries checked at a time, so the checks need no copy of X.
_BLOCK = 2**20


def _blocks(X):
    """The stored values of X, a block of rows at a time."""
    if sp.issparse(X):
        yield X.data
        return
    step = max(1, _BLOCK // max(X.shape[1], 1))
    for start in range(0, X.shape[0], step):
        yield X[start : start + step]


def _smallest_subnormal(block):
    """The smallest subnormal magnitude in a float32 block, or inf."""
    bits = block.view(np.uint32) & np.uint32(0x7FFFFFFF)
    # 1 to 0x007FFFFF are the subnormals; 0 wraps around to the largest.
    bits -= np.uint32(1)
    subnormal = bits < np.uint32(0x007FFFFF)
    if not subnormal.any():
        return math.inf
    return float(np.abs(block[subnormal]).min())


def check_float32_range(X):
    """Raise ValueError for values that float32, torch's dtype, cannot hold.

    Finite values beyond float32's largest number become inf inside the
    network; non-zero values below its smallest normal number lose their
    precision, and below about 1.4e-45 become 0, so that every row gets the
    same code. Both are refused with the advice to scale the data.

    Parameters
    ----------
    X : ndarray or scipy sparse matrix of shape (n_samples, n_features)
        Finite data, already validated.

    Examples
    --------
    >>> import numpy as np
    >>> from skae._validation import check_float32_range
    >>> check_float32_range(np.array([[1.0, 0.0], [1e-30, 3e38]]))
    >>> check_float32_range(np.array([[1e-46]]))
    Traceback (most recent call last):
    ...
    ValueError: X has non-zero values of magnitude down to 1e-46, ...
    """
    if X.dtype == np.float32:
        # Already float32: nothing overflows, and only subnormal values need
        # finding, by their bits (zero exponent, non-zero mantissa), in a
        # pass that allocates a third less than the magnitudes would.
        largest = 0.0
        smallest = min(
            (_smallest_subnormal(block) for block in _blocks(X)), default=math.inf
        )
    else:
        largest, smallest = 0.0, math.inf
        for block in _blocks(X):
            magnitude = np.abs(block)
            if magnitude.size:
                largest = max(largest, float(magnitude.max()))
                smallest = min(
                    smallest,
                    float(np.min(magnitude, initial=math.inf, where=magnitude > 0)),
                )
    if largest > _FLOAT32_MAX:
        raise ValueError(
            f"X has values of magnitude up to {largest:.3g}, beyond float32's "
            f"range ({_FLOAT32_MAX:.3g}) in which the network computes. Scale "
            "the data, for example with sklearn.preprocessing.StandardScaler."
        )
    if smallest < _FLOAT32_TINY:
        raise ValueError(
            f"X has non-zero values of magnitude down to {smallest:.3g}, below "
            f"float32's smallest normal number ({_FLOAT32_TINY:.3g}) in which "
            "the network computes: they would lose their precision or become "
            "0. Scale the data, for example with "
            "sklearn.preprocessing.StandardScaler."
        )


def check_loss_domain(X, loss):
    """Raise ValueError where ``loss="bce"`` meets data outside [0, 1]."""
    if loss != "bce":
        return
    low, high = X.min(), X.max()
    if low < 0 or high > 1:
        raise ValueError(
            "loss='bce' (binary cross-entropy) needs data in [0, 1], but X "
            f"ranges over [{low:.4g}, {high:.4g}]. Scale it with "
            "sklearn.preprocessing.MinMaxScaler or use loss='mse'."
        )


def check_combinations(params, n_samples):
    """Raise ValueError for parameters that make no sense together.

    scikit-learn's parameter validation checks each parameter alone; these
    are the combinations, and the values of ``hidden_layer_sizes``, which
    would otherwise fail inside torch or train a model that is not what
    was asked for.

    Parameters
    ----------
    params : dict
        The estimator's ``get_params(deep=False)``.
    n_samples : int
        Number of training rows.
    """
    sizes = list(params["hidden_layer_sizes"])
    if not all(
        isinstance(size, Integral) and not isinstance(size, bool) and size >= 1
        for size in sizes
    ):
        raise ValueError(
            "hidden_layer_sizes must hold positive integers, got "
            f"{params['hidden_layer_sizes']!r}."
        )
    if params["noise"] == "masking" and params["noise_level"] >= 1:
        raise ValueError(
            "noise='masking' sets each input entry to 0 with probability "
            f"noise_level, which must be below 1; got {params['noise_level']}."
        )
    if params["variational"] and params["sparsity"]:
        raise ValueError(
            "sparsity does not combine with variational=True: the KL term "
            "already pulls the codes toward the prior (tune beta instead). "
            "Set sparsity=0 or variational=False."
        )
    if params["module"] is not None and params["sparsity"]:
        raise ValueError(
            "sparsity makes the built-in network's codes k-sparse; build "
            f"sparse codes into {params['module'].__name__} instead, or use "
            "module=None."
        )
    _check_training_rows(params, n_samples)
    if params["module"] is None:
        if params["module_params"]:
            raise ValueError(
                "module_params go to the constructor of a custom module, but "
                "module=None: the built-in network takes its settings from the "
                "estimator's parameters."
            )
        return
    _check_custom_module(params)


def _check_training_rows(params, n_samples):
    """Enough rows for a validation split and for batch statistics."""
    n_train = n_samples
    if params["early_stopping"]:
        # As skorch's ValidSplit (scikit-learn's ShuffleSplit) rounds.
        n_valid = math.ceil(params["validation_fraction"] * n_samples)
        n_train = n_samples - n_valid
        if n_train < 1:
            raise ValueError(
                f"early_stopping=True holds out validation_fraction="
                f"{params['validation_fraction']} of the data, which leaves no "
                f"training row of the {n_samples}; pass more rows, or set "
                "early_stopping=False."
            )
    if not params["batch_norm"]:
        return
    if params["batch_size"] < 2:
        raise ValueError(
            "batch_norm=True computes statistics over each training batch, "
            f"which needs batch_size >= 2; got batch_size={params['batch_size']}."
        )
    if n_train < 2:
        held_out = " after the early-stopping split" if params["early_stopping"] else ""
        raise ValueError(
            "batch_norm=True needs at least 2 training samples to compute "
            f"batch statistics, got {n_train} sample{held_out}."
        )


def _check_custom_module(params):
    """Check the parameters that go with a custom ``module`` class.

    Its methods are checked on the built network, when training starts.
    """
    module = params["module"]
    if not issubclass(module, nn.Module):
        raise ValueError(
            "module must be a torch.nn.Module subclass (the class itself, "
            f"not an instance); got {module!r}."
        )
    if params["dropout"] or params["batch_norm"]:
        raise ValueError(
            "dropout and batch_norm configure the built-in network; build "
            f"them into {module.__name__} instead (its settings go in "
            "module_params)."
        )
    reserved = sorted(
        {"n_features", "n_components"} & set(params["module_params"] or {})
    )
    if reserved:
        raise ValueError(
            f"module_params must not set {', '.join(reserved)}: n_features "
            "comes from the data and n_components from the estimator."
        )
