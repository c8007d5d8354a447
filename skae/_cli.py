"""The ``skae`` command line: ``demo``, and ``fit``/``transform``/``score``/``info``."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import os
import sys
import textwrap
import warnings
from contextlib import contextmanager

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.utils.validation import check_is_fitted

from . import AutoencoderOutlierDetector, AutoencoderTransformer, __version__
from ._demo import demo, timed
from ._io import (
    CommandError,
    align_columns,
    check_writable,
    load_model,
    one_line,
    printable,
    read_table,
    save_model,
    write_table,
)
from ._losses import LOSSES
from ._modules import ACTIVATIONS

__all__ = ["ISSUES_URL", "main"]

#: Where the message of an unexpected exception, a bug in skae, asks users
#: to report it.
ISSUES_URL = "https://github.com/skae-developers/skae/issues"

#: Exit statuses besides 0 (success) and argparse's 2 (usage error): a
#: command that failed on its input, files or option values, one stopped by
#: an unexpected exception (a bug), and one interrupted by Ctrl-C (the
#: shell's status for SIGINT).
_EXIT_ERROR = 1
_EXIT_BUG = 3
_EXIT_INTERRUPTED = 130

_EXIT_STATUS_HELP = f"""\
exit status:
  0  success
  1  the command failed on its data, model file, output path or option
     values; one line on standard error says why
  2  usage error: an unknown command or option, or a malformed value
  3  an unexpected error, which is a bug in skae; please report it at
     {ISSUES_URL}
  130  interrupted with Ctrl-C"""


def _positive_int(text):
    """Parse a count of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _layer_sizes(text):
    """Parse ``--hidden``: ``"128,64"`` -> ``(128, 64)``; ``"none"`` -> ``()``."""
    if text.strip().lower() in {"", "none"}:
        return ()
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers such as 128,64, got {text!r}"
        ) from None
    return sizes


def _contamination(text):
    """Parse ``--contamination``: ``"auto"`` or a float."""
    if text == "auto":
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected 'auto' or a number in (0, 0.5], got {text!r}"
        ) from None


#: ``skae fit`` options that set an estimator parameter: flag, parameter,
#: argparse keywords and help. Unset options keep the estimator's default,
#: which the help shows.
_FIT_OPTIONS = [
    ("--n-components", "n_components", {"type": int, "metavar": "N"}, "code size"),
    (
        "--hidden",
        "hidden_layer_sizes",
        {"type": _layer_sizes, "metavar": "SIZES"},
        "widths of the encoder's hidden layers, comma separated (the decoder "
        "mirrors them); 'none' for a single linear layer each way",
    ),
    (
        "--activation",
        "activation",
        {"choices": sorted(ACTIVATIONS), "metavar": "NAME"},
        f"activation of the hidden layers: {', '.join(sorted(ACTIVATIONS))}",
    ),
    ("--loss", "loss", {"choices": sorted(LOSSES)}, "reconstruction loss"),
    ("--max-iter", "max_iter", {"type": int, "metavar": "N"}, "maximum epochs"),
    ("--batch-size", "batch_size", {"type": int, "metavar": "N"}, "rows per batch"),
    (
        "--learning-rate",
        "learning_rate_init",
        {"type": float, "metavar": "RATE"},
        "learning rate of the optimizer",
    ),
    (
        "--early-stopping",
        "early_stopping",
        {"action": "store_const", "const": True},
        "hold out --validation-fraction of DATA, stop when its loss stops "
        "improving and keep the best epoch's weights",
    ),
    (
        "--validation-fraction",
        "validation_fraction",
        {"type": float, "metavar": "FRACTION"},
        "share of DATA held out by --early-stopping",
    ),
    (
        "--contamination",
        "contamination",
        {"type": _contamination, "metavar": "FRACTION"},
        "with --outlier: share of outliers expected in DATA, in (0, 0.5], "
        "which sets the threshold; or 'auto' for Tukey's fence on the "
        "reconstruction errors",
    ),
    ("--device", "device", {}, "'auto', 'cpu', 'cuda' or 'cuda:<index>'"),
    (
        "--random-state",
        "random_state",
        {"type": int, "metavar": "SEED"},
        "seed, for reproducible fits",
    ),
]


