"""Continued training: partial_fit, warm_start, out-of-core chunks, and the
detector's calibration over every chunk seen."""

import pickle

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.model_selection import train_test_split

from skae import AutoencoderOutlierDetector, AutoencoderTransformer

from .conftest import TINY


def _test_mse(model, X):
    return np.mean((model.inverse_transform(model.transform(X)) - X) ** 2)


def test_partial_fit_trains_one_epoch_at_a_time(digits):
    X = digits[0][:100]
    ae = AutoencoderTransformer(**TINY)
    ae.partial_fit(X)
    assert ae.n_iter_ == 1
    weights = ae.net_.module_.encoder[0].weight.detach().clone()
    ae.partial_fit(X)
    assert ae.n_iter_ == 2 and len(ae.loss_curve_) == 2
    assert not torch.allclose(weights, ae.net_.module_.encoder[0].weight.detach())
    with pytest.raises(ValueError, match="features"):
        ae.partial_fit(X[:, :10])


def test_warm_start_continues_training(digits):
    X = digits[0][:100]
    ae = AutoencoderTransformer(warm_start=True, **{**TINY, "tol": 0}).fit(X)
    first_curve = list(ae.loss_curve_)
    ae.fit(X)
    assert ae.n_iter_ == 6 and ae.loss_curve_[:3] == first_curve
    cold = AutoencoderTransformer(**{**TINY, "tol": 0}).fit(X)
    assert cold.fit(X).n_iter_ == 3


def test_warm_start_trains_with_the_new_loss_and_weight_decay(digits):
    # The reproduction: set_params between warm fits must change
    # what the next fit minimises, as MLPRegressor's warm starts do. (Its
    # sparsity penalty is now part of the network, k-sparse codes, which a
    # warm start cannot change: see the layer-change test below.)
    X = digits[0][:300]
    base = AutoencoderTransformer(
        8, max_iter=5, warm_start=True, random_state=0, tol=0
    ).fit(X)
    same = pickle.loads(pickle.dumps(base)).fit(X)
    changed = pickle.loads(pickle.dumps(base))
    changed.set_params(loss="l1", alpha=0.5).fit(X)
    assert changed.net_.criterion_.loss == "l1"
    assert changed.net_.optimizer_.param_groups[0]["weight_decay"] == 0.5
    # The new loss is what the continued epochs report: the mean absolute
    # error, larger than the squared error of values below 1.
    assert changed.loss_curve_[-1] > 2 * same.loss_curve_[-1]
    np.testing.assert_allclose(
        changed.loss_curve_[-1],
        np.abs(changed.inverse_transform(changed.transform(X)) - X).mean(),
        rtol=0.2,
    )

    # Weight decay of 0.5 shrinks the weights far below a continuation
    # without it.
    def weight_norm(model):
        return sum(float(p.detach().norm()) for p in model.net_.module_.parameters())

    assert weight_norm(changed) < 0.9 * weight_norm(same)


def test_warm_start_trains_a_vae_with_the_new_beta(digits):
    X = digits[0][:300]
    vae = AutoencoderTransformer(
        4, variational=True, loss="bce", warm_start=True, **{**TINY, "tol": 0}
    ).fit(X)
    vae.set_params(beta=50.0, max_iter=10).fit(X)
    assert vae.net_.criterion_.beta == 50.0
    # A heavy KL weight pulls the posterior means to the prior's 0.
    assert np.abs(vae.transform(X)).mean() < 0.1


#: (parameter, new value, what the continued training uses). Every parameter
#: that may change between warm fits, applied to the net that trains.
_TRAINING_PARAMETERS = [
    ("loss", "huber", lambda net: net.criterion_.loss),
    ("beta", 2.0, lambda net: net.criterion_.beta),
    ("learning_rate_init", 0.02, lambda net: net.optimizer_.param_groups[0]["lr"]),
    ("alpha", 0.1, lambda net: net.optimizer_.param_groups[0]["weight_decay"]),
    ("optimizer", "sgd", lambda net: type(net.optimizer_).__name__.lower()),
    ("batch_size", 7, lambda net: net.batch_size),
    ("tol", 0.5, lambda net: dict(net.callbacks_)["stopping"].threshold),
    ("n_iter_no_change", 4, lambda net: dict(net.callbacks_)["stopping"].patience),
    ("noise", "masking", lambda net: net.noise),
    ("noise_level", 0.3, lambda net: net.noise_level),
    ("verbose", 1, lambda net: net.verbose),
    ("max_iter", 2, lambda net: net.max_epochs),
]


