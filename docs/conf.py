"""Sphinx configuration of the skae documentation.

Build it with ``python -m sphinx -W -b html docs docs/_build/html``. The
gallery scripts run during the build; add ``-D plot_gallery=0`` to skip
them. Links into the scikit-learn, NumPy and PyTorch docs need their
inventories from the network: without it, or with ``SKAE_DOCS_OFFLINE=1``,
the build goes on without those links instead of failing.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import os
import socket
import sys
from pathlib import Path

from skae import __version__
from skae._cli import _build_parser

project = "skae"
author = "The skae developers"
copyright = "the skae developers"
release = __version__
version = ".".join(release.split(".")[:2])

# docs/_ext: the directive that shows committed benchmark outputs.
sys.path.insert(0, str(Path(__file__).parent / "_ext"))

extensions = [
    "benchmark_results",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build"]
default_role = "literal"

# -- API reference ------------------------------------------------------------
autosummary_generate = True
# numpydoc lists the methods itself; autosummary's second list would repeat
# every method and make Sphinx warn about duplicate objects.
numpydoc_show_class_members = False
numpydoc_attributes_as_param_list = False

# -- Links to other projects ---------------------------------------------------
_INVENTORIES = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable", None),
    "sklearn": ("https://scikit-learn.org/stable", None),
    "torch": ("https://docs.pytorch.org/docs/stable", None),
    "skorch": ("https://skorch.readthedocs.io/en/stable", None),
    "skops": ("https://skops.readthedocs.io/en/stable", None),
}


def _online():
    """Whether the inventories can be fetched; unreachable ones fail -W."""
    if os.environ.get("SKAE_DOCS_OFFLINE", "0") != "0":
        return False
    try:
        socket.create_connection(("docs.python.org", 443), timeout=3).close()
    except OSError:
        return False
    return True


if _online():
    intersphinx_mapping = _INVENTORIES
else:
    print("skae docs: offline, building without links to other projects' docs")
    intersphinx_mapping = {}
    # The docstrings use scikit-learn's glossary (:term:`fit`), which only
    # resolves through its inventory.
    suppress_warnings = ["ref.term"]
    # These inherited methods' docstrings link to pages of scikit-learn's
    # docs, which only resolve through its inventory.
    autodoc_default_options = {"exclude-members": "get_metadata_routing,set_output"}

# -- Gallery ---------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # mnist_autoencoder.py downloads data: shown in the gallery, never run.
    "filename_pattern": r"/plot_",
    "doc_module": ("skae",),
    "reference_url": {"skae": None},
    "backreferences_dir": "generated/backreferences",
    "remove_config_comments": True,
    "show_memory": False,
    "min_reported_time": 1,
}

# -- HTML ------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skae {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_show_sourcelink = False


# -- Command line reference ----------------------------------------------------------
def _write_cli_help():
    """Write each command's --help into generated/, for cli.rst to include.

    The page then shows exactly what ``skae COMMAND --help`` prints.
    """
    folder = Path(__file__).parent / "generated"
    folder.mkdir(exist_ok=True)
    # argparse wraps to the terminal's width; fix it for the page.
    columns = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "88"
    try:
        parser = _build_parser()
        commands = next(
            action.choices
            for action in parser._actions
            if hasattr(action, "choices") and isinstance(action.choices, dict)
        )
        (folder / "cli_skae.txt").write_text(parser.format_help())
        for name, command in commands.items():
            (folder / f"cli_{name}.txt").write_text(command.format_help())
    finally:
        if columns is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = columns


_write_cli_help()
