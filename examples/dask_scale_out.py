"""
=====================================
Scaling out with Dask
=====================================

Three ways to spread skae over a Dask cluster, here a ``LocalCluster`` on
this machine; point ``Client`` at a scheduler address to use a multi-node
cluster instead. Needs ``pip install "skae[dask]"``.

- **Hyper-parameter search**: scikit-learn's ``GridSearchCV`` runs its fits on
  the cluster through joblib's Dask backend.
- **Inference on big arrays**: ``dask_ml.wrappers.ParallelPostFit`` applies a
  fitted estimator to each chunk of a ``dask.array`` in parallel.
- **Incremental training**: ``dask_ml.wrappers.Incremental`` feeds the chunks
  of a ``dask.array`` to ``partial_fit`` one after the other.

Torch uses all cores of a machine by default; with several workers per
machine, give each worker one thread (``threads_per_worker=1`` and
``client.run(torch.set_num_threads, 1)``, or ``OMP_NUM_THREADS=1`` in the
workers' environment) so they do not oversubscribe the cores. skae itself
never changes torch's thread settings.

This script is not run when the documentation is built (it starts a
cluster); run it with ``python examples/dask_scale_out.py``.
"""

import dask.array as da
import joblib
import numpy as np
import torch
from dask_ml.wrappers import Incremental, ParallelPostFit
from distributed import Client, LocalCluster
from sklearn.model_selection import GridSearchCV

from skae import AutoencoderOutlierDetector, AutoencoderTransformer


def main():
    rng = np.random.default_rng(0)
    latent = rng.standard_normal((1_000_000, 4), dtype=np.float32)
    mixing = rng.standard_normal((4, 20), dtype=np.float32)
    X = da.from_array(latent @ mixing, chunks=100_000)
    sample = X[:20_000].compute()

    with (
        LocalCluster(n_workers=2, threads_per_worker=1) as cluster,
        Client(cluster) as client,
    ):
        client.run(torch.set_num_threads, 1)

        search = GridSearchCV(
            AutoencoderTransformer(max_iter=20, random_state=0),
            {"n_components": [2, 4, 8]},
            cv=3,
            n_jobs=-1,
        )
        with joblib.parallel_backend("dask"):
            search.fit(sample)
        print("best n_components:", search.best_params_["n_components"])

        detector = ParallelPostFit(
            AutoencoderOutlierDetector(n_components=4, max_iter=20, random_state=0)
        ).fit(sample)
        labels = detector.predict(X)  # lazy: one task per chunk
        print(
            "outliers flagged in 1,000,000 rows:", int((labels == -1).sum().compute())
        )

        incremental = Incremental(
            AutoencoderTransformer(n_components=4, random_state=0)
        )
        incremental.fit(X)
        print("epochs trained, one per chunk:", incremental.estimator_.n_iter_)


if __name__ == "__main__":
    main()
