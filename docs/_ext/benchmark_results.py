"""A Sphinx directive that shows a section of a committed benchmark output.

The figures on the benchmark pages come from the Markdown files the scripts
in ``benchmarks/`` write to ``benchmarks/results/``; this directive reads
one section of such a file at build time, so a page never quotes a figure
that the committed output does not hold::

    .. benchmark-results:: adbench.md
       :section: ROC-AUC

Markdown tables become ``list-table`` directives; other lines (bullets,
paragraphs) pass through, as Markdown and reStructuredText share their
syntax for those.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import re
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

#: The committed outputs, relative to this file (docs/_ext).
RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results"

_HEADING = re.compile(r"^(#+)\s+(.*?)\s*$")


def section_lines(text, title):
    """The lines under the Markdown heading ``title``, to the next heading of
    the same or a higher level."""
    lines = text.splitlines()
    for start, line in enumerate(lines):
        match = _HEADING.match(line)
        if match and match.group(2) == title:
            level = len(match.group(1))
            body = []
            for line in lines[start + 1 :]:
                other = _HEADING.match(line)
                if other and len(other.group(1)) <= level:
                    break
                body.append(line)
            return body
    raise ValueError(f"no section {title!r}")


def _cells(line):
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def to_rst(lines):
    """Markdown lines as reStructuredText: tables become list-tables."""
    out, table = [], []
    for line in [*lines, ""]:
        if line.lstrip().startswith("|"):
            table.append(line)
            continue
        if table:
            header, rows = _cells(table[0]), [_cells(row) for row in table[2:]]
            out += ["", ".. list-table::", "   :header-rows: 1", ""]
            for row in [header, *rows]:
                out.append(f"   * - {row[0] or ' '}")
                out += [f"     - {cell or ' '}" for cell in row[1:]]
            out.append("")
            table = []
        out.append(line)
    return out


class BenchmarkResults(SphinxDirective):
    """Show a section of ``benchmarks/results/<file>``."""

    required_arguments = 1
    option_spec = {"section": directives.unchanged_required}

    def run(self):
        path = RESULTS / self.arguments[0]
        self.env.note_dependency(str(path))
        lines = section_lines(path.read_text(), self.options["section"])
        container = nodes.container()
        self.state.nested_parse(
            StringList(to_rst(lines), source=str(path)), self.content_offset, container
        )
        return container.children


def setup(app):
    app.add_directive("benchmark-results", BenchmarkResults)
    return {"parallel_read_safe": True}