@pytest.mark.parametrize(
    "incremental", [False, True], ids=["warm_start", "partial_fit"]
)
@pytest.mark.parametrize(
    "name, value, used", _TRAINING_PARAMETERS, ids=[p[0] for p in _TRAINING_PARAMETERS]
)
def test_every_training_parameter_applies_to_continued_training(
    digits, name, value, used, incremental, capsys
):
    X = digits[0][:60]
    model = AutoencoderTransformer(warm_start=True, **TINY).fit(X)
    assert used(model.net_) != value
    model.set_params(**{name: value})
    if incremental:
        model.partial_fit(X)
    else:
        model.fit(X)
    assert used(model.net_) == value
    assert model.n_iter_ > TINY["max_iter"]


def test_detector_trim_fraction_applies_to_continued_training(digits):
    X = digits[0][:60]
    detector = AutoencoderOutlierDetector(warm_start=True, **TINY).fit(X)
    detector.set_params(trim_fraction=0.3).partial_fit(X)
    assert detector.net_.criterion_.trim_fraction == 0.3


def test_a_new_optimizer_starts_without_the_old_ones_state(digits):
    X = digits[0][:60]
    model = AutoencoderTransformer(warm_start=True, **TINY).fit(X)
    assert model.net_.optimizer_.state  # Adam's moments
    model.set_params(optimizer="sgd", max_iter=1).fit(X)
    state = model.net_.optimizer_.state
    assert all(set(entry) == {"momentum_buffer"} for entry in state.values())


def test_early_stopping_on_a_warm_fit(digits):
    X = digits[0][:100]
    model = AutoencoderTransformer(warm_start=True, **TINY).fit(X)
    model.set_params(early_stopping=True, validation_fraction=0.2).fit(X)
    assert len(model.validation_scores_) == TINY["max_iter"]


class _Custom(torch.nn.Module):
    def __init__(self, n_features, n_components, bias=True):
        super().__init__()
        self.encode = torch.nn.Linear(n_features, n_components, bias=bias)
        self.decode = torch.nn.Linear(n_components, n_features, bias=bias)


@pytest.mark.parametrize(
    "first, change, named",
    [
        ({}, {"n_components": 3}, "n_components"),
        ({}, {"hidden_layer_sizes": (5,)}, "hidden_layer_sizes"),
        ({}, {"activation": "tanh"}, "activation"),
        ({}, {"output_activation": "sigmoid"}, "output_activation"),
        ({}, {"loss": "bce"}, "output_activation"),  # "auto" resolves anew
        ({}, {"dropout": 0.2}, "dropout"),
        ({}, {"batch_norm": True}, "batch_norm"),
        ({}, {"variational": True}, "variational"),
        ({}, {"sparsity": 0.5}, "active_components"),
        ({"module": _Custom}, {"module__bias": False}, "bias"),
        ({"module": _Custom}, {"module": None}, "module"),
    ],
)
def test_changing_the_layers_on_a_warm_start_raises_and_keeps_the_model(
    digits, first, change, named
):
    X = digits[0][:60]
    model = AutoencoderTransformer(warm_start=True, **TINY, **first).fit(X)
    before = model.score_samples(X), model.n_iter_
    model.set_params(**change)
    with pytest.raises(ValueError, match=f"changed its layers: .*{named}"):
        model.fit(X)
    with pytest.raises(ValueError, match="changed its layers"):
        model.partial_fit(X)
    np.testing.assert_array_equal(model.score_samples(X), before[0])
    assert model.n_iter_ == before[1]
    # A cold fit builds the new network.
    model.set_params(warm_start=False).fit(X)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_a_warm_start_moves_the_network_to_the_new_device(digits):
    X = digits[0][:60].astype(np.float32)
    model = AutoencoderTransformer(warm_start=True, device="cpu", **TINY).fit(X)
    before = model.score_samples(X)
    model.set_params(device="cuda", max_iter=1).fit(X)
    assert next(model.net_.module_.parameters()).is_cuda
    assert model.n_iter_ == TINY["max_iter"] + 1
    assert model.score_samples(X).shape == before.shape


def test_divergence_in_partial_fit_keeps_previous_weights(digits):
    X = digits[0][:100]
    ae = AutoencoderTransformer(**TINY).partial_fit(X)
    before = ae.transform(X)
    ae.set_params(learning_rate_init=1e10)
    with pytest.raises(ValueError, match="diverged"):
        ae.partial_fit(X * 1e10)
    np.testing.assert_array_equal(ae.transform(X), before)
    assert ae.n_iter_ == 1


