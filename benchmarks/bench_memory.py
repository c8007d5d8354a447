"""Peak memory of fitting and scoring, next to the size of the input.

skae trains from a float32 view of the input and infers in batches, so
neither phase should need more than the input plus one batch of
activations. This script measures the resident set size (RSS) while each
phase runs and prints the extra memory it took over what the process held
before the phase.

Run::

    python benchmarks/bench_memory.py            # 1,000,000 x 100 float32
    python benchmarks/bench_memory.py --rows 100000
"""

import argparse
import threading
import time

import numpy as np

from skae import AutoencoderOutlierDetector


def _rss_bytes():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


class _PeakRSS:
    """Sample RSS every few milliseconds while the block runs; keep the peak."""

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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    X = rng.standard_normal((args.rows, args.features), dtype=np.float32)
    mib = 2**20
    print(f"input: {args.rows} x {args.features} float32 = {X.nbytes / mib:.0f} MiB")
    detector = AutoencoderOutlierDetector(
        n_components=8,
        batch_size=256,
        max_iter=args.epochs,
        device="cpu",
        random_state=0,
    )
    rows = []
    # The first fit also pays torch's one-off start-up (kernels, thread
    # pools: about 90 MiB whatever the data size); a small fit first keeps
    # that out of the phases measured below.
    for phase, run in [
        ("warm-up", lambda: detector.fit(X[:1000])),
        ("fit", lambda: detector.fit(X)),
        ("score_samples", lambda: detector.score_samples(X)),
        ("predict", lambda: detector.predict(X)),
    ]:
        with _PeakRSS() as rss:
            start = time.perf_counter()
            run()
            seconds = time.perf_counter() - start
        rows.append((phase, (rss.peak - rss.before) / mib, rss.peak / mib, seconds))

    print(
        f"{'phase':<14} {'extra MiB':>10} {'extra/input':>12} {'peak MiB':>9} {'s':>6}"
    )
    for phase, extra, peak, seconds in rows:
        ratio = extra * mib / X.nbytes
        print(f"{phase:<14} {extra:10.0f} {ratio:12.2f} {peak:9.0f} {seconds:6.1f}")


if __name__ == "__main__":
    main()