def _default_text(param, transformer, detector):
    """The help's default: the transformer's, and the detector's if it differs."""
    if param not in transformer:
        return f"default: {detector[param]!r}"
    text = f"default: {transformer[param]!r}"
    if detector[param] != transformer[param]:
        text += f", with --outlier: {detector[param]!r}"
    return text


def _add_fit_options(parser):
    transformer = AutoencoderTransformer().get_params()
    detector = AutoencoderOutlierDetector().get_params()
    group = parser.add_argument_group(
        "model parameters", "Each sets the estimator parameter named in brackets."
    )
    for flag, param, kwargs, text in _FIT_OPTIONS:
        default = _default_text(param, transformer, detector)
        text = f"{text} [{param}, {default}]"
        group.add_argument(flag, dest=param, default=None, help=text, **kwargs)


def _scaler(scale, loss):
    if scale == "auto":
        scale = "minmax" if loss == "bce" else "standard"
    if scale == "standard":
        return StandardScaler()
    if scale == "minmax":
        # clip: rows outside the training range still map into [0, 1],
        # which loss="bce" requires.
        return MinMaxScaler(clip=True)
    return None


def _say(text, file=None):
    """Print a line, escaping what it quotes from data or model files.

    Every message, and every line of fit's and info's reports, goes through
    here: column names, paths, parameters and the texts of exceptions may
    all come from those files. Tables are data, written as they are.
    """
    file = sys.stdout if file is None else file
    text = printable(text)
    # A console or file in a legacy encoding (cp1252, latin-1) cannot hold
    # every letter a column name may have; escape those too.
    encoding = getattr(file, "encoding", None) or "utf-8"
    print(text.encode(encoding, "backslashreplace").decode(encoding), file=file)


@contextmanager
def _model_errors(data=None):
    """Turn what a model refuses in the user's data into a CommandError.

    Wrap only calls of a model on data or options from the user: there
    ValueError and TypeError (parameter validation, ``NotFittedError``,
    non-finite values, a ``loss`` meeting data outside its domain) are
    scikit-learn's and skae's documented answers, and running out of
    memory is the data's size. Elsewhere they are bugs. ``data``, the data
    file, starts the message when every failure is about it.
    """
    source = "" if data is None else f"{data}: "
    try:
        yield
    except (ValueError, TypeError) as exc:
        raise CommandError(f"{source}{one_line(exc)}") from None
    except (MemoryError, torch.cuda.OutOfMemoryError) as exc:
        raise CommandError(
            f"{source}not enough memory ({type(exc).__name__}: {one_line(exc)})"
        ) from None


def _load(path):
    """Load a model as skae fit saves it; return it and its skae estimator.

    The estimator is the model, or the last step of a Pipeline. Every step
    must be fitted and have its parameters: a model saved before fitting,
    or a file damaged or crafted to lack a parameter, would otherwise fail
    later with an AttributeError from deep inside scikit-learn.
    """
    model = load_model(path)
    if isinstance(model, Pipeline):
        try:
            steps = [step for _, step in model.steps]
        except (TypeError, ValueError):
            steps = []
        if not steps:
            raise CommandError(f"{path}: holds a malformed Pipeline")
    else:
        steps = [model]
    estimator = steps[-1]
    if not isinstance(estimator, AutoencoderTransformer | AutoencoderOutlierDetector):
        raise CommandError(
            f"{path}: holds a {type(estimator).__name__}, not a skae model"
        )
    for step in steps:
        try:
            # First: check_is_fitted reads parameters too, through the tags.
            step.get_params()
        except AttributeError as exc:
            raise CommandError(
                f"{path}: a damaged model file ({type(step).__name__}: {one_line(exc)})"
            ) from None
        try:
            check_is_fitted(step)
        except NotFittedError:
            raise CommandError(
                f"{path}: its {type(step).__name__} was saved before fitting; "
                "train and save models with skae fit"
            ) from None
    return model, estimator


def _check_output(path):
    if path != "-":
        check_writable(path)


def _read_for(model, path):
    """Read DATA with the columns, in the order, the model was fitted on."""
    frame = read_table(path)
    names = getattr(model, "feature_names_in_", None)
    return align_columns(frame, names, model.n_features_in_, path)


