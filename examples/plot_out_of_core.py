"""
==========================================
Training on data that does not fit in RAM
==========================================

``partial_fit`` trains for one epoch on the rows it is given, keeping the
network and the optimizer state between calls. Feeding it chunks read from
disk, a memory-mapped ``.npy`` file here (Parquet batches read with
``pyarrow`` work the same way), trains a model on data of any size while only
one chunk is in memory at a time.
"""

# %%
# A data set on disk
# ------------------
# We write the digits (scaled to [0, 1]) to a ``.npy`` file and open it
# memory-mapped: rows are read from disk only when a chunk is sliced.
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from tqdm.auto import tqdm

from skae import AutoencoderTransformer

X, _ = load_digits(return_X_y=True)
X_train, X_test = train_test_split((X / 16).astype(np.float32), random_state=0)
path = Path(tempfile.mkdtemp()) / "digits.npy"
np.save(path, X_train)
on_disk = np.load(path, mmap_mode="r")
print(f"{on_disk.shape[0]} rows on disk, read in chunks of 250")

# %%
# Streaming training with a progress bar
# --------------------------------------
# Each pass over the file calls ``partial_fit`` once per chunk. The test
# error after each pass shows the model improving as it would with ``fit``.
model = AutoencoderTransformer(n_components=8, hidden_layer_sizes=(64,), random_state=0)
chunk = 250
test_errors = []
for _ in tqdm(range(20), desc="passes over the file"):
    for start in range(0, on_disk.shape[0], chunk):
        model.partial_fit(on_disk[start : start + chunk])
    test_errors.append(-model.score(X_test))

# %%
# The same epochs with ``fit`` on the whole array, for comparison.
full = AutoencoderTransformer(
    n_components=8, hidden_layer_sizes=(64,), max_iter=20, tol=0, random_state=0
).fit(X_train)

fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(np.arange(1, 21), test_errors, marker="o", label="partial_fit on chunks")
ax.axhline(-full.score(X_test), color="k", linestyle="--", label="fit, 20 epochs")
ax.set_xlabel("passes over the data")
ax.set_ylabel("test reconstruction MSE")
ax.set_yscale("log")
ax.set_title("Out-of-core training converges like fit")
ax.legend()
fig.tight_layout()
plt.show()
