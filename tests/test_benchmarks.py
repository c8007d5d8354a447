"""Smoke tests of benchmarks/: every script and code path runs, on tiny sizes.

The scripts' timings are not checked here (a shared CI machine cannot time
reliably); these tests only keep the scripts from breaking as skae changes.
Each script runs through its ``main``, with its ``--quick`` sizes made tiny,
and writes its results file to a temporary folder.
"""

import argparse
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import skae._device
from skae._datasets import one_class_task

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
    slower (their OpenMP barriers wait on each other). No test passes
    ``--threads``, which would also limit NumPy's BLAS for the session.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import _contenders
        import _harness
        import bench_adbench
        import bench_memory
        import bench_outliers
        import bench_profile
        import bench_scaling
        import bench_speed

        yield argparse.Namespace(
            adbench=bench_adbench,
            contenders=_contenders,
            harness=_harness,
            memory=bench_memory,
            outliers=bench_outliers,
            profile=bench_profile,
            scaling=bench_scaling,
            speed=bench_speed,
        )
    finally:
        sys.path.remove(str(BENCHMARKS))
        torch.set_num_threads(threads)
        # Back to the wall clock, whatever a test chose.
        _harness.setup(
            argparse.Namespace(threads=None, clock="wall", quick=False, device="cpu")
        )


