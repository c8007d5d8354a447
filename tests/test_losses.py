"""Reconstruction losses: the training criterion and per-sample errors agree."""

import pytest
import torch

from skae._losses import LOSSES, ReconstructionLoss


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_batch_loss_is_the_mean_of_per_sample_losses(name):
    generator = torch.Generator().manual_seed(0)
    target = torch.rand(7, 5, generator=generator)
    reconstruction = torch.rand(7, 5, generator=generator)
    criterion = ReconstructionLoss(name)
    per_sample = criterion.per_sample(reconstruction, target)
    assert per_sample.shape == (7,)
    assert torch.all(per_sample >= 0)
    torch.testing.assert_close(criterion(reconstruction, target), per_sample.mean())


def test_perfect_reconstruction_has_zero_error():
    x = torch.rand(4, 3)
    assert torch.count_nonzero(ReconstructionLoss("mse").per_sample(x, x)) == 0
