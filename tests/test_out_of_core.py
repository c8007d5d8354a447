"""Out-of-core training: partial_fit over chunks matches fit on all the data."""

import numpy as np
from sklearn.model_selection import train_test_split

from skae import AutoencoderTransformer


def _test_mse(model, X):
    return np.mean((model.inverse_transform(model.transform(X)) - X) ** 2)


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
