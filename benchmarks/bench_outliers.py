"""Benchmark AutoencoderOutlierDetector's defaults against common detectors.

Each task is a small data set with known outliers, standardised by a
StandardScaler fitted on the task's data. Every detector is fitted on the
whole task (inliers and outliers together, as in unsupervised use) and
scores the same samples; ROC-AUC and average precision measure how well the
scores rank the outliers first. Nothing is tuned per task: each detector
runs with its defaults.

Real tasks take one class of a bundled scikit-learn data set as inliers and
a 5% sample of the other classes as outliers (``skae._datasets.one_class_task``,
which the demo and the tests use too). Synthetic tasks plant the four kinds
of outliers of ADBench (Han et al., 2022) in data drawn from a mixture of
low-rank Gaussians.

Run ``python benchmarks/bench_outliers.py`` (14 tasks, 5 seeds; a few
minutes), ``--quick`` for one seed, ``--help`` for the options. The tables
go to ``--output`` (``benchmarks/results/outliers.md``) and a plot next to
it (``outliers.png``, needs matplotlib). PyOD's AutoEncoder column is left
out when PyOD is not installed.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import os
import time
import warnings
from functools import partial
from pathlib import Path

import numpy as np
import torch
from _harness import (
    Report,
    add_common_arguments,
    format_table,
    machine_summary,
    setup,
    timed,
    write_results,
)
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.ensemble import IsolationForest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.neighbors import LocalOutlierFactor
from sklearn.preprocessing import StandardScaler
from sklearn.svm import OneClassSVM

from skae import AutoencoderOutlierDetector
from skae._datasets import one_class_task

__all__ = ["TASKS", "default_detectors", "load_task", "main", "markdown", "run"]

#: Share of outliers planted in every task, relative to the inliers.
OUTLIER_SHARE = 0.05

CPU = torch.device("cpu")


# %% Tasks -------------------------------------------------------------------


def _one_class(loader, inlier_classes):
    """A task builder: ``inlier_classes`` of ``loader`` plus 5% of the rest."""

    def build(seed):
        X, y = loader(return_X_y=True)
        return one_class_task(X, y, inlier_classes, OUTLIER_SHARE, random_state=seed)

    return build


def _mixture(rng, n_features=20, n_clusters=3, rank=3):
    """Means and covariances of a mixture of low-rank Gaussians plus noise."""
    means = rng.normal(scale=2.0, size=(n_clusters, n_features))
    covs = []
    for _ in range(n_clusters):
        basis = rng.normal(size=(n_features, rank))
        covs.append(basis @ basis.T / rank + 0.05 * np.eye(n_features))
    return means, np.array(covs)


def _sample_mixture(rng, means, covs, n):
    labels = rng.randint(len(means), size=n)
    return np.array([rng.multivariate_normal(means[k], covs[k]) for k in labels])


def _synthetic_task(kind):
    """A task builder planting ADBench's ``kind`` of outliers.

    ``"global"``: uniform over the inliers' range widened by 10%.
    ``"local"``: the inlier mixture with covariances scaled by 5.
    ``"clustered"``: the inlier mixture with means scaled by 5.
    ``"dependency"``: each feature drawn independently from its inlier
    marginal, so marginals look normal but correlations are broken.
    """

    def build(seed):
        rng = np.random.RandomState(seed)
        means, covs = _mixture(rng)
        inliers = _sample_mixture(rng, means, covs, 500)
        n_out = round(OUTLIER_SHARE * len(inliers))
        if kind == "global":
            low, high = inliers.min(0), inliers.max(0)
            pad = 0.1 * (high - low)
            outliers = rng.uniform(low - pad, high + pad, (n_out, inliers.shape[1]))
        elif kind == "local":
            outliers = _sample_mixture(rng, means, 5 * covs, n_out)
        elif kind == "clustered":
            outliers = _sample_mixture(rng, 5 * means, covs, n_out)
        else:
            rows = rng.randint(len(inliers), size=inliers.shape)[:n_out]
            outliers = inliers[rows, np.arange(inliers.shape[1])]
        X = np.vstack([inliers, outliers])
        return X, np.r_[np.zeros(len(inliers), bool), np.ones(n_out, bool)]

    return build


TASKS = {
    "digits 0": _one_class(load_digits, [0]),
    "digits 1": _one_class(load_digits, [1]),
    "digits 0-4": _one_class(load_digits, [0, 1, 2, 3, 4]),
    "breast_cancer benign": _one_class(load_breast_cancer, [1]),
    "breast_cancer malignant": _one_class(load_breast_cancer, [0]),
    "wine 0": _one_class(load_wine, [0]),
    "wine 1": _one_class(load_wine, [1]),
    "wine 2": _one_class(load_wine, [2]),
    "iris 1": _one_class(load_iris, [1]),
    "iris 2": _one_class(load_iris, [2]),
    "synthetic global": _synthetic_task("global"),
    "synthetic local": _synthetic_task("local"),
    "synthetic clustered": _synthetic_task("clustered"),
    "synthetic dependency": _synthetic_task("dependency"),
}


def load_task(name, seed):
    """The standardised data of task ``name`` and whether each row is an outlier."""
    X, is_outlier = TASKS[name](seed)
    return StandardScaler().fit_transform(X), is_outlier


# %% Detectors ---------------------------------------------------------------
# Each entry maps a seed to a function from X to outlier scores, higher for
# more abnormal samples (PyOD's convention, which roc_auc_score expects).


def _skae(seed, device):
    model = AutoencoderOutlierDetector(device=str(device), random_state=seed)
    return lambda X: -model.fit(X).score_samples(X)


def _isolation_forest(seed):
    model = IsolationForest(random_state=seed)
    return lambda X: -model.fit(X).score_samples(X)


def _lof(seed):
    model = LocalOutlierFactor()
    return lambda X: -model.fit(X).negative_outlier_factor_


def _ocsvm(seed):
    model = OneClassSVM()
    return lambda X: -model.fit(X).score_samples(X)


def _pyod_autoencoder(seed, device):
    from pyod.models.auto_encoder import AutoEncoder

    model = AutoEncoder(device=str(device), random_state=seed, verbose=0)
    return lambda X: model.fit(X).decision_scores_


def default_detectors(device=CPU, with_pyod=None):
    """Name -> seed -> scoring function.

    Parameters
    ----------
    device : torch.device, default=cpu
        Where skae and PyOD's AutoEncoder run.
    with_pyod : bool or None, default=None
        Include PyOD's AutoEncoder; None includes it when it is installed.
    """
    if with_pyod is None:
        try:
            import pyod  # noqa: F401
        except ImportError:
            with_pyod = False
        else:
            with_pyod = True
    detectors = {"skae": partial(_skae, device=device)}
    if with_pyod:
        detectors["PyOD AutoEncoder"] = partial(_pyod_autoencoder, device=device)
    detectors.update(
        {
            "IsolationForest": _isolation_forest,
            "LOF": _lof,
            "OneClassSVM": _ocsvm,
        }
    )
    return detectors


# %% Running -------------------------------------------------------------------


def run(detectors, tasks, seeds, device=CPU, log=print):
    """Score every detector on every task and seed.

    Parameters
    ----------
    detectors : dict
        As returned by :func:`default_detectors`.
    tasks : list of str
        Keys of :data:`TASKS`.
    seeds : iterable of int
        Seeds of the tasks' draws and of the detectors.
    device : torch.device, default=cpu
        Device to synchronise before reading the clock.
    log : callable or None, default=print
        Receives a line per finished task.

    Returns
    -------
    records : list of dict
        One per (task, seed, detector): ``roc_auc``, ``ap`` (average
        precision) and ``seconds`` (fit plus scoring).
    """
    records = []
    for task in tasks:
        for seed in seeds:
            X, is_outlier = load_task(task, seed)
            for name, make in detectors.items():
                score = make(seed)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    seconds, scores = timed(partial(score, X), device)
                records.append(
                    {
                        "task": task,
                        "seed": seed,
                        "detector": name,
                        "roc_auc": roc_auc_score(is_outlier, scores),
                        "ap": average_precision_score(is_outlier, scores),
                        "seconds": seconds,
                    }
                )
        if log is not None:
            log(f"  {task}: done")
    return records


def summarise(records, metric):
    """Task -> detector -> mean of ``metric`` over seeds, and the means row."""
    table = {}
    for record in records:
        cell = table.setdefault(record["task"], {}).setdefault(record["detector"], [])
        cell.append(record[metric])
    table = {
        task: {name: float(np.mean(values)) for name, values in row.items()}
        for task, row in table.items()
    }
    names = list(next(iter(table.values())))
    table["mean"] = {
        name: float(np.mean([table[task][name] for task in table])) for name in names
    }
    return table


def markdown(records):
    """The ROC-AUC and average-precision tables, and fit times, as Markdown.

    Each cell is the mean over seeds; the best of each row, as printed, is in
    bold.
    """
    parts = []
    for metric, title in [("roc_auc", "ROC-AUC"), ("ap", "Average precision")]:
        table = summarise(records, metric)
        names = list(table["mean"])
        rows = []
        for task, row in table.items():
            cells = [f"{row[n]:.3f}" for n in names]
            best = max(cells, key=float)  # ties as printed are all bold
            cells = [f"**{cell}**" if cell == best else cell for cell in cells]
            rows.append([f"**{task}**" if task == "mean" else task, *cells])
        parts.append(f"## {title}\n\n" + format_table([title, *names], rows))
    seconds = summarise(records, "seconds")["mean"]
    parts.append(
        "Mean seconds per fit (fit plus scoring): "
        + ", ".join(f"{name} {value:.2f}" for name, value in seconds.items())
        + "."
    )
    return "\n\n".join(parts) + "\n"


def plot(records, path):
    """A dot plot of each detector's ROC-AUC per task, written to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = summarise(records, "roc_auc")
    tasks = list(table)
    names = list(table["mean"])
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(tasks) + 1.5))
    markers = "oDs^v<>"
    for i, name in enumerate(names):
        ax.scatter(
            [table[task][name] for task in tasks],
            np.arange(len(tasks)) + (i - len(names) / 2) * 0.08,
            label=name,
            marker=markers[i % len(markers)],
            s=28,
        )
    ax.set_yticks(np.arange(len(tasks)), tasks)
    ax.axhline(len(tasks) - 1.5, color="grey", lw=0.5)
    ax.invert_yaxis()
    ax.set_xlabel("ROC-AUC (mean over seeds)")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower left", fontsize="small")
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    """Command-line entry point; see ``--help``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser, "outliers", repeats=False)
    parser.add_argument(
        "--seeds", type=int, default=5, help="seeds per task (default: 5, 1 --quick)"
    )
    parser.add_argument(
        "--tasks",
        nargs="*",
        choices=list(TASKS),
        default=list(TASKS),
        metavar="TASK",
        help=f"tasks to run, quoted (default: all): {', '.join(TASKS)}",
    )
    parser.add_argument("--no-pyod", action="store_true", help="leave PyOD out")
    parser.add_argument(
        "--plot", type=Path, help="PNG of the ROC-AUCs (default: --output as .png)"
    )
    # The option's former name, which docs/outlier_benchmark.rst still shows.
    parser.add_argument(
        "--table",
        dest="output",
        type=Path,
        default=argparse.SUPPRESS,
        help=argparse.SUPPRESS,
    )
    args = parser.parse_args(argv)
    device = setup(args)
    seeds = range(1 if args.quick else args.seeds)
    start = time.perf_counter()
    detectors = default_detectors(device, with_pyod=False if args.no_pyod else None)
    records = run(detectors, args.tasks, seeds, device)
    report = Report()
    report(
        f"{len(args.tasks)} tasks, {len(seeds)} seed(s) each. Machine: "
        f"{machine_summary(device)}.\n"
    )
    report(markdown(records))
    figure = args.plot or args.output.with_suffix(".png")
    link = os.path.relpath(figure, args.output.parent)
    report(f"![ROC-AUC of each detector on each task]({link})\n")
    report(f"Total {time.perf_counter() - start:.0f} s.")
    path = write_results(args.output, "bench_outliers.py", report.text, argv)
    plot(records, figure)
    print(f"Wrote {path} and {figure}")


if __name__ == "__main__":
    main()
