"""
==========================================================
A variational autoencoder: a smooth code space to sample
==========================================================

With ``variational=True``, :class:`~skae.AutoencoderTransformer` is a
variational autoencoder (VAE). Its encoder describes each sample by a small
Gaussian cloud of codes rather than a single point, and training pulls
these clouds toward the standard normal distribution. The code space
becomes smooth and filled without gaps, so that every code decodes to
something that looks like the data, and ``sample`` can draw new samples.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# Fit a VAE with a 2-D code
# -------------------------
# Two code dimensions make the code space easy to look at. Pixels are in
# [0, 1], so the reconstruction loss is binary cross-entropy; ``beta``
# weighs the pull toward the normal distribution against reconstruction.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from skae import AutoencoderTransformer

# The training budget here is small so that the example runs in seconds;
# ConvergenceWarning would only say that more epochs could improve the fit.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = load_digits(return_X_y=True)
X = X / 16.0

vae = AutoencoderTransformer(
    n_components=2,
    hidden_layer_sizes=(128, 64),
    variational=True,
    beta=1.0,
    loss="bce",
    learning_rate_init=3e-3,
    batch_size=64,
    max_iter=80,
    random_state=0,
).fit(X)
codes = vae.transform(X)  # the centre of each sample's cloud of codes
print(f"codes: mean {codes.mean(axis=0).round(2)}, std {codes.std(axis=0).round(2)}")

# %%
# The code space, and what each code decodes to
# ---------------------------------------------
# Left, the codes of the digits, coloured by class (which the VAE never
# saw), with the circles where the standard normal puts 68% and 95% of its
# mass. Right, ``inverse_transform`` of a regular grid of codes over the
# same square: each cell is the image the decoder draws for that code.
fig, (ax_codes, ax_grid) = plt.subplots(1, 2, figsize=(11, 5.2), layout="constrained")
points = ax_codes.scatter(codes[:, 0], codes[:, 1], c=y, cmap="tab10", s=6)
for radius, style in [(1.52, "--"), (2.45, ":")]:  # chi2(2) quantiles
    ax_codes.add_patch(
        plt.Circle((0, 0), radius, fill=False, color="k", linestyle=style)
    )
ax_codes.set_xlim(-3, 3)
ax_codes.set_ylim(-3, 3)
ax_codes.set_aspect("equal")
ax_codes.set_xlabel("code 1")
ax_codes.set_ylabel("code 2")
ax_codes.set_title("Codes of the 1797 digits")
fig.colorbar(points, ax=ax_codes, ticks=range(10), label="digit")

n_cells = 10
steps = np.linspace(-2.5, 2.5, n_cells)
grid = np.array([[code_1, code_2] for code_2 in steps[::-1] for code_1 in steps])
images = vae.inverse_transform(grid).reshape(n_cells, n_cells, 8, 8)
# Tile the 8x8 images, each with a blank pixel above and to its left.
padded = np.pad(images, ((0, 0), (0, 0), (1, 0), (1, 0)))
mosaic = padded.transpose(0, 2, 1, 3).reshape(n_cells * 9, n_cells * 9)
ax_grid.imshow(mosaic, cmap="gray_r", vmin=0, vmax=1, extent=(-2.8, 2.8, -2.8, 2.8))
ax_grid.set_xlabel("code 1")
ax_grid.set_ylabel("code 2")
ax_grid.set_title("Decoded grid of codes")
plt.show()

# %%
# Neighbouring codes decode to similar images, and moving across the square
# morphs one digit into the next: there are no holes where the decoder
# would draw noise. That is what the pull toward the normal distribution
# buys; a plain autoencoder's codes can sit anywhere, with empty space in
# between that decodes to nothing in particular.
#
# New digits
# ----------
# ``sample`` draws codes from the standard normal and decodes them. With
# only two code dimensions the samples are blurry averages; a larger
# ``n_components`` gives sharper ones.
samples = vae.sample(24, random_state=0)
fig, axes = plt.subplots(3, 8, figsize=(8, 3.4), layout="constrained")
for ax, image in zip(axes.ravel(), samples, strict=True):
    ax.imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("Digits drawn with vae.sample(24)")
plt.show()

# %%
# ``beta`` trades the two goals: larger values give a smoother, more normal
# code space and blurrier reconstructions, smaller ones the reverse. See
# :ref:`which_autoencoder` for when a VAE is the right member of the family.
