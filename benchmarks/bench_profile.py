"""Where a fit's time goes: skae against the reference loop, under cProfile.

Profiles one fit of skae and one of the reference (the strongest
hand-written torch loop, ``_contenders.LeanLoop``) on the 1,797 x 64 digits,
``--epochs`` epochs at batch 256, and splits each fit's profiled time into
the layers' forward passes (``nn.Linear`` and ``nn.ReLU``), backward
(``torch.autograd.backward``), Adam's update and ``zero_grad``, and
everything else: batching, the loss, and for skae the bookkeeping of skorch
and scikit-learn. A second table lists the functions of skae's fit with the
most time of their own.

cProfile adds a cost to every Python call, so it inflates Python-heavy
code (the frameworks' bookkeeping) against torch's kernels: read the shares
as where to look, and ``bench_speed.py``'s ratios as what it costs. On
CUDA the profile sees the host only (kernels run asynchronously), so the
script is meant for ``--device cpu``.

Run ``python benchmarks/bench_profile.py --threads 1 --device cpu`` (a few
seconds), or ``--quick`` for a smoke run. The tables go to ``--output``
(``benchmarks/results/profile.md``).
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import cProfile
import inspect
import pstats
from pathlib import Path

import torch
from _contenders import LeanLoop, Skae, warm_up
from _harness import (
    Report,
    add_common_arguments,
    clock,
    digits,
    format_table,
    machine_summary,
    setup,
    write_results,
)
from torch import nn
from torch.optim import adam

__all__ = ["CATEGORIES", "main", "profile_fit", "run", "split"]

#: Each category of a fit's time, and the functions whose cumulative time
#: it is. cProfile counts a recursive or nested call once, so no time is
#: counted twice; what none of them covers is "everything else".
#: The optimizer's part is its update and state gathering, not ``step``
#: itself: skorch passes ``step`` a closure that runs forward and backward.
CATEGORIES = {
    "forward (Linear, ReLU)": (nn.Linear.forward, nn.ReLU.forward),
    "backward": (torch.autograd.backward,),
    "Adam update": (adam.adam, torch.optim.Adam._init_group),
    "zero_grad": (torch.optim.Optimizer.zero_grad,),
}

#: Rows of the table of skae's costliest functions.
TOP = 15


def _key(fn):
    """The pstats key of a function, under its decorators."""
    code = inspect.unwrap(fn).__code__
    return code.co_filename, code.co_firstlineno, code.co_name


def _label(key):
    """A short name for a pstats key: file:line(function)."""
    filename, line, name = key
    if filename == "~":  # a built-in
        return name.strip("<>")
    return f"{Path(filename).name}:{line}({name})"


def profile_fit(contender, X):
    """Fit ``contender`` on X under cProfile; return the ``pstats.Stats``.

    The profiler reads the clock of ``--clock``.
    """
    profiler = cProfile.Profile(clock())
    profiler.runcall(contender.fit, X)
    return pstats.Stats(profiler)


def split(stats):
    """Seconds of a profiled fit per category of :data:`CATEGORIES`.

    Returns
    -------
    total : float
        The fit's profiled seconds.
    seconds : dict of str to float
        Category -> seconds, with "everything else" last.
    """
    total = stats.total_tt
    seconds = {}
    for category, functions in CATEGORIES.items():
        keys = [_key(fn) for fn in functions]
        seconds[category] = sum(stats.stats[k][3] for k in keys if k in stats.stats)
    seconds["everything else"] = total - sum(seconds.values())
    return total, seconds


def run(epochs, device, echo=print):
    """Profile a fit of skae and of the reference; echo Markdown tables.

    Parameters
    ----------
    epochs : int
        Epochs of each fit.
    device : torch.device
        Device of both.
    echo : callable, default=print
        Receives each block of output.

    Returns
    -------
    splits : dict of str to tuple
        Contender name -> :func:`split` of its fit.
    """
    echo(f"Machine: {machine_summary(device)}.\n")
    X = digits()
    warm_up([Skae, LeanLoop], device)
    stats = {cls.name: profile_fit(cls(epochs, device), X) for cls in (Skae, LeanLoop)}
    splits = {name: split(s) for name, s in stats.items()}
    header = ["part of the fit"]
    for name in splits:
        header += [f"{name} (s)", "share"]
    rows = []
    for category in splits[Skae.name][1]:
        row = [category]
        for total, seconds in splits.values():
            row += [seconds[category], f"{100 * seconds[category] / total:.1f} %"]
        rows.append(row)
    rows.append(["total", *(x for total, _ in splits.values() for x in (total, None))])
    echo(
        f"## a {epochs}-epoch fit on the digits (1,797 x 64), batch 256, "
        f"under cProfile\n\n{format_table(header, rows)}\n"
    )
    skae_stats = stats[Skae.name]
    top = sorted(skae_stats.stats.items(), key=lambda item: -item[1][2])[:TOP]
    rows = [
        [_label(key), calls, own, cumulative]
        for key, (_, calls, own, cumulative, _) in top
    ]
    header = ["function", "calls", "own (s)", "cumulative (s)"]
    echo(
        f"## skae's fit: the {TOP} functions with the most own time\n\n"
        f"{format_table(header, rows)}\n"
    )
    return splits


def main(argv=None):
    """Command-line entry point; see ``--help``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_common_arguments(parser, "profile", repeats=False)
    parser.add_argument(
        "--epochs", type=int, default=20, help="epochs per fit (default: 20)"
    )
    args = parser.parse_args(argv)
    device = setup(args)
    report = Report()
    run(2 if args.quick else args.epochs, device, echo=report)
    path = write_results(args.output, "bench_profile.py", report.text, argv)
    print(f"Wrote {path}")


if __name__ == "__main__":
    main()
