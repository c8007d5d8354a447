"""Shared plumbing of the benchmark scripts: options, data, timing, tables."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import os
import platform
import shlex
import sys
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits
from threadpoolctl import threadpool_limits

__all__ = [
    "RESULTS",
    "Report",
    "add_common_arguments",
    "clock",
    "digits",
    "format_table",
    "interleaved_min",
    "machine_summary",
    "setup",
    "synthetic",
    "timed",
    "write_results",
]

#: Where every script writes its Markdown tables (``--output``) and plots.
RESULTS = Path(__file__).resolve().parent / "results"


#: The clock of :func:`timed`, chosen by ``--clock`` in :func:`setup`.
_clock = time.perf_counter


def add_common_arguments(parser, name, repeats=True):
    """Add the options every benchmark script takes to an ``ArgumentParser``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The script's parser.
    name : str
        Stem of the default ``--output`` file, ``results/<name>.md``.
    repeats : bool, default=True
        Whether to add ``--repeats`` (scripts that time each measurement
        once leave it out).

    Returns
    -------
    parser : argparse.ArgumentParser
    """
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small sizes, one repeat, one seed: a smoke run of every code "
        "path, whose figures judge nothing",
    )
    parser.add_argument(
        "--device",
        default="auto",
        help="torch device of the torch-based contenders: auto (CUDA when "
        "available), cpu, cuda or cuda:<index> (default: auto)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="CPU threads for torch and for NumPy's BLAS (default: the "
        "libraries' own choice). On a machine shared with other jobs, 1 gives "
        "far steadier timings: oversubscribed OpenMP threads wait on each other",
    )
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="wall: elapsed time (default); cpu: this process's CPU time, "
        "which time spent waiting for other jobs' processes does not inflate. "
        "cpu suits single-threaded CPU runs only (--threads 1 --device cpu)",
    )
    if repeats:
        parser.add_argument(
            "--repeats",
            type=int,
            default=None,
            help="timed repeats per contender; the minimum is reported "
            "(default: 3, or 1 with --quick)",
        )
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="Markdown file the tables are written to, its folder created "
        f"if needed (default: benchmarks/results/{name}.md, or "
        f"benchmarks/results/quick/{name}.md with --quick, which git ignores, "
        "so that a smoke run never replaces the committed figures)",
    )
    parser.set_defaults(results_name=name)
    return parser


def setup(args):
    """Apply ``--threads`` and ``--clock``, resolve ``--device``; return it.

    The thread limit covers torch's intra-op pool and, through
    threadpoolctl, the BLAS under NumPy (``MLPRegressor``, ``PCA``), so that
    every contender gets the same cores.
    """
    if args.threads is not None:
        torch.set_num_threads(args.threads)
        threadpool_limits(args.threads)
    global _clock
    _clock = time.process_time if args.clock == "cpu" else time.perf_counter
    if getattr(args, "repeats", 0) is None:
        args.repeats = 1 if args.quick else 3
    if getattr(args, "output", 0) is None:
        folder = RESULTS / "quick" if args.quick else RESULTS
        args.output = folder / f"{args.results_name}.md"
    if args.device == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit(f"--device {args.device}: CUDA is not available here.")
    if args.clock == "cpu" and device.type != "cpu":
        # Time the GPU spends is not this process's CPU time.
        raise SystemExit("--clock cpu measures CPU runs only; add --device cpu.")
    return device


def _package_version(name):
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def _cpu_name():
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_summary(device):
    """One line on the machine, device, thread count and library versions."""
    where = f"{os.cpu_count()} x {_cpu_name()}"
    if device.type == "cuda":
        where += f", {torch.cuda.get_device_name(device)}"
    packages = ", ".join(
        f"{name} {_package_version(name)}"
        for name in ("skae", "torch", "skorch", "scikit-learn", "pyod")
    )
    clock = "CPU time" if _clock is time.process_time else "wall time"
    return (
        f"device {device} on {where}; {torch.get_num_threads()} torch "
        f"threads; {clock}; Python {platform.python_version()}, {packages}"
    )


def synthetic(n_samples, n_features, random_state=0):
    """Float32 data near an 8-dimensional curved manifold, standardised.

    An autoencoder with an 8-unit code can learn it, PCA with 8 components
    only approximately; the timings do not depend on the values.
    """
    rng = np.random.default_rng(random_state)
    latent = rng.standard_normal((n_samples, 8), dtype=np.float32)
    hidden = np.tanh(latent @ rng.standard_normal((8, 32), dtype=np.float32))
    X = hidden @ rng.standard_normal((32, n_features), dtype=np.float32)
    X += 0.1 * rng.standard_normal(X.shape, dtype=np.float32)
    X -= X.mean(axis=0)
    X /= X.std(axis=0)
    return X


def digits():
    """scikit-learn's 1,797 8x8 digits scaled to [0, 1], as float32."""
    return (load_digits().data / 16.0).astype(np.float32)


