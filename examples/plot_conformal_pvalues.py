"""
==============================================
A threshold without guessing the contamination
==============================================

``predict`` flags a fixed share of the training rows, ``contamination``,
which you rarely know. :meth:`~skae.AutoencoderOutlierDetector.pvalues`
asks a question you can answer instead: how many false alarms on normal
data can you afford? Each new row gets a conformal p-value, calibrated on
training rows the networks never saw; flagging the rows with ``p <= alpha``
flags a share ``alpha`` of normal rows, whatever the data. For many rows at
once, the Benjamini-Hochberg procedure on the same p-values bounds the share
of false alarms among the flagged rows instead.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# Normal operation, and a new batch with faulty rows
# --------------------------------------------------
# Ten sensors watch a machine whose state has two degrees of freedom: their
# readings are fixed nonlinear functions of the state (a swiss roll, mixed
# into 10 dimensions) plus noise. We record 10,000 rows of normal operation
# to fit the detector on. A new batch then brings 1,000 more normal rows
# and 50 faulty ones, in which two sensors report the values of another
# moment. Every value of a faulty row is an ordinary reading; only the
# combination is wrong.
import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import false_discovery_control
from sklearn.datasets import make_swiss_roll
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderOutlierDetector

rng = np.random.RandomState(0)
mixing = rng.normal(size=(3, 10))


def normal_operation(n_rows):
    state, _ = make_swiss_roll(n_rows, random_state=rng)
    return state @ mixing + 0.1 * rng.normal(size=(n_rows, 10))


def new_batch(n_normal=1_000, n_faulty=50):
    """Normal rows, then faulty rows with two sensors from another moment."""
    faulty = normal_operation(n_faulty)
    other_moment = normal_operation(n_faulty)
    for row, other in zip(faulty, other_moment, strict=True):
        sensors = rng.choice(10, size=2, replace=False)
        row[sensors] = other[sensors]
    X = np.vstack([normal_operation(n_normal), faulty])
    return X, np.r_[np.zeros(n_normal, dtype=bool), np.ones(n_faulty, dtype=bool)]


X_train = normal_operation(10_000)
X_new, is_faulty = new_batch()

pipe = make_pipeline(StandardScaler(), AutoencoderOutlierDetector(random_state=0))
pipe.fit(X_train)

# %%
# Conformal p-values
# ------------------
# At every ``fit``, the detector holds a random fifth of the rows out of
# training and keeps their outlier scores, ``calibration_scores_``. The
# p-value of a new row is the share of those held-out rows that score as
# high as it or higher, counting the new row itself: ``(1 + #{held-out
# scores >= score}) / (1 + n_held_out)``. A normal new row is exchangeable
# with the held-out rows, so its p-value is uniform: ``p <= 0.05`` happens
# to at most 5% of normal rows, and to about 5% when many rows are held
# out. An abnormal row scores higher than almost every held-out row, and
# gets a p-value near ``1 / (n_held_out + 1)``, the smallest possible.
#
# ``pvalues`` is a method of the detector; through the pipeline, read it as
# the first column of ``predict_proba``, the inlier probability. The second
# column, ``1 - p``, grows with the score.
detector = pipe[-1]
n_held_out = len(detector.calibration_scores_)
print(f"{n_held_out} of {len(X_train)} training rows held out to calibrate")
print(f"Smallest possible p-value: 1 / {n_held_out + 1} = {1 / (n_held_out + 1):.5f}")

p = pipe.predict_proba(X_new)[:, 0]
same = np.array_equal(p, detector.pvalues(pipe[:-1].transform(X_new)))
print(f"predict_proba(X)[:, 0] equals pvalues of the scaled X: {same}")

# %%
# A false-positive rate you choose
# --------------------------------
# Flag every row with ``p <= 0.05``: about 5% of the normal rows, by
# construction. ``predict`` instead flags the rows that score above
# ``-offset_``, which ``contamination`` (here the default, 0.1) places so
# that a tenth of the training rows lie beyond it. Our training rows are
# all normal, so ``predict`` flags about a tenth of normal new rows: a rate
# set by a guess about the training data, not chosen.
alpha = 0.05
flagged = p <= alpha
print(f"p <= {alpha}: flags {flagged[~is_faulty].mean():.1%} of the normal rows")
print(f"           and {flagged[is_faulty].mean():.0%} of the faulty rows")
predicted = pipe.predict(X_new) == -1
print(
    f"predict (contamination={detector.contamination}): flags "
    f"{predicted[~is_faulty].mean():.1%} of the normal rows"
)
print(f"           and {predicted[is_faulty].mean():.0%} of the faulty rows")

# %%
# A false-discovery rate you choose
# ---------------------------------
# A false-positive rate of 5% means about 50 false alarms in a batch of
# 1,000 normal rows, as many as there are faults. To bound instead the
# share of false alarms among the flagged rows, pass the p-values of the
# whole batch to :func:`scipy.stats.false_discovery_control`: it returns
# the Benjamini-Hochberg adjusted p-values, and flagging those ``<= q``
# keeps the expected share of false discoveries at most ``q``. Expected:
# in one batch the share can come out above ``q``, as the last section
# shows over many batches.
q = 0.1
discoveries = false_discovery_control(p) <= q
n_false = np.sum(discoveries & ~is_faulty)
print(f"Benjamini-Hochberg at q = {q}: {discoveries.sum()} rows flagged,")
print(f"  {np.sum(discoveries & is_faulty)} of the {is_faulty.sum()} faulty rows")
share = n_false / max(discoveries.sum(), 1)
print(f"  {n_false} normal rows, a false-discovery share of {share:.1%}")

# %%
# The p-values of normal rows spread evenly over [0, 1]; those of the
# faulty rows pile up at the smallest values. On the right, the smallest
# p-values of the batch in increasing order: Benjamini-Hochberg flags every
# row up to the last one below the line ``q * rank / n_rows``. It flags
# fewer faulty rows than ``p <= 0.05`` does: the price of few false alarms
# in a large batch.
fig, (ax_hist, ax_bh) = plt.subplots(1, 2, figsize=(11, 4.5), layout="constrained")
bins = np.linspace(0, 1, 21)
for group, label in [(~is_faulty, "normal rows"), (is_faulty, "faulty rows")]:
    ax_hist.hist(p[group], bins=bins, density=True, alpha=0.6, label=label)
ax_hist.axhline(1, color="gray", linestyle=":", label="uniform")
ax_hist.axvline(alpha, color="k", linestyle="--", label=f"p = {alpha}")
ax_hist.set_xlabel("conformal p-value")
ax_hist.set_ylabel("density")
ax_hist.set_title("p-values of the new batch")
ax_hist.legend()

order = np.argsort(p)[:100]
ranks = np.arange(1, len(order) + 1)
for group, label in [(False, "normal rows"), (True, "faulty rows")]:
    shown = is_faulty[order] == group
    ax_bh.scatter(ranks[shown], p[order][shown], s=12, label=label)
ax_bh.plot(ranks, q * ranks / len(p), "k--", label=f"q * rank / n_rows, q = {q}")
ax_bh.set_yscale("log")
ax_bh.set_xlabel("rank of the p-value in the batch")
ax_bh.set_ylabel("p-value (log scale)")
ax_bh.set_title("Benjamini-Hochberg on the 100 smallest p-values")
ax_bh.legend()
plt.show()

# %%
# Over many batches
# -----------------
# Both guarantees are about averages: in one batch, the share of normal
# rows flagged and the share of false discoveries vary around their
# targets, and more so for the false-discovery share, a ratio of small
# counts. Here the same detector checks 100 more batches of the same
# kind.
fpr, fdp = [], []
for _ in range(100):
    X_batch, faulty_batch = new_batch()
    p_batch = pipe.predict_proba(X_batch)[:, 0]
    fpr.append(np.mean(p_batch[~faulty_batch] <= alpha))
    flagged_batch = false_discovery_control(p_batch) <= q
    n_flagged = max(flagged_batch.sum(), 1)
    fdp.append(np.sum(flagged_batch & ~faulty_batch) / n_flagged)
print(
    f"p <= {alpha}: normal rows flagged, mean {np.mean(fpr):.1%} "
    f"(batches from {np.min(fpr):.1%} to {np.max(fpr):.1%})"
)
print(
    f"Benjamini-Hochberg at q = {q}: false-discovery share, mean "
    f"{np.mean(fdp):.1%} (batches from {np.min(fdp):.0%} to {np.max(fdp):.0%})"
)

# %%
# The p-values need no guess about the share of outliers, and their
# guarantee does not depend on the data or the model: only on the new
# normal rows coming from the distribution of the training rows. A poor
# model gives valid but less useful p-values, which then separate faults
# less well.
#
# Their costs: a fifth of the rows of every ``fit`` do not train the
# networks (nothing is lost here, as each of the ensemble's networks
# trains on a sample of 256 rows anyway), and with ``n`` held-out rows no
# p-value falls below ``1 / (n + 1)``, which limits how many rows
# Benjamini-Hochberg can flag in a large batch. Outliers among the training
# rows make the p-values conservative: fewer normal rows are flagged than
# ``alpha`` says. The second column of ``predict_proba`` is a calibrated
# rank, not the probability that the row is an outlier: that would need
# the share of outliers in the new data, the one number we did not want to
# guess.
