"""AutoencoderOutlierDetector: scikit-learn's outlier API, the contamination
threshold, and PyOD's attributes."""

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from skae import AutoencoderOutlierDetector

from .conftest import TINY


def test_score_samples_is_lower_for_outliers(blobs_with_outliers):
    # The sign convention of scikit-learn's outlier API: the lower
    # score_samples, the more abnormal. The outliers here are uniform in
    # the cube, far from the inliers' plane, so any detector, trained or
    # not, finds them (measured: 1.000 trained, 0.999 with training
    # disabled); what training adds is tested in test_outlier_quality.py.
    X, is_outlier = blobs_with_outliers
    detector = AutoencoderOutlierDetector(
        n_components=2, hidden_layer_sizes=(16,), random_state=0
    ).fit(X)
    assert roc_auc_score(is_outlier, -detector.score_samples(X)) > 0.95


def test_outlier_api_chain(blobs_with_outliers):
    X, _ = blobs_with_outliers
    detector = AutoencoderOutlierDetector(contamination=0.05, **TINY).fit(X)
    scores = detector.score_samples(X)
    assert detector.offset_ == pytest.approx(np.percentile(scores, 5), rel=1e-5)
    np.testing.assert_allclose(
        detector.decision_function(X), scores - detector.offset_, rtol=1e-6
    )
    labels = detector.predict(X)
    assert set(np.unique(labels)) == {-1, 1}
    np.testing.assert_array_equal(labels == -1, detector.decision_function(X) < 0)
    assert np.mean(labels == -1) == pytest.approx(0.05, abs=0.01)
    np.testing.assert_array_equal(detector.fit_predict(X), labels)


def test_pyod_style_training_attributes(blobs_with_outliers):
    X, _ = blobs_with_outliers
    detector = AutoencoderOutlierDetector(contamination=0.1, **TINY).fit(X)
    # PyOD: higher decision scores are more abnormal, labels are 0/1.
    np.testing.assert_allclose(detector.decision_scores_, -detector.score_samples(X))
    assert detector.threshold_ == pytest.approx(-detector.offset_)
    np.testing.assert_array_equal(detector.labels_, (detector.predict(X) == -1))
    assert detector.labels_.dtype.kind == "i"


def test_contamination_auto_uses_tukeys_fence(blobs_with_outliers):
    X, is_outlier = blobs_with_outliers
    detector = AutoencoderOutlierDetector(
        contamination="auto", hidden_layer_sizes=(16,), random_state=0
    ).fit(X)
    errors = detector.decision_scores_
    q1, q3 = np.percentile(errors, [25, 75])
    assert detector.threshold_ == pytest.approx(q3 + 1.5 * (q3 - q1))
    flagged = detector.predict(X) == -1
    # The fence catches the planted outliers without a share to guess.
    assert flagged[is_outlier == 1].mean() > 0.8
    assert flagged.mean() < 0.2


@pytest.mark.parametrize("contamination", [0.05, 0.1, 0.2])
def test_predict_flags_contamination_of_training_data(
    blobs_with_outliers, contamination
):
    X, _ = blobs_with_outliers
    detector = AutoencoderOutlierDetector(contamination=contamination, **TINY).fit(X)
    flagged = detector.predict(X) == -1
    # A percentile threshold flags the share up to one sample of rounding.
    assert abs(flagged.mean() - contamination) <= 1 / len(X)
    np.testing.assert_array_equal(flagged, detector.labels_ == 1)


def test_one_fitted_detector_also_reduces_dimensions(blobs_with_outliers):
    # The same network that flags outliers gives their codes: embeddings and
    # outlier labels from one model, in one pipeline step.
    pd = pytest.importorskip("pandas")
    X, _ = blobs_with_outliers
    detector = AutoencoderOutlierDetector(2, n_estimators=1, **TINY).fit(X)
    codes = detector.transform(X)
    assert codes.shape == (len(X), 2)
    assert detector.inverse_transform(codes).shape == X.shape
    names = list(detector.get_feature_names_out())
    assert names == ["autoencoderoutlierdetector0", "autoencoderoutlierdetector1"]
    frame = detector.set_output(transform="pandas").transform(pd.DataFrame(X))
    assert list(frame.columns) == names
    np.testing.assert_allclose(frame.to_numpy(), codes, rtol=1e-5, atol=1e-6)


def test_an_ensembles_codes_are_its_members_codes_side_by_side(blobs_with_outliers):
    X, _ = blobs_with_outliers
    detector = AutoencoderOutlierDetector(2, n_estimators=3, **TINY).fit(X)
    codes = detector.transform(X)
    assert codes.shape == (len(X), 6) and len(detector.get_feature_names_out()) == 6
    with torch.no_grad():
        member = detector.net_.module_.members[1]
        second = member.encode(torch.as_tensor(X, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(codes[:, 2:4], second, rtol=1e-5, atol=1e-6)
    # The inverse averages the members' reconstructions.
    assert detector.inverse_transform(codes).shape == X.shape
