"""
==========================================================
Embedding digits in two dimensions: autoencoder versus PCA
==========================================================

PCA and an :class:`~skae.AutoencoderTransformer` both compress each 8x8
digit image (64 pixel values) into two numbers. PCA can only project the
images onto a plane; the autoencoder learns a nonlinear map, so it can bend
the plane to follow the data. Neither sees the labels: the colours are added
afterwards, to show how well each method keeps the ten digits apart.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# Fit both methods
# ----------------
# The pixels range over 0..16; :class:`~sklearn.preprocessing.MinMaxScaler`
# in a pipeline maps them to [0, 1], the range neural networks train best
# on. ``learning_rate_init`` and ``max_iter`` are set for a fit of a few
# seconds on a CPU; the defaults train longer.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skae import AutoencoderTransformer

# The training budgets here are small so that the example runs in seconds;
# ConvergenceWarning would only say that more epochs could improve the fit.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = load_digits(return_X_y=True)

pca = make_pipeline(MinMaxScaler(), PCA(n_components=2))
autoencoder = make_pipeline(
    MinMaxScaler(),
    AutoencoderTransformer(
        n_components=2,
        hidden_layer_sizes=(128, 64),
        learning_rate_init=3e-3,
        batch_size=128,
        max_iter=60,
        random_state=0,
    ),
)
embeddings = {
    "PCA": pca.fit_transform(X),
    "Autoencoder": autoencoder.fit_transform(X),
}

# %%
# How well are the digits separated?
# ----------------------------------
# One number per method: the accuracy of a 5-nearest-neighbours classifier
# that sees only the two coordinates, estimated by 5-fold cross-validation.
# It is high when images of the same digit land close together.
accuracy = {
    name: cross_val_score(KNeighborsClassifier(), Z, y, cv=5).mean()
    for name, Z in embeddings.items()
}
for name, score in accuracy.items():
    print(f"{name:>12}: 5-NN accuracy in 2-D {score:.2f}")

# %%
# Plot the two embeddings
# -----------------------
# Each point is an image, coloured by its digit; each digit's label sits at
# the median of its points.
fig, axes = plt.subplots(1, 2, figsize=(11, 5), layout="constrained")
for ax, (name, Z) in zip(axes, embeddings.items(), strict=True):
    points = ax.scatter(Z[:, 0], Z[:, 1], c=y, cmap="tab10", s=8, alpha=0.7)
    for digit in range(10):
        x_med, y_med = np.median(Z[y == digit], axis=0)
        ax.text(
            x_med,
            y_med,
            str(digit),
            fontsize=16,
            weight="bold",
            ha="center",
            va="center",
            bbox={"boxstyle": "circle", "fc": "white", "alpha": 0.8},
        )
    ax.set_title(f"{name}: 5-NN accuracy {accuracy[name]:.2f}")
    ax.set_xlabel("component 1")
    ax.set_ylabel("component 2")
fig.colorbar(points, ax=axes, ticks=range(10), label="digit")
fig.suptitle("Digits (64 pixels) embedded in two dimensions")
plt.show()

# %%
# PCA keeps the two directions of largest variance. They separate the
# digits at the rim of its plot (0, 3, 4, 6), while 1, 2, 5, 7 and 8 pile
# up in the middle. The autoencoder is free to bend: it gives most digits a
# region of their own, which the nearest-neighbour accuracy confirms. The
# price is a slower, randomised fit whose result depends on
# ``random_state`` and on the training budget; see
# :ref:`sphx_glr_auto_examples_plot_training_curves.py`.
