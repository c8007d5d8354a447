"""Hostile values: whatever the magnitudes, a score is never NaN, and a row
the model cannot score counts as an outlier."""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from skae import AutoencoderOutlierDetector, AutoencoderTransformer

from .conftest import TINY

_FLOAT32_MAX = float(np.finfo(np.float32).max)


@pytest.fixture(scope="module")
def relu_detector():
    rng = np.random.RandomState(0)
    return AutoencoderOutlierDetector(
        activation="relu", hidden_layer_sizes=(32, 16), max_iter=5, random_state=0
    ).fit(rng.normal(size=(200, 6)))


@pytest.mark.parametrize("magnitude", [1e19, 1e30, 3e38])
def test_extreme_rows_are_outliers_and_never_nan(relu_detector, magnitude):
    # The issue's reproduction: rows near float32's limit made NaN scores,
    # and NaN < 0 is False, so predict called them inliers.
    rows = np.sign(np.random.RandomState(1).normal(size=(50, 6))) * magnitude
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        scores = relu_detector.score_samples(rows)
        labels = relu_detector.predict(rows)
        decision = relu_detector.decision_function(rows)
    assert not np.isnan(scores).any() and not np.isnan(decision).any()
    assert np.all(labels == -1)


def test_rows_that_overflow_in_the_network_score_minus_inf_with_a_warning(
    relu_detector,
):
    rows = np.sign(np.random.RandomState(1).normal(size=(50, 6))) * 3e38
    with pytest.warns(RuntimeWarning, match="overflowed float32"):
        scores = relu_detector.score_samples(rows)
    assert np.isinf(scores).any() and not np.isnan(scores).any()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert np.all(relu_detector.predict(rows)[np.isinf(scores)] == -1)


def test_transformer_score_is_never_nan(digits):
    model = AutoencoderTransformer(activation="relu", **TINY).fit(digits[0][:50])
    rows = np.full((3, 64), 3e38)
    with pytest.warns(RuntimeWarning, match="overflowed"):
        assert model.score(rows) == -np.inf


def test_ordinary_rows_raise_no_warning(relu_detector):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        relu_detector.score_samples(np.random.RandomState(2).normal(size=(20, 6)))


_DTYPES = st.sampled_from(
    [np.float16, np.float32, np.float64, np.int32, np.int64, np.bool_]
)

#: Magnitudes across float32's range and beyond it at both ends: tiny values
#: that float32 flushes to zero, subnormals, ordinary values, values that
#: overflow inside the network, and values beyond float32.
_SCALES = [1e-46, 1e-40, 1e-30, 1e-3, 1.0, 1e3, 1e19, 1e30, _FLOAT32_MAX, 1e39]


@st.composite
def _datasets(draw, max_side=12):
    """Small arrays of every dtype, with constant columns, duplicate rows and
    magnitudes from below to beyond float32's range."""
    dtype = draw(_DTYPES)
    shape = draw(
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=max_side)
    )
    unit = draw(hnp.arrays(np.float64, shape, elements=st.floats(-1.0, 1.0)))
    scale = draw(st.sampled_from(_SCALES))
    if np.issubdtype(dtype, np.floating):
        limit = np.finfo(dtype).max
        X = np.clip(unit * scale, -limit, limit).astype(dtype)
    elif dtype is np.bool_:
        X = unit > 0
    else:
        X = np.round(unit * min(scale, 1e6)).astype(dtype)
    if draw(st.booleans()):
        X = np.vstack([X, X[:1]])  # a duplicate row
    return X


_CLEAR_REASONS = ("float32's range", "smallest normal", "diverged", "sample")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    X=_datasets(),
    cls=st.sampled_from([AutoencoderTransformer, AutoencoderOutlierDetector]),
)
def test_any_training_input_is_handled_or_rejected_clearly(X, cls):
    # Every input either fits and gives scores without NaN, or fails with a
    # ValueError that says what is wrong; never a torch error.
    estimator = cls(**{**TINY, "max_iter": 2})
    try:
        estimator.fit(X)
    except ValueError as exc:
        assert any(reason in str(exc) for reason in _CLEAR_REASONS), str(exc)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        scores = estimator.score_samples(X)
        assert scores.shape == (X.shape[0],)
        assert not np.isnan(scores).any()
        if hasattr(estimator, "predict"):
            labels = estimator.predict(X)
            assert set(np.unique(labels)) <= {-1, 1}
            assert np.all(labels[np.isinf(scores)] == -1)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=_datasets(max_side=6).filter(lambda X: X.shape[1] == 6))
def test_any_scored_input_is_scored_without_nan_or_refused(relu_detector, rows):
    # What an attacker controls: the rows sent for scoring, not the model.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            scores = relu_detector.score_samples(rows)
            labels = relu_detector.predict(rows)
    except ValueError as exc:
        assert any(reason in str(exc) for reason in _CLEAR_REASONS), str(exc)
        return
    assert not np.isnan(scores).any()
    assert np.all(labels[np.isinf(scores)] == -1)
