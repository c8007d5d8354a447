"""Shared fixtures: small datasets and cheap estimator settings."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

#: Settings that make a fit take a fraction of a second, for API tests
#: that do not judge what the network learned.
TINY = {"hidden_layer_sizes": (8,), "max_iter": 3, "batch_size": 16, "random_state": 0}


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread():
    """Run torch on one thread: the test networks are too small to gain from
    more, and where several processes share the cores, torch's worker threads
    spin-wait for each other (measured: tests/test_variants.py took 23 s on
    one thread and 330 s on two, on a loaded 2-core machine)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def digits():
    """Digits scaled to [0, 1], as float64, with their labels."""
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


@pytest.fixture(scope="session")
def blobs_with_outliers():
    """200 Gaussian inliers around a 2-D plane in 6-D, and 10 points off it."""
    rng = np.random.RandomState(42)
    latent = rng.normal(size=(200, 2))
    inliers = latent @ rng.normal(size=(2, 6)) + 0.05 * rng.normal(size=(200, 6))
    outliers = rng.uniform(-4, 4, size=(10, 6))
    X = np.vstack([inliers, outliers])
    y = np.r_[np.zeros(200), np.ones(10)]
    return X, y
