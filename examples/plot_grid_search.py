"""
===============================================================
Choosing the code size and layers with GridSearchCV
===============================================================

An :class:`~skae.AutoencoderTransformer` is a scikit-learn estimator, so it
goes into a :class:`~sklearn.pipeline.Pipeline` and its parameters can be
tuned with :class:`~sklearn.model_selection.GridSearchCV`. Its ``score``
is minus the mean reconstruction error, so the search needs no ``scoring``
argument: it picks the network that reconstructs held-out data best.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# The pipeline and the grid
# -------------------------
# Scaling sits inside the pipeline, so each cross-validation split fits its
# scaler on its own training part. Pipeline parameters are named
# ``<step>__<parameter>``. The training budget (``max_iter``,
# ``learning_rate_init``) is kept small and fixed, so the eight candidates
# times three splits run in seconds.
import warnings

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skae import AutoencoderTransformer

# The training budgets here are small so that the example runs in seconds;
# ConvergenceWarning would only say that more epochs could improve the fit.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, _ = load_digits(return_X_y=True)

pipeline = make_pipeline(
    MinMaxScaler(),
    AutoencoderTransformer(
        learning_rate_init=5e-3, batch_size=256, max_iter=40, random_state=0
    ),
)
grid = {
    "autoencodertransformer__n_components": [2, 4, 8, 16],
    "autoencodertransformer__hidden_layer_sizes": [(32,), (128,)],
}
search = GridSearchCV(pipeline, grid, cv=3).fit(X)
print("best parameters:", search.best_params_)
print(f"best score (minus the reconstruction MSE): {search.best_score_:.4f}")

# %%
# Cross-validated score against the code size
# -------------------------------------------
# One line per hidden layer width; the bars span one standard deviation
# over the three splits.
results = pd.DataFrame(search.cv_results_)
fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
for sizes, rows in results.groupby("param_autoencodertransformer__hidden_layer_sizes"):
    ax.errorbar(
        rows["param_autoencodertransformer__n_components"],
        rows["mean_test_score"],
        yerr=rows["std_test_score"],
        marker="o",
        capsize=4,
        label=f"hidden_layer_sizes={sizes}",
    )
ax.set_xscale("log", base=2)
ax.set_xticks(grid["autoencodertransformer__n_components"])
ax.set_xticklabels(grid["autoencodertransformer__n_components"])
ax.set_xlabel("n_components (code size)")
ax.set_ylabel("CV score: minus the reconstruction MSE")
ax.set_title("GridSearchCV on digits: higher is better")
ax.legend()
plt.show()

# %%
# A larger code helps reconstruction, with diminishing returns, as long as
# the rest of the network can use it: with this training budget the wider
# hidden layer gains at every code size, while the narrow one does no better
# past 8 components. Reconstruction error alone tends to favour the
# largest code: choose ``n_components`` where the curve flattens, or score
# the whole pipeline on the task that uses the codes (for example a
# classifier after the autoencoder, with the usual ``scoring``).
#
# The search refits the best pipeline on all the data:
codes = search.best_estimator_.transform(X)
print("codes:", codes.shape)
