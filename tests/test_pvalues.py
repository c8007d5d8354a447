"""AutoencoderOutlierDetector.pvalues and predict_proba: conformal p-values
calibrated on rows held out of training."""

import numpy as np
import pytest
from scipy.stats import false_discovery_control

from skae import AutoencoderOutlierDetector

from .conftest import TINY


def _inliers(n, rng):
    """Points near a 3-D subspace of 10-D: the training distribution."""
    basis = np.linalg.qr(np.random.RandomState(0).normal(size=(10, 10)))[0]
    return rng.normal(size=(n, 3)) @ basis[:3] + 0.1 * rng.normal(size=(n, 10))


def _outliers(n, rng):
    """Points off the subspace."""
    basis = np.linalg.qr(np.random.RandomState(0).normal(size=(10, 10)))[0]
    return rng.normal(size=(n, 3)) @ basis[:3] + rng.normal(size=(n, 7)) @ basis[3:]


@pytest.fixture(scope="module")
def detector():
    return AutoencoderOutlierDetector(random_state=0).fit(
        _inliers(5000, np.random.RandomState(1))
    )


@pytest.mark.parametrize("alpha, tolerance", [(0.01, 0.008), (0.05, 0.02), (0.1, 0.03)])
def test_pvalues_of_fresh_inliers_are_uniform(detector, alpha, tolerance):
    # Valid: on new rows of the training distribution, a share of about
    # alpha has p <= alpha; not below it by design, as in-sample training
    # scores would make it. Measured at 5,000 fresh rows: 0.011, 0.047,
    # 0.102.
    pvalues = detector.pvalues(_inliers(5000, np.random.RandomState(2)))
    assert abs(np.mean(pvalues <= alpha) - alpha) <= tolerance


def test_calibration_uses_held_out_rows(detector):
    # About a fifth of the 5,000 rows, never trained on.
    assert 900 < len(detector.calibration_scores_) < 1100
    assert np.all(np.diff(detector.calibration_scores_) >= 0)
    # In-sample, the training rows would look more normal than fresh ones:
    # that is why they do not calibrate.
    assert detector._training_rows.shape[0] + len(detector.calibration_scores_) == 5000


def test_pvalues_find_planted_outliers(detector):
    pvalues = detector.pvalues(_outliers(200, np.random.RandomState(3)))
    # Measured: 99% below 0.01.
    assert np.mean(pvalues <= 0.01) > 0.85


def test_benjamini_hochberg_controls_false_discoveries(detector):
    rng = np.random.RandomState(4)
    X = np.vstack([_inliers(900, rng), _outliers(100, rng)])
    is_outlier = np.r_[np.zeros(900, bool), np.ones(100, bool)]
    discovered = false_discovery_control(detector.pvalues(X)) <= 0.1
    false_share = np.mean(~is_outlier[discovered])
    # The share of inliers among the discoveries stays below the level
    # (measured 0.05), and most outliers are found (measured all 100).
    assert false_share <= 0.1
    assert np.mean(discovered[is_outlier]) > 0.8


def test_predict_proba_is_the_pvalue_and_its_complement(blobs_with_outliers):
    X, _ = blobs_with_outliers
    detector = AutoencoderOutlierDetector(**TINY).fit(X)
    proba = detector.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(proba[:, 0], detector.pvalues(X))
    # The outlier column grows with the outlier score.
    order = np.argsort(-detector.score_samples(X))
    assert np.all(np.diff(proba[order, 1]) >= 0)


def test_pvalues_are_in_zero_one_and_ties_are_conservative(blobs_with_outliers):
    X, _ = blobs_with_outliers
    detector = AutoencoderOutlierDetector(**TINY).fit(X)
    n = len(detector.calibration_scores_)
    pvalues = detector.pvalues(X)
    assert np.all((pvalues >= 1 / (n + 1)) & (pvalues <= 1))
    # A held-out row ties with its own calibration score and counts it.
    held_out = detector._held_out_rows
    assert np.all(detector.pvalues(held_out) >= 1 / (n + 1) * 1.5)
