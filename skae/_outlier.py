"""Outlier detection by reconstruction error: AutoencoderOutlierDetector."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Real

import numpy as np
from sklearn.base import OutlierMixin

from ._base import Interval, StrOptions, _BaseAutoencoder, fill_doc

__all__ = ["AutoencoderOutlierDetector"]


@fill_doc
class AutoencoderOutlierDetector(OutlierMixin, _BaseAutoencoder):
    """Outlier detection by autoencoder reconstruction error.

    The autoencoder learns to reconstruct the training data through a
    narrow code; samples unlike the bulk of it are reconstructed worse.
    ``score_samples`` is minus the reconstruction error, so, as everywhere
    in scikit-learn, lower scores mean more abnormal samples, and
    ``predict`` returns -1 for outliers and +1 for inliers.

    %(family)s

    Parameters
    ----------
    %(model_parameters)s

    contamination : "auto" or float, default=0.1
        Expected share of outliers in the training data; sets the
        threshold ``offset_``. A float in (0, 0.5] flags that share of the
        training samples, the worst reconstructed. ``"auto"`` flags the
        training errors above Tukey's upper fence, ``Q3 + 1.5 * IQR`` of the
        training reconstruction errors, whatever their share.

    Attributes
    ----------
    offset_ : float
        Threshold on ``score_samples``: ``decision_function`` is
        ``score_samples - offset_`` and is negative for outliers.

    decision_scores_ : ndarray of shape (n_samples,)
        Outlier scores of the training data with PyOD's sign convention:
        the reconstruction errors (for a VAE, the negative ELBO per
        feature), higher is more abnormal.

    threshold_ : float
        ``-offset_``: the threshold on ``decision_scores_`` (PyOD's name).

    labels_ : ndarray of shape (n_samples,)
        Training labels with PyOD's convention: 1 for outliers, 0 for
        inliers.

    %(fitted_attributes)s

    See Also
    --------
    sklearn.ensemble.IsolationForest : Outlier detection with random trees.
    sklearn.neighbors.LocalOutlierFactor : Outlier detection by local density.
    AutoencoderTransformer : The same network as a transformer.

    Notes
    -----
    Scale the data first (for example with
    :class:`~sklearn.preprocessing.StandardScaler` in a ``Pipeline``): the
    reconstruction error adds up features, so a feature with a large range
    would dominate it.

    Examples
    --------
    >>> import numpy as np
    >>> from skae import AutoencoderOutlierDetector
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 2)) @ rng.normal(size=(2, 5))  # a 2-D plane
    >>> X[:5] = rng.uniform(-3, 3, size=(5, 5))  # 5 points off the plane
    >>> detector = AutoencoderOutlierDetector(
    ...     contamination=0.05, max_iter=50, random_state=0
    ... ).fit(X)
    >>> detector.predict(X[:5])
    array([-1, -1, -1, -1, -1])
    """

    _parameter_constraints: dict = {
        **_BaseAutoencoder._parameter_constraints,
        "contamination": [
            StrOptions({"auto"}),
            Interval(Real, 0, 0.5, closed="right"),
        ],
    }

    def __init__(
        self,
        n_components=2,
        *,
        hidden_layer_sizes=(128, 64),
        activation="relu",
        output_activation="auto",
        dropout=0.0,
        batch_norm=False,
        loss="mse",
        sparsity=0.0,
        noise=None,
        noise_level=0.1,
        variational=False,
        beta=1.0,
        module=None,
        module_params=None,
        optimizer="adam",
        learning_rate_init=1e-3,
        alpha=0.0,
        batch_size=256,
        max_iter=200,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        device="auto",
        random_state=None,
        verbose=0,
        warm_start=False,
        contamination=0.1,
    ):
        super().__init__(
            n_components,
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            output_activation=output_activation,
            dropout=dropout,
            batch_norm=batch_norm,
            loss=loss,
            sparsity=sparsity,
            noise=noise,
            noise_level=noise_level,
            variational=variational,
            beta=beta,
            module=module,
            module_params=module_params,
            optimizer=optimizer,
            learning_rate_init=learning_rate_init,
            alpha=alpha,
            batch_size=batch_size,
            max_iter=max_iter,
            tol=tol,
            n_iter_no_change=n_iter_no_change,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            device=device,
            random_state=random_state,
            verbose=verbose,
            warm_start=warm_start,
        )
        self.contamination = contamination

    def decision_function(self, X):
        """Shifted scores: negative for outliers, positive for inliers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            ``score_samples(X) - offset_``.
        """
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """Label each sample as inlier (+1) or outlier (-1).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to label.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            +1 for inliers, -1 for outliers.
        """
        return np.where(self.decision_function(X) < 0, -1, 1)

    def _after_fit(self, X):
        errors = self._reconstruction_error(X)
        if self.contamination == "auto":
            q1, q3 = np.percentile(errors, [25, 75])
            threshold = q3 + 1.5 * (q3 - q1)
        else:
            threshold = np.percentile(errors, 100.0 * (1.0 - self.contamination))
        self.offset_ = float(-threshold)
        self.decision_scores_ = errors
        self.threshold_ = float(threshold)
        self.labels_ = (errors > threshold).astype(int)
