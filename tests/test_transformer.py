"""AutoencoderTransformer: what it learns and what it outputs."""

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

from skae import AutoencoderTransformer

from .conftest import TINY


def test_beats_pca_reconstruction_on_digits(digits):
    # The quality bar: default training settings, 8 components, a
    # 70/30 split of digits in [0, 1]; the nonlinear code must reconstruct
    # unseen images at least as well as PCA's linear one.
    X, _ = digits
    X_train, X_test = train_test_split(X, test_size=0.3, random_state=0)
    pca = PCA(n_components=8).fit(X_train)
    pca_mse = np.mean((pca.inverse_transform(pca.transform(X_test)) - X_test) ** 2)
    ae = AutoencoderTransformer(n_components=8, random_state=0).fit(X_train)
    ae_mse = np.mean((ae.inverse_transform(ae.transform(X_test)) - X_test) ** 2)
    assert ae_mse <= pca_mse
    # score is minus the mean per-sample MSE on the same data.
    assert ae.score(X_test) == pytest.approx(-ae_mse, rel=1e-4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_outputs_shapes_and_dtype_follow_input(digits, dtype):
    X = digits[0][:100].astype(dtype)
    ae = AutoencoderTransformer(n_components=3, **TINY).fit(X)
    codes = ae.transform(X)
    assert codes.shape == (100, 3) and codes.dtype == dtype
    reconstruction = ae.inverse_transform(codes)
    assert reconstruction.shape == (100, 64) and reconstruction.dtype == dtype
    scores = ae.score_samples(X)
    assert scores.shape == (100,) and scores.dtype == dtype
    assert np.all(scores <= 0)
    np.testing.assert_allclose(ae.fit_transform(X), codes, rtol=1e-5, atol=1e-6)


def test_integer_input_gives_float64(digits):
    X = (digits[0][:50] * 16).astype(np.int64)
    codes = AutoencoderTransformer(**TINY).fit(X).transform(X)
    assert codes.dtype == np.float64


def test_score_samples_is_minus_mean_squared_error(digits):
    X = digits[0][:80]
    ae = AutoencoderTransformer(**TINY).fit(X)
    reconstruction = ae.inverse_transform(ae.transform(X))
    expected = -np.mean((reconstruction - X) ** 2, axis=1)
    np.testing.assert_allclose(ae.score_samples(X), expected, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("loss", ["l1", "huber", "bce"])
def test_score_samples_uses_the_estimators_loss(digits, loss):
    X = digits[0][:80]
    ae = AutoencoderTransformer(loss=loss, **TINY).fit(X)
    r = ae.inverse_transform(ae.transform(X))
    diff = r - X
    elementwise = {
        "l1": lambda: np.abs(diff),
        "huber": lambda: np.where(np.abs(diff) < 1, 0.5 * diff**2, np.abs(diff) - 0.5),
        "bce": lambda: -(X * np.log(r) + (1 - X) * np.log1p(-r)),
    }[loss]
    expected = elementwise().mean(axis=1)
    np.testing.assert_allclose(-ae.score_samples(X), expected, rtol=1e-3, atol=1e-6)


def test_bce_uses_a_sigmoid_output(digits):
    X = digits[0][:80]
    ae = AutoencoderTransformer(loss="bce", **TINY).fit(X)
    reconstruction = ae.inverse_transform(ae.transform(X))
    assert reconstruction.min() > 0 and reconstruction.max() < 1


def test_feature_names_and_pandas_output(digits):
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(digits[0][:60], columns=[f"px{i}" for i in range(64)])
    ae = AutoencoderTransformer(n_components=3, **TINY).set_output(transform="pandas")
    codes = ae.fit(X).transform(X)
    assert list(ae.feature_names_in_) == list(X.columns)
    assert list(codes.columns) == [f"autoencodertransformer{i}" for i in range(3)]
    assert codes.index.equals(X.index)


def test_inverse_transform_checks_code_width(digits):
    ae = AutoencoderTransformer(n_components=3, **TINY).fit(digits[0][:50])
    with pytest.raises(ValueError, match="X has 5 columns.*have 3"):
        ae.inverse_transform(np.zeros((2, 5)))
