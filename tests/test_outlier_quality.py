"""What AutoencoderOutlierDetector's defaults find, and how reliably."""

import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderOutlierDetector

#: The detector as it was before its defaults were chosen for detection: the
#: transformer's network and training, no trimming, clipping or scaling.
NAIVE = {
    "n_components": 2,
    "hidden_layer_sizes": (128, 64),
    "activation": "relu",
    "batch_size": 256,
    "max_iter": 200,
    "trim_fraction": 0.0,
    "code_clip_quantile": None,
    "error_scaling": None,
}


def _one_class_task(loader, inlier_class, seed):
    """Tasks of benchmarks/bench_outliers.py: a class plus 5% of the others.

    Returns the data standardised on itself, as a user would, and whether
    each sample is an outlier.
    """
    X, y = loader(return_X_y=True)
    inliers = np.flatnonzero(y == inlier_class)
    n_outliers = max(2, round(0.05 * len(inliers)))
    rng = np.random.RandomState(seed)
    outliers = rng.choice(np.flatnonzero(y != inlier_class), n_outliers, replace=False)
    rows = np.r_[inliers, outliers]
    return StandardScaler().fit_transform(X[rows]), np.isin(rows, outliers)


@pytest.fixture(scope="module")
def wine():
    """Wine cultivar 0 (59 samples, 13 features) and 3 wines of the others."""
    return _one_class_task(load_wine, 0, seed=0)


# The naive detector (NAIVE) ranks the outliers as the *most normal*
# samples: it spends its 2-D code on the few far-away outliers, which
# dominate the squared error, and reconstructs them best. On these tasks and
# seeds its ROC-AUC was 0.011 on wine 0 and 0.321 on digits 0, against 1.000
# and 0.993 for the defaults, so the floors below fail for it.
@pytest.mark.parametrize(
    "loader, inlier_class, floor",
    [(load_wine, 0, 0.95), (load_digits, 0, 0.95)],
    ids=["wine 0", "digits 0"],
)
def test_defaults_rank_outliers_first(loader, inlier_class, floor):
    X, is_outlier = _one_class_task(loader, inlier_class, seed=0)
    detector = AutoencoderOutlierDetector(random_state=0).fit(X)
    assert roc_auc_score(is_outlier, detector.decision_scores_) >= floor
    # The training scores are the scores of the training data.
    np.testing.assert_allclose(-detector.score_samples(X), detector.decision_scores_)


def test_same_random_state_same_scores(wine):
    X, _ = wine
    first = AutoencoderOutlierDetector(random_state=3).fit(X)
    second = AutoencoderOutlierDetector(random_state=3).fit(X)
    np.testing.assert_array_equal(first.decision_scores_, second.decision_scores_)
    assert first.threshold_ == second.threshold_


def test_threshold_stable_across_seeds():
    X, _ = _one_class_task(load_digits, 0, seed=0)
    fits = [AutoencoderOutlierDetector(random_state=s).fit(X) for s in range(4)]
    thresholds = np.array([fit.threshold_ for fit in fits])
    # error_scaling="mean" puts errors in units of the typical training
    # error, so the threshold hardly depends on the initial weights: its
    # coefficient of variation over these seeds is 0.01 (0.06 unscaled). On
    # a tiny task such as wine 0 (62 samples) the 90th percentile itself is
    # noisy and varies by about 15% either way.
    assert thresholds.std() / thresholds.mean() < 0.05
    labels = np.array([fit.labels_ for fit in fits])
    assert (labels == labels[0]).mean() > 0.95


def test_auto_n_components_resolved_without_changing_the_parameter(wine):
    X, _ = wine
    detector = AutoencoderOutlierDetector(random_state=0).fit(X)
    assert detector.n_components == "auto"
    assert detector.n_components_ == 4  # round(sqrt(13))
    assert detector.net_.module_.encode(torch.zeros(1, 13)).shape == (1, 4)
    assert AutoencoderOutlierDetector(3, random_state=0).fit(X).n_components_ == 3


def test_defaults_raise_no_convergence_warning(wine):
    X, _ = wine
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        AutoencoderOutlierDetector(random_state=0).fit(X)


def test_trimming_keeps_planted_outliers_badly_reconstructed(wine):
    # Without trimming, the network learns the 3 planted wines, which
    # dominate the squared error; with it, it hardly trains on them.
    X, is_outlier = wine
    errors = {
        trim: AutoencoderOutlierDetector(
            trim_fraction=trim, code_clip_quantile=None, random_state=0
        )
        .fit(X)
        .decision_scores_
        for trim in (0.0, 0.1)
    }
    ratio = {t: e[is_outlier].mean() / e[~is_outlier].mean() for t, e in errors.items()}
    assert ratio[0.1] > ratio[0.0]


def test_code_clipping_penalises_samples_beyond_the_training_range():
    # Inliers on a line and a point far out on the same line. A linear
    # network (as relu ones are, far from the data) reconstructs that point
    # by extrapolation unless its code is clipped to the training range.
    rng = np.random.RandomState(0)
    X = np.outer(rng.uniform(-1, 1, 200), [1.0, 2.0, -1.0]) / 2
    far = np.array([[4.0, 8.0, -4.0]])
    errors = {
        q: -AutoencoderOutlierDetector(
            activation="identity",
            code_clip_quantile=q,
            error_scaling=None,
            random_state=0,
        )
        .fit(X)
        .score_samples(far)[0]
        for q in (None, 0.05)
    }
    assert errors[0.05] > 10 * errors[None]


def test_error_scaling_weighs_features_alike(wine):
    # A feature blown up 100 times dominates raw errors, not scaled ones.
    X, is_outlier = wine
    X = X.copy()
    X[:, 0] *= 100
    scores = {
        scaling: AutoencoderOutlierDetector(error_scaling=scaling, random_state=0)
        .fit(X)
        .decision_scores_
        for scaling in (None, "mean")
    }
    assert roc_auc_score(is_outlier, scores["mean"]) > roc_auc_score(
        is_outlier, scores[None]
    )
    detector = AutoencoderOutlierDetector(random_state=0).fit(X)
    assert detector.error_scale_.shape == (13,)
    assert 0.5 < detector.decision_scores_.mean() < 2  # in units of the mean


def test_early_stopping_and_partial_fit_use_the_trimmed_loss(wine):
    X, is_outlier = wine
    detector = AutoencoderOutlierDetector(early_stopping=True, random_state=0)
    detector.fit(X)
    assert len(detector.validation_scores_) == detector.n_iter_
    assert roc_auc_score(is_outlier, detector.decision_scores_) >= 0.95
    detector = AutoencoderOutlierDetector(random_state=0).partial_fit(X)
    assert detector.n_iter_ == 1
    assert detector.net_.criterion_.trim_fraction == 0.1
