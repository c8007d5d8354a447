"""
=======================================
The classic MNIST autoencoder (28x28)
=======================================

The textbook autoencoder: each 28x28 handwritten digit (784 pixels) is
encoded through layers of 128 and 64 units into 32 numbers, and decoded back
through the mirror image of those layers. Pixels are scaled to [0, 1] and the
loss is binary cross-entropy (``loss="bce"``), so the reconstruction goes
through a sigmoid and stays in [0, 1] too.

This script is not run when the documentation is built: it downloads MNIST
from OpenML (about 20 MB, cached in ``~/scikit_learn_data`` after the first
run) and trains for a few minutes on a CPU, less on a GPU. Run it yourself::

    python examples/mnist_autoencoder.py --max-iter 20

Where OpenML cannot be reached, it says so and exits without an error.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import sys

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import fetch_openml

from skae import AutoencoderTransformer

#: MNIST on OpenML lists its 60,000 training images first and its 10,000
#: test images last.
N_TEST = 10_000


def load_mnist():
    """MNIST's pixels scaled to [0, 1] and its labels, or None if offline."""
    try:
        X, y = fetch_openml("mnist_784", version=1, return_X_y=True, as_frame=False)
    except OSError as exc:
        # No network, DNS failure, timeout, refused connection: all are
        # OSError (urllib's URLError included).
        print(
            f"Cannot download MNIST from OpenML ({exc}). This example needs the "
            "network the first time it runs; nothing was trained.",
            file=sys.stderr,
        )
        return None
    return (X / 255.0).astype(np.float32), y


def plot_reconstructions(model, X_test, y_test, path):
    """Save one test image per digit next to its reconstruction."""
    shown = [np.flatnonzero(y_test == str(digit))[0] for digit in range(10)]
    reconstructions = model.inverse_transform(model.transform(X_test[shown]))
    fig, axes = plt.subplots(2, 10, figsize=(10, 2.6), layout="constrained")
    for row, (name, images) in zip(
        axes,
        [("original", X_test[shown]), ("reconstructed", reconstructions)],
        strict=True,
    ):
        for ax, image in zip(row, images, strict=True):
            ax.imshow(image.reshape(28, 28), cmap="gray_r", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        row[0].set_ylabel(name)
    fig.suptitle(f"MNIST test digits through a {model.n_components}-number code")
    fig.savefig(path, dpi=100)
    print(f"Saved {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    parser.add_argument(
        "--max-iter", type=int, default=20, help="maximum epochs (default: 20)"
    )
    parser.add_argument(
        "--n-train",
        type=int,
        default=60_000,
        help="training images to use, up to 60000 (default: all)",
    )
    parser.add_argument(
        "--output",
        default="mnist_reconstructions.png",
        help="where to save the figure (default: mnist_reconstructions.png)",
    )
    args = parser.parse_args(argv)

    data = load_mnist()
    if data is None:
        return 0
    X, y = data
    X_train, X_test, y_test = X[:-N_TEST][: args.n_train], X[-N_TEST:], y[-N_TEST:]

    model = AutoencoderTransformer(
        n_components=32,
        hidden_layer_sizes=(128, 64),
        loss="bce",
        max_iter=args.max_iter,
        early_stopping=True,
        verbose=1,
        random_state=0,
    ).fit(X_train)
    reconstructions = model.inverse_transform(model.transform(X_test))
    device = model.net_.device
    print(f"Trained {model.n_iter_} epochs on {len(X_train)} images on {device}.")
    print(f"Test binary cross-entropy: {-model.score(X_test):.4f}")
    print(f"Test mean squared error:   {np.mean((reconstructions - X_test) ** 2):.4f}")
    plot_reconstructions(model, X_test, y_test, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
