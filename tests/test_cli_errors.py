"""The ``skae`` command line on hostile input: one line and status 1 for every
handled error, status 3 for a bug, and nothing from a file reaches the
terminal unescaped."""

import csv
import io
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
import skops.io
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderTransformer
from skae._cli import ISSUES_URL, main
from skae._io import TRUSTED_TYPES

pd = pytest.importorskip("pandas")

#: Malformed tables; the cases below name the model and message of each.
CORPUS = Path(__file__).parent / "data" / "cli"

#: Flags that make ``skae fit`` take a fraction of a second.
FAST = ["--hidden", "4", "--max-iter", "2", "--batch-size", "16", "--random-state", "0"]

#: Column names that would clear the screen, ring the bell, return the
#: cursor and reverse the text were they printed raw, and a letter that
#: must stay as it is.
HOSTILE_NAMES = ["\x1b[2J", "bell\x07", "cr\rlf\n", "\u202eright", "é"]


def run(capsys, *args):
    """Run the command line in-process; return (status, stdout, stderr)."""
    status = main([str(arg) for arg in args])
    out, err = capsys.readouterr()
    return status, out, err


def assert_one_line_error(status, err, command, message=""):
    assert status == 1, err
    assert err.startswith(f"skae {command}: error: "), err
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert message in err


