"""AutoencoderTransformer: what it learns, its outputs, and its training controls."""

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
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


def test_inference_batches_match_one_pass(digits, monkeypatch):
    # Inference runs in fixed-size batches; a batch edge must not change
    # any row's result.
    X = digits[0][:300]
    ae = AutoencoderTransformer(**TINY).fit(X)
    whole = ae.score_samples(X), ae.transform(X)
    monkeypatch.setattr("skae._base.INFERENCE_BATCH_SIZE", 7)
    np.testing.assert_allclose(ae.score_samples(X), whole[0], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(ae.transform(X), whole[1], rtol=1e-5, atol=1e-6)


def test_feature_names_and_pandas_output(digits):
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(digits[0][:60], columns=[f"px{i}" for i in range(64)])
    ae = AutoencoderTransformer(n_components=3, **TINY).set_output(transform="pandas")
    codes = ae.fit(X).transform(X)
    assert list(ae.feature_names_in_) == list(X.columns)
    assert list(codes.columns) == [f"autoencodertransformer{i}" for i in range(3)]
    assert codes.index.equals(X.index)


def test_fitted_attributes(digits):
    X = digits[0][:60]
    ae = AutoencoderTransformer(**{**TINY, "max_iter": 4, "tol": 0})
    ae.fit(X)
    assert ae.n_features_in_ == 64
    assert ae.n_iter_ == 4 and len(ae.loss_curve_) == 4
    assert ae.validation_scores_ is None
    assert ae.net_.module_.encode is not None
    assert all(np.isfinite(ae.loss_curve_))


def test_loss_decreases_with_training(digits):
    X = digits[0][:500]
    ae = AutoencoderTransformer(max_iter=30, tol=0, random_state=0).fit(X)
    assert ae.loss_curve_[-1] < 0.5 * ae.loss_curve_[0]


def test_max_iter_reached_warns_convergence(digits):
    with pytest.warns(ConvergenceWarning, match="Maximum iterations \\(3\\)"):
        AutoencoderTransformer(**TINY).fit(digits[0][:50])


def test_stops_when_training_loss_plateaus(digits):
    # A huge tol means no epoch ever counts as an improvement after the
    # first, so training stops after 1 + n_iter_no_change epochs.
    X = digits[0][:100]
    ae = AutoencoderTransformer(tol=10.0, n_iter_no_change=2, **TINY)
    ae.set_params(max_iter=50).fit(X)
    assert ae.n_iter_ == 3


def test_early_stopping_restores_best_weights(digits):
    X = digits[0][:300]
    ae = AutoencoderTransformer(
        early_stopping=True, n_iter_no_change=3, max_iter=100, random_state=0
    ).fit(X)
    assert ae.n_iter_ < 100
    assert len(ae.validation_scores_) == ae.n_iter_
    # The model ends at the best validation epoch, not the last one.
    best = int(np.argmax(ae.validation_scores_))
    assert best < ae.n_iter_ - 1
    history = ae.net_.history
    assert history[best, "valid_loss"] == pytest.approx(-max(ae.validation_scores_))


def test_early_stopping_holds_out_validation_fraction(digits):
    X = digits[0][:200]
    ae = AutoencoderTransformer(
        early_stopping=True, validation_fraction=0.25, **TINY
    ).fit(X)
    split = ae.net_.train_split(ae.net_.get_dataset(X))
    assert len(split[1]) == 50


def test_partial_fit_trains_one_epoch_at_a_time(digits):
    X = digits[0][:100]
    ae = AutoencoderTransformer(**TINY)
    ae.partial_fit(X)
    assert ae.n_iter_ == 1
    weights = ae.net_.module_.encoder[0].weight.detach().clone()
    ae.partial_fit(X)
    assert ae.n_iter_ == 2 and len(ae.loss_curve_) == 2
    assert not np.allclose(weights, ae.net_.module_.encoder[0].weight.detach())
    with pytest.raises(ValueError, match="features"):
        ae.partial_fit(X[:, :10])


def test_warm_start_continues_training(digits):
    X = digits[0][:100]
    ae = AutoencoderTransformer(warm_start=True, **{**TINY, "tol": 0}).fit(X)
    net = ae.net_
    ae.fit(X)
    assert ae.net_ is net and ae.n_iter_ == 6
    cold = AutoencoderTransformer(**{**TINY, "tol": 0}).fit(X)
    first_net = cold.net_
    assert cold.fit(X).net_ is not first_net and cold.n_iter_ == 3


def test_verbose_prints_one_line_per_epoch(digits, capsys):
    X = digits[0][:50]
    AutoencoderTransformer(**TINY).fit(X)
    assert capsys.readouterr().out == ""
    AutoencoderTransformer(verbose=1, early_stopping=True, **TINY).fit(X)
    out = capsys.readouterr().out
    assert "train_loss" in out and "valid_loss" in out and "dur" in out
    epoch_lines = [line for line in out.splitlines() if line.strip()[:1].isdigit()]
    assert len(epoch_lines) == 3


def test_inverse_transform_checks_code_width(digits):
    ae = AutoencoderTransformer(n_components=3, **TINY).fit(digits[0][:50])
    with pytest.raises(ValueError, match="X has 5 columns.*have 3"):
        ae.inverse_transform(np.zeros((2, 5)))
