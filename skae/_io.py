"""Files for the ``skae`` command line: data tables in, tables out, models."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import sys
import zipfile
from pathlib import Path

__all__ = [
    "TRUSTED_TYPES",
    "CommandError",
    "align_columns",
    "load_model",
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


def _parquet_engine_error(path, exc):
    return CommandError(
        f"{path}: Parquet files need pyarrow (pip install pyarrow); {exc}"
    )


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
        The table, every column numeric and complete.

    Raises
    ------
    CommandError
        When the file is missing, unreadable, empty, or has non-numeric
        columns or missing values; the message names the columns.

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
    except ImportError as exc:
        raise _parquet_engine_error(path, exc) from None
    except (pd.errors.EmptyDataError, pd.errors.ParserError) as exc:
        first_line = str(exc).strip().splitlines()[0]
        raise CommandError(f"{path}: not a readable CSV file ({first_line})") from None
    except (OSError, ValueError) as exc:
        raise CommandError(f"{path}: cannot be read ({exc})") from None
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
    missing = frame.isna().sum()
    missing = missing[missing > 0]
    if len(missing):
        listed = ", ".join(f"{column!r} ({n} rows)" for column, n in missing.items())
        raise CommandError(f"{path}: missing values in columns {listed}")
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
    except ImportError as exc:
        raise _parquet_engine_error(path, exc) from None
    except OSError as exc:
        raise CommandError(f"{path}: cannot be written ({exc.strerror})") from None


def save_model(model, path):
    """Save a model with ``skops.io``; loading it runs no pickle."""
    import skops.io

    try:
        skops.io.dump(model, path)
    except OSError as exc:
        raise CommandError(f"{path}: cannot be written ({exc.strerror})") from None


def load_model(path):
    """Load a model saved by :func:`save_model`, trusting :data:`TRUSTED_TYPES`.

    Raises
    ------
    CommandError
        When the file is missing, not a skops file, or holds types beyond
        :data:`TRUSTED_TYPES` and the scikit-learn types skops trusts.
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
    except (zipfile.BadZipFile, KeyError) as exc:
        raise CommandError(
            f"{path}: not a model saved by skae fit (skops format): {exc}"
        ) from None
