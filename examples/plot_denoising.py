"""
=================================================
Denoising digits with a denoising autoencoder
=================================================

A denoising autoencoder is trained to reconstruct clean samples from
corrupted copies of them: it cannot learn to copy its input, so it learns
what clean data look like. With ``noise="gaussian"``,
:class:`~skae.AutoencoderTransformer` corrupts each training batch itself;
you fit it on clean data as usual. Here it cleans noisy test digits, next to
PCA and a plain autoencoder of the same size.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# Clean training digits, noisy test digits
# ----------------------------------------
# Pixels are scaled to [0, 1]. The test images get Gaussian noise of
# standard deviation 0.3, clipped back to [0, 1], like a bad scan.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from skae import AutoencoderTransformer

# The training budgets here are small so that the example runs in seconds;
# ConvergenceWarning would only say that more epochs could improve the fit.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, random_state=0
)
rng = np.random.RandomState(0)
X_noisy = np.clip(X_test + rng.normal(scale=0.3, size=X_test.shape), 0, 1)

# %%
# Three denoisers with a 16-number code
# -------------------------------------
# Each maps a noisy image to its code and back. PCA and the plain
# autoencoder are trained to reproduce clean images, the denoising
# autoencoder to restore images it has corrupted with the same kind of
# noise (``noise_level`` is its standard deviation, in the units of the
# scaled data).
network = {
    "n_components": 16,
    "hidden_layer_sizes": (128,),
    "learning_rate_init": 3e-3,
    "batch_size": 64,
    "max_iter": 60,
    "random_state": 0,
}
models = {
    "PCA": PCA(n_components=16),
    "Autoencoder": AutoencoderTransformer(**network),
    "Denoising autoencoder": AutoencoderTransformer(
        noise="gaussian", noise_level=0.3, **network
    ),
}
denoised = {}
for name, model in models.items():
    model.fit(X_train)
    denoised[name] = model.inverse_transform(model.transform(X_noisy))
    mse = np.mean((denoised[name] - X_test) ** 2)
    print(f"{name:>22}: MSE to the clean test images {mse:.4f}")
noisy_mse = np.mean((X_noisy - X_test) ** 2)
print(f"{'Noisy input':>22}: MSE to the clean test images {noisy_mse:.4f}")

# %%
# Look at the results
# -------------------
# One test digit of each class; each row's label gives its mean squared
# error to the clean images over the whole test set.
shown = [np.flatnonzero(y_test == digit)[0] for digit in range(10)]
rows = {"Clean": X_test, "Noisy": X_noisy, **denoised}
fig, axes = plt.subplots(len(rows), 10, figsize=(10, 5.6), layout="constrained")
for row, (name, images) in zip(axes, rows.items(), strict=True):
    for ax, i in zip(row, shown, strict=True):
        image = np.clip(images[i], 0, 1).reshape(8, 8)
        ax.imshow(image, cmap="gray_r", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
    label = name.replace(" autoencoder", "\nautoencoder")
    if name != "Clean":
        label += f"\nMSE {np.mean((images - X_test) ** 2):.3f}"
    row[0].set_ylabel(label, fontsize=9)
fig.suptitle("Noisy test digits cleaned through a 16-number code")
plt.show()

# %%
# PCA removes about half of the noise: a 16-number code cannot describe
# it, except the part that lies along PCA's 16 directions. The plain
# autoencoder, trained on clean images only, removes much less: noisy
# inputs fall outside everything it saw, and its nonlinear encoder maps
# some of them to the codes of other digits. The denoising autoencoder was
# trained on exactly this task; it restores the strokes best.
#
# Match the corruption to the data: ``noise="gaussian"`` for measurement
# noise, ``noise="masking"`` (entries set to 0 with probability
# ``noise_level``) for missing values. Scale the data before choosing
# ``noise_level``. See :ref:`which_autoencoder`.
