"""AutoencoderOutlierDetector.feature_scores: which features make a row an
outlier."""

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderOutlierDetector

from .conftest import TINY


@pytest.fixture(scope="module")
def cancer():
    """Breast cancer measurements (30 correlated features), standardised and
    split in two."""
    X = StandardScaler().fit_transform(load_breast_cancer().data)
    return train_test_split(X, test_size=0.3, random_state=0)


@pytest.fixture(scope="module")
def detector(cancer):
    return AutoencoderOutlierDetector(random_state=0).fit(cancer[0])


def test_the_corrupted_column_comes_first(cancer, detector):
    # The test: corrupt one column of each held-out row by four
    # standard deviations; that column should top the row's explanation.
    X_test = cancer[1].copy()
    rng = np.random.RandomState(0)
    columns = rng.randint(X_test.shape[1], size=len(X_test))
    X_test[np.arange(len(X_test)), columns] += 4 * rng.choice([-1, 1], len(X_test))
    top = detector.feature_scores(X_test).argmax(axis=1)
    # Measured: the corrupted column first in 95% of the rows.
    assert np.mean(top == columns) > 0.85


@pytest.mark.parametrize(
    "params", [{}, {"variational": True}, {"loss": "huber", "sparsity": 0.3}]
)
def test_feature_scores_add_up_to_the_score(blobs_with_outliers, params):
    X, _ = blobs_with_outliers
    model = AutoencoderOutlierDetector(**TINY, **params).fit(X)
    scores = model.feature_scores(X)
    assert scores.shape == X.shape and scores.dtype == X.dtype
    assert np.all(scores >= 0)
    np.testing.assert_allclose(scores.mean(axis=1), -model.score_samples(X), rtol=1e-6)


def test_the_code_term_goes_to_the_features_the_code_moves():
    # Inliers on a line through features 0 and 1 (feature 2 is noise); a
    # point far out on the line is abnormal in its code only, and the
    # blame goes to the features the line moves, not to feature 2.
    rng = np.random.RandomState(0)
    t = rng.normal(size=(400, 1))
    X = np.hstack([t, -t, np.zeros((400, 1))]) + 0.05 * rng.normal(size=(400, 3))
    model = AutoencoderOutlierDetector(1, random_state=0).fit(X)
    far = model.feature_scores(np.array([[6.0, -6.0, 0.0]]))[0]
    assert far[:2].min() > 10 * far[2]
