"""Torch modules: the multilayer-perceptron autoencoders and their activations."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import torch
from torch import nn

__all__ = [
    "ACTIVATIONS",
    "AutoencoderModule",
    "EnsembleModule",
    "VariationalAutoencoderModule",
    "top_k",
]

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


def _hidden_layers(sizes, activation, dropout, batch_norm):
    """Hidden blocks through ``sizes``: linear, batch norm, activation, dropout.

    Batch norm goes before the activation, as in Ioffe and Szegedy (2015);
    dropout after it, so it zeroes the block's outputs. An empty sequence
    (one size) is the identity.
    """
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers.append(nn.Linear(n_in, n_out))
        if batch_norm:
            layers.append(nn.BatchNorm1d(n_out))
        layers.append(ACTIVATIONS[activation]())
        if dropout:
            layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def top_k(code, k):
    """Keep the ``k`` entries of each row with the largest magnitude.

    The others become exactly 0; the kept ones keep their sign and value, so
    gradients reach them unchanged (Makhzani and Frey, "k-Sparse
    Autoencoders", 2014).

    Examples
    --------
    >>> import torch
    >>> from skae._modules import top_k
    >>> top_k(torch.tensor([[0.5, -2.0, 1.0, 0.1]]), 2)
    tensor([[ 0., -2.,  1.,  0.]])
    """
    kept = code.abs().topk(k, dim=1).indices
    return torch.zeros_like(code).scatter(1, kept, code.gather(1, kept))


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
    dropout : float, default=0.0
        Probability of zeroing each hidden unit during training.
    batch_norm : bool, default=False
        Whether to batch-normalise every hidden layer before its activation.
    active_components : int or None, default=None
        With an int k, a k-sparse autoencoder: each code keeps its k entries
        of largest magnitude and the others are exactly 0, and every linear
        layer of the decoder has unit-norm weight columns (restore them with
        :meth:`normalize_decoder_` after each optimizer step). The norm
        constraint is what sparse dictionary learning imposes: without it,
        the decoder could scale its weights and make any code small.

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
        dropout=0.0,
        batch_norm=False,
        active_components=None,
    ):
        super().__init__()
        self.active_components = active_components
        encoder_sizes = [n_features, *hidden_layer_sizes]
        decoder_sizes = [n_components, *reversed(encoder_sizes[1:])]
        block = {"activation": activation, "dropout": dropout, "batch_norm": batch_norm}
        self.encoder = _hidden_layers(encoder_sizes, **block)
        # The code layer stays linear, as in PCA: the activation shapes the
        # hidden layers, not the coordinates users read from ``transform``.
        self.code = nn.Linear(encoder_sizes[-1], n_components)
        self.decoder = nn.Sequential(
            _hidden_layers(decoder_sizes, **block),
            nn.Linear(decoder_sizes[-1], n_features),
            ACTIVATIONS[output_activation](),
        )
        if active_components is not None:
            self.normalize_decoder_()

    def encode(self, x):
        """Map a batch of inputs to codes."""
        code = self.code(self.encoder(x))
        if self.active_components is None:
            return code
        return top_k(code, self.active_components)

    @torch.no_grad()
    def normalize_decoder_(self):
        """Rescale each weight column of the decoder's linear layers to norm 1."""
        for layer in self.decoder.modules():
            if isinstance(layer, nn.Linear):
                norms = layer.weight.norm(dim=0, keepdim=True)
                layer.weight.div_(norms.clamp_min(torch.finfo(norms.dtype).tiny))

    def decode(self, z):
        """Map a batch of codes back to input space."""
        return self.decoder(z)

    def forward(self, x):
        """Reconstruct a batch of inputs."""
        return self.decode(self.encode(x))


class VariationalAutoencoderModule(AutoencoderModule):
    """The autoencoder with a Gaussian encoder, for variational training.

    A second linear head on the encoder's last hidden layer gives the
    log-variance of a diagonal Gaussian posterior ``q(z | x)`` whose mean is
    the code of :class:`AutoencoderModule`. :meth:`encode` returns that
    mean, so ``forward`` is deterministic; the training loop samples from
    :meth:`encode_distribution` itself.

    Parameters
    ----------
    n_features, n_components, hidden_layer_sizes, activation, \
output_activation, dropout, batch_norm
        As for :class:`AutoencoderModule`.

    Examples
    --------
    >>> import torch
    >>> from skae._modules import VariationalAutoencoderModule
    >>> module = VariationalAutoencoderModule(n_features=10, n_components=2)
    >>> mean, log_var = module.encode_distribution(torch.zeros(4, 10))
    >>> mean.shape, log_var.shape
    (torch.Size([4, 2]), torch.Size([4, 2]))
    """

    def __init__(self, n_features, n_components, **kwargs):
        super().__init__(n_features, n_components, **kwargs)
        self.log_var = nn.Linear(self.code.in_features, n_components)

    def encode_distribution(self, x):
        """Mean and log-variance of the Gaussian posterior of each input."""
        hidden = self.encoder(x)
        return self.code(hidden), self.log_var(hidden)


class EnsembleModule(nn.Module):
    """Independently initialised copies of an autoencoder, run side by side.

    Inputs and outputs carry a leading member axis: ``encode`` and
    ``decode`` take ``(n_members, n_samples, n_features)`` stacks, one batch
    per member, or a plain ``(n_samples, n_features)`` batch that every
    member then sees. Members share nothing but the optimizer, whose
    update of each parameter is elementwise, so training them together is
    training each alone.

    Parameters
    ----------
    member : type
        The member module class, such as :class:`AutoencoderModule`.
    n_members : int
        Number of members.
    **kwargs
        Arguments of ``member``'s constructor.

    Examples
    --------
    >>> import torch
    >>> from skae._modules import AutoencoderModule, EnsembleModule
    >>> ensemble = EnsembleModule(
    ...     AutoencoderModule, 3, n_features=5, n_components=2
    ... )
    >>> ensemble.encode(torch.zeros(4, 5)).shape
    torch.Size([3, 4, 2])
    """

    def __init__(self, member, n_members, **kwargs):
        super().__init__()
        self.members = nn.ModuleList(member(**kwargs) for _ in range(n_members))

    def _each(self, method, x):
        batches = x if x.dim() == 3 else [x] * len(self.members)
        outputs = [
            getattr(member, method)(batch)
            for member, batch in zip(self.members, batches, strict=True)
        ]
        if isinstance(outputs[0], tuple):
            return tuple(torch.stack(parts) for parts in zip(*outputs, strict=True))
        return torch.stack(outputs)

    def encode(self, x):
        """Each member's codes, stacked: ``(n_members, n_samples, n_codes)``."""
        return self._each("encode", x)

    def decode(self, z):
        """Each member's reconstruction of its own codes, stacked."""
        return self._each("decode", z)

    def encode_distribution(self, x):
        """Each member's posterior mean and log-variance, stacked."""
        return self._each("encode_distribution", x)

    @property
    def active_components(self):
        """The members' number of active code units (None: dense codes)."""
        return self.members[0].active_components

    @active_components.setter
    def active_components(self, k):
        for member in self.members:
            member.active_components = k

    def normalize_decoder_(self):
        """Restore every member's unit-norm decoder columns."""
        for member in self.members:
            member.normalize_decoder_()

    def forward(self, x):
        """Each member's reconstruction of ``x``."""
        return self.decode(self.encode(x))
