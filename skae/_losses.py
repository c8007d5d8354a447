"""Reconstruction losses: the training criterion and the per-sample errors."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

from torch import nn
from torch.nn import functional as F

__all__ = ["LOSSES", "ReconstructionLoss"]

#: Loss name -> elementwise torch loss function (``reduction`` keyword
#: accepted). The keys are the accepted values of the estimators' ``loss``.
LOSSES = {
    "mse": F.mse_loss,
    "l1": F.l1_loss,
    "huber": F.huber_loss,
    "bce": F.binary_cross_entropy,
}


class ReconstructionLoss(nn.Module):
    """Mean elementwise reconstruction loss, and the same loss per sample.

    Training minimises :meth:`forward`, the mean over every entry of the
    batch; scoring reports :meth:`per_sample`, the mean over each row's
    features. The mean of ``per_sample`` over a batch therefore equals
    ``forward``, so training loss and ``score`` are on one scale.

    Parameters
    ----------
    loss : str, default="mse"
        Key of :data:`LOSSES`.

    Examples
    --------
    >>> import torch
    >>> from skae._losses import ReconstructionLoss
    >>> criterion = ReconstructionLoss("mse")
    >>> x = torch.zeros(3, 2)
    >>> criterion(x + 1, x).item(), criterion.per_sample(x + 1, x).tolist()
    (1.0, [1.0, 1.0, 1.0])
    """

    def __init__(self, loss="mse"):
        super().__init__()
        self.loss = loss

    def forward(self, reconstruction, target):
        """Mean loss over all entries of the batch."""
        return LOSSES[self.loss](reconstruction, target)

    def per_sample(self, reconstruction, target):
        """Loss of each row, averaged over its features."""
        elementwise = LOSSES[self.loss](reconstruction, target, reduction="none")
        return elementwise.flatten(start_dim=1).mean(dim=1)