def _fit_command(args):
    params = {param: getattr(args, param) for _, param, _, _ in _FIT_OPTIONS}
    params = {key: value for key, value in params.items() if value is not None}
    if "contamination" in params and not args.outlier:
        raise CommandError("--contamination applies only with --outlier")
    # Fail now, not after a long training.
    check_writable(args.model)
    frame = read_table(args.data)
    kind = AutoencoderOutlierDetector if args.outlier else AutoencoderTransformer
    estimator = kind(**params, verbose=int(args.verbose))
    scaler = _scaler(args.scale, estimator.loss)
    model = estimator if scaler is None else make_pipeline(scaler, estimator)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        with _model_errors():
            _, seconds = timed(lambda: model.fit(frame))
    stopped_early = False
    for caught_warning in caught:
        if issubclass(caught_warning.category, ConvergenceWarning):
            stopped_early = True
        else:
            # Pass the others on to main, which prints them.
            warnings.warn_explicit(
                caught_warning.message,
                caught_warning.category,
                caught_warning.filename,
                caught_warning.lineno,
            )
    save_model(model, args.model)
    _say(
        f"Trained {kind.__name__} on {frame.shape[0]} rows x {frame.shape[1]} "
        f"columns: {estimator.n_iter_} epochs in {seconds:.1f} s, final training "
        f"loss {estimator.loss_curve_[-1]:.4g}."
    )
    if stopped_early:
        _say(
            f"Note: training stopped at max_iter={estimator.max_iter} epochs while "
            "the loss was still improving; a larger --max-iter may fit better."
        )
    if args.outlier:
        _say(
            f"{estimator.labels_.sum()} of {frame.shape[0]} training rows are "
            f"flagged as outliers (contamination={estimator.contamination!r})."
        )
    _say(f"Saved to {args.model}.")


def _transform_command(args):
    _check_output(args.output)
    model, _ = _load(args.model)
    frame = _read_for(model, args.data)
    with _model_errors(args.data):
        codes = model.transform(frame)
    columns = model.get_feature_names_out()
    write_table(codes, args.output, columns=columns, index=frame.index)


def _score_command(args):
    _check_output(args.output)
    model, estimator = _load(args.model)
    detector = isinstance(estimator, AutoencoderOutlierDetector)
    if (args.pvalues or args.explain) and not detector:
        raise CommandError(
            f"{args.model}: --pvalues and --explain need a model from "
            "skae fit --outlier"
        )
    frame = _read_for(model, args.data)
    with _model_errors(args.data):
        out = {"score": model.score_samples(frame)}
        if detector:
            out["label"] = model.predict(frame)
        if args.pvalues:
            out["pvalue"] = estimator.pvalues(_before_estimator(model, frame))
        if args.explain:
            out.update(_explanations(model, estimator, frame, args.explain))
    write_table(out, args.output, index=frame.index)


def _before_estimator(model, frame):
    """The data as the skae estimator of ``model`` sees it."""
    return frame if not isinstance(model, Pipeline) else model[:-1].transform(frame)


def _explanations(model, estimator, frame, k):
    """Columns feature_1, feature_score_1, ...: each row's k top features."""
    scores = estimator.feature_scores(_before_estimator(model, frame))
    names = np.asarray(frame.columns, dtype=object)
    top = np.argsort(-scores, axis=1, kind="stable")[:, : min(k, scores.shape[1])]
    columns = {}
    for rank in range(top.shape[1]):
        columns[f"feature_{rank + 1}"] = names[top[:, rank]]
        columns[f"feature_score_{rank + 1}"] = np.take_along_axis(
            scores, top[:, rank : rank + 1], axis=1
        )[:, 0]
    return columns


