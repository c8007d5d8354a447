"""The documentation builds with warnings as errors."""

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

for _module in ["sphinx", "numpydoc", "sphinx_gallery", "pydata_sphinx_theme"]:
    pytest.importorskip(
        _module,
        reason=f"building the docs needs {_module}: pip install 'skae[docs]'",
    )


def test_docs_build_without_warnings(tmp_path, monkeypatch):
    # The documented build (python -m sphinx -W -b html docs docs/_build/html)
    # minus running the gallery, which tests/test_examples.py covers. It
    # builds from a copy: Sphinx and sphinx-gallery write generated pages
    # into the source folders. Offline, as CI has no network: the
    # intersphinx inventories are not fetched.
    from sphinx.cmd.build import build_main

    for folder in ["docs", "examples", "benchmarks/results"]:
        shutil.copytree(
            ROOT / folder,
            tmp_path / folder,
            ignore=shutil.ignore_patterns(
                "_build", "auto_examples", "generated", "quick"
            ),
        )
    monkeypatch.setenv("SKAE_DOCS_OFFLINE", "1")
    status = build_main(
        [
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "html",
            "-D",
            "plot_gallery=0",
            str(tmp_path / "docs"),
            str(tmp_path / "html"),
        ]
    )
    assert status == 0
    html = tmp_path / "html"
    for page in ["index", "user_guide", "cli", "coming_from", "api", "changelog"]:
        assert (html / f"{page}.html").is_file(), page
    detector = html / "generated" / "skae.AutoencoderOutlierDetector.html"
    reference = detector.read_text()
    assert "contamination" in reference and "partial_fit" in reference
    # cli.rst shows the commands' real --help texts.
    assert "--n-components" in (html / "cli.html").read_text()
    # The benchmark page shows the committed outputs, not typed-in figures.
    benchmark = (html / "outlier_benchmark.html").read_text()
    results = (ROOT / "benchmarks" / "results" / "adbench.md").read_text()
    holdout = next(line for line in results.splitlines() if "mean (holdout)" in line)
    assert all(cell.strip() in benchmark for cell in holdout.split("|")[3:-1])
    gallery = (html / "auto_examples" / "index.html").read_text()
    for script in (ROOT / "examples").glob("*.py"):
        assert script.stem in gallery, script.name
