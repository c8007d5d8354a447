"""Shared fixtures: small datasets and cheap estimator settings."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

import skae._base
from skae._testing import optimizer_updates_disabled

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


def pytest_addoption(parser):
    parser.addoption(
        "--untrained",
        action="store_true",
        help="disable every optimizer update for the whole run: each test "
        "that claims a model learned something must then fail",
    )


@pytest.fixture(scope="session", autouse=True)
def _untrained(request):
    """With ``--untrained``, every network keeps its initial weights.

    Session-scoped, so that it also covers the models that module-scoped
    fixtures train. A check of the tests, not of skae: ``python -m pytest
    --untrained`` lists the tests that depend on training.
    """
    if request.config.getoption("--untrained"):
        with optimizer_updates_disabled():
            yield
    else:
        yield


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


@pytest.fixture
def quick_training(monkeypatch):
    """Cap every training run of skae at two epochs, on one CPU thread.

    For tests of code written to train for long (the examples, the demo),
    where only the code has to run: two epochs do that in a fraction of the
    time. Networks this small gain nothing from torch's intra-op threads,
    and lose much to them on a shared machine.
    """
    train = skae._base.train

    def short_train(net, X, epochs, *args, **kwargs):
        return train(net, X, min(epochs, 2), *args, **kwargs)

    monkeypatch.setattr(skae._base, "train", short_train)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