def _replace_schema(model, path, schema):
    """Copy the skops file ``model`` to ``path``, with schema.json replaced by
    ``schema``, or left out for None."""
    with zipfile.ZipFile(model) as source, zipfile.ZipFile(path, "w") as copy:
        for item in source.infolist():
            if item.filename != "schema.json":
                copy.writestr(item, source.read(item))
            elif schema is not None:
                copy.writestr(item, schema)
    return path


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Three models written by ``skae fit``, and broken model files.

    ``pipeline``: a transformer behind a StandardScaler, on columns a, b, c
    of normal data. ``bce``: a bare transformer with ``loss="bce"``, on
    columns a, b, c of data in [0, 1]. ``detector``: an outlier detector on
    columns named :data:`HOSTILE_NAMES`.
    """
    folder = tmp_path_factory.mktemp("cli_errors")
    rng = np.random.RandomState(0)
    tables = {
        "pipeline": (rng.normal(size=(40, 3)), list("abc"), []),
        "bce": (rng.rand(40, 3), list("abc"), ["--loss", "bce", "--scale", "none"]),
        "detector": (rng.normal(size=(40, 5)), HOSTILE_NAMES, ["--outlier"]),
    }
    paths = {"folder": folder}
    for name, (values, columns, flags) in tables.items():
        data = folder / f"{name}.csv"
        pd.DataFrame(values, columns=columns).to_csv(data, index=False)
        paths[name] = folder / f"{name}.skops"
        paths[f"{name}_data"] = data
        args = ["fit", data, "--model", paths[name], *FAST, *flags]
        assert main([str(arg) for arg in args]) == 0

    fitted = skops.io.load(paths["bce"], trusted=TRUSTED_TYPES)
    steps_not_estimators = make_pipeline(StandardScaler(), fitted)
    steps_not_estimators.steps = [("five", 5), ("model", fitted)]
    no_steps = make_pipeline(fitted)
    no_steps.steps = []
    no_parameter = skops.io.load(paths["bce"], trusted=TRUSTED_TYPES)
    del no_parameter.max_iter
    for name, model in [
        ("unfitted", AutoencoderTransformer()),
        ("unfitted_scaler", make_pipeline(StandardScaler(), fitted)),
        ("steps_not_estimators", steps_not_estimators),
        ("no_steps", no_steps),
        ("no_parameter", no_parameter),
    ]:
        paths[name] = folder / f"{name}.skops"
        skops.io.dump(model, paths[name])
    for name, schema in [
        ("truncated_json", "{"),
        ("json_list", "[]"),
        ("json_bad_class", '{"__class__": 1}'),
        ("no_schema", None),
    ]:
        paths[name] = _replace_schema(paths["pipeline"], folder / name, schema)
    paths["random_bytes"] = folder / "random.skops"
    paths["random_bytes"].write_bytes(np.random.RandomState(0).bytes(500))
    paths["empty"] = folder / "empty.skops"
    paths["empty"].write_bytes(b"")
    paths["a_folder"] = folder / "a_folder"
    paths["a_folder"].mkdir()
    return paths


def _score(data, model):
    return lambda m: ["score", CORPUS / data, "--model", m[model]]


def _transform(data, model):
    return lambda m: ["transform", CORPUS / data, "--model", m[model]]


def _info(model):
    return lambda m: ["info", "--model", m[model]]


_NOT_A_MODEL = "not a model saved by skae fit, or a damaged one"

#: (argv built from the models fixture, part of the expected message).
CASES = {
    "score-inf": (_score("inf.csv", "pipeline"), "infinite values in columns 'b'"),
    "transform-inf": (
        _transform("inf.csv", "pipeline"),
        "infinite values in columns 'b' (1 rows)",
    ),
    "score-beyond-float64": (
        _score("beyond_float64.csv", "pipeline"),
        "infinite values in columns 'a' (1 rows), 'c' (1 rows)",
    ),
    "score-beyond-float32-unscaled": (
        _score("beyond_float32.csv", "bce"),
        "beyond float32's range",
    ),
    "transform-beyond-float32-after-scaling": (
        _transform("beyond_float32.csv", "pipeline"),
        "beyond float32's range",
    ),
    "score-bce-outside-unit-range": (
        _score("outside_unit_range.csv", "bce"),
        "needs data in [0, 1]",
    ),
    "info-unfitted": (_info("unfitted"), "saved before fitting"),
    "score-unfitted": (
        _score("inf.csv", "unfitted"),
        "its AutoencoderTransformer was saved before fitting",
    ),
    "info-unfitted-scaler": (
        _info("unfitted_scaler"),
        "its StandardScaler was saved before fitting",
    ),
    "transform-unfitted-scaler": (
        _transform("outside_unit_range.csv", "unfitted_scaler"),
        "its StandardScaler was saved before fitting",
    ),
    "info-pipeline-of-non-estimators": (
        _info("steps_not_estimators"),
        "a damaged model file (int: 'int' object has no attribute 'get_params')",
    ),
    "info-pipeline-without-steps": (_info("no_steps"), "holds a malformed Pipeline"),
    "score-missing-parameter": (
        _score("inf.csv", "no_parameter"),
        "a damaged model file (AutoencoderTransformer: ",
    ),
    "info-truncated-json": (_info("truncated_json"), "JSONDecodeError"),
    "score-truncated-json": (_score("inf.csv", "truncated_json"), _NOT_A_MODEL),
    "info-json-list": (_info("json_list"), _NOT_A_MODEL),
    "info-json-bad-class": (_info("json_bad_class"), _NOT_A_MODEL),
    "info-no-schema": (_info("no_schema"), "schema.json"),
    "info-random-bytes": (_info("random_bytes"), "BadZipFile"),
    "info-empty-file": (_info("empty"), _NOT_A_MODEL),
    "demo-no-components": (
        lambda m: ["demo", "--n-components", "0"],
        "--n-components must be at least 1",
    ),
    "score-output-in-missing-folder": (
        lambda m: [
            *_score("inf.csv", "pipeline")(m),
            "--output",
            m["folder"] / "absent" / "scores.csv",
        ],
        "absent does not exist",
    ),
    "transform-output-is-a-folder": (
        lambda m: [
            *_transform("inf.csv", "pipeline")(m),
            "--output",
            m["a_folder"],
        ],
        "is a folder, not a file",
    ),
}


@pytest.mark.parametrize("argv, message", CASES.values(), ids=CASES.keys())
def test_malformed_input_fails_in_one_line(models, capsys, argv, message):
    argv = argv(models)
    status, out, err = run(capsys, *argv)
    assert_one_line_error(status, err, argv[0], message)
    assert out == ""


@pytest.mark.parametrize("where", ["absent/model.skops", "a_folder"])
def test_fit_checks_the_model_path_before_training(models, capsys, monkeypatch, where):
    def fail(*args, **kwargs):
        raise AssertionError("trained before checking the model path")

    monkeypatch.setattr(AutoencoderTransformer, "fit", fail)
    model = models["folder"] / where
    status, _, err = run(capsys, "fit", models["pipeline_data"], "--model", model)
    assert_one_line_error(status, err, "fit", str(model))
    # Checked without writing: no stray file or folder.
    assert not (models["folder"] / "absent").exists()
    assert not any(models["a_folder"].iterdir())


def test_parquet_without_pyarrow_fails_in_one_line(models, capsys, monkeypatch):
    # A None entry makes the import fail, as where pyarrow is not installed.
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    data = models["folder"] / "data.parquet"
    data.write_bytes(b"PAR1")
    scores = models["folder"] / "scores.parquet"
    model = models["pipeline"]
    for argv in [
        ["score", data, "--model", model],
        ["score", models["pipeline_data"], "--model", model, "--output", scores],
    ]:
        status, _, err = run(capsys, *argv)
        assert_one_line_error(status, err, "score", "need pyarrow")
        assert "pip install pyarrow" in err


def test_tables_without_pandas_fail_in_one_line(models, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    argv = ["score", models["pipeline_data"], "--model", models["pipeline"]]
    status, _, err = run(capsys, *argv)
    assert_one_line_error(status, err, "score", "needs pandas: pip install")


@pytest.mark.parametrize(
    "command, method, exception",
    [
        ("score", "score_samples", RuntimeError("boom\nsecond line")),
        # An AttributeError is a bug where the model runs, not the damaged
        # file it signals where the model loads.
        ("transform", "transform", AttributeError("no attribute 'net_'")),
        ("fit", "fit", RuntimeError("an error inside torch")),
    ],
)
def test_an_unexpected_exception_is_reported_as_a_bug(
    models, capsys, monkeypatch, command, method, exception
):
    def broken(*args, **kwargs):
        raise exception

    monkeypatch.setattr(AutoencoderTransformer, method, broken)
    model = models["folder"] / "new.skops" if command == "fit" else models["pipeline"]
    status, _, err = run(capsys, command, models["pipeline_data"], "--model", model)
    assert status == 3
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"skae {command}: internal error: ")
    message = " ".join(str(exception).split("\n"))
    assert f"{type(exception).__name__}: {message}" in err
    assert "bug in skae" in err and ISSUES_URL in err


def test_ctrl_c_stops_without_a_traceback(models, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(AutoencoderTransformer, "score_samples", interrupted)
    argv = ["score", models["pipeline_data"], "--model", models["pipeline"]]
    status, _, err = run(capsys, *argv)
    assert status == 130
    assert err == "skae score: interrupted\n"


def test_warnings_of_a_command_that_succeeds_take_one_line_each(models, capsys):
    data = models["folder"] / "overflow.csv"
    pd.DataFrame([[1e38] * 5, [0.1] * 5], columns=HOSTILE_NAMES).to_csv(
        data, index=False
    )
    status, out, err = run(capsys, "score", data, "--model", models["detector"])
    assert status == 0
    assert out.splitlines()[1] == "-inf,-1"
    assert err.startswith("skae score: warning: 1 of 2 rows overflowed float32")
    assert err.count("\n") == 1


def test_fit_passes_on_its_other_warnings(models, capsys, monkeypatch):
    # fit turns the ConvergenceWarning into its note; the others stay warnings.
    fit = AutoencoderTransformer.fit

    def fit_with_warning(self, *args, **kwargs):
        warnings.warn("something to know\nover two lines", UserWarning, stacklevel=2)
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(AutoencoderTransformer, "fit", fit_with_warning)
    model = models["folder"] / "warned.skops"
    status, out, err = run(
        capsys, "fit", models["pipeline_data"], "--model", model, *FAST
    )
    assert status == 0
    assert "a larger --max-iter may fit better" in out
    assert err == "skae fit: warning: something to know over two lines\n"


def test_help_documents_the_exit_statuses(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for status in ["0  success", "1  the command failed", "2  usage error"]:
        assert f"\n  {status}" in out
    assert "\n  3  an unexpected error, which is a bug in skae" in out
    assert ISSUES_URL in out


def _assert_escaped(text):
    assert "\x1b" not in text and "\x07" not in text and "\r" not in text
    assert all(char.isprintable() for line in text.splitlines() for char in line)


def test_info_escapes_names_from_the_data(models, capsys):
    status, out, err = run(capsys, "info", "--model", models["detector"])
    assert status == 0 and err == ""
    _assert_escaped(out)
    assert r"\x1b[2J, bell\x07, cr\rlf\n, \u202eright, é" in out


def test_error_messages_escape_names_and_paths(models, capsys):
    bad = models["folder"] / "bad.csv"
    pd.DataFrame([[1, 2]], columns=["\x1b[31mred", "ok"]).to_csv(bad, index=False)
    status, _, err = run(capsys, "score", bad, "--model", models["detector"])
    assert_one_line_error(status, err, "score", r"unexpected columns '\x1b[31mred'")
    _assert_escaped(err)

    absent = models["folder"] / "\x1b[2Jmodel\n.skops"
    status, _, err = run(capsys, "info", "--model", absent)
    assert_one_line_error(status, err, "info", r"\x1b[2Jmodel\n.skops: no such")
    _assert_escaped(err)


def test_output_in_a_legacy_encoding_escapes_what_it_cannot_hold(models, monkeypatch):
    # A console or redirected file in ASCII (or cp1252) has no letter for
    # every name; printing one must not fail.
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    monkeypatch.setattr(sys, "stdout", stdout)
    assert main(["info", "--model", str(models["detector"])]) == 0
    stdout.seek(0)
    assert r"\u202eright, \xe9" in stdout.read()


#: Numbers in a CSV file: ordinary ones, and large ones that overflow
#: float32 inside the network.
_NUMBERS = st.one_of(st.floats(-3, 3), st.floats(-1e38, 1e38)).map(str)
#: Cell texts that are not numbers, or too large or small for float64.
_HOSTILE_CELLS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(
        [
            "nan",
            "inf",
            "-inf",
            "1e400",
            "-1e400",
            "1e-400",
            "",
            "abc",
            "1e30",
            "-3e38",
            "1e-44",
            "0x10",
            " 1 ",
            "1_000",
            "123456789012345678901234567",
        ]
    ),
)
_NAMES = st.text(st.characters(exclude_categories=["Cs"]), max_size=6)


@st.composite
def _tables(draw):
    """A header and rows of cell texts: mostly the model's columns and
    numbers, so that both outcomes occur, with hostile names and cells."""
    header = draw(st.sampled_from(["model", "model", "random", "extra"]))
    if header == "model":
        columns = draw(st.permutations(HOSTILE_NAMES))
    elif header == "random":
        columns = draw(st.lists(_NAMES, min_size=1, max_size=6))
    else:
        columns = [*HOSTILE_NAMES, draw(_NAMES)]
    row = st.lists(_NUMBERS, min_size=len(columns), max_size=len(columns))
    rows = draw(st.lists(row, min_size=1, max_size=4))
    for _ in range(draw(st.integers(0, 2))):
        i = draw(st.integers(0, len(rows) - 1))
        j = draw(st.integers(0, len(columns) - 1))
        rows[i][j] = draw(_HOSTILE_CELLS)
    return columns, rows


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(table=_tables())
# Each outcome at least once: refused cells, overflow inside the network
# (scores of -inf, with a warning), and foreign columns.
@example(table=(HOSTILE_NAMES, [["0.1", "inf", "0", "1e400", "0"]]))
@example(table=(HOSTILE_NAMES, [["1e38"] * 5, ["0.1"] * 5]))
@example(table=(["\x1b[2J", "x\ny\u2028"], [["1", "2"]]))
def test_score_answers_hostile_tables_with_a_table_or_one_line(models, capsys, table):
    columns, rows = table
    data = models["folder"] / "hostile.csv"
    with open(data, "w", newline="", encoding="utf-8") as file:
        csv.writer(file).writerows([columns, *rows])
    output = models["folder"] / "hostile_scores.csv"
    output.unlink(missing_ok=True)

    status, _, err = run(
        capsys, "score", data, "--model", models["detector"], "--output", output
    )
    # pytest --hypothesis-show-statistics shows how often each path ran.
    event(f"exit status {status}")
    assert "Traceback" not in err
    _assert_escaped(err)
    if status == 1:
        assert_one_line_error(status, err, "score")
        return
    assert status == 0, err
    assert all(line.startswith("skae score: warning: ") for line in err.splitlines())
    scores = pd.read_csv(output)
    assert list(scores.columns) == ["score", "label"]
    assert len(scores) == len(rows)
    assert not scores["score"].isna().any()
    assert (scores["score"] < np.inf).all()
    assert scores["label"].isin([-1, 1]).all()
    assert (scores["label"][np.isinf(scores["score"])] == -1).all()
