"""Robustness: arbitrary inputs, threads, interrupts, and version skew."""

import pickle
import threading

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import skae._base
from skae import AutoencoderOutlierDetector, AutoencoderTransformer
from skae._training import _AutoencoderNet

from .conftest import TINY

_DTYPES = st.sampled_from(
    [np.float16, np.float32, np.float64, np.int32, np.int64, np.bool_]
)


@st.composite
def _datasets(draw):
    """Small arrays of every dtype, with constant columns, duplicate rows and
    magnitudes from tiny to beyond float32's range."""
    dtype = draw(_DTYPES)
    shape = draw(hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=12))
    unit = draw(hnp.arrays(np.float64, shape, elements=st.floats(-1.0, 1.0)))
    scale = draw(st.sampled_from([1e-30, 1e-3, 1.0, 1e3, 1e20, 1e39]))
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


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    X=_datasets(),
    cls=st.sampled_from([AutoencoderTransformer, AutoencoderOutlierDetector]),
)
def test_any_input_is_handled_or_rejected_clearly(X, cls):
    # Every input either fits and gives finite outputs, or fails with a
    # ValueError that says what is wrong; never a NaN or a torch error.
    estimator = cls(**{**TINY, "max_iter": 2})
    try:
        estimator.fit(X)
    except ValueError as exc:
        assert any(
            word in str(exc) for word in ("float32's range", "diverged", "sample")
        ), str(exc)
        return
    scores = estimator.score_samples(X)
    assert scores.shape == (X.shape[0],)
    assert np.all(np.isfinite(scores))
    if hasattr(estimator, "transform"):
        assert np.all(np.isfinite(estimator.transform(X)))
    else:
        assert set(np.unique(estimator.predict(X))) <= {-1, 1}


def test_concurrent_inference_matches_sequential(digits):
    X = digits[0]
    ae = AutoencoderTransformer(**TINY).fit(X[:200])
    expected = ae.score_samples(X), ae.transform(X)
    results = [None] * 8

    def work(i):
        results[i] = ae.score_samples(X), ae.transform(X)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for scores, codes in results:
        np.testing.assert_array_equal(scores, expected[0])
        np.testing.assert_array_equal(codes, expected[1])


def test_keyboard_interrupt_keeps_a_usable_model(digits, monkeypatch):
    # Ctrl-C during fit: skorch ends training cleanly; skae warns and keeps
    # the best weights reached so far.
    X = digits[0][:200]
    run_single_epoch = _AutoencoderNet.run_single_epoch
    calls = {"train": 0}

    def interrupt_third_epoch(self, iterator, training, prefix, step_fn, **kwargs):
        if training:
            calls["train"] += 1
            if calls["train"] == 3:
                raise KeyboardInterrupt
        return run_single_epoch(self, iterator, training, prefix, step_fn, **kwargs)

    monkeypatch.setattr(_AutoencoderNet, "run_single_epoch", interrupt_third_epoch)
    ae = AutoencoderTransformer(early_stopping=True, max_iter=50, random_state=0)
    with pytest.warns(UserWarning, match="interrupted after 2 of 50 epochs"):
        ae.fit(X)
    assert ae.n_iter_ == 2
    assert np.all(np.isfinite(ae.score_samples(X)))


def test_loading_with_another_skae_version_warns(digits, monkeypatch):
    blob = pickle.dumps(AutoencoderTransformer(**TINY).fit(digits[0][:30]))
    monkeypatch.setattr(skae._base, "__version__", "9.9.9")
    with pytest.warns(
        UserWarning, match=r"saved with skae 0\.\S+ and is loaded with skae 9\.9\.9"
    ):
        pickle.loads(blob)
