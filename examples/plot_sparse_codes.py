"""
=========================================================
Sparse codes: k-sparse autoencoder vs dictionary learning
=========================================================

A sparse code describes each sample with many code units of which only a
few are non-zero: the sample is a sum of a few "atoms" picked from a larger
dictionary. With ``sparsity=rho``, :class:`~skae.AutoencoderTransformer`
becomes a *k-sparse autoencoder*: each code keeps its ``ceil(rho *
n_components)`` entries of largest magnitude and sets the others to exactly
0. Here it learns sparse codes of the digits, next to scikit-learn's
:class:`~sklearn.decomposition.MiniBatchDictionaryLearning`, the classic
method, and to plain autoencoders as small as the number of active units.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# Data
# ----
# Pixels are scaled to [0, 1]; 30% of the images are kept aside to
# measure the reconstruction error on images the models never saw.
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import MiniBatchDictionaryLearning, SparseCoder
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from skae import AutoencoderTransformer

# The training budgets here are small so that the example runs in seconds;
# ConvergenceWarning would only say that more epochs could improve the fit.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)

# %%
# Five ways to code a digit
# -------------------------
# * Two k-sparse autoencoders with a code of 32 units: ``sparsity=0.05``
#   keeps ``ceil(0.05 * 32) = 2`` active units per image, ``sparsity=0.25``
#   keeps 8. During training the number of active units falls from all 32
#   to its target over the first half of the epochs, which keeps most units
#   in use, and the decoder's weight columns are held at unit norm, as a
#   dictionary's atoms are: otherwise the decoder could scale its weights
#   up and make every code small.
# * Two plain autoencoders with a dense code of 2 and of 8 units: as many
#   numbers per image as the sparse codes' active units, but always the
#   same ones.
# * Dictionary learning with 32 atoms. It finds each image's code by
#   solving a lasso problem, whose penalty ``alpha`` sets the sparsity; 0.33
#   gives about 8 non-zero entries per code here. With the same
#   dictionary, orthogonal matching pursuit (OMP) finds codes with exactly
#   8 non-zero entries instead.
#
# All networks here are linear (``hidden_layer_sizes=()``): the decoder is
# then a dictionary of unit-norm atoms plus a constant image, the model of
# dictionary learning (which has no constant image). What differs is how the code is
# found: the autoencoder's encoder computes it in one matrix product and
# keeps the largest entries, dictionary learning solves an optimisation
# problem for every image.
network = {
    "hidden_layer_sizes": (),
    "learning_rate_init": 3e-3,
    "batch_size": 64,
    "max_iter": 100,
    "random_state": 0,
}
models = {
    "k-sparse AE, k=2": AutoencoderTransformer(
        n_components=32, sparsity=0.05, **network
    ),
    "k-sparse AE, k=8": AutoencoderTransformer(
        n_components=32, sparsity=0.25, **network
    ),
    "dense AE, 2 units": AutoencoderTransformer(n_components=2, **network),
    "dense AE, 8 units": AutoencoderTransformer(n_components=8, **network),
    # fit_algorithm="cd" is several times faster than the default "lars"
    # here, for the same test error.
    "dictionary learning": MiniBatchDictionaryLearning(
        n_components=32,
        alpha=0.33,
        fit_algorithm="cd",
        transform_algorithm="lasso_lars",
        transform_alpha=0.33,
        batch_size=256,
        max_iter=20,
        random_state=0,
    ),
}
fit_seconds, codes, reconstructions = {}, {}, {}
for name, model in models.items():
    start = time.perf_counter()
    model.fit(X_train)
    fit_seconds[name] = time.perf_counter() - start
    codes[name] = model.transform(X_test)
    if isinstance(model, AutoencoderTransformer):
        reconstructions[name] = model.inverse_transform(codes[name])
    else:
        reconstructions[name] = codes[name] @ model.components_

# The learned dictionary, with codes by OMP: no new fit.
dictionary = models["dictionary learning"]
name = "dictionary + OMP, 8"
omp = SparseCoder(
    dictionary.components_, transform_algorithm="omp", transform_n_nonzero_coefs=8
)
fit_seconds[name] = fit_seconds["dictionary learning"]
codes[name] = omp.fit_transform(X_test)
reconstructions[name] = codes[name] @ dictionary.components_

print(f"{'model':>22} {'zeros':>6} {'active':>7} {'test MSE':>9} {'fit (s)':>8}")
for name, code in codes.items():
    zeros = np.mean(code == 0)
    active = np.mean(np.sum(code != 0, axis=1))
    mse = np.mean((reconstructions[name] - X_test) ** 2)
    print(f"{name:>22} {zeros:6.1%} {active:7.2f} {mse:9.4f} {fit_seconds[name]:8.1f}")

# %%
# The k-sparse codes have exactly the zeros their ``sparsity`` asks for,
# and reconstruct the test images much better than dense codes of as many
# numbers: each image picks its own few atoms out of 32. Dictionary
# learning's lasso codes, at about the same number of non-zero entries,
# reconstruct worse: the lasso penalty shrinks the entries it keeps towards
# 0. OMP, which does not shrink them, reconstructs best, at the cost of an
# iterative search for every image. (The first fit of the script also pays
# for torch's one-off start-up.)
#
# Which units are active
# ----------------------
# The codes of 40 test images, sorted by digit. White is exactly 0.
shown = np.argsort(y_test[:40], kind="stable")
sparse_names = ["k-sparse AE, k=2", "k-sparse AE, k=8"]
fig, axes = plt.subplots(1, 2, figsize=(11, 5), layout="constrained")
for ax, name in zip(axes, sparse_names, strict=True):
    code = codes[name][shown]
    limit = np.abs(code).max()
    image = ax.imshow(code, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
    ax.set_yticks(range(len(shown)), y_test[:40][shown], fontsize=7)
    ax.set_xlabel("code unit")
    ax.set_ylabel("digit of the test image")
    ax.set_title(name)
    fig.colorbar(image, ax=ax, shrink=0.8)
fig.suptitle("Sparse codes of test images")
plt.show()

usage = {name: np.mean(codes[name] != 0, axis=0) for name in codes}
for name in [*sparse_names, "dictionary learning"]:
    busiest = np.argmax(usage[name])
    print(
        f"{name}: {np.sum(usage[name] > 0)} of 32 units in use; unit {busiest} "
        f"is active in {usage[name][busiest]:.0%} of the test images"
    )

# %%
# Images of one digit tend to share their active units, and a unit's sign
# matters: the same unit can add or remove its pattern. Most units are in
# use; where one unit is active in (nearly) every image, it works as a
# second constant image, scaled image by image.
#
# The atoms
# ---------
# An atom is what one unit adds to the reconstruction: the decoding of a
# one-hot code (one unit at 1, the others at 0) minus the decoding of the
# zero code. For a linear decoder that is a column of its weights, of unit
# norm. The zero code decodes to the constant image every reconstruction
# starts from (first column); dictionary learning has none, and its atoms
# are its ``components_``. Below, the 8 atoms of each model that the most
# test images use.
n_shown = 8
fig, axes = plt.subplots(
    3, n_shown + 1, figsize=(10, 4.2), layout="constrained", squeeze=False
)
for row, name in zip(axes, [*sparse_names, "dictionary learning"], strict=True):
    model = models[name]
    if isinstance(model, AutoencoderTransformer):
        constant = model.inverse_transform(np.zeros((1, 32)))[0]
        atoms = model.inverse_transform(np.eye(32)) - constant
        row[0].imshow(constant.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        row[0].set_title("zero code", fontsize=8)
    else:
        atoms = model.components_
        # No constant image: an empty frame that keeps the row's label.
        row[0].spines[:].set_visible(False)
    for ax, unit in zip(row[1:], np.argsort(usage[name])[::-1], strict=False):
        limit = np.abs(atoms[unit]).max()
        ax.imshow(atoms[unit].reshape(8, 8), cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_title(f"unit {unit}: {usage[name][unit]:.0%}", fontsize=8)
    for ax in row:
        ax.set_xticks([])
        ax.set_yticks([])
    row[0].set_ylabel(name.replace(", ", "\n").replace(" l", "\nl"), fontsize=9)
fig.suptitle("The most used atoms (red positive, blue negative)")
plt.show()

# %%
# The 2-sparse autoencoder's constant image is a blurred average digit,
# and its atoms are signed corrections to it, which turn it into one digit
# or another. The 8-sparse one starts from a fainter constant image and
# lets its always-active unit draw the average digit, at a strength chosen
# image by image. Dictionary learning has no constant image, so its atoms
# are closer to whole digits.
#
# Choose ``n_components`` larger than the code a dense autoencoder would
# need: sparse codes pay off when there are more atoms than active units,
# even more atoms than features. ``transform`` returns a dense array with
# exact zeros; wrap it in :class:`scipy.sparse.csr_matrix` to store it
# compactly. With the default hidden layers the decoder is nonlinear, and
# what a unit adds then depends on the other active units: the atoms above
# are a property of linear decoders.
