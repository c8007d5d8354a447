"""
=====================================
Which features make a row an outlier?
=====================================

An outlier score says *that* a row is unusual, not *why*.
:meth:`~skae.AutoencoderOutlierDetector.feature_scores` splits each row's
score over the features, so that the features that make the row abnormal
can be read off, largest share first. We look at the most abnormal tumours
of the breast cancer data, and then check the explanations on rows where we
know the answer, because we corrupted one of their measurements ourselves.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# Fit the detector in a pipeline
# ------------------------------
# The data describe 569 breast tumours by 30 measurements of their cell
# nuclei (radius, texture, smoothness and so on: the mean, the standard
# error and the worst value of each), on scales from thousandths to
# thousands. A :class:`~sklearn.preprocessing.StandardScaler` puts them on
# one scale before the detector, in a pipeline. A fifth of the rows is kept
# aside for the check at the end.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderOutlierDetector

data = load_breast_cancer()
names = data.feature_names
X_train, X_test, y_train, y_test = train_test_split(
    data.data, data.target, test_size=0.2, random_state=0
)
pipe = make_pipeline(StandardScaler(), AutoencoderOutlierDetector(random_state=0))
pipe.fit(X_train)
n_rows, n_features = X_train.shape
print(f"Fitted on {n_rows} tumours with {n_features} measurements each")

# %%
# What the score is made of
# -------------------------
# Each autoencoder of the detector's ensemble compresses a row to a short
# code (``n_components="auto"``: ``round(sqrt(30)) = 5`` numbers) and
# decodes it back. The outlier score, ``-score_samples``, has two parts:
#
# * the **reconstruction error** of each feature, in units of that
#   feature's typical error on the training rows. It is large where a
#   value does not fit the others: the row breaks the relations between
#   features that the networks learned;
# * the **distance of the row's code from the centre of the training
#   codes** (a Mahalanobis distance). It is large for a row that fits the
#   relations but lies far out along them, such as a very large tumour
#   that is large in every measurement. The decoder tells how much each
#   direction of the code moves each feature, and this part of the score
#   is split over the features in those proportions.
#
# ``feature_scores`` returns each feature's total of both parts, averaged
# over the ensemble. The shares add up to the score: the score is their
# mean over the features, so a feature's share of the score is its entry
# divided by the row's sum.
#
# ``feature_scores`` is a method of the detector that
# :class:`~sklearn.pipeline.Pipeline` does not pass on (it passes on the
# methods every scikit-learn estimator may have, such as
# ``score_samples``), so we scale the data with the pipeline's fitted
# scaler, ``pipe[:-1]``, and call the detector, ``pipe[-1]``, on the result:
# exactly what the pipeline does inside.
scaler, detector = pipe[:-1], pipe[-1]
shares = detector.feature_scores(scaler.transform(X_train))
scores = -pipe.score_samples(X_train)
gap = np.max(np.abs(shares.mean(axis=1) - scores))
print(f"Largest gap between the mean share and the outlier score: {gap:.1e}")

# %%
# The most abnormal tumours and their reasons
# -------------------------------------------
# The 8 training rows with the highest scores, each with the 5 features of
# largest share, as percentages of the row's score.
worst = np.argsort(scores)[::-1][:8]
diagnosis = data.target_names
fig, axes = plt.subplots(2, 4, figsize=(12, 5.5), layout="constrained")
for ax, row in zip(axes.ravel(), worst, strict=True):
    percent = 100 * shares[row] / shares[row].sum()
    top = np.argsort(percent)[::-1][:5]
    ax.barh(names[top][::-1], percent[top][::-1], color="tab:red")
    ax.set_xlim(0, 100)
    ax.tick_params(axis="y", labelsize=8)
    ax.set_title(
        f"row {row} ({diagnosis[y_train[row]]})\nscore {scores[row]:.0f}", fontsize=9
    )
for ax in axes[1]:
    ax.set_xlabel("share of the score (%)")
fig.suptitle("The 8 most abnormal training tumours: features with the largest shares")
plt.show()

print(f"Median score of the training rows: {np.median(scores):.2f}")
for row in worst:
    percent = 100 * shares[row] / shares[row].sum()
    top = np.argsort(percent)[::-1][:3]
    reasons = ", ".join(f"{names[j]} {percent[j]:.0f}%" for j in top)
    label = diagnosis[y_train[row]]
    print(f"row {row:>3}, {label:>9}, score {scores[row]:6.1f}: {reasons}")

# %%
# The worst rows score many times the median, and in most of them a
# handful of features carry most of the score. Related measurements often come out
# together (a radius, a perimeter and an area describe one size): a value
# that breaks their relation leaves errors in its partners too, as the
# network's reconstruction compromises between them. Read the top features
# as a place to look, then go back to the raw values.
#
# A sanity check: corrupt a known column
# --------------------------------------
# On the 10 first rows kept aside, which the detector never saw, we add 4
# training standard deviations to one measurement, "mean smoothness", as a
# miscalibrated instrument would. Each row's values are otherwise
# untouched, so a good explanation puts that column first.
column = list(names).index("mean smoothness")
clean = X_test[:10]
corrupted = clean.copy()
corrupted[:, column] += 4 * X_train[:, column].std()
test_shares = detector.feature_scores(scaler.transform(corrupted))
percent = 100 * test_shares / test_shares.sum(axis=1, keepdims=True)
before, after = -pipe.score_samples(clean), -pipe.score_samples(corrupted)
print(f"Corrupted column: {names[column]}")
for row, row_percent in enumerate(percent):
    rank = 1 + np.sum(row_percent > row_percent[column])
    others = np.where(np.arange(len(names)) == column, -np.inf, row_percent)
    other = np.argmax(others)
    print(
        f"row {row}: score {before[row]:.1f} -> {after[row]:.1f}, ranked {rank} with "
        f"{row_percent[column]:.0f}% of the score; largest other: "
        f"{names[other]} {row_percent[other]:.0f}%"
    )

fig, ax = plt.subplots(figsize=(11, 4.5), layout="constrained")
image = ax.imshow(percent, cmap="Reds", vmin=0, aspect="auto")
ax.set_xticks(range(len(names)), names, rotation=90, fontsize=8)
ax.get_xticklabels()[column].set_color("tab:red")
ax.get_xticklabels()[column].set_fontweight("bold")
ax.set_yticks(range(len(percent)))
ax.set_ylabel("corrupted held-out row")
ax.set_title(f"Shares of the score after corrupting {names[column]}")
fig.colorbar(image, ax=ax, label="share of the score (%)")
plt.show()

# %%
# The corrupted column comes out first in every row, usually with several
# times the share of any other feature. Its share is not all of the score:
# the row's other values still count, and some of the error lands on the
# features the networks reconstruct from the same information, mostly the
# other smoothness measurements. The rows where the corrupted column has
# the smallest share scored well above the median before we touched them:
# the rest of their score was there already.
#
# Two cautions when reading explanations of real outliers: a share is the
# feature's part of *this* model's score, not a cause; and features that
# move together share the blame, so look at the top few rather than the
# first one only.
