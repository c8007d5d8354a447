"""The code users run first: gallery scripts, the quick start, MNIST's script."""

import os
import runpy
import sys
import textwrap
import urllib.error
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SCRIPTS = sorted(EXAMPLES.glob("plot_*.py"))

matplotlib = pytest.importorskip(
    "matplotlib", reason="the examples plot with matplotlib: pip install 'skae[docs]'"
)


@pytest.fixture(autouse=True)
def headless(monkeypatch):
    """Draw with the Agg backend, and close every figure afterwards."""
    monkeypatch.setenv("MPLBACKEND", "Agg")
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


def test_every_script_is_tested():
    assert len(SCRIPTS) >= 5, "examples/plot_*.py not found"


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_gallery_script_runs(script, quick_training, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", [str(script)])
    runpy.run_path(str(script), run_name="__main__")
    assert matplotlib.pyplot.get_fignums(), f"{script.name} drew no figure"


def _run_mnist(monkeypatch, fetch, *args):
    import sklearn.datasets

    monkeypatch.setattr(sklearn.datasets, "fetch_openml", fetch)
    script = EXAMPLES / "mnist_autoencoder.py"
    monkeypatch.setattr(sys, "argv", [str(script), *map(str, args)])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(script), run_name="__main__")
    return exit_info.value.code


def test_mnist_script_exits_cleanly_offline(monkeypatch, capsys):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    assert _run_mnist(monkeypatch, offline) == 0
    err = capsys.readouterr().err
    assert "Cannot download MNIST from OpenML" in err
    assert "Traceback" not in err


def test_mnist_script_trains_and_plots(monkeypatch, capsys, tmp_path):
    # Stand-in data of MNIST's layout: 784 pixel columns in 0..255, string
    # labels, and the 10,000 test images last.
    rng = np.random.RandomState(0)
    X = rng.randint(0, 256, size=(10_200, 784)).astype(np.float64)
    y = np.array([str(i % 10) for i in range(len(X))], dtype=object)

    def fetch(*args, **kwargs):
        return X, y

    output = tmp_path / "reconstructions.png"
    status = _run_mnist(
        monkeypatch, fetch, "--max-iter", 1, "--n-train", 100, "--output", output
    )
    assert status == 0
    assert output.is_file()
    out = capsys.readouterr().out
    assert "Trained 1 epochs on 100 images" in out
    assert "Test binary cross-entropy" in out


def _python_blocks(rst):
    """The ``.. code-block:: python`` blocks of a reStructuredText file."""
    blocks, current = [], None
    for line in rst.read_text().splitlines():
        if line.strip() == ".. code-block:: python":
            current = []
            blocks.append(current)
        elif current is not None and (not line.strip() or line.startswith(" ")):
            current.append(line)
        else:
            current = None
    return [textwrap.dedent("\n".join(block)) for block in blocks]


def test_quick_start_code_runs(quick_training, monkeypatch, tmp_path, capsys):
    # The quick start's blocks build on each other; run them in order, in a
    # scratch folder for the model file they save.
    blocks = _python_blocks(ROOT / "docs" / "quick_start.rst")
    assert len(blocks) >= 4
    monkeypatch.chdir(tmp_path)
    namespace = {}
    for block in blocks:
        exec(compile(block, "quick_start.rst", "exec"), namespace)
    # What the page says the untrusted types of the saved model are.
    assert "['skae._transformer.AutoencoderTransformer']" in capsys.readouterr().out
    assert os.path.isfile("model.skops")
