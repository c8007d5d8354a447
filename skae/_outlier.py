"""Outlier detection with autoencoders: AutoencoderOutlierDetector."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import math
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from scipy.stats import chi2
from sklearn.base import OutlierMixin
from sklearn.utils import ClassifierTags

from ._base import Interval, StrOptions, _BaseAutoencoder
from ._docstrings import fill_doc

__all__ = ["AutoencoderOutlierDetector"]

#: Bounds of each calibration sample: 1 Mi values (4 MiB of float32) and
#: 10,000 rows.
_CALIBRATION_ENTRIES = 2**20
_CALIBRATION_ROWS = 10_000

#: Rows of the training sample that the error scales and code Gaussians are
#: estimated on: plenty for medians and small covariances, and it bounds the
#: memory of the estimate (rows x networks x features).
_STATISTICS_ROWS = 4096

#: Share of the rows of every fit and partial_fit call held out of training,
#: to calibrate the p-values on rows the model never saw.
_HELD_OUT_SHARE = 0.2

#: Relative difference below which two outlier scores tie in the p-values.
_TIE_TOLERANCE = 1e-5

#: The median of the chi-squared distribution with one degree of freedom:
#: a feature's squared error divided by its median and multiplied by this
#: is chi-squared distributed when the errors are Gaussian.
_CHI2_1_MEDIAN = chi2.median(1)

#: The robust estimate of the codes' Gaussian: the share of the codes kept
#: by each concentration step, and the number of steps (as in the minimum
#: covariance determinant's C-steps, Rousseeuw and Van Driessen, 1999).
_CODES_KEPT = 0.75
_CONCENTRATION_STEPS = 3


@fill_doc("detector")
class AutoencoderOutlierDetector(OutlierMixin, _BaseAutoencoder):
    """Outlier detection with an ensemble of small autoencoders.

    Each autoencoder learns to reconstruct the training data through a
    narrow code, and reads as a nonlinear probabilistic PCA: the data are
    decoded codes plus independent noise on each feature, and the codes are
    Gaussian. A sample's outlier score is its negative log-likelihood under
    that model: its reconstruction error, feature by feature in units of the
    feature's typical error (it breaks the relations between features), plus
    the Mahalanobis distance of its code from the centre of the training
    codes (it lies on the learned surface, but far out). Like
    :class:`~sklearn.ensemble.IsolationForest`, the detector averages many
    models, each fitted on a small random sample of the rows, which makes
    the scores stable and the cost of training independent of the number of
    rows. ``score_samples`` is minus the score, so, as everywhere in
    scikit-learn, lower means more abnormal, and ``predict`` returns -1 for
    outliers and +1 for inliers.

    %(family)s

    Beyond scikit-learn's outlier API, the detector explains its scores
    (:meth:`feature_scores`), gives conformal p-values calibrated on rows
    held out of training (:meth:`pvalues`, :meth:`predict_proba`), and
    encodes (``transform``), so one fitted model both flags outliers and
    reduces dimensions.

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
    AutoencoderTransformer : Dimensionality reduction with one autoencoder.

    Notes
    -----
    Scale the data first (for example with
    :class:`~sklearn.preprocessing.StandardScaler` in a ``Pipeline``): the
    networks treat all features alike.

    Of the rows of every ``fit`` and ``partial_fit`` call, a random fifth
    (at least none, at most all but one) is held out of training: the
    p-values are calibrated on those rows, which the model never saw, so
    they are valid. The detector keeps a uniform sample of the training
    rows and one of the held-out rows (each at most 10,000 rows and 1 Mi
    values), on which it recomputes its statistics and calibration after
    every call, so a saved detector contains training rows.

    The defaults were chosen on half of 22 real data sets of the ADBench
    benchmark and then checked on the other half; ``benchmarks/bench_adbench.py``
    and the user guide's outlier benchmark page give the protocol and the
    results, against IsolationForest, LocalOutlierFactor and PyOD's
    detectors.

    Examples
    --------
    >>> import numpy as np
    >>> from skae import AutoencoderOutlierDetector
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(300, 2)) @ rng.normal(size=(2, 5))  # a 2-D plane
    >>> X[:5] = rng.uniform(-3, 3, size=(5, 5))  # 5 points off the plane
    >>> detector = AutoencoderOutlierDetector(
    ...     contamination=0.05, random_state=0
    ... ).fit(X)
    >>> detector.predict(X[:5])
    array([-1, -1, -1, -1, -1])
    >>> detector.feature_scores(X[:5]).shape
    (5, 5)
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
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "max_samples": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
            Interval(Real, 0, 1, closed="right"),
        ],
        "trim_fraction": [Interval(Real, 0, 0.5, closed="both")],
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
        max_iter=25,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        device="auto",
        random_state=None,
        verbose=0,
        warm_start=False,
        contamination=0.1,
        n_estimators=10,
        max_samples="auto",
        trim_fraction=0.25,
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
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.trim_fraction = trim_fraction

    def score_samples(self, X):
        """Compute minus the outlier score of each sample.

        The score is the negative log-likelihood of the sample under each
        autoencoder read as a nonlinear probabilistic PCA, averaged over the
        ensemble and divided by ``n_features``: the elementwise ``loss`` of
        each feature divided by that feature's typical loss on the training
        data (times the median of the chi-squared distribution with one
        degree of freedom, so that Gaussian squared errors are chi-squared),
        plus the squared Mahalanobis distance of the sample's code from the
        robust centre of the training codes. For a VAE, the code is the
        posterior mean. Higher scores mean more typical samples.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Minus the outlier score, in X's float dtype; the mean of
            ``-feature_scores(X)`` over features. A row whose values
            overflow float32 inside the network scores ``-inf``, with a
            ``RuntimeWarning``: never NaN.
        """
        return super().score_samples(X)

    def decision_function(self, X):
        """Shift the scores: negative for outliers, positive for inliers.

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

    def feature_scores(self, X):
        """Each feature's share of each sample's outlier score.

        The outlier score (``-score_samples``) is a sum over features of
        the reconstruction error in each feature's own units, plus the
        code's Mahalanobis distance from the centre of the training codes.
        The first part belongs to the features as it is; the second is split
        over the features by how much each direction of the code moves each
        feature through the decoder (its squared share of the decoder's
        response at the codes' centre), as contribution plots split
        Hotelling's T-squared in multivariate process control. Higher means
        more abnormal. The shares add up to the score: for every detector,
        ``feature_scores(X).mean(axis=1)`` equals ``-score_samples(X)`` up
        to float rounding.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to explain.

        Returns
        -------
        scores : ndarray of shape (n_samples, n_features)
            Non-negative, in the units of the outlier score, in X's float
            dtype. ``scores[i].argsort()[::-1]`` lists the features that
            make row ``i`` abnormal, the most abnormal first.

        Examples
        --------
        >>> import numpy as np
        >>> from skae import AutoencoderOutlierDetector
        >>> rng = np.random.RandomState(0)
        >>> X = rng.normal(size=(300, 4))
        >>> detector = AutoencoderOutlierDetector(random_state=0).fit(X)
        >>> row = np.array([[0.0, 0.0, 8.0, 0.0]])  # abnormal in feature 2
        >>> int(detector.feature_scores(row).argmax())
        2
        """
        X = self._validate_scoring_input(X)
        return self._map_scores(X, self._feature_terms_function())

    def pvalues(self, X):
        """Conformal p-values: how unlikely each sample is under the training data.

        The p-value of a sample is the share of the held-out training rows
        (a random fifth of the rows of every ``fit`` and ``partial_fit``
        call, never trained on) that score as abnormal as it or more:
        ``(1 + #{held-out scores >= score}) / (1 + n_held_out)``. A small
        p-value means the sample is unlikely to come from the training
        data's distribution. The p-values are valid (Bates et al., "Testing
        for outliers with conformal p-values", 2023): for a fresh sample from
        the training distribution, ``P(p <= alpha) <= alpha`` for every
        ``alpha``, and about ``alpha`` when there are many held-out rows.
        Outliers in the training data make them conservative. To flag many
        samples at once with a controlled share of false discoveries, pass
        them to ``scipy.stats.false_discovery_control`` (Benjamini and
        Hochberg). Costs: a fifth of the rows do not train the networks
        (nothing, once there are more rows than the members sample), and
        with ``n`` held-out rows no p-value is below ``1 / (n + 1)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to test.

        Returns
        -------
        pvalues : ndarray of shape (n_samples,)
            In ``(0, 1]``.

        Examples
        --------
        >>> import numpy as np
        >>> from skae import AutoencoderOutlierDetector
        >>> rng = np.random.RandomState(0)
        >>> detector = AutoencoderOutlierDetector(random_state=0).fit(
        ...     rng.normal(size=(500, 4))
        ... )
        >>> p = detector.pvalues(np.array([[0.0, 0.0, 0.0, 0.0], [9.0] * 4]))
        >>> bool(p[0] > 0.1), bool(p[1] < 0.01)
        (True, True)
        """
        errors = -self.score_samples(X)
        calibration = self.calibration_scores_
        # Scores equal up to float32 rounding count as ties (the one
        # conservative choice): the same row scored in another batch may
        # differ in its last bits.
        lowest_tie = errors - _TIE_TOLERANCE * np.abs(errors)
        at_least = len(calibration) - np.searchsorted(calibration, lowest_tie, "left")
        return (1.0 + at_least) / (1.0 + len(calibration))

    def predict_proba(self, X):
        """Inlier and outlier probabilities, from the conformal p-values.

        The inlier column is the conformal p-value of :meth:`pvalues`, the
        share of held-out training rows that look as abnormal as the
        sample or more; the outlier column is one minus it, which grows
        with the outlier score. This is a calibrated rank, not the posterior
        probability that the sample is an outlier (which would need the
        share of outliers and how they score): a typical training row gets
        an outlier probability near 0.5, and a sample more abnormal than
        every held-out row gets ``n / (n + 1)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to classify.

        Returns
        -------
        proba : ndarray of shape (n_samples, 2)
            Columns inlier and outlier; rows sum to 1.
        """
        pvalues = self.pvalues(X)
        return np.column_stack([pvalues, 1.0 - pvalues])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # scikit-learn's checks read the shape of predict_proba, here two
        # columns (inlier, outlier), from the classifier tags of any
        # estimator that has the method.
        tags.classifier_tags = ClassifierTags(multi_class=False)
        return tags

    def _warn_max_iter(self):
        # max_iter is a deliberate budget here, not a convergence limit (see
        # its doc): the warning would fire at every default fit and suggest
        # the one change, training longer, that does not help detection.
        pass

    def _n_components(self, n_features):
        if self.n_components == "auto":
            return max(1, round(math.sqrt(n_features)))
        return self.n_components

    def _criterion_params(self):
        return {**super()._criterion_params(), "trim_fraction": self.trim_fraction}

    def _ensemble(self):
        return {"n_members": self.n_estimators, "max_samples": self.max_samples}

    def _hold_out(self, n_rows, rng):
        # Rounded at random, so that small partial_fit chunks hold out their
        # share on average; never the only training row.
        n_held = min(int(_HELD_OUT_SHARE * n_rows + rng.random()), n_rows - 1)
        order = rng.permutation(n_rows)
        return np.sort(order[n_held:]), np.sort(order[:n_held])

    def _after_fit(self, X, train_rows, held_out_rows, incremental):
        # A fit starts new samples; partial_fit adds to them. Statistics come
        # from training rows only, so that the held-out rows stay unseen.
        continuing = incremental and hasattr(self, "_training_rows")
        capacity = max(1, min(_CALIBRATION_ROWS, _CALIBRATION_ENTRIES // X.shape[1]))
        seed = self._net_spec_["seed"]
        for name, rows in [
            ("_training_rows", train_rows),
            ("_held_out_rows", held_out_rows),
        ]:
            seen = getattr(self, f"_n{name}_seen") if continuing else 0
            sample = getattr(self, name) if continuing else X[:0]
            rng = np.random.default_rng([seed, seen, len(name)])
            setattr(self, name, _reservoir(sample, seen, X, rows, capacity, rng))
            setattr(self, f"_n{name}_seen", seen + len(rows))
        rows = self._training_rows
        if rows.shape[0] > _STATISTICS_ROWS:
            rng = np.random.default_rng([seed, self._n_training_rows_seen])
            rows = rows[np.sort(rng.choice(rows.shape[0], _STATISTICS_ROWS, False))]
        self._fit_statistics(rows)
        train_errors = self._sample_errors(self._training_rows)
        held_out_errors = self._sample_errors(self._held_out_rows)
        self.calibration_scores_ = np.sort(held_out_errors)
        errors = np.concatenate([train_errors, held_out_errors])
        if self.contamination == "auto":
            q1, q3 = np.percentile(errors, [25, 75])
            threshold = q3 + 1.5 * (q3 - q1)
        else:
            threshold = np.percentile(errors, 100.0 * (1.0 - self.contamination))
        self.offset_ = float(-threshold)
        self.threshold_ = float(threshold)
        self.decision_scores_ = self._errors(X)
        self.labels_ = (self.decision_scores_ > threshold).astype(int)

    def _sample_errors(self, rows):
        if rows.shape[0] == 0:
            return np.empty(0)
        return self._errors(rows).astype(np.float64)

    def _fit_statistics(self, X):
        """Each member's error scale and robust code Gaussian, from rows X."""
        n_features = X.shape[1]

        def outputs(x):
            reconstruction, code, _ = self.net_.infer(x)
            target = x.expand_as(reconstruction)
            elementwise = self.net_.criterion_.elementwise(reconstruction, target)
            # Rows first, for the batches to be gathered along them.
            return torch.cat([elementwise, code], dim=-1).transpose(0, 1)

        stacked = self._map_batches(X, outputs, np.float32).transpose(1, 0, 2)
        elementwise, codes = stacked[..., :n_features], stacked[..., n_features:]
        scale = np.median(elementwise, axis=1) / _CHI2_1_MEDIAN
        # A feature the networks reconstruct almost perfectly (a constant
        # one) would get an unbounded weight: at most 1000 times the mean's.
        floor = np.maximum(1e-3 * scale.mean(axis=1, keepdims=True), 1e-12)
        self.error_scale_ = np.maximum(scale, floor)
        gaussians = [_robust_gaussian(member.astype(np.float64)) for member in codes]
        self.code_mean_ = np.array([mean for mean, _ in gaussians])
        self.code_precision_ = np.array([precision for _, precision in gaussians])
        whiteners = np.linalg.cholesky(self.code_precision_)
        self._code_whitener = whiteners
        self._code_shares = self._decoder_shares(whiteners)

    def _decoder_shares(self, whiteners):
        """Each whitened code direction's squared shares of the features.

        The decoder's Jacobian at the codes' centre maps a direction of the
        code to the change it makes in each feature; the squares of that
        change, normalised to sum to 1, split the direction's part of the
        Mahalanobis distance over the features.
        """
        module = self.net_.module_
        module.eval()
        device = torch.device(self.net_.device)
        shares = []
        for member, mean, whitener in zip(
            module.members, self.code_mean_, whiteners, strict=True
        ):
            centre = torch.as_tensor(mean, dtype=torch.float32, device=device)
            jacobian = torch.autograd.functional.jacobian(
                lambda z, member=member: member.decode(z[None])[0], centre
            )
            # Whitened direction j is column j of inv(L).T in code space.
            directions = np.linalg.inv(whitener).T
            response = jacobian.detach().cpu().double().numpy() @ directions
            squares = response.T**2
            total = squares.sum(axis=1, keepdims=True)
            # A direction the decoder ignores is shared out evenly.
            even = np.full_like(squares, 1.0 / squares.shape[1])
            safe_total = np.where(total > 0, total, 1.0)
            shares.append(np.where(total > 0, squares / safe_total, even))
        return np.array(shares)

    def _feature_terms_function(self):
        """The scoring function from a batch to its feature terms."""
        device = torch.device(self.net_.device)

        def tensor(array, unsqueeze=False):
            value = torch.as_tensor(array, dtype=torch.float64, device=device)
            return value[:, None, :] if unsqueeze else value

        statistics = (
            tensor(self.error_scale_, unsqueeze=True),
            tensor(self.code_mean_, unsqueeze=True),
            tensor(self._code_whitener),
            tensor(self._code_shares),
        )
        return lambda x: self.net_.gaussian_feature_terms(x, *statistics)

    def _error_function(self):
        terms = self._feature_terms_function()
        return lambda x: terms(x).mean(dim=-1)


def _reservoir(sample, n_seen, X, rows, capacity, rng):
    """Add the rows ``X[rows]`` to a uniform sample of the ``n_seen`` before.

    Vitter's algorithm R: the ``i``-th new row replaces a random slot with
    probability ``capacity / (n_seen + i + 1)``; rows that fill free slots
    come first. Only the rows kept are copied out of X. Works for dense and
    CSR rows alike.
    """
    n_new = len(rows)
    n_free = max(0, min(capacity - sample.shape[0], n_new))
    slots = rng.integers(0, n_seen + np.arange(n_free, n_new) + 1)
    kept = np.flatnonzero(slots < capacity) + n_free
    # Of several new rows drawn for one slot, the last one stays.
    final = dict(zip(slots[kept - n_free], kept, strict=True))
    filled = X[rows[:n_free]]
    if sp.issparse(X):
        sample = sp.vstack([sample, filled], format="lil")
    else:
        sample = np.concatenate([sample, filled])
    if final:
        slot_index = np.fromiter(final.keys(), dtype=np.intp)
        new_rows = X[rows[np.fromiter(final.values(), dtype=np.intp)]]
        sample[slot_index] = new_rows
    return sample.tocsr() if sp.issparse(sample) else sample


def _robust_gaussian(codes):
    """A robust mean and precision matrix of ``codes`` (n_samples, n_codes).

    Concentration steps: estimate the mean and covariance, keep the 75% of
    codes closest to it in Mahalanobis distance, estimate again. The
    covariance gets a tiny ridge, and the precision is rescaled so that the
    median distance is that of the chi-squared distribution with
    ``n_codes`` degrees of freedom: consistent for Gaussian codes, and not
    pulled by the outliers among the training rows.
    """
    n_samples, n_codes = codes.shape
    kept = np.arange(n_samples)
    n_keep = min(n_samples, max(n_codes + 2, int(_CODES_KEPT * n_samples)))
    for _ in range(_CONCENTRATION_STEPS):
        mean = codes[kept].mean(axis=0)
        centred = codes[kept] - mean
        covariance = centred.T @ centred / max(len(kept) - 1, 1)
        ridge = 1e-6 * np.trace(covariance) / n_codes + 1e-12
        precision = np.linalg.inv(covariance + ridge * np.eye(n_codes))
        deviations = codes - mean
        distances = np.einsum("ij,jk,ik->i", deviations, precision, deviations)
        kept = np.argsort(distances)[:n_keep]
    scale = np.median(distances) / chi2.median(n_codes)
    return mean, precision / max(scale, 1e-12)
