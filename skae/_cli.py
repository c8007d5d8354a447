"""The ``skae`` command line: ``demo``, and ``fit``/``transform``/``score``/``info``."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import os
import sys
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from . import AutoencoderOutlierDetector, AutoencoderTransformer, __version__
from ._io import (
    CommandError,
    align_columns,
    load_model,
    read_table,
    save_model,
    write_table,
)
from ._losses import LOSSES
from ._modules import ACTIVATIONS

__all__ = ["main"]


def _timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def _reduction_rows(X, n_components, random_state):
    """Test reconstruction MSE of PCA and the autoencoder on a 70/30 split."""
    X_train, X_test = train_test_split(X, test_size=0.3, random_state=random_state)
    rows = []
    for name, model in [
        ("PCA", PCA(n_components, random_state=random_state)),
        (
            "AutoencoderTransformer",
            AutoencoderTransformer(n_components, random_state=random_state),
        ),
    ]:
        _, seconds = _timed(lambda model=model: model.fit(X_train))
        reconstruction = model.inverse_transform(model.transform(X_test))
        rows.append((name, float(np.mean((reconstruction - X_test) ** 2)), seconds))
    return rows


def _outlier_tasks(X, y, random_state):
    """Two detection tasks on digits: corrupted images, and unseen classes."""
    rng = np.random.RandomState(random_state)
    corrupted = X.copy()
    idx = rng.choice(len(X), size=len(X) // 20, replace=False)
    noise = rng.rand(len(idx), X.shape[1])
    corrupted[idx] = np.where(rng.rand(*noise.shape) < 0.3, noise, X[idx])
    is_corrupted = np.isin(np.arange(len(X)), idx)

    inliers, others = X[y < 5], X[y >= 5]
    picked = others[rng.choice(len(others), size=len(inliers) // 20, replace=False)]
    yield "5% corrupted images", corrupted, is_corrupted
    yield (
        "digits 0-4, plus 5% of 5-9",
        np.vstack([inliers, picked]),
        np.r_[np.zeros(len(inliers), bool), np.ones(len(picked), bool)],
    )


def _outlier_rows(X, y, random_state):
    rows = []
    for task, X_task, is_outlier in _outlier_tasks(X, y, random_state):
        for name, model in [
            ("IsolationForest", IsolationForest(random_state=random_state)),
            (
                "AutoencoderOutlierDetector",
                AutoencoderOutlierDetector(
                    8, contamination=0.05, random_state=random_state
                ),
            ),
        ]:
            _, seconds = _timed(lambda model=model, X_task=X_task: model.fit(X_task))
            auc = roc_auc_score(is_outlier, -model.score_samples(X_task))
            rows.append((task, name, auc, seconds))
    return rows


def demo(n_components=8, random_state=0, out=None):
    """Fit both estimators on the digits data and print what they achieve.

    Parameters
    ----------
    n_components : int, default=8
        Code size of the autoencoder and number of PCA components.
    random_state : int, default=0
        Seed of the split, the planted outliers and the models.
    out : file-like, default=None
        Where the report goes; ``None`` means ``sys.stdout`` at call time.
    """
    out = sys.stdout if out is None else out
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    print(
        f"skae {__version__} demo on scikit-learn's digits "
        "(1797 images, 8x8, scaled to [0, 1])",
        file=out,
    )
    with warnings.catch_warnings():
        # The demo runs each model once at its defaults; a model stopped by
        # max_iter is still a fair result to show.
        warnings.simplefilter("ignore", ConvergenceWarning)
        reduction = _reduction_rows(X, n_components, random_state)
        outliers = _outlier_rows(X, y, random_state)
    print(
        f"\nDimensionality reduction to {n_components} components "
        "(test reconstruction MSE, lower is better)",
        file=out,
    )
    for name, mse, seconds in reduction:
        print(f"  {name:<28} MSE {mse:.4f}   fit {seconds:5.1f} s", file=out)
    print(
        "\nOutlier detection (ROC-AUC on the training data, higher is better)", file=out
    )
    for task, name, auc, seconds in outliers:
        print(
            f"  {task:<28} {name:<28} ROC-AUC {auc:.3f}   fit {seconds:5.1f} s",
            file=out,
        )


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


def _skae_estimator(model, path):
    """The skae estimator of a loaded model, bare or last in a Pipeline."""
    estimator = model[-1] if isinstance(model, Pipeline) else model
    if not isinstance(estimator, AutoencoderTransformer | AutoencoderOutlierDetector):
        raise CommandError(
            f"{path}: holds a {type(estimator).__name__}, not a skae model"
        )
    return estimator


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
    model_dir = Path(args.model).resolve().parent
    if not model_dir.is_dir():
        # Fail now, not after a long training.
        raise CommandError(f"{args.model}: folder {model_dir} does not exist")
    frame = read_table(args.data)
    kind = AutoencoderOutlierDetector if args.outlier else AutoencoderTransformer
    estimator = kind(**params, verbose=int(args.verbose))
    scaler = _scaler(args.scale, estimator.loss)
    model = estimator if scaler is None else make_pipeline(scaler, estimator)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        try:
            _, seconds = _timed(lambda: model.fit(frame))
        except ValueError as exc:
            raise CommandError(str(exc)) from None
    save_model(model, args.model)
    print(
        f"Trained {kind.__name__} on {frame.shape[0]} rows x {frame.shape[1]} "
        f"columns: {estimator.n_iter_} epochs in {seconds:.1f} s, final training "
        f"loss {estimator.loss_curve_[-1]:.4g}."
    )
    if any(issubclass(w.category, ConvergenceWarning) for w in caught):
        print(
            f"Note: training stopped at max_iter={estimator.max_iter} epochs while "
            "the loss was still improving; a larger --max-iter may fit better."
        )
    if args.outlier:
        print(
            f"{estimator.labels_.sum()} of {frame.shape[0]} training rows are "
            f"flagged as outliers (contamination={estimator.contamination!r})."
        )
    print(f"Saved to {args.model}.")


def _transform_command(args):
    model = load_model(args.model)
    estimator = _skae_estimator(model, args.model)
    if not isinstance(estimator, AutoencoderTransformer):
        raise CommandError(
            f"{args.model}: an {type(estimator).__name__} has no codes to "
            "output; fit without --outlier for transform, or use skae score"
        )
    frame = _read_for(model, args.data)
    codes = model.transform(frame)
    columns = model.get_feature_names_out()
    write_table(codes, args.output, columns=columns, index=frame.index)


def _score_command(args):
    model = load_model(args.model)
    estimator = _skae_estimator(model, args.model)
    frame = _read_for(model, args.data)
    out = {"score": model.score_samples(frame)}
    if isinstance(estimator, AutoencoderOutlierDetector):
        out["label"] = model.predict(frame)
    write_table(out, args.output, index=frame.index)


def _info_command(args):
    model = load_model(args.model)
    estimator = _skae_estimator(model, args.model)
    steps = [type(step).__name__ for step in model] if model is not estimator else []
    print(f"{args.model}: {type(estimator).__name__}")
    if steps:
        print(f"  pipeline: {' -> '.join(steps)}")
    names = getattr(model, "feature_names_in_", None)
    shown = ", ".join(names) if names is not None else "(fitted without names)"
    print(f"  features ({model.n_features_in_}): {shown}")
    print("parameters:")
    for key, value in estimator.get_params().items():
        print(f"  {key} = {value!r}")
    print("training:")
    print(f"  epochs: {estimator.n_iter_}")
    print(f"  final training loss: {estimator.loss_curve_[-1]:.6g}")
    if estimator.validation_scores_ is not None:
        print(f"  best validation score: {max(estimator.validation_scores_):.6g}")
    print(f"  device: {estimator.net_.device}")
    if isinstance(estimator, AutoencoderOutlierDetector):
        print(f"  offset_ (threshold on score_samples): {estimator.offset_:.6g}")
        print(
            f"  training rows flagged as outliers: {estimator.labels_.sum()} of "
            f"{len(estimator.labels_)}"
        )


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
        epilog="Run 'skae COMMAND --help' for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"skae {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo_parser = _add_command(
        commands,
        "demo",
        lambda args: demo(args.n_components, args.random_state),
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
        "Encode each row of DATA with a model from skae fit (without --outlier) "
        "and write the codes, one column per component named "
        "autoencodertransformer0, autoencodertransformer1, ...",
        "example:\n  skae transform data.csv --model model.skops --output codes.csv",
    )
    score = _add_command(
        commands,
        "score",
        _score_command,
        "write each row's outlier score and label",
        "Score each row of DATA with a model from skae fit. Column 'score' is "
        "minus the reconstruction error (score_samples: lower is more "
        "abnormal); with an --outlier model, column 'label' is -1 for outliers "
        "and +1 for inliers (predict).",
        "example:\n  skae score data.csv --model detector.skops --output scores.csv",
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

    Parameters
    ----------
    argv : list of str, default=None
        The arguments, without the program name; None reads ``sys.argv``.

    Returns
    -------
    status : int
        0 on success, 1 when a command fails on its input; argparse exits
        with 2 on a usage error.
    """
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except CommandError as exc:
        print(f"skae {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader of standard output left early (skae score ... | head).
        # Point stdout at devnull so Python's exit flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0
