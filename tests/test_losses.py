"""The training objective: reconstruction loss, KL term and trimming."""

import pytest
import torch
from torch.distributions import Normal
from torch.distributions import kl_divergence as torch_kl

from skae._losses import LOSSES, ReconstructionLoss, kl_divergence


@pytest.fixture
def batch():
    generator = torch.Generator().manual_seed(0)
    target = torch.rand(5, 4, generator=generator)
    reconstruction = torch.rand(5, 4, generator=generator)
    mean = torch.randn(5, 3, generator=generator)
    log_var = torch.randn(5, 3, generator=generator)
    return reconstruction, target, mean, log_var


def test_kl_divergence_matches_torch_distributions(batch):
    _, _, mean, log_var = batch
    expected = torch_kl(Normal(mean, (0.5 * log_var).exp()), Normal(0.0, 1.0))
    torch.testing.assert_close(kl_divergence(mean, log_var), expected.sum(dim=1))


@pytest.mark.parametrize("beta", [0.0, 1.0, 4.0])
def test_beta_weights_the_kl_term_per_feature(batch, beta):
    reconstruction, target, mean, log_var = batch
    criterion = ReconstructionLoss("bce", beta=beta)
    loss = criterion(reconstruction, target, (mean, log_var))
    reconstruction_only = ReconstructionLoss("bce")(reconstruction, target)
    expected = beta * kl_divergence(mean, log_var).mean() / 4
    torch.testing.assert_close(loss - reconstruction_only, expected)


def test_per_sample_is_the_negative_elbo_whatever_beta(batch):
    # Scores use the KL with weight 1, so models trained with different beta
    # compare; at beta=1 the mean of per_sample is the training loss.
    reconstruction, target, mean, log_var = batch
    posterior = (mean, log_var)
    for beta in (0.1, 1.0, 3.0):
        criterion = ReconstructionLoss("bce", beta=beta)
        scores = criterion.per_sample(reconstruction, target, posterior)
        expected = ReconstructionLoss("bce").per_sample(reconstruction, target) + (
            kl_divergence(mean, log_var) / 4
        )
        torch.testing.assert_close(scores, expected)
    criterion = ReconstructionLoss("bce")
    torch.testing.assert_close(
        criterion.per_sample(reconstruction, target, posterior).mean(),
        criterion(reconstruction, target, posterior),
    )


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_batch_loss_is_the_mean_of_per_sample_losses(name, batch):
    reconstruction, target, _, _ = batch
    criterion = ReconstructionLoss(name)
    per_sample = criterion.per_sample(reconstruction, target)
    assert per_sample.shape == (5,)
    assert torch.all(per_sample >= 0)
    torch.testing.assert_close(criterion(reconstruction, target), per_sample.mean())


def test_perfect_reconstruction_has_zero_error():
    x = torch.rand(4, 3)
    assert torch.count_nonzero(ReconstructionLoss("mse").per_sample(x, x)) == 0


def test_trimming_leaves_out_the_worst_samples_kl_term_included(batch):
    reconstruction, target, mean, log_var = batch
    trimmed = ReconstructionLoss("mse", beta=2.0, trim_fraction=0.4)
    per_sample = ReconstructionLoss("mse").per_sample(reconstruction, target)
    per_sample = per_sample + 2.0 * kl_divergence(mean, log_var) / 4
    # 5 samples, 40% trimmed: the mean of the 3 lowest totals.
    expected = per_sample.sort().values[:3].mean()
    torch.testing.assert_close(
        trimmed(reconstruction, target, (mean, log_var)), expected
    )
