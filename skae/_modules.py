"""Torch modules: the multilayer-perceptron autoencoder and its activations."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

from torch import nn

__all__ = ["ACTIVATIONS", "AutoencoderModule"]

#: Activation name -> ``torch.nn.Module`` class. The keys are the accepted
#: values of the estimators' ``activation`` and ``output_activation``.
ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "leaky_relu": nn.LeakyReLU,
    "selu": nn.SELU,
    "identity": nn.Identity,
}


def _mlp(sizes, activation, last_activation):
    """Linear layers through ``sizes``, ``activation`` between them."""
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(n_in, n_out))
        is_last = i == len(sizes) - 2
        layers.append(ACTIVATIONS[last_activation if is_last else activation]())
    return nn.Sequential(*layers)


class AutoencoderModule(nn.Module):
    """A fully connected autoencoder with a linear bottleneck.

    The encoder maps ``n_features -> *hidden_layer_sizes -> n_components``
    and the decoder mirrors it back to ``n_features``.

    Parameters
    ----------
    n_features : int
        Width of the input and of the reconstruction.
    n_components : int
        Width of the code (the bottleneck).
    hidden_layer_sizes : tuple of int, default=(128, 64)
        Widths of the encoder's hidden layers; the decoder uses them reversed.
    activation : str, default="relu"
        Key of :data:`ACTIVATIONS` used after every hidden layer.
    output_activation : str, default="identity"
        Key of :data:`ACTIVATIONS` applied to the reconstruction.

    Examples
    --------
    >>> import torch
    >>> from skae._modules import AutoencoderModule
    >>> module = AutoencoderModule(n_features=10, n_components=2)
    >>> x = torch.zeros(4, 10)
    >>> module.encode(x).shape, module(x).shape
    (torch.Size([4, 2]), torch.Size([4, 10]))
    """

    def __init__(
        self,
        n_features,
        n_components,
        hidden_layer_sizes=(128, 64),
        activation="relu",
        output_activation="identity",
    ):
        super().__init__()
        hidden = list(hidden_layer_sizes)
        # The code layer stays linear, as in PCA: the activation shapes the
        # hidden layers, not the coordinates users read from ``transform``.
        self.encoder = _mlp([n_features, *hidden, n_components], activation, "identity")
        self.decoder = _mlp(
            [n_components, *reversed(hidden), n_features], activation, output_activation
        )

    def encode(self, x):
        """Map a batch of inputs to codes."""
        return self.encoder(x)

    def decode(self, z):
        """Map a batch of codes back to input space."""
        return self.decoder(z)

    def forward(self, x):
        """Reconstruct a batch of inputs."""
        return self.decoder(self.encoder(x))
