"""Training objectives: reconstruction losses, code penalties, per-sample errors."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["LOSSES", "ReconstructionLoss", "kl_divergence"]

#: Loss name -> elementwise torch loss function (``reduction`` keyword
#: accepted). The keys are the accepted values of the estimators' ``loss``.
LOSSES = {
    "mse": F.mse_loss,
    "l1": F.l1_loss,
    "huber": F.huber_loss,
    "bce": F.binary_cross_entropy,
}


def kl_divergence(mean, log_var):
    """KL divergence of ``N(mean, exp(log_var))`` from ``N(0, I)``, per row.

    The closed form for diagonal Gaussians, summed over the latent
    dimensions (the last axis).

    Examples
    --------
    >>> import torch
    >>> from skae._losses import kl_divergence
    >>> kl_divergence(torch.zeros(2, 3), torch.zeros(2, 3)).tolist()
    [0.0, 0.0]
    >>> kl_divergence(torch.ones(1, 2), torch.zeros(1, 2)).tolist()
    [1.0]
    """
    return 0.5 * (mean.square() + log_var.exp() - 1.0 - log_var).sum(dim=-1)


class ReconstructionLoss(nn.Module):
    """Mean elementwise reconstruction loss, plus a VAE's KL term.

    Training minimises :meth:`forward`; scoring reports :meth:`per_sample`.
    Rows are the last axis but one and features the last, so the batches of
    an ensemble, stacked on a leading member axis, work alike (trimming
    applies within each member's batch). Every term is a per-sample total
    divided by the number of features, so the objective stays on the scale
    of the mean reconstruction loss:

    - the reconstruction loss, averaged over features;
    - ``beta`` times the KL divergence of the posterior from the standard
      normal prior (summed over latent dimensions), when a posterior is
      given. With ``beta=1`` this is the negative ELBO per feature.

    With ``beta=1`` the mean of ``per_sample`` over a batch equals
    ``forward``, so the training loss and ``score`` are on one scale.

    Parameters
    ----------
    loss : str, default="mse"
        Key of :data:`LOSSES`.
    beta : float, default=1.0
        Weight of the KL term of a variational autoencoder.
    trim_fraction : float, default=0.0
        Share of each batch, rounded down to whole samples, left out of the
        training objective: the samples with the largest per-sample loss.
        Minimising the mean over the others is a trimmed loss, as in least
        trimmed squares: outliers in the training data, reconstructed worst
        from the first epoch on, hardly pull on the weights.

    Examples
    --------
    >>> import torch
    >>> from skae._losses import ReconstructionLoss
    >>> criterion = ReconstructionLoss("mse")
    >>> x = torch.zeros(3, 2)
    >>> criterion(x + 1, x).item(), criterion.per_sample(x + 1, x).tolist()
    (1.0, [1.0, 1.0, 1.0])
    >>> trimmed = ReconstructionLoss("mse", trim_fraction=0.25)
    >>> errors = torch.tensor([[1.0], [1.0], [1.0], [9.0]])
    >>> trimmed(errors, torch.zeros(4, 1)).item()  # the 9 is left out
    1.0
    """

    def __init__(self, loss="mse", beta=1.0, trim_fraction=0.0):
        super().__init__()
        self.loss = loss
        self.beta = beta
        self.trim_fraction = trim_fraction

    def forward(self, reconstruction, target, posterior=None):
        """The training objective, averaged over the batch.

        Parameters
        ----------
        reconstruction, target : torch.Tensor of shape (n_samples, ...)
            Network output and clean input.
        posterior : tuple of two torch.Tensor, default=None
            Mean and log-variance of the Gaussian posterior, for a
            variational autoencoder.
        """
        kl = None
        if posterior is not None:
            kl = self.beta * kl_divergence(*posterior) / target.shape[-1]
        if self.trim_fraction:
            per_sample = self.per_sample(reconstruction, target)
            if kl is not None:
                per_sample = per_sample + kl
            n_rows = per_sample.shape[-1]
            n_keep = n_rows - int(self.trim_fraction * n_rows)
            kept = torch.topk(per_sample, n_keep, dim=-1, largest=False, sorted=False)
            return kept.values.mean()
        # Untrimmed, the fused mean reduction is faster than per-sample sums.
        loss = LOSSES[self.loss](reconstruction, target)
        return loss if kl is None else loss + kl.mean()

    def elementwise(self, reconstruction, target):
        """Reconstruction loss of every entry, in the shape of ``target``."""
        return LOSSES[self.loss](reconstruction, target, reduction="none")

    def scored(self, reconstruction, target, posterior=None, feature_scale=None):
        """The two parts of a scoring loss: per entry, and per row.

        Parameters
        ----------
        reconstruction, target : torch.Tensor of shape (n_samples, ...)
            Network output and input.
        posterior : tuple of two torch.Tensor, default=None
            Mean and log-variance of a VAE's posterior.
        feature_scale : torch.Tensor of shape (n_features,), default=None
            Divides each feature's loss.

        Returns
        -------
        elementwise : torch.Tensor of the shape of ``target``
            The loss of every entry, divided by ``feature_scale``.
        kl : torch.Tensor of shape (n_samples,) or None
            Given a posterior, its KL divergence from the prior divided by
            the number of features, with weight 1 (not ``beta``): with the
            mean of ``elementwise`` it makes the negative ELBO per feature,
            comparable across values of ``beta``.
        """
        elementwise = self.elementwise(reconstruction, target)
        if feature_scale is not None:
            elementwise = elementwise / feature_scale
        kl = None
        if posterior is not None:
            kl = kl_divergence(*posterior) / target.shape[-1]
        return elementwise, kl

    def per_sample(self, reconstruction, target, posterior=None, feature_scale=None):
        """Scoring loss of each row: the mean of :meth:`scored`'s entries of
        the row, plus its KL term."""
        elementwise, kl = self.scored(reconstruction, target, posterior, feature_scale)
        error = elementwise.mean(dim=-1)
        return error if kl is None else error + kl
