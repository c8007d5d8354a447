"""``skae demo``: both estimators on scikit-learn's digits, next to PCA and
IsolationForest."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import sys
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from ._datasets import one_class_task
from ._outlier import AutoencoderOutlierDetector
from ._transformer import AutoencoderTransformer
from ._version import __version__

__all__ = ["demo", "timed"]


def timed(fn):
    """Call ``fn()``; return its result and the seconds it took."""
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def _reduction_rows(X, n_components, random_state):
    """Test reconstruction MSE of PCA and the autoencoder on a 70/30 split."""
    X_train, X_test = train_test_split(X, test_size=0.3, random_state=random_state)
    rows = []
    for name, model in [
        ("PCA", PCA(n_components, random_state=random_state)),
        (
            "AutoencoderTransformer",
            AutoencoderTransformer(n_components, random_state=random_state),
        ),
    ]:
        _, seconds = timed(lambda model=model: model.fit(X_train))
        reconstruction = model.inverse_transform(model.transform(X_test))
        rows.append((name, float(np.mean((reconstruction - X_test) ** 2)), seconds))
    return rows


def _outlier_tasks(X, y, random_state):
    """Two detection tasks on digits: corrupted images, and unseen classes."""
    rng = np.random.RandomState(random_state)
    corrupted = X.copy()
    idx = rng.choice(len(X), size=len(X) // 20, replace=False)
    noise = rng.rand(len(idx), X.shape[1])
    corrupted[idx] = np.where(rng.rand(*noise.shape) < 0.3, noise, X[idx])
    is_corrupted = np.isin(np.arange(len(X)), idx)

    yield "5% corrupted images", corrupted, is_corrupted
    yield (
        "digits 0-4, plus 5% of 5-9",
        *one_class_task(X, y, [0, 1, 2, 3, 4], random_state=random_state),
    )


def _outlier_rows(X, y, random_state):
    rows = []
    for task, X_task, is_outlier in _outlier_tasks(X, y, random_state):
        for name, model in [
            ("IsolationForest", IsolationForest(random_state=random_state)),
            (
                "AutoencoderOutlierDetector",
                AutoencoderOutlierDetector(
                    contamination=0.05, random_state=random_state
                ),
            ),
        ]:
            _, seconds = timed(lambda model=model, X_task=X_task: model.fit(X_task))
            auc = roc_auc_score(is_outlier, -model.score_samples(X_task))
            rows.append((task, name, auc, seconds))
    return rows


def demo(n_components=8, random_state=0, out=None):
    """Fit both estimators on the digits data and print what they achieve.

    Parameters
    ----------
    n_components : int, default=8
        Code size of the autoencoder and number of PCA components.
    random_state : int, default=0
        Seed of the split, the planted outliers and the models.
    out : file-like, default=None
        Where the report goes; ``None`` means ``sys.stdout`` at call time.
    """
    out = sys.stdout if out is None else out
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    print(
        f"skae {__version__} demo on scikit-learn's digits "
        "(1797 images, 8x8, scaled to [0, 1])",
        file=out,
    )
    with warnings.catch_warnings():
        # The demo runs each model once at its defaults; a model stopped by
        # max_iter is still a fair result to show.
        warnings.simplefilter("ignore", ConvergenceWarning)
        reduction = _reduction_rows(X, n_components, random_state)
        outliers = _outlier_rows(X, y, random_state)
    print(
        f"\nDimensionality reduction to {n_components} components "
        "(test reconstruction MSE, lower is better)",
        file=out,
    )
    for name, mse, seconds in reduction:
        print(f"  {name:<28} MSE {mse:.4f}   fit {seconds:5.1f} s", file=out)
    print(
        "\nOutlier detection (ROC-AUC on the training data, higher is better)", file=out
    )
    for task, name, auc, seconds in outliers:
        print(
            f"  {task:<28} {name:<28} ROC-AUC {auc:.3f}   fit {seconds:5.1f} s",
            file=out,
        )