def _info_command(args):
    model, estimator = _load(args.model)
    steps = [type(step).__name__ for step in model] if model is not estimator else []
    _say(f"{args.model}: {type(estimator).__name__}")
    if steps:
        _say(f"  pipeline: {' -> '.join(steps)}")
    names = getattr(model, "feature_names_in_", None)
    shown = ", ".join(names) if names is not None else "(fitted without names)"
    _say(f"  features ({model.n_features_in_}): {shown}")
    _say("parameters:")
    for key, value in estimator.get_params().items():
        _say(f"  {key} = {value!r}")
    _say("training:")
    _say(f"  epochs: {estimator.n_iter_}")
    _say(f"  final training loss: {estimator.loss_curve_[-1]:.6g}")
    if estimator.validation_scores_ is not None:
        _say(f"  best validation score: {max(estimator.validation_scores_):.6g}")
    _say(f"  device: {estimator.net_.device}")
    if isinstance(estimator, AutoencoderOutlierDetector):
        _say(f"  offset_ (threshold on score_samples): {estimator.offset_:.6g}")
        _say(
            f"  training rows flagged as outliers: {estimator.labels_.sum()} of "
            f"{len(estimator.labels_)}"
        )


def _demo_command(args):
    if args.n_components < 1:
        # PCA accepts 0 and fails only after fitting, with a message about
        # arrays of 0 features.
        raise CommandError(
            f"--n-components must be at least 1, got {args.n_components}"
        )
    with _model_errors():
        demo(args.n_components, args.random_state)


_DATA_HELP = (
    "a CSV file, or Parquet (suffix .parquet or .pq, needs pyarrow), with a "
    "header row and numeric columns only"
)
_MODEL_HELP = "model file in skops format, as written by skae fit"
_OUTPUT_HELP = (
    "where to write the table: .csv, .parquet/.pq, or - for CSV on standard "
    "output (default: -)"
)


