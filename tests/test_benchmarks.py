"""Smoke tests of benchmarks/: every code path runs, on tiny sizes.

The scripts' timings are not checked here (a shared CI machine cannot time
reliably); these tests only keep the scripts from breaking as skae changes.
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
CPU = torch.device("cpu")

#: bench_speed sizes that run every benchmark in a few seconds. The loose
#: quality target is met within the epoch budget, so the timing path runs.
TINY_SPEED = {
    "fit_rows": 300,
    "n_features": 20,
    "epochs": 1,
    "inference_rows": 600,
    "batch_sizes": (256, 512),
    "max_epochs_to_quality": 3,
    "quality_factor": 50.0,
}

#: bench_scaling sweeps of two tiny points each.
TINY_GRIDS = {"rows": [(200, 10), (400, 10)], "features": [(200, 10), (200, 16)]}


@pytest.fixture(scope="module")
def benchmarks():
    """The benchmark modules, imported as the scripts import each other.

    Torch runs on one thread meanwhile: these tiny problems gain nothing
    from more, and on a busy 2-core machine two threads run several times
    slower (their OpenMP barriers wait on each other).
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import _contenders
        import _harness
        import bench_scaling
        import bench_speed

        yield argparse.Namespace(
            contenders=_contenders,
            harness=_harness,
            scaling=bench_scaling,
            speed=bench_speed,
        )
    finally:
        sys.path.remove(str(BENCHMARKS))
        torch.set_num_threads(threads)


def test_bench_speed_runs_every_section(benchmarks):
    # Every section prints its table and each target gets a verdict.
    out = []
    verdicts = benchmarks.speed.run(
        TINY_SPEED, CPU, repeats=1, with_pyod=False, echo=out.append
    )
    text = "\n".join(out)
    for title in ("## fit", "per-fit overhead", "## inference", "batch size"):
        assert title in text
    assert "time to quality" in text
    assert "| skae |" in text
    assert len(verdicts) == 6
    # The loose quality target is reached after one epoch, and timed.
    assert "| lean torch loop | 1 |" in text[text.index("time to quality") :]


def test_bench_scaling_table_and_plot(benchmarks, tmp_path):
    # Both sweeps are measured for every contender, and the plot is saved.
    out = []
    results = benchmarks.scaling.run(TINY_GRIDS, 1, 1, CPU, echo=out.append)
    assert [point for point, _ in results["rows"]] == TINY_GRIDS["rows"]
    _, times = results["features"][0]
    assert len(times) == 2 * len(benchmarks.scaling.CLASSES)
    assert "skae fit × lean" in "\n".join(out)
    pytest.importorskip("matplotlib")
    output = tmp_path / "nested" / "scaling.png"
    benchmarks.scaling.plot(results, 1, output)
    assert output.read_bytes().startswith(b"\x89PNG")


def test_contenders_share_one_interface(benchmarks):
    # Every contender fits and scores; those with codes round-trip them.
    X = benchmarks.harness.synthetic(300, 10)
    classes = [
        cls
        for cls in benchmarks.contenders.CONTENDERS
        if cls is not benchmarks.contenders.PyODAutoEncoder
    ]
    for cls in classes:
        contender = cls(epochs=1, device=CPU).fit(X)
        errors = contender.reconstruction_error(X)
        assert errors.shape == (300,) and np.all(errors >= 0)
        if contender.has_codes:
            codes = contender.transform(X)
            assert contender.inverse_transform(codes).shape == X.shape


def test_pyod_contender(benchmarks):
    # Only where PyOD is installed (it is an optional benchmark contender).
    pytest.importorskip("pyod")
    X = benchmarks.harness.synthetic(300, 10)
    contender = benchmarks.contenders.PyODAutoEncoder(epochs=1, device=CPU)
    assert contender.fit(X).reconstruction_error(X).shape == (300,)
    assert contender.epochs_to_reach(X, X, np.inf, max_epochs=2) == 1


def test_command_line_options(benchmarks):
    # The shared options resolve to a device, a repeat count and a clock.
    harness = benchmarks.harness
    parser = harness.add_common_arguments(argparse.ArgumentParser())
    try:
        args = parser.parse_args(["--quick", "--device", "cpu", "--clock", "cpu"])
        assert harness.setup(args) == CPU
        assert args.repeats == 1
        assert "CPU time" in harness.machine_summary(CPU)
    finally:
        harness.setup(parser.parse_args([]))
    assert "wall time" in harness.machine_summary(CPU)