def test_partial_fit_over_memmapped_chunks_matches_fit(digits, tmp_path):
    X, _ = digits
    X_train, X_test = train_test_split(X, test_size=0.3, random_state=0)
    path = tmp_path / "train.npy"
    np.save(path, X_train.astype(np.float32))
    on_disk = np.load(path, mmap_mode="r")  # read-only, never loaded whole

    epochs = 30
    params = {"n_components": 8, "hidden_layer_sizes": (64,), "random_state": 0}
    full = AutoencoderTransformer(max_iter=epochs, tol=0, **params).fit(X_train)
    streamed = AutoencoderTransformer(**params)
    for _ in range(epochs):
        for start in range(0, len(on_disk), 300):
            streamed.partial_fit(on_disk[start : start + 300])
    full_mse, streamed_mse = _test_mse(full, X_test), _test_mse(streamed, X_test)
    # The same number of passes over the data trains a model as good.
    assert streamed_mse < 1.15 * full_mse
    untrained = AutoencoderTransformer(max_iter=1, **params).fit(X_train)
    assert streamed_mse < 0.5 * _test_mse(untrained, X_test)


# --- the detector's calibration over every chunk ---------------------------


def _chunks(X, sizes):
    start = 0
    for size in sizes:
        yield X[start : start + size]
        start += size


def test_detector_calibrates_on_every_chunk_not_the_last():
    # The reproduction: ten chunks of 100 rows, then one of a single
    # row. Calibrating on the last chunk alone collapsed the code bounds to
    # zero width and flagged 98.6% of the training rows.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(1001, 6))
    detector = AutoencoderOutlierDetector(**TINY, contamination=0.1)
    for chunk in _chunks(X, [100] * 10 + [1]):
        detector.partial_fit(chunk)
    flagged = detector.predict(X) == -1
    assert abs(flagged.mean() - 0.1) < 0.03
    seen = detector._n_training_rows_seen + detector._n_held_out_rows_seen
    assert seen == 1001
    # The statistics describe all the rows: a code spread, not one point.
    assert np.all(np.isfinite(detector.code_precision_))
    assert np.all(np.linalg.eigvalsh(detector.code_precision_) < 1e3)
    # About a fifth of the rows calibrate the p-values.
    assert 150 < len(detector.calibration_scores_) < 250


def test_partial_fit_after_fit_keeps_the_fits_rows_in_the_samples(digits):
    X = digits[0][:400]
    detector = AutoencoderOutlierDetector(**TINY).fit(X)
    detector.partial_fit(X[:3])
    samples = [detector._training_rows, detector._held_out_rows]
    assert sum(sample.shape[0] for sample in samples) == 403
    assert detector._n_training_rows_seen + detector._n_held_out_rows_seen == 403


def test_calibration_samples_are_bounded_and_uniform(monkeypatch):
    monkeypatch.setattr("skae._outlier._CALIBRATION_ROWS", 50)
    X = np.repeat(np.arange(20.0)[:, None], 50, axis=0)  # values 0..19, in order
    X = np.hstack([X, np.random.RandomState(0).normal(size=X.shape)])
    detector = AutoencoderOutlierDetector(**TINY)
    for chunk in _chunks(X, [100] * 10):
        detector.partial_fit(chunk)
    for sample in (detector._training_rows, detector._held_out_rows):
        assert sample.shape == (50, 2)
        # A uniform sample of all 1000 rows, not the last ones: values from
        # the whole range 0..19, not only the last chunk's 18 and 19.
        assert sample[:, 0].min() < 5 and np.median(sample[:, 0]) < 15


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sizes=st.lists(st.integers(1, 120), min_size=1, max_size=8))
def test_any_chunk_sequence_gives_a_sane_calibration(sizes):
    # Whatever the chunk sizes, one row included, the threshold flags about
    # the contamination share of all the rows trained on.
    rng = np.random.RandomState(len(sizes))
    X = rng.normal(size=(sum(sizes), 4))
    detector = AutoencoderOutlierDetector(
        hidden_layer_sizes=(4,), batch_size=16, random_state=0, contamination=0.2
    )
    for chunk in _chunks(X, sizes):
        detector.partial_fit(chunk)
    assert np.all(np.isfinite(detector.code_precision_))
    assert np.all(detector.error_scale_ > 0)
    flagged = (detector.predict(X) == -1).mean()
    # The 80th percentile of n rows flags 0.2 of them, give or take a row.
    assert abs(flagged - 0.2) <= 1 / len(X) + 1e-9
