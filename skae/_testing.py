"""Helpers for checking that a model learned: training with updates disabled."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

from contextlib import contextmanager

import torch

__all__ = ["optimizer_updates_disabled"]


@contextmanager
def optimizer_updates_disabled():
    """Make ``step`` of every torch optimizer class a no-op inside the block.

    A model fitted inside the block keeps its random initial weights while
    everything else in ``fit`` runs unchanged: the loss is still computed
    (the closure runs), so what a test or a benchmark then measures is what
    training adds. Patching the base class is not enough: ``Adam`` and the
    other optimizers define their own ``step``, so every subclass of
    ``torch.optim.Optimizer`` that defines one gets the no-op, and the
    originals come back on exit.

    Examples
    --------
    >>> import numpy as np
    >>> from skae import AutoencoderTransformer
    >>> from skae._testing import optimizer_updates_disabled
    >>> X = np.random.RandomState(0).normal(size=(50, 3))
    >>> with optimizer_updates_disabled():
    ...     model = AutoencoderTransformer(max_iter=2, tol=0).fit(X)
    >>> bool(np.isclose(model.loss_curve_[0], model.loss_curve_[1]))
    True
    """

    def no_step(self, closure=None):
        return closure() if closure is not None else None

    classes, pending = [torch.optim.Optimizer], [torch.optim.Optimizer]
    while pending:
        subclasses = pending.pop().__subclasses__()
        classes += subclasses
        pending += subclasses
    saved = {cls: cls.__dict__["step"] for cls in classes if "step" in cls.__dict__}
    try:
        for cls in saved:
            cls.step = no_step
        yield
    finally:
        for cls, step in saved.items():
            cls.step = step
