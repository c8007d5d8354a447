"""Portable state of a trained net: plain data that pickle and skops both save."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import torch
from skorch.utils import get_map_location
from torch import nn

from ._training import build_net, map_tensors, module_and_kwargs, module_class

__all__ = ["net_from_state", "net_to_state"]


def _to_numpy(tensor):
    return tensor.detach().cpu().numpy()


def net_to_state(net):
    """Describe a trained skorch net with numbers, strings and arrays only.

    skorch pickles a net's torch objects as a pickle nested inside the
    state, which a secure loader such as ``skops.io.load`` cannot audit
    and would have to run blindly. This state holds no objects at all: the
    weights and optimizer state as NumPy arrays, and the training history.
    What the net is (its classes and settings) is the estimator's fitted
    net spec, saved beside it.

    Parameters
    ----------
    net : skorch.NeuralNet
        A trained net, as built by :func:`~skae._training.build_net`.

    Returns
    -------
    state : dict
        Input of :func:`net_from_state`.
    """
    return {
        "module": map_tensors(dict(net.module_.state_dict()), _to_numpy),
        "optimizer": map_tensors(net.optimizer_.state_dict(), _to_numpy),
        "history": [dict(row) for row in net.history],
    }


def net_from_state(spec, state):
    """Rebuild a net from its spec and a state from :func:`net_to_state`.

    Nothing is built before the spec has been checked against the saved
    weights: the module class must be a ``torch.nn.Module`` subclass, and
    for the built-in networks the layer sizes the spec names must be those
    of the saved arrays (checked on torch's ``meta`` device, which
    allocates nothing), so a crafted file cannot make loading call other
    code or allocate more than its own weights. A net trained on a GPU
    loads on the CPU of a machine without one, with skorch's
    ``DeviceWarning``, as when skorch unpickles a net.

    Parameters
    ----------
    spec : dict
        The estimator's fitted net spec, from :func:`~skae._training.net_spec`.
    state : dict
        Output of :func:`net_to_state`.

    Returns
    -------
    net : skorch.NeuralNet
        The trained net, with its weights, optimizer state and history.

    Raises
    ------
    ValueError
        When the spec and the saved weights disagree or cannot be built.
    """
    _check_saved_module(spec, state["module"])
    spec = {**spec, "device": str(get_map_location(spec["device"]))}
    return build_net(
        spec,
        {
            "module": map_tensors(state["module"], torch.tensor),
            "optimizer": map_tensors(state["optimizer"], torch.tensor),
            "history": state["history"],
        },
    )


def _check_saved_module(spec, weights):
    """Raise ValueError unless ``spec`` describes the saved ``weights``."""
    cls = module_class(spec)
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise ValueError(
            f"The saved model names {cls!r} as its network, which is not a "
            "torch.nn.Module subclass; refusing to build it."
        )
    module, kwargs = module_and_kwargs(spec)
    try:
        with torch.device("meta"):
            expected = module(**kwargs).state_dict()
    except Exception as exc:
        if spec["module"] is not None:
            # A custom module (a class the user trusted by name) may not
            # build on the meta device; its saved weights are then checked
            # by load_state_dict, shape by shape.
            return
        raise ValueError(
            f"The saved model's network settings {spec['module_kwargs']!r} "
            f"cannot be built: {exc}"
        ) from None
    shapes = {name: tuple(tensor.shape) for name, tensor in expected.items()}
    saved = {name: tuple(np.shape(array)) for name, array in weights.items()}
    if shapes != saved:
        differ = sorted(
            name
            for name in shapes.keys() | saved.keys()
            if shapes.get(name) != saved.get(name)
        )
        raise ValueError(
            "The saved weights do not match the network the saved model "
            f"describes ({cls.__name__} with {spec['module_kwargs']!r}): "
            f"{', '.join(differ[:5])} differ; the file is damaged or crafted."
        )
