"""The autoencoder family: each variant does what its name promises.

The fits that judge what a variant learns share ``FIT`` and module-scoped
fixtures, so each model is trained once; the effect sizes asserted are
well inside what these seeds give (measured values in the comments).
"""

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from torch import nn
from torch.distributions import Normal, kl_divergence
from torch.nn import functional as F

from skae import AutoencoderOutlierDetector, AutoencoderTransformer

from .conftest import TINY

#: Long enough for the effects to be large, short enough for about 3 s a
#: fit on two CPU cores.
FIT = {"hidden_layer_sizes": (64,), "max_iter": 40, "batch_size": 64, "random_state": 0}


def _mse(a, b):
    return float(np.mean((a - b) ** 2))


def _reconstruct(model, X):
    return model.inverse_transform(model.transform(X))


def _hoyer(Z):
    """Hoyer's sparsity of each row, averaged: 0 all equal, 1 one-hot.

    Unlike the mean |code| it does not change with the scale of the codes.
    """
    root_n = np.sqrt(Z.shape[1])
    ratio = np.abs(Z).sum(axis=1) / np.sqrt((Z**2).sum(axis=1))
    return float(np.mean((root_n - ratio) / (root_n - 1)))


def _posterior(model, X):
    """Mean and log-variance of a fitted VAE's posterior, as tensors."""
    with torch.no_grad():
        x = torch.as_tensor(X, dtype=torch.float32)
        return model.net_.module_.encode_distribution(x)


@pytest.fixture(scope="module")
def split(digits):
    X_train, X_test = train_test_split(digits[0], test_size=0.3, random_state=0)
    return X_train, X_test


@pytest.fixture(scope="module")
def plain(split):
    return AutoencoderTransformer(16, **FIT).fit(split[0])


# --- sparse ---------------------------------------------------------------


@pytest.fixture(scope="module")
def sparse_model(split):
    # The setting: 32 codes on the digits in [0, 1], sparsity=0.05
    # (a target of 5% active code units), the transformer's defaults.
    return AutoencoderTransformer(32, sparsity=0.05, random_state=0).fit(split[0])


def test_sparse_codes_are_mostly_exact_zeros(split, sparse_model):
    codes = sparse_model.transform(split[1])
    # ceil(0.05 * 32) = 2 active units per row: 94% of the entries are 0.
    assert np.mean(codes == 0) >= 0.75
    assert np.all((codes != 0).sum(axis=1) == 2)


def test_sparse_codes_beat_a_dense_code_of_their_active_size(split, sparse_model):
    # A plain autoencoder with as many code units as a sparse code has
    # active ones reconstructs held-out digits worse: the sparse code picks
    # which 2 of 32 units to use for each digit. Measured: 0.0277 vs 0.0350,
    # and PCA with 2 components 0.0537. Untrained, the two networks are
    # also 0.88x apart (0.216 vs 0.246), but both far above PCA.
    X_train, X_test = split
    active = int(round((sparse_model.transform(X_test) != 0).sum(axis=1).mean()))
    plain = AutoencoderTransformer(active, random_state=0).fit(X_train)
    pca = PCA(active).fit(X_train)
    sparse_error = _mse(_reconstruct(sparse_model, X_test), X_test)
    assert sparse_error < 0.9 * _mse(_reconstruct(plain, X_test), X_test)
    assert sparse_error < 0.7 * _mse(_reconstruct(pca, X_test), X_test)


def test_sparse_decoder_keeps_unit_norm_columns(sparse_model):
    for layer in sparse_model.net_.module_.decoder.modules():
        if isinstance(layer, nn.Linear):
            norms = layer.weight.detach().norm(dim=0)
            torch.testing.assert_close(norms, torch.ones_like(norms))


def test_active_units_are_annealed_and_stopping_waits_for_the_schedule(digits):
    # k falls from all 16 codes to ceil(0.25 * 16) = 4 over the first half
    # of max_iter; a huge tol would stop training after 1 + 2 epochs, but
    # stopping restarts until the schedule ends at epoch 10.
    X = digits[0][:200]
    seen = []
    model = AutoencoderTransformer(
        16,
        sparsity=0.25,
        max_iter=20,
        tol=10.0,
        n_iter_no_change=2,
        **{k: v for k, v in TINY.items() if k != "max_iter"},
    )
    model.fit(X)
    callback = dict(model.net_.callbacks_)["sparse_code"]
    seen = [callback._k_at(epoch) for epoch in range(1, 12)]
    assert seen[0] == 16 and seen[-2:] == [4, 4] and seen == sorted(seen, reverse=True)
    assert model.n_iter_ == 10 + 2
    assert model.net_.module_.active_components == 4


