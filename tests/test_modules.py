"""The torch modules on their own: layers, training-only behaviour, VAE head."""

import pytest
import torch
from torch import nn

from skae._modules import ACTIVATIONS, AutoencoderModule, VariationalAutoencoderModule


def _types(sequential):
    return [type(layer) for layer in sequential]


def test_hidden_blocks_hold_batch_norm_then_activation_then_dropout():
    # Every hidden layer, in the encoder and the mirrored decoder, gets the
    # block; the code layer and the output layer stay plain.
    module = AutoencoderModule(
        10, 2, hidden_layer_sizes=(6,), dropout=0.3, batch_norm=True
    )
    block = [nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Dropout]
    assert _types(module.encoder) == block
    assert isinstance(module.code, nn.Linear)
    assert _types(module.decoder[0]) == block
    assert _types(module.decoder)[1:] == [nn.Linear, nn.Identity]
    assert module.encoder[3].p == 0.3


def test_defaults_add_no_dropout_or_batch_norm_layers():
    module = AutoencoderModule(10, 2, hidden_layer_sizes=(6, 4))
    assert _types(module.encoder) == [nn.Linear, nn.ReLU] * 2


def test_no_hidden_layers_gives_linear_maps():
    module = AutoencoderModule(5, 2, hidden_layer_sizes=())
    assert len(module.encoder) == 0
    assert module(torch.zeros(3, 5)).shape == (3, 5)


def test_dropout_is_random_in_training_and_off_in_evaluation():
    torch.manual_seed(0)
    module = AutoencoderModule(20, 3, hidden_layer_sizes=(64,), dropout=0.5)
    x = torch.randn(8, 20)
    with torch.no_grad():
        module.train()
        assert not torch.equal(module(x), module(x))
        module.eval()
        assert torch.equal(module(x), module(x))


def test_batch_norm_learns_running_statistics_in_training():
    torch.manual_seed(0)
    module = AutoencoderModule(4, 2, hidden_layer_sizes=(3,), batch_norm=True)
    norm = module.encoder[1]
    with torch.no_grad():
        module.train()
        module(torch.randn(16, 4) + 5.0)
    assert norm.running_mean.abs().sum() > 0


def test_variational_module_encodes_the_posterior_mean():
    torch.manual_seed(0)
    module = VariationalAutoencoderModule(6, 2, hidden_layer_sizes=(5,))
    x = torch.randn(4, 6)
    with torch.no_grad():
        mean, log_var = module.encode_distribution(x)
        assert mean.shape == log_var.shape == (4, 2)
        # Two heads on one hidden layer: the log-variance is not the mean.
        assert not torch.allclose(mean, log_var)
        torch.testing.assert_close(module.encode(x), mean)
        torch.testing.assert_close(module(x), module.decode(mean))


@pytest.mark.parametrize(
    "module_class", [AutoencoderModule, VariationalAutoencoderModule]
)
def test_modules_accept_the_hidden_layer_options(module_class):
    module = module_class(6, 2, hidden_layer_sizes=(5, 4), dropout=0.1, batch_norm=True)
    module.eval()
    assert module(torch.zeros(3, 6)).shape == (3, 6)


def test_layer_sizes_mirror_the_encoder():
    module = AutoencoderModule(n_features=10, n_components=3, hidden_layer_sizes=(8, 5))
    widths = [m.out_features for m in module.modules() if isinstance(m, nn.Linear)]
    assert widths == [8, 5, 3, 5, 8, 10]


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_every_activation_builds_and_runs(name):
    module = AutoencoderModule(6, 2, (4,), activation=name, output_activation=name)
    x = torch.randn(5, 6)
    assert module.encode(x).shape == (5, 2)
    assert module.decode(module.encode(x)).shape == (5, 6)
    assert isinstance(module.encoder[1], ACTIVATIONS[name])
    # The code stays linear whatever the hidden activation.
    assert isinstance(module.code, nn.Linear)


def test_forward_is_decode_of_encode():
    module = AutoencoderModule(6, 2, (4,))
    x = torch.randn(5, 6)
    torch.testing.assert_close(module(x), module.decode(module.encode(x)))
