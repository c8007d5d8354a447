"""Autoencoder dimensionality reduction: AutoencoderTransformer."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np

from ._base import _BaseAutoencoder
from ._docstrings import fill_doc

__all__ = ["AutoencoderTransformer"]


@fill_doc("transformer")
class AutoencoderTransformer(_BaseAutoencoder):
    """Nonlinear dimensionality reduction with an autoencoder.

    An encoder network maps each sample to ``n_components`` numbers (its
    code) and a mirrored decoder maps the code back to the input space; both
    are trained together to reconstruct the training data. ``transform``
    returns the codes and ``inverse_transform`` the reconstructions, as
    :class:`~sklearn.decomposition.PCA` does, but the mapping is nonlinear.

    Training runs on PyTorch through a skorch ``NeuralNet`` (``net_``), on
    the GPU when one is available.

    %(family)s

    Parameters
    ----------
    %(parameters)s

    Attributes
    ----------
    %(attributes)s

    See Also
    --------
    sklearn.decomposition.PCA : Linear dimensionality reduction.
    sklearn.decomposition.KernelPCA : Nonlinear reduction with kernels.
    AutoencoderOutlierDetector : Outlier detection by reconstruction error.

    Notes
    -----
    Computation runs in float32; outputs are cast to the input's float
    dtype (float32 or float64), so the precision is float32's either way.
    ``score`` is the mean of ``score_samples``, minus the mean
    reconstruction error, so ``GridSearchCV`` can tune the network without
    a ``scoring`` argument.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoencoderTransformer
    >>> X, _ = load_digits(return_X_y=True)
    >>> X = X / 16.0
    >>> ae = AutoencoderTransformer(n_components=4, max_iter=5, random_state=0)
    >>> codes = ae.fit_transform(X)
    >>> codes.shape
    (1797, 4)
    >>> ae.inverse_transform(codes).shape
    (1797, 64)
    >>> ae.get_feature_names_out()[:2]
    array(['autoencodertransformer0', 'autoencodertransformer1'], dtype=object)
    """

    def score(self, X, y=None):
        """Return minus the mean reconstruction error of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        score : float
            The mean of :meth:`score_samples`; higher is better.
        """
        return float(np.mean(self.score_samples(X)))
