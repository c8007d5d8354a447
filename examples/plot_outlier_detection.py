"""
==========================================================
Outlier detection on digits: reconstruction error scores
==========================================================

:class:`~skae.AutoencoderOutlierDetector` flags the samples its
autoencoders reconstruct worst, or code far from the training data. We
plant mirror images among the digits: each mirrored image has ordinary
pixel values, only its shape is wrong. Detecting them needs a model of what
digits look like, which the autoencoders learn and per-feature statistics
miss. We compare the detector with
:class:`~sklearn.ensemble.IsolationForest`.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# Plant the outliers
# ------------------
# 5% of the final data set are digits flipped left to right. The detectors
# never see which: they are fitted on the whole, contaminated set, as in
# practice.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.ensemble import IsolationForest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import RocCurveDisplay, roc_auc_score

from skae import AutoencoderOutlierDetector

# The training budgets here are small so that the example runs in seconds;
# ConvergenceWarning would only say that more epochs could improve the fit.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = load_digits(return_X_y=True)
X = X / 16.0
rng = np.random.RandomState(0)
picked = rng.choice(len(X), size=len(X) // 19, replace=False)
mirrored = X[picked].reshape(-1, 8, 8)[:, :, ::-1].reshape(-1, 64)
X_all = np.vstack([X, mirrored])
is_outlier = np.r_[np.zeros(len(X), dtype=bool), np.ones(len(mirrored), dtype=bool)]
print(f"{len(X_all)} images, {is_outlier.sum()} of them mirrored")

# %%
# Fit both detectors
# ------------------
# Both run with their defaults, which for the autoencoder detector are
# chosen for outlier detection (see :ref:`outlier_benchmark`): like the
# isolation forest, it averages models that each see 256 random rows, here
# 10 small autoencoders with a narrow code, trained briefly with a loss that
# leaves out the worst-reconstructed samples of each batch.
# ``contamination=0.05`` tells each detector the expected share of
# outliers, which sets its threshold ``offset_``. Scores do not depend on
# it; :ref:`sphx_glr_auto_examples_plot_conformal_pvalues.py` sets a
# threshold by a false-positive rate instead.
detectors = {
    "Autoencoder": AutoencoderOutlierDetector(contamination=0.05, random_state=0),
    "IsolationForest": IsolationForest(contamination=0.05, random_state=0),
}
for name, detector in detectors.items():
    detector.fit(X_all)
    flagged = detector.predict(X_all) == -1
    auc = roc_auc_score(is_outlier, -detector.score_samples(X_all))
    print(
        f"{name:>16}: ROC-AUC {auc:.3f}, flags {flagged.sum()} images, "
        f"{(flagged & is_outlier).sum()} of them mirrored"
    )

# %%
# Score distributions and ROC curves
# ----------------------------------
# ``score_samples`` is minus the outlier score, a negative log-likelihood
# averaged over the ensemble: each pixel's reconstruction error in units of
# its typical error on the training images, plus the distance of the
# image's code from the centre of the training codes. Lower is more
# abnormal, as for every scikit-learn outlier detector, and ``predict``
# returns -1 below the threshold ``offset_``. The histogram shows the
# outlier score itself, ``-score_samples``, on a log scale, as a few images
# score many times the others; the dashed line is the threshold,
# ``-offset_``.
autoencoder = detectors["Autoencoder"]
errors = -autoencoder.score_samples(X_all)

fig, (ax_hist, ax_roc) = plt.subplots(1, 2, figsize=(11, 4.5), layout="constrained")
bins = np.geomspace(errors.min(), errors.max(), 50)
# density=True: the 94 outliers would be invisible next to 1797 inliers.
for group, label in [(~is_outlier, "digits (inliers)"), (is_outlier, "mirrored")]:
    ax_hist.hist(errors[group], bins=bins, density=True, alpha=0.6, label=label)
ax_hist.axvline(
    -autoencoder.offset_, color="k", linestyle="--", label="threshold (-offset_)"
)
ax_hist.set_xscale("log")
ax_hist.set_xlabel("outlier score, -score_samples (log scale)")
ax_hist.set_ylabel("density")
ax_hist.set_title("Autoencoder outlier scores")
ax_hist.legend()

for name, detector in detectors.items():
    RocCurveDisplay.from_predictions(
        is_outlier, -detector.score_samples(X_all), name=name, ax=ax_roc
    )
ax_roc.plot([0, 1], [0, 1], color="gray", linestyle=":", label="chance")
ax_roc.set_xlabel("false positive rate (digits flagged)")
ax_roc.set_ylabel("true positive rate (mirrored images found)")
ax_roc.set_title("Finding the mirrored digits")
ax_roc.legend(loc="lower right")
plt.show()

# %%
# The isolation forest splits on single pixels, and a mirrored digit has
# common values in every pixel, so many look ordinary to it. Each
# autoencoder compresses an image to 8 numbers (``n_components="auto"``
# takes the square root of the 64 features) that describe digit shapes; a
# mirrored shape fits them less well and comes back blurred, with a larger
# error. Neither detector separates the two groups cleanly, as many
# mirrored digits are ordinary digits.
#
# Which mirrored digits does the autoencoder let through at its threshold?
missed = y[picked][autoencoder.predict(mirrored) == 1]
for digit, count in enumerate(np.bincount(missed, minlength=10)):
    print(f"digit {digit}: {count} of {np.sum(y[picked] == digit)} mirrored missed")

# %%
# Every mirrored 0 and 8 is missed, and most 1s: these digits are nearly
# symmetric, so their mirror images are ordinary digits that no detector
# should flag. The threshold flags 5% of all images, as
# ``contamination=0.05`` asks, and badly written digits take many of those
# places, so many mirrored images of other digits get through as well;
# ``decision_function`` and ``score_samples`` rank every image, for a
# threshold of your own, and ``feature_scores`` tells which pixels make an
# image abnormal (see
# :ref:`sphx_glr_auto_examples_plot_outlier_explanations.py`).
#
# Scale features before fitting when they are not on one scale like these
# pixels: networks train poorly on features of very different ranges. Put a
# :class:`~sklearn.preprocessing.StandardScaler` in front of the detector in
# a pipeline.
