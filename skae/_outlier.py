"""Outlier detection by reconstruction error: AutoencoderOutlierDetector."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import math
import re
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import OutlierMixin
from sklearn.exceptions import ConvergenceWarning

from ._base import _DOC_FRAGMENTS, Interval, StrOptions, _BaseAutoencoder
from ._losses import kl_divergence
from ._training import make_net

__all__ = ["AutoencoderOutlierDetector"]

#: Docs of the parameters whose detector default differs from the shared
#: one, with the reason for the default. The evidence is in
#: ``benchmarks/bench_outliers.py`` and ``docs/outlier_benchmark.rst``.
_DETECTOR_PARAMETER_DOCS = {
    "n_components": """n_components : int or "auto", default="auto"
        Size of the code (the bottleneck). ``"auto"`` is
        ``round(sqrt(n_features))``, at least 1 (the resolved value is
        ``n_components_``): small enough that the network cannot copy its
        input, large enough to follow data with many correlated features.""",
    "hidden_layer_sizes": """hidden_layer_sizes : tuple of int, default=(64,)
        Widths of the encoder's hidden layers; the decoder mirrors them.
        One layer of 64 units: a deeper or wider network fits the few
        training outliers as well as the inliers.""",
    "activation": """activation : {"relu", "tanh", "sigmoid", "elu", "gelu", \
"leaky_relu", "selu", "identity"}, default="tanh"
        Activation after every hidden layer. ``"tanh"`` saturates, so the
        network does not extrapolate linearly to far-away samples and
        reconstruct them well.""",
    "batch_size": """batch_size : int, default=32
        Rows per training mini-batch. Small batches give small data sets
        enough gradient steps within ``max_iter`` epochs.""",
    "max_iter": """max_iter : int, default=50
        Number of epochs (skorch's ``max_epochs``). The short budget is
        deliberate: trained to convergence, the network learns to
        reconstruct the outliers it should flag. Reaching ``max_iter``
        therefore raises no ``ConvergenceWarning``.""",
}


def _fill_detector_doc(cls):
    """Insert the shared docs, with the detector's own defaults, into cls.

    The shared parameter docs are split into their numpydoc entries (each
    starts at a blank line and a ``name : type`` header) so the entries in
    :data:`_DETECTOR_PARAMETER_DOCS` replace whole entries in place, and
    the documented order still follows the signature.
    """
    fragment = _DOC_FRAGMENTS["model_parameters"]
    entries = re.split(r"\n\n    (?=\w+ : )", fragment)
    docs = {entry.split(" : ", 1)[0]: entry for entry in entries}
    docs.update(_DETECTOR_PARAMETER_DOCS)
    cls.__doc__ = cls.__doc__ % {
        **_DOC_FRAGMENTS,
        "model_parameters": "\n\n    ".join(docs.values()),
    }
    return cls


@_fill_detector_doc
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
    %(model_parameters)s

    contamination : "auto" or float, default=0.1
        Expected share of outliers in the training data; sets the
        threshold ``offset_``. A float in (0, 0.5] flags that share of the
        training samples, the worst reconstructed. ``"auto"`` flags the
        training errors above Tukey's upper fence, ``Q3 + 1.5 * IQR`` of the
        training reconstruction errors, whatever their share.

    trim_fraction : float in [0, 0.5], default=0.1
        Share of each training mini-batch, the samples with the largest
        reconstruction errors, left out of the loss (a trimmed loss). The
        outliers in the training data are those samples, so they barely
        shape the network and stay badly reconstructed. The validation loss
        of ``early_stopping`` is trimmed alike. ``0`` trains on every
        sample.

    code_clip_quantile : float in [0, 0.5) or None, default=0.05
        When scoring, clip each code coordinate to its
        ``[code_clip_quantile, 1 - code_clip_quantile]`` quantiles over the
        training data before decoding. A sample beyond the extent of the
        training data along the learned manifold would otherwise be
        reconstructed by extrapolation and look normal. ``None`` decodes
        the codes unchanged.

    error_scaling : {"mean"} or None, default="mean"
        Divide each feature's error by its mean over the
        training data before averaging over features, so every feature
        weighs the same and one badly reconstructed or badly scaled
        feature cannot dominate the score. Scores are then in units of the
        typical training error, which also keeps ``threshold_`` comparable
        across seeds. ``None`` averages the raw errors.

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

    n_components_ : int
        Size of the code: ``n_components``, with ``"auto"`` resolved.

    code_bounds_ : ndarray of shape (2, `n_components_`) or None
        Lower and upper bounds the codes are clipped to when scoring, or
        None when ``code_clip_quantile=None``.

    error_scale_ : ndarray of shape (`n_features_in_`,) or None
        The per-feature training error each feature's error is divided by,
        or None when ``error_scaling=None``.

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

    def _fit(self, X, incremental):
        # max_iter is a deliberate budget here, not a convergence limit (see
        # its doc): the warning would fire at every default fit and suggest
        # the one change, training longer, that hurts detection.
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", "Maximum iterations", category=ConvergenceWarning
            )
            return super()._fit(X, incremental)

    def _make_net(self, X, device, seed):
        if self.n_components == "auto":
            self.n_components_ = max(1, round(math.sqrt(X.shape[1])))
        else:
            self.n_components_ = self.n_components
        return make_net(
            {**self.get_params(), "n_components": self.n_components_},
            X.shape[1],
            device,
            seed,
        )

    def _after_fit(self, X):
        # Each step uses the previous one: the error scale is measured on
        # reconstructions from clipped codes, and the threshold on scaled
        # errors.
        self.code_bounds_ = None
        if self.code_clip_quantile is not None:
            q = self.code_clip_quantile
            self.code_bounds_ = np.quantile(self._encode(X), [q, 1 - q], axis=0)
        self.error_scale_ = None
        if self.error_scaling == "mean":
            # Summed batch by batch: the n_samples x n_features matrix of
            # errors would be as large as X itself.
            total = sum(
                self._elementwise_error(x).sum(dim=0, dtype=torch.float64)
                for _, x in self._batches(X)
            )
            scale = total.cpu().numpy() / X.shape[0]
            # A feature the network reconstructs almost perfectly (a
            # constant one) would get an unbounded weight; cap it at 1000
            # times the average.
            self.error_scale_ = np.maximum(scale, 1e-3 * scale.mean())
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

    def _elementwise_error(self, x):
        """Loss of every entry of the batch x, decoded from clipped codes."""
        module = self.net_.module_
        code = module.encode(x)
        if self.code_bounds_ is not None:
            low, high = torch.as_tensor(
                self.code_bounds_, dtype=code.dtype, device=x.device
            )
            code = torch.clamp(code, low, high)
        return self.net_.criterion_.elementwise(module.decode(code), x)

    def _reconstruction_error(self, X):
        scale = self.error_scale_
        if scale is not None:
            scale = torch.as_tensor(scale, dtype=torch.float32, device=self.net_.device)
        module, n_features = self.net_.module_, X.shape[1]

        def error(x):
            elementwise = self._elementwise_error(x)
            if scale is not None:
                elementwise = elementwise / scale
            per_sample = elementwise.flatten(start_dim=1).mean(dim=1)
            if self.variational:
                # A VAE scores by its negative ELBO per feature: the KL term,
                # which no feature owns, joins the (scaled) reconstruction error.
                per_sample = per_sample + (
                    kl_divergence(*module.encode_distribution(x)) / n_features
                )
            return per_sample

        return self._map_batches(X, error)
