"""Rank outliers on the ADBench tabular datasets: skae against its peers.

The datasets are 22 of the classical tabular datasets of ADBench (Han et
al., "ADBench: Anomaly Detection Benchmark", NeurIPS 2022), one ``.npz``
file each with ``X`` and ``y`` (1 = anomaly), in ``../shared/data/adbench/``
relative to the repository root (``--data``). Datasets of more than 10,000
rows were cut to 10,000 by a stratified subsample when the files were made
(see the data's README); nothing is subsampled here.

Protocol, the same for every method and dataset:

- Each dataset is fitted whole, without its labels, and the same rows are
  scored (unsupervised use: the outliers are in the training data).
- Every method gets ``StandardScaler`` output, except PyOD's
  ``AutoEncoder``, which standardises its input itself and gets the raw
  data.
- Every method runs with its documented defaults; random methods get
  ``random_state=seed`` for each of ``--seeds`` seeds (0, 1, ...) and their
  metrics and seconds are averaged over the seeds. Deterministic methods
  (LOF, ECOD, KNN, PCA) run once.
- Metrics: ROC-AUC and average precision of the outlier scores (higher =
  more abnormal) against ``y``.
- Ranks: on each dataset the methods are ranked by their mean-over-seeds
  ROC-AUC, 1 for the best, tied methods sharing the average of their ranks
  (``scipy.stats.rankdata``); the table reports the mean rank over the
  datasets run. "skae (untrained)" is ranked against the peers in place of
  skae, and left out of everyone else's ranks.
- Seed std: for each random method, the standard deviation of its ROC-AUC
  across the seeds, averaged over the datasets: how much one fit's ranking
  depends on its seed.
- Seconds: fit plus scoring, wall clock, averaged over seeds and summed over
  datasets.

``--untrained`` adds "skae (untrained)": the same default detector with
every optimizer update disabled. During its ``fit`` the ``step`` method of
every ``torch.optim.Optimizer`` class is replaced by a no-op
(``skae._testing.optimizer_updates_disabled``), so the networks keep their
random initial weights while the rest of ``fit`` (the trimmed loss, the error
scales, the codes' Gaussian, the threshold) runs unchanged. The difference between
the two rows is what training adds.

``--ablations`` runs the default detector, each of its variants with one
parameter changed (``ABLATIONS``: no trimming, one network, other sample
sizes, other training budgets) and IsolationForest for reference: the
choices behind the defaults, to be run on the ``--dev`` split they were made
on (the output goes to ``--output``).

Sorted case-insensitively by name, the datasets at even positions (0, 2,
...) form the ``--dev`` split and those at odd positions the ``--holdout``
split: design choices are made on the first, the second checks them.

Run ``python benchmarks/bench_adbench.py`` (all datasets, 3 seeds; about
10 minutes on 2 cores, one torch thread), ``--quick`` for a smoke run, and
``--help`` for the options. PyOD's methods are left out when PyOD is not
installed. The markdown tables go to ``benchmarks/results/adbench.md``
(``--output``).
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
from _harness import (
    Report,
    add_common_arguments,
    format_table,
    machine_summary,
    setup,
    write_results,
)
from scipy.stats import rankdata
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.neighbors import LocalOutlierFactor
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderOutlierDetector
from skae._testing import optimizer_updates_disabled

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "adbench"

#: The 22 datasets sorted case-insensitively; even positions are the
#: development split, odd positions the holdout split.
DATASETS = (
    "annthyroid",
    "breastw",
    "cardio",
    "celeba",
    "cover",
    "fault",
    "glass",
    "http",
    "Ionosphere",
    "letter",
    "magic.gamma",
    "mnist",
    "optdigits",
    "pendigits",
    "satellite",
    "shuttle",
    "smtp",
    "thyroid",
    "vowels",
    "WBC",
    "Wilt",
    "WPBC",
)
DEV = DATASETS[0::2]
HOLDOUT = DATASETS[1::2]

#: Datasets of ``--quick``: two small ones, one of each split.
QUICK = ("glass", "WBC")


# %% Methods -------------------------------------------------------------------
# Each method maps (X, seed) to outlier scores, higher for more abnormal
# samples. X is standardised unless the method is in RAW_INPUT.


def skae(X, seed):
    """The default ``AutoencoderOutlierDetector``."""
    return -AutoencoderOutlierDetector(random_state=seed).fit(X).score_samples(X)


def skae_untrained(X, seed):
    """The default detector, its network left at its initial weights."""
    with optimizer_updates_disabled():
        model = AutoencoderOutlierDetector(random_state=seed).fit(X)
    return -model.score_samples(X)


def _skae_with(**params):
    """The default detector with ``params`` changed: an ablation."""

    def score(X, seed):
        model = AutoencoderOutlierDetector(random_state=seed, **params)
        return -model.fit(X).score_samples(X)

    return score


#: Variants of the default detector, each with one parameter changed: the
#: choices behind the defaults (run them with --dev, the split they were
#: made on). 12 and 125 epochs are 100 and 1,000 optimizer steps.
ABLATIONS = {
    "skae (trim_fraction=0)": {"trim_fraction": 0.0},
    "skae (n_estimators=1)": {"n_estimators": 1},
    "skae (max_samples=128)": {"max_samples": 128},
    "skae (max_samples=1024)": {"max_samples": 1024},
    "skae (max_iter=12)": {"max_iter": 12},
    "skae (max_iter=125)": {"max_iter": 125},
}


def isolation_forest(X, seed):
    return -IsolationForest(random_state=seed).fit(X).score_samples(X)


def lof(X, seed):
    return -LocalOutlierFactor().fit(X).negative_outlier_factor_


def pyod_autoencoder(X, seed):
    from pyod.models.auto_encoder import AutoEncoder

    # verbose=0 silences its per-epoch progress bar.
    return AutoEncoder(random_state=seed, verbose=0).fit(X).decision_scores_


def pyod_ecod(X, seed):
    from pyod.models.ecod import ECOD

    return ECOD().fit(X).decision_scores_


def pyod_knn(X, seed):
    from pyod.models.knn import KNN

    return KNN().fit(X).decision_scores_


def pyod_pca(X, seed):
    from pyod.models.pca import PCA

    return PCA().fit(X).decision_scores_


#: Name -> (scoring function, whether it is random and runs once per seed).
METHODS = {
    "skae": (skae, True),
    "skae (untrained)": (skae_untrained, True),
    "IsolationForest": (isolation_forest, True),
    "LOF": (lof, False),
    "PyOD AutoEncoder": (pyod_autoencoder, True),
    "ECOD": (pyod_ecod, False),
    "KNN": (pyod_knn, False),
    "PyOD PCA": (pyod_pca, False),
    **{name: (_skae_with(**params), True) for name, params in ABLATIONS.items()},
}
PYOD_METHODS = ("PyOD AutoEncoder", "ECOD", "KNN", "PyOD PCA")
#: Methods that get the raw data because they standardise it themselves.
RAW_INPUT = ("PyOD AutoEncoder",)


def pyod_available():
    try:
        import pyod  # noqa: F401
    except ImportError:
        return False
    return True


def default_methods(untrained=False):
    """Names of the methods run by default: skae and its peers, and the
    untrained variant if asked for."""
    names = [
        name
        for name in METHODS
        if not name.startswith("skae ") or (untrained and name == "skae (untrained)")
    ]
    if not pyod_available():
        names = [name for name in names if name not in PYOD_METHODS]
    return names


# %% Running -------------------------------------------------------------------


def load(name, data=DATA):
    """The raw ``X`` (float64) and 0/1 labels ``y`` of dataset ``name``."""
    with np.load(Path(data) / f"{name}.npz") as arrays:
        return arrays["X"].astype(np.float64), arrays["y"].astype(int)


def warm_up(methods):
    """Run each method once on tiny data, before anything is timed.

    One-off costs of a first call (torch's first optimizer imports
    ``torch._dynamo``, ECOD's first run) would otherwise land on the first
    dataset's seconds.
    """
    X = np.random.default_rng(0).standard_normal((64, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in methods:
            METHODS[name][0](X, 0)


def finite(scores):
    """The scores with non-finite values replaced, and how many there were.

    A method that returns ``inf`` or NaN (PyOD's PCA divides by the zero
    variance of a constant feature, on mnist for every row) ranks those
    samples above every finite score, tied with each other.
    """
    scores = np.asarray(scores, dtype=np.float64)
    bad = ~np.isfinite(scores)
    if not bad.any():
        return scores, 0
    good = scores[~bad]
    top = good.max() + 1.0 if good.size else 0.0
    bottom = good.min() - 1.0 if good.size else 0.0
    scores = np.where(np.isneginf(scores), bottom, np.where(bad, top, scores))
    return scores, int(bad.sum())


def run(datasets, methods, seeds, data=DATA, log=print):
    """Score every method on every dataset, once per seed for random methods.

    Returns
    -------
    records : list of dict
        One per (dataset, method, seed): ``roc_auc``, ``ap`` (average
        precision), ``seconds`` (fit plus scoring) and ``non_finite`` (how
        many scores were infinite or NaN, see :func:`finite`).
    """
    warm_up(methods)
    records = []
    for dataset in datasets:
        X_raw, y = load(dataset, data)
        X_scaled = StandardScaler().fit_transform(X_raw)
        for name in methods:
            score, is_random = METHODS[name]
            X = X_raw if name in RAW_INPUT else X_scaled
            for seed in seeds if is_random else seeds[:1]:
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    scores = score(X, seed)
                seconds = time.perf_counter() - start
                scores, n_bad = finite(scores)
                records.append(
                    {
                        "dataset": dataset,
                        "method": name,
                        "seed": seed,
                        "roc_auc": roc_auc_score(y, scores),
                        "ap": average_precision_score(y, scores),
                        "seconds": seconds,
                        "non_finite": n_bad,
                    }
                )
        if log is not None:
            aucs = summarise(records, "roc_auc")[dataset]
            log(f"{dataset}: " + ", ".join(f"{m} {v:.3f}" for m, v in aucs.items()))
    return records


def summarise(records, metric):
    """Dataset -> method -> mean of ``metric`` over seeds."""
    cells = {}
    for record in records:
        cell = cells.setdefault(record["dataset"], {}).setdefault(record["method"], [])
        cell.append(record[metric])
    return {
        dataset: {name: float(np.mean(values)) for name, values in row.items()}
        for dataset, row in cells.items()
    }


def seed_spread(records, method):
    """Mean over datasets of the standard deviation of ``method``'s ROC-AUC
    across seeds: how much a result depends on the seed. ``None`` for a
    method run once per dataset."""
    cells = {}
    for record in records:
        if record["method"] == method:
            cells.setdefault(record["dataset"], []).append(record["roc_auc"])
    if max(len(values) for values in cells.values()) < 2:
        return None
    return float(np.mean([np.std(values) for values in cells.values()]))


def mean_ranks(table):
    """Method -> mean over datasets of its rank by ``table`` (1 = highest).

    A variant of skae (a name starting with "skae " such as "skae
    (untrained)") is a diagnostic, not a competitor: it is ranked against
    the other methods without skae, and they are ranked without it, so
    adding it changes no other rank.
    """
    methods = list(next(iter(table.values())))
    variants = [name for name in methods if name.startswith("skae ")]
    competitors = [name for name in methods if name not in variants]
    ranks = {name: [] for name in methods}
    for row in table.values():
        for group in [competitors] + [
            [variant] + [name for name in competitors if name != "skae"]
            for variant in variants
        ]:
            group_ranks = rankdata([-row[name] for name in group], method="average")
            for name, rank in zip(group, group_ranks, strict=True):
                if name in variants or group is competitors:
                    ranks[name].append(rank)
    return {name: float(np.mean(values)) for name, values in ranks.items()}


def split_of(dataset):
    return "dev" if dataset in DEV else "holdout" if dataset in HOLDOUT else "—"


def _summary_rows(table, datasets, label):
    """Mean and mean rank over ``datasets`` of a dataset -> method table."""
    part = {dataset: table[dataset] for dataset in datasets}
    methods = list(next(iter(part.values())))
    means = {m: np.mean([row[m] for row in part.values()]) for m in methods}
    ranks = mean_ranks(part)
    suffix = f" ({label})" if label else ""
    return [
        [f"**mean{suffix}**", "", *(f"{means[m]:.3f}" for m in methods)],
        [f"**mean rank{suffix}**", "", *(f"{ranks[m]:.2f}" for m in methods)],
    ]


def _parts(datasets):
    """The splits the datasets cover: all of them, then dev and holdout."""
    parts = [("", list(datasets))]
    for label, split in (("dev", DEV), ("holdout", HOLDOUT)):
        chosen = [d for d in datasets if d in split]
        if chosen and len(chosen) < len(datasets):
            parts.append((label, chosen))
    return parts


def targets(records, datasets):
    """Verdicts on issue 14's targets for the default detector on ``datasets``.

    Mean ROC-AUC and mean rank ahead of every peer; no dataset below 0.6
    where IsolationForest is above 0.8; fit plus scoring in no more seconds
    than PyOD's AutoEncoder.
    """
    auc = summarise([r for r in records if r["dataset"] in datasets], "roc_auc")
    seconds = summarise(records, "seconds")
    methods = list(next(iter(auc.values())))
    peers = [m for m in methods if not m.startswith("skae")]
    if "skae" not in methods or not peers:
        return []
    means = {m: np.mean([row[m] for row in auc.values()]) for m in methods}
    ranks = mean_ranks(auc)
    best_mean = max(peers, key=means.get)
    best_rank = min(peers, key=ranks.get)
    near_chance = [
        f"{d} ({row['skae']:.3f})"
        for d, row in auc.items()
        if row["skae"] < 0.6 and row.get("IsolationForest", 0) > 0.8
    ]
    lines = [
        f"mean ROC-AUC ahead of every peer: skae {means['skae']:.3f}, best peer "
        f"{best_mean} {means[best_mean]:.3f}",
        f"mean rank ahead of every peer: skae {ranks['skae']:.2f}, best peer "
        f"{best_rank} {ranks[best_rank]:.2f}",
        "no dataset below 0.6 where IsolationForest is above 0.8: "
        + (", ".join(near_chance) if near_chance else "none"),
    ]
    met = [
        means["skae"] > means[best_mean],
        ranks["skae"] < ranks[best_rank],
        not near_chance,
    ]
    if "PyOD AutoEncoder" in methods:
        total = {m: sum(seconds[d][m] for d in seconds) for m in methods}
        lines.append(
            f"seconds no more than PyOD AutoEncoder's (all datasets run): skae "
            f"{total['skae']:.1f}, PyOD AutoEncoder {total['PyOD AutoEncoder']:.1f}"
        )
        met.append(total["skae"] <= total["PyOD AutoEncoder"])
    verdicts = zip(met, lines, strict=True)
    return [f"- {'met' if ok else 'MISSED'}: {line}" for ok, line in verdicts]


def markdown(records, title):
    """The ROC-AUC and average-precision tables, with means, ranks, seconds.

    Run on both splits, the tables add the mean and mean rank of each split:
    the defaults were chosen on dev, and holdout is the part reported.
    """
    auc, ap = summarise(records, "roc_auc"), summarise(records, "ap")
    seconds = summarise(records, "seconds")
    methods = list(next(iter(auc.values())))
    header = ["dataset", "split", *methods]
    sections = [title]
    for label, table in (("ROC-AUC", auc), ("Average precision", ap)):
        rows = [
            [dataset, split_of(dataset), *(f"{row[m]:.3f}" for m in methods)]
            for dataset, row in table.items()
        ]
        for part, datasets in _parts(table):
            rows += _summary_rows(table, datasets, part)
        if label == "ROC-AUC":
            spreads = [seed_spread(records, m) for m in methods]
            rows.append(
                [
                    "**seed std**",
                    "",
                    *("—" if v is None else f"{v:.3f}" for v in spreads),
                ]
            )
            rows.append(
                [
                    "**seconds**",
                    "",
                    *(float(sum(r[m] for r in seconds.values())) for m in methods),
                ]
            )
        sections.append(f"### {label}\n\n{format_table(header, rows)}")
    reported = [d for d in auc if d in HOLDOUT] or list(auc)
    verdicts = targets(records, reported)
    if verdicts:
        which = "the holdout split" if reported[0] in HOLDOUT else "these datasets"
        sections.append(f"### Targets on {which}\n\n" + "\n".join(verdicts))
    notes = sorted({(r["dataset"], r["method"], r["non_finite"]) for r in records})
    notes = [note for note in notes if note[2]]
    if notes:
        sections.append(
            "Non-finite scores, ranked above all finite ones: "
            + "; ".join(f"{m} on {d}: {n} rows" for d, m, n in notes)
            + "."
        )
    return "\n\n".join(sections) + "\n"


def main(argv=None):
    """Command-line entry point; see ``--help``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser, "adbench", repeats=False)
    # One thread unless asked: the networks are small, and on a shared
    # machine torch's threads wait on each other.
    parser.set_defaults(threads=1)
    parser.add_argument("--data", type=Path, default=DATA, help="folder of .npz files")
    parser.add_argument("--seeds", type=int, default=3, help="seeds of random methods")
    parser.add_argument("--datasets", nargs="*", help="names of the datasets to run")
    split = parser.add_mutually_exclusive_group()
    split.add_argument("--dev", action="store_true", help="the development split")
    split.add_argument("--holdout", action="store_true", help="the holdout split")
    parser.add_argument(
        "--methods", nargs="*", choices=list(METHODS), help="methods to run"
    )
    parser.add_argument(
        "--untrained",
        action="store_true",
        help='add "skae (untrained)": skae with optimizer updates disabled',
    )
    parser.add_argument(
        "--ablations",
        action="store_true",
        help="run skae and its variants with one parameter changed (ABLATIONS), "
        "and IsolationForest for reference, instead of all the peers",
    )
    args = parser.parse_args(argv)
    device = setup(args)
    available = sorted(
        (path.stem for path in args.data.glob("*.npz")), key=str.casefold
    )
    if args.quick:
        datasets, split_name = [d for d in QUICK if d in available], "quick"
    elif args.datasets:
        datasets, split_name = args.datasets, "chosen datasets"
    elif args.dev:
        datasets, split_name = [d for d in DEV if d in available], "dev"
    elif args.holdout:
        datasets, split_name = [d for d in HOLDOUT if d in available], "holdout"
    else:
        datasets, split_name = available, "all (dev and holdout)"
    if not datasets:
        raise SystemExit(f"No datasets to run in {args.data}.")
    methods = args.methods or default_methods(args.untrained)
    if args.ablations:
        methods = ["skae", *ABLATIONS, "IsolationForest"]
    seeds = list(range(1 if args.quick else args.seeds))

    start = time.perf_counter()
    records = run(datasets, methods, seeds, data=args.data)
    title = (
        f"## ADBench: {split_name}, {len(datasets)} datasets, "
        f"{len(seeds)} seed(s)\n\n{machine_summary(device)}; "
        f"{time.perf_counter() - start:.0f} s in all."
    )
    report = Report()
    report(markdown(records, title))
    path = write_results(args.output, "bench_adbench.py", report.text, argv)
    print(f"Wrote {path}")


if __name__ == "__main__":
    main()
