"""scipy.sparse input: trained and scored batch by batch, never densified whole."""

import numpy as np
import pytest
import scipy.sparse as sp

from skae import AutoencoderOutlierDetector, AutoencoderTransformer

from .conftest import TINY


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
def test_sparse_gives_the_dense_results(digits, fmt):
    X = digits[0][:200]
    X_sparse = sp.csr_matrix(X).asformat(fmt)
    dense = AutoencoderTransformer(**TINY).fit(X)
    sparse = AutoencoderTransformer(**TINY).fit(X_sparse)
    np.testing.assert_allclose(
        sparse.transform(X_sparse), dense.transform(X), rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(
        sparse.score_samples(X_sparse), dense.score_samples(X), rtol=1e-5, atol=1e-7
    )


def test_wide_sparse_matrix_is_densified_one_batch_at_a_time(monkeypatch):
    # 5,000 x 20,000 at 0.1% density: 400 MB dense in float32, 1.2 MB
    # sparse. What is asserted does not depend on the row count: no step
    # densifies more than a batch, however many rows there are.
    X = sp.random(
        5_000, 20_000, density=0.001, format="csr", dtype=np.float32, random_state=0
    )
    densified = []
    toarray = sp.csr_matrix.toarray

    def recording_toarray(self, *args, **kwargs):
        densified.append(self.shape[0])
        return toarray(self, *args, **kwargs)

    monkeypatch.setattr(sp.csr_matrix, "toarray", recording_toarray)
    detector = AutoencoderOutlierDetector(
        hidden_layer_sizes=(16,), max_iter=1, n_estimators=2, random_state=0
    ).fit(X)
    scores = detector.score_samples(X)
    assert scores.shape == (5_000,) and np.all(np.isfinite(scores))
    # Training batches of batch_size rows for each of the networks of the
    # ensemble; inference batches of ~4 MiB; the calibration samples are
    # kept sparse.
    assert max(densified) <= detector.n_estimators * detector.batch_size
    assert sum(densified) >= 2 * 5_000  # every row, for training and scoring