def benchmarks_data_present():
    """Whether ../shared/data/adbench holds the ADBench datasets."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import bench_adbench
    finally:
        sys.path.remove(str(BENCHMARKS))
    return (bench_adbench.DATA / "glass.npz").is_file()


def _results(path, script):
    """The text of a results file, after checking its first lines."""
    text = path.read_text()
    assert text.startswith(f"# {script}\n\n`python benchmarks/{script} ")
    assert "Machine: device cpu" in text
    return text


# %% bench_speed.py and bench_scaling.py ----------------------------------------


def test_bench_speed_runs_every_section(benchmarks, monkeypatch, tmp_path):
    # Every section is written, every ratio is to the reference, and each
    # target of issue 5 gets a verdict.
    monkeypatch.setitem(benchmarks.speed.SIZES, "quick", TINY_SPEED)
    output = tmp_path / "results" / "speed.md"
    argv = ["--quick", "--device", "cpu", "--no-pyod", "--output", str(output)]
    benchmarks.speed.main(argv)
    text = _results(output, "bench_speed.py")
    for title in ("## fit", "per-fit overhead", "## inference", "batch size"):
        assert title in text
    assert "time to quality" in text
    assert "× lean" not in text and text.count("× reference") >= 6
    reference = benchmarks.contenders.LeanLoop.name
    assert f"| {reference} | 1 |" in text[text.index("time to quality") :]
    assert f"| {benchmarks.contenders.LeanLoopDefaultAdam.name} |" in text
    summary = text[text.index("## summary") :]
    assert summary.count("the reference (target") == 5
    assert "not the issue's sizes" in summary


def test_bench_speed_marks_the_shipped_batch_size(benchmarks, monkeypatch):
    # The batch-size table reads skae's constant at run time, and restores it.
    monkeypatch.setattr(skae._device, "INFERENCE_BATCH_SIZE", 512)
    X = benchmarks.harness.synthetic(600, 20)
    fitted = [
        cls(epochs=1, device=CPU).fit(X)
        for cls in (benchmarks.contenders.LeanLoop, benchmarks.contenders.Skae)
    ]
    table = benchmarks.speed.bench_batch_sizes(fitted, X, (256, 512), 1, CPU)
    assert "| 512 (shipped) |" in table and "| 256 |" in table
    assert skae._device.INFERENCE_BATCH_SIZE == 512


def test_bench_scaling_table_and_plot(benchmarks, monkeypatch, tmp_path):
    # Both sweeps are measured for every contender; the table and the plot
    # are written side by side.
    pytest.importorskip("matplotlib")
    monkeypatch.setitem(benchmarks.scaling.GRIDS, "quick", TINY_GRIDS)
    output = tmp_path / "nested" / "scaling.md"
    benchmarks.scaling.main(["--quick", "--device", "cpu", "--output", str(output)])
    text = _results(output, "bench_scaling.py")
    assert "skae fit × reference" in text and "reference fit (s)" in text
    assert text.count("\n| rows |") == 2 and text.count("\n| features |") == 2
    assert "(scaling.png)" in text
    assert output.with_suffix(".png").read_bytes().startswith(b"\x89PNG")


# %% bench_memory.py ---------------------------------------------------------------


@pytest.mark.skipif(
    not Path("/proc/self/statm").exists(), reason="reads RSS from /proc"
)
def test_bench_memory_measures_every_phase(benchmarks, tmp_path):
    output = tmp_path / "memory.md"
    argv = ["--rows", "1500", "--features", "10", "--device", "cpu"]
    benchmarks.memory.main([*argv, "--output", str(output)])
    text = _results(output, "bench_memory.py")
    assert "1,500 x 10 float32" in text
    for phase in ("| warm-up fit (1,000 rows) |", "| fit |", "| score_samples |"):
        assert phase in text
    assert "| predict |" in text


# %% bench_outliers.py -------------------------------------------------------------


def test_bench_outliers_tasks(benchmarks):
    # Every task builds; the real ones are skae._datasets.one_class_task.
    from sklearn.datasets import load_wine

    for name in benchmarks.outliers.TASKS:
        X, is_outlier = benchmarks.outliers.load_task(name, seed=1)
        assert len(X) == len(is_outlier) and is_outlier.dtype == bool
        assert 2 <= is_outlier.sum() < 0.1 * len(X)
        assert np.allclose(X.mean(axis=0), 0, atol=1e-6)
    X_wine, expected = one_class_task(*load_wine(return_X_y=True), [1], random_state=1)
    X, is_outlier = benchmarks.outliers.TASKS["wine 1"](1)
    np.testing.assert_array_equal(X, X_wine)
    np.testing.assert_array_equal(is_outlier, expected)


def test_bench_outliers_runs_one_task(benchmarks, tmp_path):
    # One tiny task and one seed, every detector (PyOD's where installed),
    # through main: tables, plot and results file.
    pytest.importorskip("matplotlib")
    output = tmp_path / "outliers.md"
    argv = ["--quick", "--tasks", "iris 1", "--device", "cpu"]
    benchmarks.outliers.main([*argv, "--output", str(output)])
    text = _results(output, "bench_outliers.py")
    assert "## ROC-AUC" in text and "## Average precision" in text
    assert "| iris 1 |" in text and "| **mean** |" in text
    assert "| ROC-AUC | skae |" in text
    assert "| IsolationForest | LOF | OneClassSVM |" in text
    assert "(outliers.png)" in text
    assert output.with_suffix(".png").read_bytes().startswith(b"\x89PNG")


def test_bench_outliers_options(benchmarks, tmp_path, monkeypatch):
    # --table, the option's former name, still sets the results file;
    # --plot and --no-pyod are honoured. (Nothing is fitted here.)
    seen = {}

    def run(detectors, *args, **kwargs):
        seen["detectors"] = detectors
        return []

    def plot(records, path):
        seen["plot"] = path

    monkeypatch.setattr(benchmarks.outliers, "run", run)
    monkeypatch.setattr(benchmarks.outliers, "markdown", lambda records: "tables\n")
    monkeypatch.setattr(benchmarks.outliers, "plot", plot)
    table, figure = tmp_path / "table.md", tmp_path / "elsewhere" / "p.png"
    argv = ["--table", str(table), "--plot", str(figure), "--no-pyod"]
    benchmarks.outliers.main([*argv, "--device", "cpu"])
    assert "tables" in table.read_text()
    assert "(elsewhere/p.png)" in table.read_text()
    assert seen["plot"] == figure
    assert "PyOD AutoEncoder" not in seen["detectors"]


# %% bench_profile.py --------------------------------------------------------------


def test_bench_profile_splits_each_fit(benchmarks, tmp_path):
    # The parts of each profiled fit are non-negative and add up to it.
    output = tmp_path / "profile.md"
    benchmarks.profile.main(["--quick", "--device", "cpu", "--output", str(output)])
    text = _results(output, "bench_profile.py")
    assert "| backward |" in text and "| everything else |" in text
    assert "the 15 functions with the most own time" in text
    splits = benchmarks.profile.run(1, CPU, echo=lambda block: None)
    for total, seconds in splits.values():
        assert all(value >= 0 for value in seconds.values())
        assert sum(seconds.values()) == pytest.approx(total)
        assert seconds["backward"] > 0 and seconds["Adam update"] > 0


# %% _contenders.py and _harness.py ------------------------------------------------


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


def test_reference_is_the_strongest_loop(benchmarks):
    # The reference uses skae's fused Adam, and its scores match skae's
    # computation; the default-Adam loop is context, timed in training only.
    contenders = benchmarks.contenders
    X = benchmarks.harness.synthetic(300, 10)
    reference = contenders.LeanLoop(epochs=1, device=CPU).fit(X)
    plain = contenders.LeanLoopDefaultAdam(epochs=1, device=CPU).fit(X)
    assert reference.optimizer_.defaults["fused"] is True
    assert not plain.optimizer_.defaults["fused"]
    assert reference.infers and not plain.infers
    model = reference.model_
    with torch.no_grad():
        expected = ((model(torch.from_numpy(X)) - torch.from_numpy(X)) ** 2).mean(1)
    np.testing.assert_allclose(reference.reconstruction_error(X), expected, rtol=1e-5)


def test_inference_batch_size_patches_skae_device(benchmarks):
    # The one constant skae reads; the reference follows it, and skae's cap
    # for wide data.
    contenders = benchmarks.contenders
    before = skae._device.INFERENCE_BATCH_SIZE
    with contenders.inference_batch_size(7):
        assert skae._device.INFERENCE_BATCH_SIZE == 7
        assert contenders.inference_rows(10) == 7
    assert skae._device.INFERENCE_BATCH_SIZE == before
    assert contenders.inference_rows(2**20) == 1


def test_pyod_contender(benchmarks):
    # Only where PyOD is installed (it is an optional benchmark contender).
    pytest.importorskip("pyod")
    X = benchmarks.harness.synthetic(300, 10)
    contender = benchmarks.contenders.PyODAutoEncoder(epochs=1, device=CPU)
    assert contender.fit(X).reconstruction_error(X).shape == (300,)
    assert contender.epochs_to_reach(X, X, np.inf, max_epochs=2) == 1


def test_command_line_options(benchmarks):
    # The shared options resolve to a device, a repeat count, a clock and a
    # results file under benchmarks/results/.
    harness = benchmarks.harness
    parser = harness.add_common_arguments(argparse.ArgumentParser(), "speed")
    args = parser.parse_args(["--quick", "--device", "cpu", "--clock", "cpu"])
    assert harness.setup(args) == CPU
    assert args.repeats == 1
    # A smoke run never replaces the committed figures.
    assert args.output == BENCHMARKS / "results" / "quick" / "speed.md"
    assert "CPU time" in harness.machine_summary(CPU)
    args = parser.parse_args([])
    harness.setup(args)
    assert args.output == BENCHMARKS / "results" / "speed.md"
    assert "wall time" in harness.machine_summary(CPU)
    # Scripts that time once take no --repeats.
    parser = harness.add_common_arguments(argparse.ArgumentParser(), "m", False)
    args = parser.parse_args(["--device", "cpu"])
    assert harness.setup(args) == CPU and not hasattr(args, "repeats")


def test_report_and_results_file(benchmarks, tmp_path):
    # A Report keeps what it echoes; write_results records the command.
    harness = benchmarks.harness
    seen = []
    report = harness.Report(echo=seen.append)
    report("a\n")
    report(harness.format_table(["x", "y"], [[1.23456, None]]))
    assert seen[0] == "a\n"
    assert report.text == "a\n\n| x | y |\n|---|---|\n| 1.23 | — |\n"
    path = harness.write_results(
        tmp_path / "new" / "r.md", "bench_x.py", report.text, ["--quick", "a b"]
    )
    text = path.read_text()
    assert text.startswith(
        "# bench_x.py\n\n`python benchmarks/bench_x.py --quick 'a b'`"
    )
    assert text.endswith(report.text)


def test_readme_quotes_no_measurement():
    # Measured figures live in the committed results files only; the README
    # describes and points to them (GitHub issue 12). Targets may be quoted.
    text = (BENCHMARKS / "README.md").read_text()
    ratios = re.findall(r"\d(?:\.\d+)?[x×](?!\w)", text)
    amounts = re.findall(r"\d+(?:\.\d+)?\s?(?:%|ms|s|MiB|GiB)(?!\w)", text)
    assert set(ratios) <= {"1.1x"}, ratios
    assert set(amounts) <= {"5 %"}, amounts


# %% bench_adbench.py --------------------------------------------------------------


def _records(methods):
    """Fake results of ``methods`` on one dev and one holdout dataset."""
    records = []
    for dataset, base in (("glass", 0.7), ("WBC", 0.8)):
        for rank, method in enumerate(methods):
            records.append(
                {
                    "dataset": dataset,
                    "method": method,
                    "seed": 0,
                    "roc_auc": base - 0.05 * rank,
                    "ap": 0.5,
                    "seconds": 1.0 + rank,
                    "non_finite": 0,
                }
            )
    return records


def test_bench_adbench_tables_splits_and_targets(benchmarks):
    # Means and ranks per split, and the verdicts on the holdout split.
    methods = ["skae", "IsolationForest", "PyOD AutoEncoder", "skae (untrained)"]
    text = benchmarks.adbench.markdown(_records(methods), "## title")
    for row in ("**mean (dev)**", "**mean rank (holdout)**", "**seconds**"):
        assert row in text
    assert "### Targets on the holdout split" in text
    assert "- met: mean ROC-AUC ahead of every peer: skae 0.800" in text
    assert "- met: seconds no more than PyOD AutoEncoder's" in text
    # The untrained variant is ranked in skae's place, not among the peers.
    ranks = benchmarks.adbench.mean_ranks(
        {"d": {"skae": 0.9, "IF": 0.8, "skae (x)": 0.7}}
    )
    assert ranks == {"skae": 1.0, "IF": 2.0, "skae (x)": 2.0}


def test_bench_adbench_seed_spread(benchmarks):
    # The spread across seeds, averaged over datasets; none for one seed.
    records = [
        {"dataset": d, "method": "skae", "roc_auc": auc}
        for d, auc in (("a", 0.6), ("a", 0.8), ("b", 0.5), ("b", 0.5))
    ]
    assert benchmarks.adbench.seed_spread(records, "skae") == pytest.approx(0.05)
    assert benchmarks.adbench.seed_spread(records[::2], "skae") is None


def test_bench_adbench_ablations_are_the_detector_with_one_change(benchmarks):
    for name, params in benchmarks.adbench.ABLATIONS.items():
        assert len(params) == 1 and name.startswith("skae (")
        assert name in benchmarks.adbench.METHODS


@pytest.mark.skipif(
    not benchmarks_data_present(), reason="the ADBench datasets are not present"
)
def test_bench_adbench_runs_on_a_dataset(benchmarks):
    adbench = benchmarks.adbench
    records = adbench.run(["glass"], ["skae", "skae (untrained)", "LOF"], [0], log=None)
    assert {r["method"] for r in records} == {"skae", "skae (untrained)", "LOF"}
    assert all(0 <= r["roc_auc"] <= 1 for r in records)
