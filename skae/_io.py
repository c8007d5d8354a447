"""Files for the ``skae`` command line: data tables in, tables out, models."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import os
import sys
import zipfile
import zlib
from pathlib import Path

import numpy as np

__all__ = [
    "TRUSTED_TYPES",
    "CommandError",
    "align_columns",
    "check_writable",
    "load_model",
    "one_line",
    "printable",
    "read_table",
    "save_model",
    "write_table",
]

#: The types ``skae`` trusts when it loads a model file with ``skops.io``.
#: Loading a skae estimator runs no pickle: its state is parameters, NumPy
#: arrays and numbers, from which it rebuilds the torch network. scikit-learn
#: types (``Pipeline``, the scalers) are trusted by skops already.
TRUSTED_TYPES = [
    "skae._outlier.AutoencoderOutlierDetector",
    "skae._transformer.AutoencoderTransformer",
]

_PARQUET_SUFFIXES = {".parquet", ".pq"}


class CommandError(Exception):
    """A user error, reported in one line without a traceback."""


def one_line(message):
    """A library's message on one line: scikit-learn's and torch's may have
    several, and skae prints each error and warning on one.

    Line breaks that a data or model file put in the message become spaces;
    :func:`printable` escapes what remains.
    """
    lines = (line.strip() for line in str(message).split("\n"))
    return " ".join(line for line in lines if line)


def printable(text):
    r"""``text`` with each non-printable character replaced by its escape.

    Data and model files are not to be trusted with a terminal: a column
    named ``"\x1b[2J"`` would clear it, and a line break would forge lines
    of output. What :meth:`str.isprintable` rejects (control, format and
    unassigned characters, separators other than the ordinary space)
    becomes the escapes of Python's ``repr``; printable characters, letters
    of every script included, stay as they are.

    Parameters
    ----------
    text : str
        Text to be printed.

    Returns
    -------
    text : str
        The text with ``\x..``, ``\u....`` or ``\U........`` escapes.

    Examples
    --------
    >>> from skae._io import printable
    >>> print(printable("café \x1b[2J\tend\n"))
    café \x1b[2J\tend\n
    """
    return "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
        for char in text
    )


def _pandas():
    try:
        import pandas
    except ImportError:
        raise CommandError(
            "reading and writing tables needs pandas: pip install 'skae[cli]'"
        ) from None
    return pandas


def _is_parquet(path):
    return Path(path).suffix.lower() in _PARQUET_SUFFIXES


def _parquet_engine_error(path):
    # pandas's own message runs over several lines and names fastparquet
    # too, which skae does not test with.
    return CommandError(
        f"{path}: Parquet files need pyarrow, which cannot be imported here: "
        "pip install pyarrow"
    )


def _os_error(path, action, exc):
    # strerror is None for the OSErrors that pandas raises itself.
    return CommandError(f"{path}: cannot be {action} ({exc.strerror or one_line(exc)})")


def check_writable(path):
    """Check that a file can be written at ``path``, without writing it.

    Commands call this before their work, so that a mistyped output path
    does not cost a training run.

    Parameters
    ----------
    path : str or path-like
        The file to be written, new or existing.

    Raises
    ------
    CommandError
        When ``path`` is a folder, its folder does not exist, or the user
        may not write there.
    """
    path = Path(path)
    folder = path.resolve().parent
    if path.is_dir():
        raise CommandError(f"{path}: is a folder, not a file")
    if not folder.is_dir():
        raise CommandError(f"{path}: folder {folder} does not exist")
    if not os.access(path if path.exists() else folder, os.W_OK):
        raise CommandError(f"{path}: cannot be written (permission denied)")


def read_table(path):
    """Read a CSV or Parquet file of numbers into a DataFrame.

    Parquet is chosen by the suffix ``.parquet`` or ``.pq``, CSV otherwise.

    Parameters
    ----------
    path : str or path-like
        The file to read.

    Returns
    -------
    frame : pandas.DataFrame
        The table, every column numeric, complete and finite.

    Raises
    ------
    CommandError
        When the file is missing, unreadable, empty, or has non-numeric
        columns, missing or infinite values; the message names the columns.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skae._io import read_table
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "data.csv"
    >>> _ = path.write_text("a,b\\n1,2.5\\n3,4\\n")
    >>> read_table(path).shape
    (2, 2)
    """
    pd = _pandas()
    path = Path(path)
    if not path.is_file():
        raise CommandError(f"{path}: no such file")
    try:
        if _is_parquet(path):
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path)
    except ImportError:
        raise _parquet_engine_error(path) from None
    except (pd.errors.EmptyDataError, pd.errors.ParserError) as exc:
        first_line = str(exc).strip().splitlines()[0]
        raise CommandError(f"{path}: not a readable CSV file ({first_line})") from None
    except OSError as exc:
        raise _os_error(path, "read", exc) from None
    except ValueError as exc:
        raise CommandError(f"{path}: cannot be read ({one_line(exc)})") from None
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise CommandError(f"{path}: the table has no rows or no columns")
    frame.columns = [str(column) for column in frame.columns]
    non_numeric = [
        f"{column!r} ({frame[column].dtype})"
        for column in frame.columns
        if not pd.api.types.is_numeric_dtype(frame[column])
    ]
    if non_numeric:
        raise CommandError(
            f"{path}: non-numeric columns {', '.join(non_numeric)}; every column "
            "must hold numbers (drop or encode these first)"
        )
    for problem, mask in [
        ("missing values", frame.isna()),
        # CSV readers turn numbers beyond float64's range, such as 1e400,
        # into infinities too.
        ("infinite values", frame.isin([np.inf, -np.inf])),
    ]:
        counts = mask.sum()
        counts = counts[counts > 0]
        if len(counts):
            listed = ", ".join(f"{column!r} ({n} rows)" for column, n in counts.items())
            raise CommandError(f"{path}: {problem} in columns {listed}")
    return frame


def align_columns(frame, feature_names, n_features, path):
    """Order ``frame``'s columns as the model's, or say which differ.

    Parameters
    ----------
    frame : pandas.DataFrame
        Data read by :func:`read_table`.
    feature_names : array-like of str or None
        The model's ``feature_names_in_``; None when it was fitted on an
        array without column names.
    n_features : int
        The model's ``n_features_in_``.
    path : str or path-like
        The data file, named in error messages.

    Returns
    -------
    frame : pandas.DataFrame
        ``frame`` with the model's columns in the model's order.
    """
    if feature_names is None:
        if frame.shape[1] != n_features:
            raise CommandError(
                f"{path}: {frame.shape[1]} columns, but the model was fitted on "
                f"{n_features}"
            )
        return frame
    expected = list(feature_names)
    missing = [name for name in expected if name not in frame.columns]
    extra = [name for name in frame.columns if name not in set(expected)]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing columns {', '.join(map(repr, missing))}")
        if extra:
            parts.append(f"unexpected columns {', '.join(map(repr, extra))}")
        raise CommandError(
            f"{path}: the columns differ from the model's: {'; '.join(parts)}"
        )
    return frame[expected]


def write_table(data, path, columns=None, index=None):
    """Write a table as CSV or Parquet, or as CSV to stdout for ``-``.

    Parameters
    ----------
    data : ndarray or dict of str to array
        The table's values, as for :class:`pandas.DataFrame`.
    path : str or path-like
        Parquet for the suffixes ``.parquet`` and ``.pq``, CSV otherwise;
        ``-`` writes CSV to standard output.
    columns : list of str, default=None
        Column names when ``data`` is an array.
    index : pandas.Index, default=None
        Row labels, those of the input data. They are written only when
        they carry information, that is when they are not ``0, 1, 2, ...``.
    """
    pd = _pandas()
    frame = pd.DataFrame(data, columns=columns, index=index)
    index = not isinstance(frame.index, pd.RangeIndex) or frame.index.start != 0
    if str(path) == "-":
        frame.to_csv(sys.stdout, index=index)
        return
    try:
        if _is_parquet(path):
            frame.to_parquet(path, index=index)
        else:
            frame.to_csv(path, index=index)
    except ImportError:
        raise _parquet_engine_error(path) from None
    except OSError as exc:
        raise _os_error(path, "written", exc) from None


def save_model(model, path):
    """Save a model with ``skops.io``; loading it runs no pickle."""
    import skops.io

    try:
        skops.io.dump(model, path)
    except OSError as exc:
        raise _os_error(path, "written", exc) from None


def load_model(path):
    """Load a model saved by :func:`save_model`, trusting :data:`TRUSTED_TYPES`.

    Raises
    ------
    CommandError
        When the file is missing or unreadable, not a skops file, damaged,
        or holds types beyond :data:`TRUSTED_TYPES` and the scikit-learn
        types skops trusts.
    """
    import skops.io
    from skops.io.exceptions import UntrustedTypesFoundException

    path = Path(path)
    if not path.is_file():
        raise CommandError(f"{path}: no such model file")
    try:
        return skops.io.load(path, trusted=TRUSTED_TYPES)
    except UntrustedTypesFoundException:
        untrusted = sorted(set(skops.io.get_untrusted_types(file=path)))
        untrusted = [name for name in untrusted if name not in TRUSTED_TYPES]
        raise CommandError(
            f"{path}: refusing to load types skae does not trust: "
            f"{', '.join(untrusted)}"
        ) from None
    except OSError as exc:
        raise _os_error(path, "read", exc) from None
    # What a file that is not a skops zip, or one whose schema.json or
    # arrays are damaged or crafted, makes the zip, JSON and skops readers
    # and the estimators' __setstate__ raise. RecursionError: deeply nested
    # JSON. Other exceptions are bugs, and main reports them as such.
    except (
        zipfile.BadZipFile,
        zlib.error,
        AttributeError,
        KeyError,
        RecursionError,
        TypeError,
        ValueError,
    ) as exc:
        raise CommandError(
            f"{path}: not a model saved by skae fit, or a damaged one "
            f"({type(exc).__name__}: {one_line(exc)})"
        ) from None