def clock():
    """The clock function chosen by ``--clock``: ``time.perf_counter`` or
    ``time.process_time``."""
    return _clock


def timed(fn, device):
    """Run ``fn()``; return its time in seconds (see ``--clock``) and result.

    CUDA work queued by ``fn`` is waited for, so asynchronous kernels count.
    """
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = _clock()
    result = fn()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return _clock() - start, result


def interleaved_min(tasks, repeats, device):
    """Time several tasks round-robin and keep each one's fastest run.

    Interleaving spreads slow phases of a shared machine over all tasks
    instead of penalising whichever ran during them; the minimum is the
    run least disturbed by other jobs.

    Parameters
    ----------
    tasks : dict of str to callable
        Name -> function of no argument. ``None`` values are skipped.
    repeats : int
        Runs per task.
    device : torch.device
        Device to synchronise before reading the clock.

    Returns
    -------
    best : dict of str to float
        Name -> minimum wall time in seconds.
    results : dict
        Name -> the result of the task's last run.
    """
    best = {name: np.inf for name, task in tasks.items() if task is not None}
    results = {}
    for _ in range(repeats):
        for name in best:
            seconds, results[name] = timed(tasks[name], device)
            best[name] = min(best[name], seconds)
    return best, results


def format_table(header, rows):
    """A Markdown table; floats are printed with three significant digits."""

    def cell(value):
        if value is None:
            return "—"
        if isinstance(value, float):
            return f"{value:.3g}"
        return str(value)

    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


class Report:
    """Markdown blocks, printed as they come and kept for the results file.

    Pass an instance as a script's ``echo``; :attr:`text` is everything it
    received.

    Parameters
    ----------
    echo : callable or None, default=print
        Also receives each block; None keeps the blocks only.
    """

    def __init__(self, echo=print):
        self.echo = echo
        self.blocks = []

    def __call__(self, block):
        """Keep ``block`` and pass it on to :attr:`echo`."""
        self.blocks.append(block)
        if self.echo is not None:
            self.echo(block)

    @property
    def text(self):
        """The blocks so far, one paragraph each."""
        return "\n\n".join(block.strip("\n") for block in self.blocks) + "\n"


def write_results(path, script, text, argv=None):
    """Write a results file: the script, the command that made it, the text.

    Parameters
    ----------
    path : path-like
        The Markdown file; its folder is created if needed.
    script : str
        The script's file name, such as ``"bench_speed.py"``.
    text : str
        The tables and notes, in Markdown.
    argv : list of str or None, default=None
        The script's arguments, ``sys.argv[1:]`` when None, recorded so that
        the file says how to reproduce it.

    Returns
    -------
    path : pathlib.Path
    """
    argv = sys.argv[1:] if argv is None else argv
    command = shlex.join(["python", f"benchmarks/{script}", *argv])
    day = time.strftime("%Y-%m-%d", time.gmtime())
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"# {script}\n\n`{command}`, {day}.\n\n{text}")
    return path
