"""Scaling out with Dask: grid search on a cluster, parallel inference and
incremental training on dask arrays."""

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
wrappers = pytest.importorskip("dask_ml.wrappers")
joblib = pytest.importorskip("joblib")

from sklearn.model_selection import GridSearchCV  # noqa: E402

from skae import AutoencoderOutlierDetector, AutoencoderTransformer  # noqa: E402

from .conftest import TINY  # noqa: E402


@pytest.fixture(scope="module")
def client():
    # In-process workers: the test checks the integration, not the speed-up.
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def chunked():
    X = np.random.RandomState(0).rand(20_000, 8).astype(np.float32)
    return X, da.from_array(X, chunks=5_000)


def test_grid_search_on_the_dask_backend(client, digits):
    X = digits[0][:200]
    search = GridSearchCV(
        AutoencoderTransformer(**TINY), {"n_components": [1, 6]}, cv=2, n_jobs=-1
    )
    with joblib.parallel_backend("dask"):
        search.fit(X)
    assert search.best_params_ == {"n_components": 6}


def test_parallel_post_fit_scores_a_dask_array(client, chunked):
    X, X_dask = chunked
    wrapped = wrappers.ParallelPostFit(AutoencoderOutlierDetector(**TINY)).fit(
        X[:2_000]
    )
    labels = wrapped.predict(X_dask)
    assert isinstance(labels, da.Array)
    np.testing.assert_array_equal(labels.compute(), wrapped.estimator.predict(X))
    codes = wrappers.ParallelPostFit(AutoencoderTransformer(**TINY)).fit(X[:2_000])
    assert codes.transform(X_dask).compute().shape == (20_000, 2)


def test_incremental_trains_through_partial_fit(client, chunked):
    _, X_dask = chunked
    incremental = wrappers.Incremental(AutoencoderTransformer(**TINY)).fit(X_dask)
    # One partial_fit call, one epoch, per chunk.
    assert incremental.estimator_.n_iter_ == X_dask.numblocks[0]
    assert np.all(np.isfinite(incremental.estimator_.loss_curve_))