def _add_command(commands, name, func, summary, description, epilog=None):
    parser = commands.add_parser(
        name,
        help=summary,
        # Raw formatting keeps the epilog's example lines apart, so the
        # description is wrapped here instead.
        description=textwrap.fill(description, 79),
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(func=func)
    return parser


def _build_parser():
    parser = argparse.ArgumentParser(
        prog="skae",
        description="scikit-learn compatible autoencoders on PyTorch.",
        epilog="Run 'skae COMMAND --help' for the options of a command.\n\n"
        + _EXIT_STATUS_HELP,
        # Keeps the exit status table's lines.
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"skae {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo_parser = _add_command(
        commands,
        "demo",
        _demo_command,
        "fit both estimators on scikit-learn's digits and compare them "
        "with PCA and IsolationForest",
        "Fit AutoencoderTransformer and AutoencoderOutlierDetector on "
        "scikit-learn's bundled digits data and print their results next to PCA "
        "and IsolationForest.",
    )
    demo_parser.add_argument(
        "--n-components", type=int, default=8, help="code size (default: 8)"
    )
    demo_parser.add_argument(
        "--random-state", type=int, default=0, help="seed (default: 0)"
    )

    fit = _add_command(
        commands,
        "fit",
        _fit_command,
        "train a model on a table and save it",
        "Train an AutoencoderTransformer (or, with --outlier, an "
        "AutoencoderOutlierDetector) on DATA and save it with skops.io to "
        "--model. The columns are scaled first (--scale), and the scaler is "
        "saved with the model, so transform and score take raw data too.",
        "examples:\n"
        "  skae fit data.csv --model model.skops --n-components 8 --hidden 128,64\n"
        "  skae fit data.csv --model detector.skops --outlier --contamination 0.05",
    )
    fit.add_argument("data", metavar="DATA", help=_DATA_HELP)
    fit.add_argument("--model", required=True, help="model file to write (skops)")
    fit.add_argument(
        "--outlier",
        action="store_true",
        help="train an AutoencoderOutlierDetector instead of a transformer",
    )
    fit.add_argument(
        "--scale",
        choices=["auto", "standard", "minmax", "none"],
        default="auto",
        help="scaling before the network: StandardScaler, MinMaxScaler (needed "
        "by --loss bce) or none; auto picks minmax for --loss bce, standard "
        "otherwise (default: auto)",
    )
    fit.add_argument(
        "--verbose",
        action="store_true",
        help="print the loss and duration of each epoch while training",
    )
    _add_fit_options(fit)

    transform = _add_command(
        commands,
        "transform",
        _transform_command,
        "write the code of each row",
        "Encode each row of DATA with a model from skae fit (a transformer, or "
        "an --outlier detector, which encodes too) and write the codes, one "
        "column per component named after the estimator: "
        "autoencodertransformer0, autoencodertransformer1, ... or "
        "autoencoderoutlierdetector0, ...",
        "example:\n  skae transform data.csv --model model.skops --output codes.csv",
    )
    score = _add_command(
        commands,
        "score",
        _score_command,
        "write each row's outlier score and label",
        "Score each row of DATA with a model from skae fit. Column 'score' is "
        "score_samples: minus the reconstruction error of a transformer, minus "
        "the outlier score of an --outlier model (lower is more abnormal); "
        "with an --outlier model, column 'label' is -1 for outliers and +1 "
        "for inliers (predict), --pvalues adds the conformal p-value of each "
        "row, and --explain K the K features that make it most abnormal.",
        "examples:\n"
        "  skae score data.csv --model detector.skops --output scores.csv\n"
        "  skae score data.csv --model detector.skops --pvalues --explain 3",
    )
    score.add_argument(
        "--pvalues",
        action="store_true",
        help="with an --outlier model: add column 'pvalue', the conformal "
        "p-value of each row (small: unlikely under the training data), "
        "calibrated on training rows held out of training",
    )
    score.add_argument(
        "--explain",
        type=_positive_int,
        metavar="K",
        help="with an --outlier model: add columns feature_1, "
        "feature_score_1, ..., feature_K, feature_score_K, the K features "
        "with the largest share of each row's outlier score (feature_scores)",
    )
    for sub in (transform, score):
        sub.add_argument("data", metavar="DATA", help=_DATA_HELP)
        sub.add_argument("--model", required=True, help=_MODEL_HELP)
        sub.add_argument("--output", default="-", help=_OUTPUT_HELP)

    info = _add_command(
        commands,
        "info",
        _info_command,
        "describe a saved model",
        "Print a saved model's kind, feature names, parameters and training "
        "summary (epochs, losses, device, and the threshold of an outlier "
        "detector).",
        "example:\n  skae info --model model.skops",
    )
    info.add_argument("--model", required=True, help=_MODEL_HELP)
    return parser


def main(argv=None):
    """Entry point of the ``skae`` console script and of ``python -m skae``.

    Every failure is one line on standard error, with data and file names
    escaped (:func:`~skae._io.printable`), and its own exit status; so is
    each distinct warning of a command that succeeds.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments, without the program name; None reads ``sys.argv``.

    Returns
    -------
    status : int
        0 on success. 1 when a command fails on its data, model file,
        output path or option values (``skae <command>: error: ...``).
        3 when it stops on an unexpected exception, which is a bug in skae:
        the line names the exception and :data:`ISSUES_URL`. 130 when
        interrupted with Ctrl-C. argparse exits with 2 on a usage error (an
        unknown option, a malformed value).
    """
    parser = _build_parser()
    args = parser.parse_args(argv)
    prefix = f"skae {args.command}"
    # Warnings are printed after the command, one line each: Python's own
    # format takes two lines and shows source code. A failed command's
    # warnings are dropped, so that its error is its only line.
    with warnings.catch_warnings(record=True) as caught:
        try:
            args.func(args)
        except CommandError as exc:
            _say(f"{prefix}: error: {exc}", sys.stderr)
            return _EXIT_ERROR
        except KeyboardInterrupt:
            # Ctrl-C outside training (which ends training cleanly): stop
            # without a traceback, with the shell's status for SIGINT.
            _say(f"{prefix}: interrupted", sys.stderr)
            return _EXIT_INTERRUPTED
        except BrokenPipeError:
            # The reader of standard output left early (skae score ... | head).
            # Point stdout at devnull so Python's exit flush does not fail again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return _EXIT_ERROR
        except Exception as exc:
            # The handled failures became CommandErrors where they can occur,
            # so anything else is a bug; a traceback would not help users.
            _say(
                f"{prefix}: internal error: {type(exc).__name__}: "
                f"{one_line(exc)} -- this is a bug in skae; please "
                f"report it, with the command that raised it, at {ISSUES_URL}",
                sys.stderr,
            )
            return _EXIT_BUG
    for message in dict.fromkeys(one_line(w.message) for w in caught):
        _say(f"{prefix}: warning: {message}", sys.stderr)
    return 0
