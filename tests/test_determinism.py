"""Reproducibility and isolation: seeds, global state, threads."""

import threading

import numpy as np
import pytest
import torch
from sklearn.base import clone

from skae import AutoencoderOutlierDetector, AutoencoderTransformer

from .conftest import TINY


@pytest.fixture(
    params=[AutoencoderTransformer, AutoencoderOutlierDetector],
    ids=lambda cls: cls.__name__,
)
def estimator(request):
    return request.param(**TINY)


def _outputs(estimator, X):
    """Everything a fitted estimator computes from X."""
    outputs = [estimator.score_samples(X)]
    if hasattr(estimator, "transform"):
        outputs.append(estimator.transform(X))
    if hasattr(estimator, "predict"):
        outputs.append(estimator.predict(X))
    return outputs


def test_same_random_state_gives_identical_models(estimator, digits):
    X = digits[0][:100]
    first = _outputs(clone(estimator).fit(X), X)
    second = _outputs(clone(estimator).fit(X), X)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    other = _outputs(clone(estimator).set_params(random_state=1).fit(X), X)
    assert not np.array_equal(first[0], other[0])


def test_fit_leaves_global_state_alone(estimator, digits):
    torch_state = torch.get_rng_state()
    numpy_state = np.random.get_state()[1].copy()
    threads = torch.get_num_threads()
    estimator.set_params(random_state=None).fit(digits[0][:60])
    estimator.partial_fit(digits[0][:60])
    assert torch.equal(torch_state, torch.get_rng_state())
    np.testing.assert_array_equal(numpy_state, np.random.get_state()[1])
    assert torch.get_num_threads() == threads


def test_concurrent_inference_matches_sequential(estimator, digits):
    X = digits[0]
    estimator.fit(X[:200])
    expected = _outputs(estimator, X)
    results = [None] * 8

    def work(i):
        results[i] = _outputs(estimator, X)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for outputs in results:
        for a, b in zip(outputs, expected, strict=True):
            np.testing.assert_array_equal(a, b)
