"""How skae's fit and scoring times grow with rows and with features.

Two sweeps on synthetic float32 data: rows from 10,000 to 1,000,000 at 100
features, and features from 10 to 2,000 at 20,000 rows. At each point
skae, the reference (the strongest hand-written torch loop, with the same
fused Adam and in-place ``inference_mode`` batches as skae; see
``_contenders.LeanLoop``) and PCA are fitted (``--epochs`` epochs, 2 by
default, for the networks) and then score the same rows (per-sample
reconstruction error); each time is the minimum of ``--repeats`` runs.
The table goes to ``--output`` (``benchmarks/results/scaling.md``) and a
log-log plot next to it (``scaling.png``).

Run ``python benchmarks/bench_scaling.py --threads 1`` (several minutes
on 2 CPU cores), or add ``--quick`` for a smoke run of a few seconds.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import time
from functools import partial
from pathlib import Path

from _contenders import LeanLoop, PCABaseline, Skae, warm_up
from _harness import (
    Report,
    add_common_arguments,
    format_table,
    interleaved_min,
    machine_summary,
    setup,
    synthetic,
    write_results,
)

__all__ = ["GRIDS", "main", "plot", "run"]

#: The two sweeps of a full and a ``--quick`` run: (rows, features) points.
GRIDS = {
    "full": {
        "rows": [(n, 100) for n in (10_000, 30_000, 100_000, 300_000, 1_000_000)],
        "features": [(20_000, d) for d in (10, 30, 100, 300, 1_000, 2_000)],
    },
    "quick": {
        "rows": [(n, 50) for n in (1_000, 3_000, 10_000)],
        "features": [(2_000, d) for d in (10, 100, 500)],
    },
}

#: The contenders, in the order of the table's columns.
CLASSES = (Skae, LeanLoop, PCABaseline)


def _epochs(n):
    return f"{n} epoch" if n == 1 else f"{n} epochs"


def measure(n_samples, n_features, epochs, repeats, device):
    """Fit and scoring times of every contender on one data size.

    Returns
    -------
    times : dict of (str, str) to float
        (contender name, "fit" or "score") -> minimum seconds.
    """
    X = synthetic(n_samples, n_features)
    contenders = [cls(epochs=epochs, device=device) for cls in CLASSES]
    fits, _ = interleaved_min(
        {c.name: partial(c.fit, X) for c in contenders}, repeats, device
    )
    scores, _ = interleaved_min(
        {c.name: partial(c.reconstruction_error, X) for c in contenders},
        repeats,
        device,
    )
    times = {(name, "fit"): value for name, value in fits.items()}
    times.update({(name, "score"): value for name, value in scores.items()})
    return times


def run(grids, epochs, repeats, device, echo=print):
    """Measure every point of both sweeps and echo a Markdown table.

    Parameters
    ----------
    grids : dict
        One of :data:`GRIDS`: sweep name -> list of (rows, features).
    epochs : int
        Training epochs of the networks.
    repeats : int
        Timed runs per measurement; the minimum is kept.
    device : torch.device
        Device of the torch contenders.
    echo : callable, default=print
        Receives each block of output.

    Returns
    -------
    results : dict
        Sweep name -> list of ((rows, features), times) pairs, with
        ``times`` as returned by :func:`measure`.
    """
    start = time.perf_counter()
    echo(f"Machine: {machine_summary(device)}; minimum of {repeats} runs.\n")
    echo(
        f"Every × reference column is a time over that of the {LeanLoop.name}, "
        f"the strongest hand-written torch loop: {LeanLoop.note}.\n"
    )
    warm_up(CLASSES, device)
    results = {
        sweep: [(point, measure(*point, epochs, repeats, device)) for point in points]
        for sweep, points in grids.items()
    }
    header = ["sweep", "rows", "features"]
    for cls in CLASSES:
        label = "reference" if cls is LeanLoop else cls.name
        header += [f"{label} fit (s)", f"{label} score (s)"]
    header += ["skae fit × reference", "skae score × reference"]
    rows = []
    for sweep, points in results.items():
        for (n_samples, n_features), times in points:
            row = [sweep, f"{n_samples:,}", n_features]
            for cls in CLASSES:
                row += [times[(cls.name, "fit")], times[(cls.name, "score")]]
            row += [
                times[(Skae.name, job)] / times[(LeanLoop.name, job)]
                for job in ("fit", "score")
            ]
            rows.append(row)
    echo(f"## fit ({_epochs(epochs)} for the networks) and score time\n")
    echo(format_table(header, rows) + "\n")
    echo(f"Total {time.perf_counter() - start:.0f} s.")
    return results


def plot(results, epochs, output):
    """Save a 2 x 2 log-log plot: fit and score time against each sweep.

    Parameters
    ----------
    results : dict
        As returned by :func:`run`.
    epochs : int
        Training epochs, for the titles.
    output : path-like
        PNG file to write; its folder is created if needed.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    axis_of = {"rows": 0, "features": 1}
    fig, axes = plt.subplots(2, 2, figsize=(10, 8), constrained_layout=True)
    for (sweep, points), row_axes in zip(results.items(), axes, strict=True):
        x = [point[axis_of[sweep]] for point, _ in points]
        fixed = points[0][0][1 - axis_of[sweep]]
        for ax, job in zip(row_axes, ("fit", "score"), strict=True):
            for cls in CLASSES:
                y = [times[(cls.name, job)] for _, times in points]
                ax.plot(x, y, marker="o", label=cls.name)
            ax.set_xscale("log")
            ax.set_yscale("log")
            other = "features" if sweep == "rows" else "rows"
            what = f"fit, {_epochs(epochs)}" if job == "fit" else "reconstruction error"
            ax.set_title(f"{what}; {fixed:,} {other}")
            ax.set_xlabel(sweep)
            ax.set_ylabel("seconds")
            ax.grid(True, which="both", alpha=0.3)
            ax.legend()
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(output, dpi=100)
    plt.close(fig)


def main(argv=None):
    """Command-line entry point; see ``--help``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_common_arguments(parser, "scaling")
    parser.add_argument(
        "--epochs", type=int, default=2, help="training epochs (default: 2)"
    )
    args = parser.parse_args(argv)
    device = setup(args)
    epochs = 1 if args.quick else args.epochs
    report = Report()
    results = run(
        GRIDS["quick" if args.quick else "full"],
        epochs,
        args.repeats,
        device,
        echo=report,
    )
    figure = args.output.with_suffix(".png")
    report(f"![fit and score time against rows and features]({figure.name})")
    path = write_results(args.output, "bench_scaling.py", report.text, argv)
    plot(results, epochs, figure)
    print(f"Wrote {path} and {figure}")


if __name__ == "__main__":
    main()
