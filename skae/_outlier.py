"""Outlier detection by reconstruction error: AutoencoderOutlierDetector."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import math
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import OutlierMixin

from ._base import Interval, StrOptions, _BaseAutoencoder
from ._docstrings import fill_doc

__all__ = ["AutoencoderOutlierDetector"]

#: Values the calibration sample may hold: 4 Mi entries, 16 MiB of float32,
#: and at most 10,000 rows.
_CALIBRATION_ENTRIES = 2**22
_CALIBRATION_ROWS = 10_000


@fill_doc("detector")
class AutoencoderOutlierDetector(OutlierMixin, _BaseAutoencoder):
    """Outlier detection by autoencoder reconstruction error.

    The autoencoder learns to reconstruct the training data through a
    narrow code; samples unlike the bulk of it are reconstructed worse.
    ``score_samples`` is minus the reconstruction error, so, as everywhere
    in scikit-learn, lower scores mean more abnormal samples, and
    ``predict`` returns -1 for outliers and +1 for inliers.

    %(family)s

    The defaults are chosen to find outliers in standardised tabular data
    without tuning: a small network trained briefly (see ``max_iter``),
    robust to the outliers in its training data (``trim_fraction``), that
    cannot reconstruct samples beyond the range of the training data
    (``code_clip_quantile``), with errors compared feature by feature
    (``error_scaling``).

    Parameters
    ----------
    %(parameters)s

    Attributes
    ----------
    %(attributes)s

    See Also
    --------
    sklearn.ensemble.IsolationForest : Outlier detection with random trees.
    sklearn.neighbors.LocalOutlierFactor : Outlier detection by local density.
    AutoencoderTransformer : The same network as a transformer.

    Notes
    -----
    Scale the data first (for example with
    :class:`~sklearn.preprocessing.StandardScaler` in a ``Pipeline``): the
    network and its errors treat all features alike.

    Outliers are ranked by how badly they are reconstructed, so the
    detector finds samples that break the relations between features, and,
    through ``code_clip_quantile``, samples beyond the training data's
    range. Samples that are extreme in one feature but otherwise typical
    are found more reliably by :class:`~sklearn.ensemble.IsolationForest`.

    The defaults come from a benchmark on 14 tasks built from
    scikit-learn's bundled data sets and synthetic outliers
    (``benchmarks/bench_outliers.py``), where they rank outliers better
    than PyOD's ``AutoEncoder`` and about as well as
    :class:`~sklearn.ensemble.IsolationForest`.

    Examples
    --------
    >>> import numpy as np
    >>> from skae import AutoencoderOutlierDetector
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 2)) @ rng.normal(size=(2, 5))  # a 2-D plane
    >>> X[:5] = rng.uniform(-3, 3, size=(5, 5))  # 5 points off the plane
    >>> detector = AutoencoderOutlierDetector(
    ...     contamination=0.05, random_state=0
    ... ).fit(X)
    >>> detector.predict(X[:5])
    array([-1, -1, -1, -1, -1])
    >>> detector.n_components_
    2
    """

    _parameter_constraints: dict = {
        **_BaseAutoencoder._parameter_constraints,
        "n_components": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "contamination": [
            StrOptions({"auto"}),
            Interval(Real, 0, 0.5, closed="right"),
        ],
        "trim_fraction": [Interval(Real, 0, 0.5, closed="both")],
        "code_clip_quantile": [None, Interval(Real, 0, 0.5, closed="left")],
        "error_scaling": [None, StrOptions({"mean"})],
    }

    def __init__(
        self,
        n_components="auto",
        *,
        hidden_layer_sizes=(64,),
        activation="tanh",
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
        batch_size=32,
        max_iter=50,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        device="auto",
        random_state=None,
        verbose=0,
        warm_start=False,
        contamination=0.1,
        trim_fraction=0.1,
        code_clip_quantile=0.05,
        error_scaling="mean",
        **module__kwargs,
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
            **module__kwargs,
        )
        self.contamination = contamination
        self.trim_fraction = trim_fraction
        self.code_clip_quantile = code_clip_quantile
        self.error_scaling = error_scaling

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

    def _warn_max_iter(self):
        # max_iter is a deliberate budget here, not a convergence limit (see
        # its doc): the warning would fire at every default fit and suggest
        # the one change, training longer, that hurts detection.
        pass

    def _n_components(self, n_features):
        if self.n_components == "auto":
            return max(1, round(math.sqrt(n_features)))
        return self.n_components

    def _criterion_params(self):
        return {**super()._criterion_params(), "trim_fraction": self.trim_fraction}

    def _after_fit(self, X, incremental):
        rows = self._update_calibration_sample(X, incremental)
        # Each step uses the previous one: the error scale is measured on
        # reconstructions from clipped codes, and the threshold on scaled
        # errors.
        self.code_bounds_ = None
        if self.code_clip_quantile is not None:
            q = self.code_clip_quantile
            self.code_bounds_ = np.quantile(self._encode(rows), [q, 1 - q], axis=0)
        self.error_scale_ = None
        if self.error_scaling == "mean":
            scale = self._mean_elementwise_error(rows)
            # A feature the network reconstructs almost perfectly (a
            # constant one) would get an unbounded weight; cap it at 1000
            # times the average.
            self.error_scale_ = np.maximum(scale, 1e-3 * scale.mean())
        errors = self._reconstruction_error(rows)
        if self.contamination == "auto":
            q1, q3 = np.percentile(errors, [25, 75])
            threshold = q3 + 1.5 * (q3 - q1)
        else:
            threshold = np.percentile(errors, 100.0 * (1.0 - self.contamination))
        self.offset_ = float(-threshold)
        self.threshold_ = float(threshold)
        self.decision_scores_ = errors if rows is X else self._reconstruction_error(X)
        self.labels_ = (self.decision_scores_ > threshold).astype(int)

    def _update_calibration_sample(self, X, incremental):
        """Keep a uniform sample of every row trained on, for calibration.

        The sample is a reservoir (Vitter's algorithm R) over the rows of all
        ``fit`` and ``partial_fit`` calls since the network was created, so
        the code bounds, the error scale and the threshold describe all the
        data seen, not the last chunk. Returns the sample, which is ``X``
        itself when X is all the data and small enough.
        """
        capacity = max(1, min(_CALIBRATION_ROWS, _CALIBRATION_ENTRIES // X.shape[1]))
        continuing = incremental and hasattr(self, "_calibration_rows")
        seen = self._n_calibration_rows_seen if continuing else 0
        sample = self._calibration_rows if continuing else X[:0]
        rng = np.random.default_rng([self._net_spec_["seed"], seen])
        n_new = X.shape[0]
        # Row seen + i of the stream replaces a random slot with probability
        # capacity / (seen + i + 1); rows that fill free slots come first.
        n_free = max(0, min(capacity - sample.shape[0], n_new))
        slots = rng.integers(0, seen + np.arange(n_free, n_new) + 1)
        kept = np.flatnonzero(slots < capacity) + n_free
        if sp.issparse(X):
            sample = sp.vstack([sample, X[:n_free]], format="csr")
            sample = sample.tolil()
        else:
            sample = np.concatenate([sample, X[:n_free]])
        for row, slot in zip(kept, slots[kept - n_free], strict=True):
            sample[slot] = X[row]
        self._calibration_rows = sample.tocsr() if sp.issparse(sample) else sample
        self._n_calibration_rows_seen = seen + n_new
        if not incremental and n_new <= capacity:
            return X
        return self._calibration_rows

    def _mean_elementwise_error(self, X):
        """Each feature's reconstruction error, averaged over X's rows."""
        kwargs = self._scoring_arguments(torch.device(self.net_.device))
        kwargs["feature_scale"] = None
        total = None
        self.net_.module_.eval()
        # Summed batch by batch: the n_samples x n_features matrix of errors
        # would be as large as X itself.
        for _, x in self._inference_batches(X):
            elementwise, _ = self.net_.elementwise_loss(x, **kwargs)
            batch = elementwise.sum(dim=0, dtype=torch.float64)
            total = batch if total is None else total + batch
        return total.cpu().numpy() / X.shape[0]

    def _scoring_arguments(self, device):
        def tensor(array):
            return (
                None
                if array is None
                else torch.as_tensor(array, dtype=torch.float32, device=device)
            )

        return {
            "code_bounds": tensor(self.code_bounds_),
            "feature_scale": tensor(self.error_scale_),
        }
