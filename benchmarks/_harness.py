"""Shared plumbing of the benchmark scripts: options, data, timing, tables."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import os
import platform
import time
from importlib.metadata import PackageNotFoundError, version

import numpy as np
import torch
from sklearn.datasets import load_digits
from threadpoolctl import threadpool_limits

__all__ = [
    "add_common_arguments",
    "digits",
    "format_table",
    "interleaved_min",
    "machine_summary",
    "setup",
    "synthetic",
    "timed",
]


#: The clock of :func:`timed`, chosen by ``--clock`` in :func:`setup`.
_clock = time.perf_counter


def add_common_arguments(parser):
    """Add the options both benchmark scripts take to an ``ArgumentParser``."""
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small sizes and one repeat: a smoke run of every code path",
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
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="timed repeats per contender; the minimum is reported "
        "(default: 3, or 1 with --quick)",
    )
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
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
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
