"""Peak memory of fitting and scoring, next to the size of the input.

skae trains from a float32 view of the input and infers in batches, so
neither phase should need more than the input plus one batch of
activations. This script fits ``AutoencoderOutlierDetector`` with its
default parameters on standard normal float32 data, then calls
``score_samples`` and ``predict`` on it, and measures the resident set size
(RSS) of the process while each phase runs (sampled every 5 ms by a thread,
read from ``/proc``, so Linux only). It reports the extra memory each phase
took over what the process held before it, and its seconds; on CUDA also the
peak of torch's GPU allocations. The seconds of ``fit`` plus
``score_samples`` on 1,000,000 x 100 are judged against the two minutes the
defaults must take at most: their training budget does not grow with the
number of rows.

The first fit in a process also pays torch's one-off start-up (kernels,
thread pools); a small warm-up fit keeps that out of the phases after it.

Run ``python benchmarks/bench_memory.py --threads 1`` (1,000,000 x 100; a
minute or two), ``--rows 100000`` for less, or ``--quick`` for a smoke run.
The table goes to ``--output`` (``benchmarks/results/memory.md``).
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import os
import threading
import time

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

from skae import AutoencoderOutlierDetector

__all__ = ["SIZES", "TARGET_SECONDS", "main", "run"]

#: Seconds the default detector may take to fit and score 1,000,000 x 100.
TARGET_SECONDS = 120

#: Data and training of a full and a ``--quick`` run.
SIZES = {
    "full": {"rows": 1_000_000, "features": 100, "epochs": None},
    "quick": {"rows": 20_000, "features": 100, "epochs": None},
}

#: Rows of the warm-up fit.
WARM_UP_ROWS = 1000

MIB = 2**20


def _rss_bytes():
    """The resident set size of this process."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakRSS:
    """Sample RSS every few milliseconds while the block runs; keep the peak.

    Attributes
    ----------
    before : int
        RSS in bytes when the block started.
    peak : int
        The largest RSS sampled, in bytes.
    """

    def __enter__(self):
        self.before = _rss_bytes()
        self.peak = self.before
        self._running = True
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while self._running:
            self.peak = max(self.peak, _rss_bytes())
            time.sleep(0.005)

    def __exit__(self, *exc):
        self._running = False
        self._thread.join()
        self.peak = max(self.peak, _rss_bytes())


def run(n_rows, n_features, epochs, device, echo=print):
    """Measure each phase and echo a Markdown table.

    Parameters
    ----------
    n_rows, n_features : int
        Shape of the float32 input.
    epochs : int or None
        ``max_iter`` of the fit; None keeps the detector's default.
    device : torch.device
        Where the detector trains and scores.
    echo : callable, default=print
        Receives each block of output.

    Returns
    -------
    phases : dict of str to dict
        Phase -> ``extra_mib`` (peak RSS over RSS before), ``peak_mib``,
        ``seconds`` and, on CUDA, ``gpu_peak_mib``.
    """
    start = time.perf_counter()
    echo(f"Machine: {machine_summary(device)}.\n")
    X = np.random.default_rng(0).standard_normal((n_rows, n_features), dtype=np.float32)
    budget = {} if epochs is None else {"max_iter": epochs}
    detector = AutoencoderOutlierDetector(device=str(device), random_state=0, **budget)
    cuda = device.type == "cuda"
    phases = {}
    warm_up = X[:WARM_UP_ROWS]
    for phase, fn in [
        (f"warm-up fit ({len(warm_up):,} rows)", lambda: detector.fit(warm_up)),
        ("fit", lambda: detector.fit(X)),
        ("score_samples", lambda: detector.score_samples(X)),
        ("predict", lambda: detector.predict(X)),
    ]:
        if cuda:
            torch.cuda.reset_peak_memory_stats(device)
        with PeakRSS() as rss:
            seconds, _ = timed(fn, device)
        phases[phase] = {
            "extra_mib": (rss.peak - rss.before) / MIB,
            "peak_mib": rss.peak / MIB,
            "seconds": seconds,
        }
        if cuda:
            phases[phase]["gpu_peak_mib"] = (
                torch.cuda.max_memory_allocated(device) / MIB
            )
    header = ["phase", "extra MiB", "extra / input", "peak MiB", "seconds"]
    rows = []
    if cuda:
        header.append("GPU peak MiB")
    for phase, m in phases.items():
        ratio = m["extra_mib"] * MIB / X.nbytes
        rows.append([phase, m["extra_mib"], ratio, m["peak_mib"], m["seconds"]])
        if cuda:
            rows[-1].append(m["gpu_peak_mib"])
    training = "default parameters" if epochs is None else f"max_iter={epochs}"
    echo(
        f"## peak memory, {n_rows:,} x {n_features} float32 input "
        f"({X.nbytes / MIB:.0f} MiB), AutoencoderOutlierDetector with "
        f"{training}\n\n" + format_table(header, rows) + "\n"
    )
    total = phases["fit"]["seconds"] + phases["score_samples"]["seconds"]
    verdict = "met" if total <= TARGET_SECONDS else "MISSED"
    echo(
        f"- {verdict}: fit + score_samples of {n_rows:,} x {n_features} in "
        f"{total:.1f} s (target at 1,000,000 x 100: at most {TARGET_SECONDS} s)\n"
    )
    echo(
        '"extra" is the peak RSS during the phase minus the RSS before it '
        "(which holds the input and torch's runtime); extra / input divides it "
        "by the input's size.\n"
    )
    echo(f"Total {time.perf_counter() - start:.0f} s.")
    return phases


def main(argv=None):
    """Command-line entry point; see ``--help``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_common_arguments(parser, "memory", repeats=False)
    parser.add_argument("--rows", type=int, help="rows of the input (1,000,000)")
    parser.add_argument("--features", type=int, help="features of the input (100)")
    parser.add_argument(
        "--epochs", type=int, help="max_iter of the fit (default: the detector's)"
    )
    args = parser.parse_args(argv)
    device = setup(args)
    sizes = SIZES["quick" if args.quick else "full"]
    report = Report()
    run(
        args.rows or sizes["rows"],
        args.features or sizes["features"],
        args.epochs or sizes["epochs"],
        device,
        echo=report,
    )
    path = write_results(args.output, "bench_memory.py", report.text, argv)
    print(f"Wrote {path}")


if __name__ == "__main__":
    main()
