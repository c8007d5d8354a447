"""
==========================================
Training curves and early stopping
==========================================

A fitted :class:`~skae.AutoencoderTransformer` keeps its training history:
``loss_curve_`` holds the training loss of each epoch and, with
``early_stopping=True``, ``validation_scores_`` holds minus the loss on a
held-out part of the training data. Plotting both shows whether the network
is still learning, and when it starts to memorise its training data.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# A network large for its data
# ----------------------------
# 300 digit images and a wide network make overfitting visible in seconds.
# ``early_stopping=True`` holds out ``validation_fraction`` of the data,
# stops once the validation loss has not improved by ``tol`` for
# ``n_iter_no_change`` epochs, and restores the weights of the best epoch.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.utils import shuffle

from skae import AutoencoderTransformer

X, _ = load_digits(return_X_y=True)
X = shuffle(X / 16.0, random_state=0)
X_train, X_test = X[:300], X[300:]

model = AutoencoderTransformer(
    n_components=16,
    hidden_layer_sizes=(256, 128),
    learning_rate_init=3e-3,
    batch_size=32,
    max_iter=300,
    early_stopping=True,
    validation_fraction=0.3,
    n_iter_no_change=20,
    random_state=0,
).fit(X_train)

validation_loss = -np.array(model.validation_scores_)
# Training stopped n_iter_no_change epochs after the last epoch that lowered
# the validation loss by at least tol; that epoch's weights were restored.
best_epoch = model.n_iter_ - model.n_iter_no_change
print(f"trained {model.n_iter_} of at most 300 epochs; best epoch {best_epoch}")
print(f"loss on {len(X_test)} unseen images: {-model.score(X_test):.4f}")

# %%
# Plot the curves
# ---------------
# Epochs are numbered from 1. The losses are mean squared errors on pixels
# in [0, 1]; a log scale shows the late epochs' small changes.
epochs = np.arange(1, model.n_iter_ + 1)
fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
ax.plot(epochs, model.loss_curve_, label="training loss (loss_curve_)")
ax.plot(epochs, validation_loss, label="validation loss (-validation_scores_)")
ax.axvline(best_epoch, color="k", linestyle="--", label=f"best epoch ({best_epoch})")
ax.axvspan(
    best_epoch,
    model.n_iter_,
    color="gray",
    alpha=0.15,
    label=f"patience: {model.n_iter_no_change} epochs",
)
ax.set_yscale("log")
ax.set_xlabel("epoch")
ax.set_ylabel("reconstruction loss (MSE)")
ax.set_title("Early stopping on 300 digits")
ax.legend()
plt.show()

# %%
# Both losses fall quickly at first. Later the training loss keeps falling
# while the validation loss levels off: the extra epochs fit details of the
# 210 training images that do not carry over to new ones. Early stopping
# waited ``n_iter_no_change`` epochs for an improvement of at least ``tol``,
# then restored the best epoch's weights, so the model's loss on unseen
# images is close to the best validation loss. Smaller gains after the best
# epoch do not count: raise ``tol`` to stop sooner, lower it to train on.
#
# Without ``early_stopping``, training stops when the *training* loss stops
# improving, or at ``max_iter`` with a
# :class:`~sklearn.exceptions.ConvergenceWarning`; ``loss_curve_`` is
# recorded either way, and ``validation_scores_`` is None.