# --- denoising ------------------------------------------------------------


def _corrupt(X, noise, rng):
    if noise == "gaussian":
        return X + 0.3 * rng.normal(size=X.shape)
    return np.where(rng.uniform(size=X.shape) < 0.3, 0.0, X)


@pytest.mark.parametrize("noise", ["gaussian", "masking"])
def test_denoising_reconstructs_clean_images_from_corrupted_ones(split, plain, noise):
    X_train, X_test = split
    corrupted = _corrupt(X_test, noise, np.random.RandomState(1))
    denoiser = AutoencoderTransformer(16, noise=noise, noise_level=0.3, **FIT)
    denoiser.fit(X_train)
    # Measured MSE to the clean test images, plain -> denoising:
    # gaussian 0.0356 -> 0.0260, masking 0.0441 -> 0.0281.
    plain_error = _mse(_reconstruct(plain, corrupted), X_test)
    assert _mse(_reconstruct(denoiser, corrupted), X_test) < 0.85 * plain_error


class _InputRecorder(nn.Module):
    """A linear autoencoder that keeps every input it is trained on."""

    def __init__(self, n_features, n_components):
        super().__init__()
        self.encoder = nn.Linear(n_features, n_components)
        self.decoder = nn.Linear(n_components, n_features)
        self.seen = []

    def encode(self, x):
        if self.training:
            self.seen.append(x.detach().clone())
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)


def test_noise_corrupts_each_training_batch_afresh_and_never_inference():
    X = np.random.RandomState(0).uniform(0.5, 1.0, size=(64, 8))  # no zeros
    model = AutoencoderTransformer(
        module=_InputRecorder, noise="masking", noise_level=0.5, **TINY
    ).fit(X)
    seen = model.net_.module_.seen
    masked = [float((batch == 0).float().mean()) for batch in seen]
    assert len(seen) == TINY["max_iter"] * 4
    assert all(0.35 < share < 0.65 for share in masked)
    assert not torch.equal(seen[0] == 0, seen[4] == 0)  # a new mask each epoch
    np.testing.assert_array_equal(model.transform(X), model.transform(X))


def test_noise_is_seeded_and_leaves_the_global_random_state_alone(digits):
    X = digits[0][:200]
    torch_state, numpy_state = torch.random.get_rng_state(), np.random.get_state()
    codes = [
        AutoencoderTransformer(noise=noise, noise_level=0.5, **TINY).fit(X).transform(X)
        for noise in ("gaussian", "gaussian", None)
    ]
    np.testing.assert_array_equal(codes[0], codes[1])
    assert not np.allclose(codes[0], codes[2])  # the noise changed training
    assert torch.equal(torch_state, torch.random.get_rng_state())
    np.testing.assert_array_equal(numpy_state[1], np.random.get_state()[1])


# --- variational ----------------------------------------------------------


@pytest.fixture(scope="module")
def vaes(split):
    # loss="bce": the Bernoulli likelihood of pixel intensities. With "mse"
    # on data in [0, 1] the KL term outweighs the small reconstruction errors
    # and most latent dimensions collapse onto the prior.
    return {
        beta: AutoencoderTransformer(
            8, variational=True, beta=beta, loss="bce", **FIT
        ).fit(split[0])
        for beta in (0.1, 1.0)
    }


def test_beta_weights_the_kl_term(split, vaes):
    X_train, X_test = split
    kl = {
        beta: float(kl_divergence(*_normals(model, X_train)).sum(dim=1).mean())
        for beta, model in vaes.items()
    }
    # Measured mean KL per sample, in nats: 12.8 at beta=0.1, 2.3 at beta=1.
    assert kl[0.1] > 3 * kl[1.0]
    # The ELBO (beta-free) prefers beta=1 on held-out data: -0.37 vs -0.49.
    assert vaes[1.0].score(X_test) > vaes[0.1].score(X_test) + 0.05


def _normals(model, X):
    mean, log_var = _posterior(model, X)
    return Normal(mean, (0.5 * log_var).exp()), Normal(0.0, 1.0)


