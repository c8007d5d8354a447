"""Portable state of a trained net: plain data that pickle and skops both save."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import torch
from skorch.history import History
from skorch.utils import get_map_location

__all__ = ["net_from_state", "net_to_state"]

#: Types of the net's constructor arguments kept in the saved state. Classes,
#: callbacks and other objects are rebuilt from the estimator's parameters.
_PLAIN = (bool, int, float, str, type(None))


def _is_plain(value):
    if isinstance(value, tuple | list):
        return all(_is_plain(item) for item in value)
    return isinstance(value, _PLAIN)


def _map_tensors(obj, fn):
    """Apply ``fn`` to every tensor (or array) inside nested dicts and lists."""
    if isinstance(obj, dict):
        return {key: _map_tensors(value, fn) for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(_map_tensors(item, fn) for item in obj)
    if isinstance(obj, torch.Tensor | np.ndarray):
        return fn(obj)
    return obj


def _to_numpy(tensor):
    return tensor.detach().cpu().numpy()


def net_to_state(net):
    """Describe a trained skorch net with numbers, strings and arrays only.

    skorch pickles a net's torch objects as a pickle nested inside the
    state, which a secure loader such as ``skops.io.load`` cannot audit
    and would have to run blindly. This state holds no objects at all: the
    net's plain constructor arguments (the architecture as trained), the
    weights and optimizer state as NumPy arrays, and the training history.

    Parameters
    ----------
    net : skorch.NeuralNet
        An initialised net, as built by ``make_net`` and trained.

    Returns
    -------
    state : dict
        Input of :func:`net_from_state`.
    """
    params = {
        key: value
        for key, value in net.get_params(deep=False).items()
        if _is_plain(value)
    }
    return {
        "params": params,
        "module": _map_tensors(dict(net.module_.state_dict()), _to_numpy),
        "optimizer": _map_tensors(net.optimizer_.state_dict(), _to_numpy),
        "history": [dict(row) for row in net.history],
    }


def net_from_state(state, net):
    """Load a state from :func:`net_to_state` into a fresh, uninitialised net.

    The saved device is kept when it exists here; a net trained on a GPU
    loads on the CPU of a machine without one, with skorch's
    ``DeviceWarning``, as when skorch unpickles a net.

    Parameters
    ----------
    state : dict
        Output of :func:`net_to_state`.
    net : skorch.NeuralNet
        A net built from the estimator's parameters; its plain constructor
        arguments are overwritten with the saved ones.

    Returns
    -------
    net : skorch.NeuralNet
        ``net``, initialised with the saved weights, optimizer state and
        history.
    """
    # Only the arguments that are plain data in the fresh net are replaced,
    # so a crafted file cannot swap in a class or callback by name.
    fresh = net.get_params(deep=False)
    params = {
        key: value
        for key, value in state["params"].items()
        if key in fresh and _is_plain(fresh[key]) and _is_plain(value)
    }
    params["device"] = str(get_map_location(params.get("device", "cpu")))
    net.set_params(**params)
    # Building the module draws initial weights from torch's global
    # generator; fork it so unpickling leaves the caller's random stream be.
    with torch.random.fork_rng(devices=[]):
        net.initialize()
    net.module_.load_state_dict(_map_tensors(state["module"], torch.tensor))
    # load_state_dict moves the optimizer state to the parameters' device.
    net.optimizer_.load_state_dict(_map_tensors(state["optimizer"], torch.tensor))
    net.history = History(dict(row) for row in state["history"])
    return net
