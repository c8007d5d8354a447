"""The torch autoencoder module and its activation registry."""

import pytest
import torch
from torch import nn

from skae._modules import ACTIVATIONS, AutoencoderModule


def test_layer_sizes_mirror_the_encoder():
    module = AutoencoderModule(n_features=10, n_components=3, hidden_layer_sizes=(8, 5))
    widths = [
        layer.out_features for layer in module.modules() if isinstance(layer, nn.Linear)
    ]
    assert widths == [8, 5, 3, 5, 8, 10]


def test_no_hidden_layers_is_linear():
    module = AutoencoderModule(n_features=4, n_components=2, hidden_layer_sizes=())
    assert [type(layer) for layer in module.encoder] == [nn.Linear, nn.Identity]


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_every_activation_builds_and_runs(name):
    module = AutoencoderModule(6, 2, (4,), activation=name, output_activation=name)
    x = torch.randn(5, 6)
    assert module.encode(x).shape == (5, 2)
    assert module.decode(module.encode(x)).shape == (5, 6)
    assert isinstance(module.encoder[1], ACTIVATIONS[name])
    # The code stays linear whatever the hidden activation.
    assert isinstance(module.encoder[-1], nn.Identity)


def test_forward_is_decode_of_encode():
    module = AutoencoderModule(6, 2, (4,))
    x = torch.randn(5, 6)
    torch.testing.assert_close(module(x), module.decode(module.encode(x)))
