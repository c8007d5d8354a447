"""
================================================
A convolutional autoencoder with the skae API
================================================

The built-in network of :class:`skae.AutoencoderTransformer` is fully
connected: it sees an 8x8 digit as 64 unrelated numbers. A convolutional
network knows that neighbouring pixels belong together. skae accepts any
``torch.nn.Module`` class with ``encode`` and ``decode`` methods as its
``module`` parameter, and keeps the whole estimator API around it:
pipelines, grid search over the module's own arguments, feature names,
and outlier scores.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# The module
# ----------
# ``encode`` maps a batch of flat rows to codes of shape
# ``(n_samples, n_components)``; ``decode`` maps codes back to flat rows.
# skae passes ``n_components`` to the constructor because it accepts it (and
# would pass ``n_features`` likewise); other arguments, here ``channels``,
# come from the estimator's ``module_params``.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from torch import nn

from skae import AutoencoderOutlierDetector, AutoencoderTransformer


class ConvAutoencoder(nn.Module):
    """Two strided convolutions down to a code, two transposed ones back."""

    def __init__(self, n_components=8, channels=8):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Unflatten(1, (1, 8, 8)),
            nn.Conv2d(1, channels, 3, stride=2, padding=1),  # -> 4x4
            nn.ReLU(),
            nn.Conv2d(channels, 2 * channels, 3, stride=2, padding=1),  # -> 2x2
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(2 * channels * 4, n_components),
        )
        self.decoder = nn.Sequential(
            nn.Linear(n_components, 2 * channels * 4),
            nn.ReLU(),
            nn.Unflatten(1, (2 * channels, 2, 2)),
            nn.ConvTranspose2d(2 * channels, channels, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(channels, 1, 4, stride=2, padding=1),  # -> 8x8
            nn.Sigmoid(),  # pixel intensities in [0, 1], for loss="bce"
            nn.Flatten(),
        )

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)


# %%
# Fit it like any transformer
# ---------------------------
# The pixels are scaled to [0, 1] in the pipeline (``clip=True`` keeps
# held-out data there too), which makes binary cross-entropy the natural
# loss. The fully connected autoencoder with the same code size is the
# baseline.
X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

# Short training keeps the example fast; the networks have not fully
# converged, and say so with a warning this example silences.
warnings.filterwarnings("ignore", category=ConvergenceWarning)
settings = {
    "loss": "bce",
    "learning_rate_init": 1e-2,
    "max_iter": 20,
    "batch_size": 128,
    "random_state": 0,
}
models = {
    "convolutional": AutoencoderTransformer(
        8, module=ConvAutoencoder, module_params={"channels": 8}, **settings
    ),
    "fully connected": AutoencoderTransformer(8, **settings),
}
for name, autoencoder in models.items():
    pipe = make_pipeline(MinMaxScaler(clip=True), autoencoder).fit(X_train)
    X_scaled = pipe[0].transform(X_test)
    reconstruction = pipe.inverse_transform(pipe.transform(X_test))
    mse = np.mean((pipe[0].transform(reconstruction) - X_scaled) ** 2)
    n_weights = sum(p.numel() for p in autoencoder.net_.module_.parameters())
    print(f"{name:>15}: test MSE {mse:.4f} with {n_weights} weights")
    models[name] = pipe

# %%
# The convolutional network reconstructs the held-out digits nearly as well
# as the fully connected one, with an eighth of its weights. Its codes
# carry names and feed a classifier as any transformer's output does.
conv = models["convolutional"]
print(conv[-1].get_feature_names_out())
clf = make_pipeline(conv, StandardScaler(), LogisticRegression())
clf.fit(X_train, y_train)
print(f"logistic regression on the 8 codes: accuracy {clf.score(X_test, y_test):.2f}")

# %%
# Tune the module's own arguments
# -------------------------------
# Each entry of ``module_params`` is also a parameter ``module__<name>``, as
# skorch spells it, so a grid search reaches into the module through the
# pipeline. The score is minus the reconstruction error.
grid = {"autoencodertransformer__module__channels": [4, 8]}
search = GridSearchCV(conv, grid, cv=2, refit=False).fit(X_train)
for channels, score in zip(
    search.cv_results_["param_autoencodertransformer__module__channels"],
    search.cv_results_["mean_test_score"],
    strict=True,
):
    print(f"channels={channels}: mean test score {score:.4f}")

# %%
# Outlier detection with the same module
# --------------------------------------
# :class:`skae.AutoencoderOutlierDetector` takes the same parameters. Here
# a fifth of the held-out digits get a tenth of their pixels replaced by
# noise; the detector trained on clean digits scores them lower.
rng = np.random.RandomState(0)
corrupted = X_test.copy()
is_corrupted = rng.uniform(size=len(X_test)) < 0.2
mask = (rng.uniform(size=X_test.shape) < 0.1) & is_corrupted[:, None]
corrupted[mask] = rng.uniform(0, 16, size=mask.sum())
detector = make_pipeline(
    MinMaxScaler(clip=True),
    AutoencoderOutlierDetector(
        8, module=ConvAutoencoder, contamination=0.2, **settings
    ),
).fit(X_train)
auc = roc_auc_score(is_corrupted, -detector.score_samples(corrupted))
print(f"ROC-AUC for the corrupted digits: {auc:.2f}")

# %%
# Reconstructions
# ---------------
# Top row: held-out digits; below, their reconstructions through the
# 8-number codes of each network.
fig, axes = plt.subplots(3, 8, figsize=(8, 3.3))
rows = {"original": X_test[:8]}
for name, pipe in models.items():
    rows[name] = pipe.inverse_transform(pipe.transform(X_test[:8]))
for ax_row, (name, images) in zip(axes, rows.items(), strict=True):
    ax_row[0].set_title(name, loc="left", fontsize=9)
    for ax, image in zip(ax_row, images, strict=True):
        ax.imshow(image.reshape(8, 8), cmap="gray_r")
        ax.set_axis_off()
fig.tight_layout()
plt.show()
