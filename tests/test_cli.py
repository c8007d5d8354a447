"""The ``skae`` command line, end to end on files written by the tests."""

import argparse
import fractions
import io
import subprocess
import sys

import numpy as np
import pytest
import skops.io
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from skae import AutoencoderOutlierDetector, AutoencoderTransformer
from skae._cli import _build_parser, main
from skae._io import TRUSTED_TYPES

pd = pytest.importorskip("pandas")

#: Flags that make ``skae fit`` take a fraction of a second.
FAST = ["--hidden", "4", "--max-iter", "2", "--batch-size", "16", "--random-state", "0"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A numeric CSV and a model of each kind fitted on it by ``skae fit``."""
    folder = tmp_path_factory.mktemp("cli")
    rng = np.random.RandomState(0)
    frame = pd.DataFrame(rng.normal(size=(80, 5)), columns=list("abcde"))
    frame.to_csv(folder / "data.csv", index=False)
    paths = {"folder": folder, "data": folder / "data.csv", "frame": frame}
    for name, extra in [
        ("transformer", ["--n-components", "3"]),
        ("detector", ["--outlier", "--contamination", "0.1"]),
    ]:
        paths[name] = folder / f"{name}.skops"
        args = ["fit", str(paths["data"]), "--model", str(paths[name]), *FAST]
        assert main(args + extra) == 0
    return paths


def run(capsys, *args):
    """Run the command line in-process; return (status, stdout, stderr)."""
    status = main([str(arg) for arg in args])
    out, err = capsys.readouterr()
    return status, out, err


def test_fit_saves_a_pipeline_with_the_flags_as_parameters(files):
    # The file loads with exactly the documented trusted list, and the flags
    # reach the estimator.
    model = skops.io.load(files["transformer"], trusted=TRUSTED_TYPES)
    assert isinstance(model, Pipeline)
    assert isinstance(model[0], StandardScaler)
    estimator = model[-1]
    assert isinstance(estimator, AutoencoderTransformer)
    assert estimator.n_components == 3
    assert estimator.hidden_layer_sizes == (4,)
    assert estimator.n_iter_ == 2
    assert_array_equal(model.feature_names_in_, list("abcde"))

    detector = skops.io.load(files["detector"], trusted=TRUSTED_TYPES)[-1]
    assert isinstance(detector, AutoencoderOutlierDetector)
    assert detector.contamination == 0.1
    assert detector.labels_.sum() == 8  # 10% of 80 rows


def test_fit_prints_a_training_summary(files, capsys):
    model = files["folder"] / "summary.skops"
    status, out, err = run(capsys, "fit", files["data"], "--model", model, *FAST)
    assert status == 0 and err == ""
    assert "Trained AutoencoderTransformer on 80 rows x 5 columns: 2 epochs" in out
    assert "larger --max-iter" in out  # stopped by max_iter, and says so
    assert f"Saved to {model}." in out


def test_fit_verbose_prints_each_epoch(files, capsys):
    model = files["folder"] / "verbose.skops"
    status, out, _ = run(
        capsys, "fit", files["data"], "--model", model, "--verbose", *FAST
    )
    assert status == 0
    table = [line.split() for line in out.splitlines() if line.strip()[:1].isdigit()]
    assert [row[0] for row in table] == ["1", "2"]


def test_fit_scales_to_unit_range_for_bce(files, capsys):
    # --scale auto picks MinMaxScaler for loss="bce", which needs [0, 1].
    model = files["folder"] / "bce.skops"
    status, _, _ = run(
        capsys, "fit", files["data"], "--model", model, "--loss", "bce", *FAST
    )
    assert status == 0
    assert isinstance(skops.io.load(model, trusted=TRUSTED_TYPES)[0], MinMaxScaler)


def test_fit_without_scaling_saves_the_bare_estimator(files, capsys):
    model = files["folder"] / "bare.skops"
    status, _, _ = run(
        capsys, "fit", files["data"], "--model", model, "--scale", "none", *FAST
    )
    assert status == 0
    loaded = skops.io.load(model, trusted=TRUSTED_TYPES)
    assert isinstance(loaded, AutoencoderTransformer)


def test_transform_writes_the_codes(files, capsys):
    output = files["folder"] / "codes.csv"
    status, out, _ = run(
        capsys, "transform", files["data"], "--model", files["transformer"],
        "--output", output,
    )  # fmt: skip
    assert status == 0 and out == ""
    codes = pd.read_csv(output)
    model = skops.io.load(files["transformer"], trusted=TRUSTED_TYPES)
    assert list(codes.columns) == [f"autoencodertransformer{i}" for i in range(3)]
    assert_allclose(codes.to_numpy(), model.transform(files["frame"]), rtol=1e-6)


def test_transform_of_a_detector_writes_its_codes(files, capsys):
    # A detector encodes too: one model for embeddings and outlier labels.
    status, out, _ = run(
        capsys, "transform", files["data"], "--model", files["detector"]
    )
    assert status == 0
    codes = pd.read_csv(io.StringIO(out))
    model = skops.io.load(files["detector"], trusted=TRUSTED_TYPES)
    assert list(codes.columns) == list(model.get_feature_names_out())
    assert codes.columns[0] == "autoencoderoutlierdetector0"
    assert_allclose(codes.to_numpy(), model.transform(files["frame"]), rtol=1e-5)


def test_transform_matches_columns_by_name(files, capsys):
    # Same columns in another order give the same codes, on standard output.
    shuffled = files["folder"] / "shuffled.csv"
    files["frame"][list("edcba")].to_csv(shuffled, index=False)
    model = files["transformer"]
    _, in_order, _ = run(capsys, "transform", files["data"], "--model", model)
    status, reordered, _ = run(capsys, "transform", shuffled, "--model", model)
    assert status == 0
    assert reordered == in_order
    assert in_order.splitlines()[0] == ",".join(
        f"autoencodertransformer{i}" for i in range(3)
    )


def test_score_writes_scores_and_labels_of_a_detector(files, capsys):
    output = files["folder"] / "scores.csv"
    status, _, _ = run(
        capsys, "score", files["data"], "--model", files["detector"], "--output", output
    )
    assert status == 0
    scores = pd.read_csv(output)
    model = skops.io.load(files["detector"], trusted=TRUSTED_TYPES)
    assert list(scores.columns) == ["score", "label"]
    assert_allclose(scores["score"], model.score_samples(files["frame"]), rtol=1e-6)
    assert_array_equal(scores["label"], model.predict(files["frame"]))
    assert (scores["label"] == -1).sum() == 8


def test_score_of_a_transformer_has_no_label(files, capsys):
    model = files["transformer"]
    status, out, _ = run(capsys, "score", files["data"], "--model", model)
    assert status == 0
    assert out.splitlines()[0] == "score"
    assert len(out.splitlines()) == 81


def test_parquet_in_and_out_keeps_the_index(files, capsys):
    pytest.importorskip("pyarrow")
    data = files["folder"] / "data.parquet"
    files["frame"].set_index(pd.Index(range(100, 180), name="id")).to_parquet(data)
    output = files["folder"] / "scores.parquet"
    status, _, _ = run(
        capsys, "score", data, "--model", files["detector"], "--output", output
    )
    assert status == 0
    scores = pd.read_parquet(output)
    assert scores.index.name == "id" and scores.index[0] == 100
    assert list(scores.columns) == ["score", "label"]


def test_info_describes_the_model(files, capsys):
    status, out, _ = run(capsys, "info", "--model", files["detector"])
    assert status == 0
    assert "AutoencoderOutlierDetector" in out
    assert "pipeline: StandardScaler -> AutoencoderOutlierDetector" in out
    assert "features (5): a, b, c, d, e" in out
    assert "hidden_layer_sizes = (4,)" in out
    assert "epochs: 2" in out
    assert "training rows flagged as outliers: 8 of 80" in out


def _write(folder, name, text):
    path = folder / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "command, make_data, message",
    [
        ("fit", lambda f: f / "absent.csv", "absent.csv: no such file"),
        (
            "fit",
            lambda f: _write(f, "text.csv", "a,city,b,when\n1,x,2,y\n3,z,4,w\n"),
            "non-numeric columns 'city' (",
        ),
        (
            "fit",
            lambda f: _write(f, "holes.csv", "a,b\n1,\n2,3\n,\n"),
            "missing values in columns 'a' (1 rows), 'b' (2 rows)",
        ),
        ("fit", lambda f: _write(f, "empty.csv", ""), "not a readable CSV file"),
        ("fit", lambda f: _write(f, "header.csv", "a,b\n"), "has no rows"),
        (
            "transform",
            lambda f: _write(f, "other.csv", "a,b,c,d,x,y\n1,2,3,4,5,6\n"),
            "missing columns 'e'; unexpected columns 'x', 'y'",
        ),
        (
            "score",
            lambda f: _write(f, "other.csv", "a,b,c,d\n1,2,3,4\n"),
            "missing columns 'e'",
        ),
    ],
)
def test_bad_data_fails_with_one_line(files, capsys, command, make_data, message):
    data = make_data(files["folder"])
    model = files["transformer"]
    model = files["folder"] / "unused.skops" if command == "fit" else model
    status, out, err = run(capsys, command, data, "--model", model)
    assert status == 1
    assert err.startswith(f"skae {command}: error: ")
    assert message in err
    assert err.count("\n") == 1


def test_bad_model_files_fail_with_one_line(files, capsys):
    folder = files["folder"]
    skops.io.dump(fractions.Fraction(1, 2), folder / "fraction.skops")
    skops.io.dump(StandardScaler().fit(files["frame"]), folder / "scaler.skops")
    cases = {
        folder / "absent.skops": "no such model file",
        files["data"]: "not a model saved by skae fit",
        folder / "fraction.skops": "types skae does not trust: fractions.Fraction",
        folder / "scaler.skops": "holds a StandardScaler, not a skae model",
    }
    for model, message in cases.items():
        status, _, err = run(capsys, "info", "--model", model)
        assert status == 1
        assert message in err and err.count("\n") == 1, err


def test_command_mistakes_fail_with_one_line(files, capsys):
    data = files["data"]
    nowhere = files["folder"] / "no" / "m.skops"
    cases = [
        (["fit", data, "--model", "x.skops", "--contamination", "0.2"], "--outlier"),
        (["fit", data, "--model", nowhere], "does not exist"),
        (["fit", data, "--model", "x.skops", "--n-components", "0"], "n_components"),
    ]
    for args, message in cases:
        status, _, err = run(capsys, *args)
        assert status == 1
        assert message in err and err.count("\n") == 1, err


def test_invalid_option_values_are_usage_errors(files, capsys):
    # argparse rejects them before anything runs, with exit status 2.
    for flag, value in [("--hidden", "128,x"), ("--contamination", "lots")]:
        with pytest.raises(SystemExit) as exit_info:
            main(["fit", str(files["data"]), "--model", "m.skops", flag, value])
        assert exit_info.value.code == 2
        assert f"argument {flag}: expected" in capsys.readouterr().err


def _subparsers(parser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices
    raise AssertionError("no subcommands")


def test_every_option_of_every_command_is_documented(capsys):
    commands = _subparsers(_build_parser())
    assert set(commands) == {"demo", "fit", "transform", "score", "info"}
    for name, parser in commands.items():
        for action in parser._actions:
            assert action.help, f"skae {name}: {action.option_strings} has no help"
        with pytest.raises(SystemExit) as exit_info:
            main([name, "--help"])
        assert exit_info.value.code == 0
        assert f"usage: skae {name}" in capsys.readouterr().out


def test_fit_help_shows_both_estimators_defaults(capsys):
    # The detector's defaults differ from the transformer's; --help gives each.
    with pytest.raises(SystemExit):
        main(["fit", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    transformer, detector = AutoencoderTransformer(), AutoencoderOutlierDetector()
    assert transformer.max_iter != detector.max_iter
    expected = f"default: {transformer.max_iter}, with --outlier: {detector.max_iter}"
    assert f"[max_iter, {expected}]" in text
    assert f"[learning_rate_init, default: {transformer.learning_rate_init}]" in text


def test_console_errors_have_no_traceback(files):
    # The real entry point, in a fresh interpreter, as a user meets it.
    result = subprocess.run(
        [sys.executable, "-m", "skae", "score", "absent.csv", "--model", "m.skops"],
        capture_output=True,
        text=True,
        cwd=files["folder"],
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr == "skae score: error: m.skops: no such model file\n"


def test_score_explains_and_gives_pvalues(files, capsys):
    # Row 0 is pushed far out in column 'c': its explanation names 'c'
    # first and its p-value is the smallest possible.
    frame = files["frame"].iloc[:6].copy()
    frame.loc[0, "c"] += 20
    data = files["folder"] / "explain.csv"
    frame.to_csv(data, index=False)
    status, out, _ = run(
        capsys, "score", data, "--model", files["detector"], "--pvalues",
        "--explain", "2",
    )  # fmt: skip
    assert status == 0
    table = pd.read_csv(io.StringIO(out))
    expected = ["score", "label", "pvalue", "feature_1", "feature_score_1"]
    assert list(table.columns[:5]) == expected
    assert list(table.columns[5:]) == ["feature_2", "feature_score_2"]
    assert table.loc[0, "feature_1"] == "c" and table.loc[0, "label"] == -1
    assert table["pvalue"].between(0, 1).all()
    assert table.loc[0, "pvalue"] == table["pvalue"].min()
    assert (table["feature_score_1"] >= table["feature_score_2"]).all()


def test_explain_and_pvalues_need_a_detector(files, capsys):
    for option in (["--pvalues"], ["--explain", "1"]):
        status, _, err = run(
            capsys, "score", files["data"], "--model", files["transformer"], *option
        )
        assert status == 1 and err.count("\n") == 1
        assert "need a model from skae fit --outlier" in err
