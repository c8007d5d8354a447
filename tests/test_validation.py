"""Bad input gets a clear error that says what is wrong, never a torch error."""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from skae import AutoencoderOutlierDetector, AutoencoderTransformer

from .conftest import TINY


@pytest.fixture(
    params=[AutoencoderTransformer, AutoencoderOutlierDetector],
    ids=lambda cls: cls.__name__,
)
def estimator(request):
    return request.param(**TINY)


@pytest.mark.parametrize(
    "X, message",
    [
        (np.array([[0.0, np.nan], [1.0, 2.0]]), "NaN"),
        (np.array([[0.0, np.inf], [1.0, 2.0]]), "infinity"),
        (np.empty((0, 3)), "0 sample"),
        (np.arange(5.0), "Expected 2D array"),
        (np.array([["a", "b"], ["c", "d"]], dtype=object), "could not convert"),
        (np.array([[0.0, 1e39], [1.0, 2.0]]), "beyond float32's range"),
        (np.array([[0.0, 1e-46], [1.0, 2.0]]), "below float32's smallest normal"),
        (np.array([[0.0, 1e-40], [1.0, 2.0]]), "below float32's smallest normal"),
    ],
    ids=["nan", "inf", "empty", "1d", "strings", "huge", "flushed", "subnormal"],
)
def test_bad_training_data_is_rejected(estimator, X, message):
    with pytest.raises(ValueError, match=message):
        estimator.fit(X)


def test_data_scaled_to_tiny_values_is_rejected_not_flushed(estimator, digits):
    # The reproduction: float64 data times 1e-46 became all zeros in
    # float32, so every row got the same code, without a word.
    with pytest.raises(ValueError, match="Scale the data"):
        estimator.fit(digits[0][:50] * 1e-46)
    estimator.fit(digits[0][:50])
    with pytest.raises(ValueError, match="smallest normal"):
        estimator.score_samples(digits[0][:5] * 1e-46)


def test_tiny_but_normal_float32_values_are_accepted(estimator, digits):
    estimator.fit(digits[0][:50] * 1e-30)


def test_wrong_feature_count_after_fit(estimator, digits):
    estimator.fit(digits[0][:50])
    with pytest.raises(ValueError, match="X has 10 features, but .* is expecting 64"):
        estimator.score_samples(digits[0][:5, :10])


def test_not_fitted(estimator, digits):
    with pytest.raises(NotFittedError):
        estimator.score_samples(digits[0][:5])


def test_bce_needs_data_in_unit_interval(estimator, digits):
    estimator.set_params(loss="bce")
    with pytest.raises(ValueError, match=r"loss='bce'.*\[0, 1\].*MinMaxScaler"):
        estimator.fit(digits[0][:50] * 16)
    estimator.fit(digits[0][:50])
    with pytest.raises(ValueError, match=r"loss='bce'"):
        estimator.score_samples(digits[0][:5] - 1)


def test_scoring_follows_the_fitted_loss_not_a_later_set_params(digits):
    # The bce check at scoring time belongs to the model as fitted.
    model = AutoencoderTransformer(**TINY).fit(digits[0][:50])
    model.set_params(loss="bce")
    assert model.score_samples(digits[0][:5] - 1).shape == (5,)