def test_vae_codes_are_close_to_a_standard_normal(split, vaes):
    X_train = split[0]
    spread = {}
    for beta, model in vaes.items():
        mean, log_var = _posterior(model, X_train)
        np.testing.assert_allclose(model.transform(X_train), mean.numpy(), rtol=1e-6)
        # The codes of the training data as a mixture of the posteriors:
        # its variance is the variance of the means plus the mean variance.
        variance = mean.var(dim=0) + log_var.exp().mean(dim=0)
        spread[beta] = (mean.mean(dim=0).abs().max(), (variance - 1).abs().max())
    # Measured at beta=1: |mean| <= 0.07, |variance - 1| <= 0.11; at
    # beta=0.1 the mixture drifts from the prior: 0.80 and 1.07.
    assert spread[1.0][0] < 0.15 and spread[1.0][1] < 0.2
    assert spread[0.1][1] > 0.5


@pytest.mark.parametrize("beta", [0.1, 1.0])
def test_vae_score_samples_is_minus_the_negative_elbo(split, vaes, beta):
    model, X = vaes[beta], split[1][:50]
    x = torch.as_tensor(X, dtype=torch.float32)
    reconstruction = torch.as_tensor(_reconstruct(model, X), dtype=torch.float32)
    bce = F.binary_cross_entropy(reconstruction, x, reduction="none").mean(dim=1)
    kl = kl_divergence(*_normals(model, X)).sum(dim=1)
    # Reconstruction from the posterior mean, KL with weight 1 whatever beta.
    expected = -(bce + kl / X.shape[1])
    scores = model.score_samples(X)
    np.testing.assert_allclose(scores, expected.numpy(), rtol=1e-4)
    np.testing.assert_array_equal(scores, model.score_samples(X))


def test_sample_draws_digit_like_points(digits, vaes):
    X = digits[0]
    vae = vaes[1.0]
    drawn = vae.sample(500, random_state=0)
    assert drawn.shape == (500, 64) and drawn.dtype == np.float64
    assert 0 <= drawn.min() and drawn.max() <= 1
    # Measured mean intensity 0.305, as the data's.
    assert abs(drawn.mean() - X.mean()) < 0.03
    np.testing.assert_array_equal(drawn, vae.sample(500, random_state=0))
    assert not np.array_equal(drawn, vae.sample(500, random_state=1))


def test_sample_follows_the_training_dtype_and_needs_a_vae(digits):
    X = digits[0][:100].astype(np.float32)
    vae = AutoencoderTransformer(variational=True, **TINY).fit(X)
    assert vae.sample(3).dtype == np.float32
    detector = AutoencoderOutlierDetector(variational=True, **TINY).fit(X)
    assert detector.sample(2, random_state=0).shape == (2, 64)
    with pytest.raises(ValueError, match="n_samples"):
        vae.sample(0)
    plain = AutoencoderTransformer(**TINY)
    assert not hasattr(plain, "sample")
    with pytest.raises(AttributeError) as error:
        plain.sample()
    assert "variational=True" in str(error.value.__cause__)


# --- dropout and batch norm -----------------------------------------------


def test_dropout_acts_in_training_only(digits):
    X = digits[0][:500]
    settings = {**TINY, "hidden_layer_sizes": (32,), "max_iter": 20}
    gaps = {}
    for dropout in (0.0, 0.5):
        model = AutoencoderTransformer(8, dropout=dropout, **settings).fit(X)
        # Training loss (with dropout) over the evaluation error (without).
        gaps[dropout] = model.loss_curve_[-1] / -model.score(X)
        np.testing.assert_array_equal(model.transform(X), model.transform(X))
    # Measured: 1.02 without dropout, 1.22 with.
    assert gaps[0.5] > gaps[0.0] + 0.1


def test_batch_norm_trains_its_statistics_and_survives_a_one_row_batch(digits):
    # 33 rows in batches of 16: the last row joins the batch before it.
    X = digits[0][:33]
    model = AutoencoderTransformer(batch_norm=True, **TINY).fit(X)
    norm = model.net_.module_.encoder[1]
    assert isinstance(norm, nn.BatchNorm1d)
    assert norm.running_mean.abs().sum() > 0
    np.testing.assert_array_equal(model.transform(X), model.transform(X))
