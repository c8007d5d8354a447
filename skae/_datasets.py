"""Outlier-detection tasks built from labelled data, shared by the demo, the
benchmarks and the tests."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np

__all__ = ["one_class_task"]


def one_class_task(X, y, inlier_classes, outlier_share=0.05, random_state=0):
    """A one-class task: some classes are the inliers, a few others outliers.

    The rows of ``inlier_classes`` come first, then a random sample of the
    other classes' rows, ``outlier_share`` times as many as the inliers (at
    least 2). This is how outlier benchmarks turn classification data into
    detection tasks: the outliers are real samples, just of another kind.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Features.
    y : ndarray of shape (n_samples,)
        Class labels.
    inlier_classes : list
        The labels of the inliers.
    outlier_share : float, default=0.05
        Number of outliers relative to the number of inliers.
    random_state : int, default=0
        Seed of the outliers' sample.

    Returns
    -------
    X_task : ndarray of shape (n_inliers + n_outliers, n_features)
        The task's rows, unscaled.
    is_outlier : ndarray of bool of shape (n_inliers + n_outliers,)

    Examples
    --------
    >>> from sklearn.datasets import load_wine
    >>> from skae._datasets import one_class_task
    >>> X, is_outlier = one_class_task(*load_wine(return_X_y=True), [0])
    >>> X.shape, int(is_outlier.sum())
    ((62, 13), 3)
    """
    is_inlier = np.isin(y, inlier_classes)
    rng = np.random.RandomState(random_state)
    n_outliers = max(2, round(outlier_share * is_inlier.sum()))
    outliers = rng.choice(np.flatnonzero(~is_inlier), n_outliers, replace=False)
    X_task = np.vstack([X[is_inlier], X[outliers]])
    is_outlier = np.r_[np.zeros(is_inlier.sum(), bool), np.ones(n_outliers, bool)]
    return X_task, is_outlier
