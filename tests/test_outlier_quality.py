"""What AutoencoderOutlierDetector's defaults find, and that training is what
finds it.

Each ranking-quality floor below is checked twice: the trained detector
reaches it, and the same detector with every optimizer update disabled
(random networks, everything else unchanged) does not. A floor that an
untrained network also reaches would test the scoring formula, not what the
networks learned.
"""

import os
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderOutlierDetector
from skae._testing import optimizer_updates_disabled

#: The ADBench datasets of ../shared/data/adbench (or $SKAE_ADBENCH).
ADBENCH = Path(
    os.environ.get(
        "SKAE_ADBENCH", Path(__file__).resolve().parents[2] / "shared/data/adbench"
    )
)


def _trained_and_untrained_auc(X, is_outlier, **params):
    """ROC-AUC of the training scores, trained and with training disabled."""
    aucs = []
    for disabled in (False, True):
        detector = AutoencoderOutlierDetector(random_state=0, **params)
        if disabled:
            with optimizer_updates_disabled():
                detector.fit(X)
        else:
            detector.fit(X)
        aucs.append(roc_auc_score(is_outlier, detector.decision_scores_))
    return aucs


def _subspace_task(seed=0):
    """500 points near a 3-D subspace of 20-D, and 25 points off it near the
    centre: closer to the mean than the inliers, so that distance from the
    centre ranks them as the most normal."""
    rng = np.random.RandomState(seed)
    basis = np.linalg.qr(rng.normal(size=(20, 20)))[0]
    inliers = rng.normal(size=(500, 3)) @ basis[:3] + 0.05 * rng.normal(size=(500, 20))
    off = rng.normal(size=(25, 17)) @ basis[3:]
    outliers = 0.7 * off / np.linalg.norm(off, axis=1, keepdims=True)
    X = StandardScaler().fit_transform(np.vstack([inliers, outliers]))
    return X, np.r_[np.zeros(500, bool), np.ones(25, bool)]


def test_learns_the_surface_that_outliers_leave():
    # Measured: trained 0.938, untrained 0.516 (IsolationForest 0.42).
    trained, untrained = _trained_and_untrained_auc(*_subspace_task())
    assert trained >= 0.85
    assert untrained < 0.7


@pytest.mark.skipif(
    not ADBENCH.is_dir(), reason=f"the ADBench datasets are not in {ADBENCH}"
)
@pytest.mark.parametrize(
    "dataset, floor",
    # Measured at random_state=0, trained / untrained: vowels 0.869 / 0.659,
    # Ionosphere 0.932 / 0.846, annthyroid 0.887 / 0.713.
    [("vowels", 0.8), ("Ionosphere", 0.9), ("annthyroid", 0.83)],
)
def test_ranks_real_outliers_first_where_training_must_help(dataset, floor):
    data = np.load(ADBENCH / f"{dataset}.npz")
    X = StandardScaler().fit_transform(data["X"])
    trained, untrained = _trained_and_untrained_auc(X, data["y"] == 1)
    assert trained >= floor
    assert untrained < floor


def test_the_code_term_flags_a_far_point_on_the_line():
    # Inliers on a line, and a point far out on the same line: its code is
    # far from the training codes, so the Mahalanobis part of the score,
    # computed here from the fitted Gaussians, flags it on its own. (Its
    # reconstruction error is large too: tanh saturates beyond the training
    # range. This tests the code term, not what training adds.)
    rng = np.random.RandomState(0)
    X = np.outer(rng.uniform(-1, 1, 300), [1.0, 2.0, -1.0]) / 2
    X += 0.01 * rng.normal(size=X.shape)
    detector = AutoencoderOutlierDetector(random_state=0).fit(X)

    def code_term(rows):
        codes = detector.transform(rows).reshape(len(rows), detector.n_estimators, -1)
        diff = codes - detector.code_mean_
        squared = np.einsum("nmi,mij,nmj->n", diff, detector.code_precision_, diff)
        return squared / detector.n_estimators / X.shape[1]

    far = np.array([[3.0, 6.0, -3.0]])
    # Measured: 623 for the far point, at most 5.3 for a training row.
    assert code_term(far)[0] > 50 * code_term(X).max()
    assert -detector.score_samples(far)[0] >= code_term(far)[0]


@pytest.fixture(scope="module")
def blobs():
    return np.random.RandomState(0).normal(size=(400, 5))


def test_same_random_state_same_scores(blobs):
    first = AutoencoderOutlierDetector(random_state=3).fit(blobs)
    second = AutoencoderOutlierDetector(random_state=3).fit(blobs)
    np.testing.assert_array_equal(first.decision_scores_, second.decision_scores_)
    assert first.threshold_ == second.threshold_


def test_scores_are_stable_across_seeds():
    # The ensemble averages ten networks: the ranking hardly depends on the
    # seed. Measured on the subspace task: ROC-AUC 0.92-0.94 over 4 seeds.
    X, is_outlier = _subspace_task()
    aucs = [
        roc_auc_score(
            is_outlier,
            AutoencoderOutlierDetector(random_state=s).fit(X).decision_scores_,
        )
        for s in range(4)
    ]
    assert np.ptp(aucs) < 0.05 and min(aucs) > 0.85


def test_auto_n_components_resolved_without_changing_the_parameter(blobs):
    detector = AutoencoderOutlierDetector(random_state=0).fit(blobs)
    assert detector.n_components == "auto"
    assert detector.n_components_ == 2  # round(sqrt(5))
    assert detector.code_mean_.shape == (10, 2)
    assert AutoencoderOutlierDetector(3, random_state=0).fit(blobs).n_components_ == 3


def test_defaults_raise_no_convergence_warning(blobs):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        AutoencoderOutlierDetector(random_state=0).fit(blobs)


def test_trimming_keeps_planted_outliers_badly_reconstructed(blobs_with_outliers):
    # Without trimming the networks learn the far-away planted points, which
    # dominate the squared error; with it, they hardly train on them.
    # Measured: the outliers' median score is 193 times the inliers'
    # untrimmed, 699 times with the default trimming.
    X, is_outlier = blobs_with_outliers
    is_outlier = is_outlier.astype(bool)
    ratios = {}
    for trim in (0.0, 0.25):
        scores = (
            AutoencoderOutlierDetector(trim_fraction=trim, random_state=0)
            .fit(X)
            .decision_scores_
        )
        ratios[trim] = np.median(scores[is_outlier]) / np.median(scores[~is_outlier])
    assert ratios[0.25] > 2 * ratios[0.0]


def test_each_network_trains_on_its_own_sample_of_the_rows(blobs):
    detector = AutoencoderOutlierDetector(max_samples=50, random_state=0).fit(blobs)
    rows = detector.net_.member_rows_
    assert rows.shape == (10, 50)
    # Different samples, each without repeats.
    assert len({tuple(sorted(r.tolist())) for r in rows}) == 10
    assert all(len(set(r.tolist())) == 50 for r in rows)


def test_early_stopping_and_partial_fit_use_the_trimmed_loss(blobs):
    detector = AutoencoderOutlierDetector(early_stopping=True, random_state=0)
    detector.fit(blobs)
    assert len(detector.validation_scores_) == detector.n_iter_
    detector = AutoencoderOutlierDetector(random_state=0).partial_fit(blobs)
    assert detector.n_iter_ == 1
    assert detector.net_.criterion_.trim_fraction == 0.25
