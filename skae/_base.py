"""Shared base of the skae estimators: parameters, fitting, batched inference."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._losses import LOSSES
from ._modules import ACTIVATIONS
from ._training import (
    INFERENCE_BATCH_SIZE,
    OPTIMIZERS,
    host_buffer,
    make_net,
    move_batch,
    resolve_device,
    synchronize,
    to_tensor,
    train,
)

__all__ = ["Interval", "StrOptions", "fill_doc"]

_DOC_FRAGMENTS = {
    "model_parameters": """n_components : int, default=2
        Size of the code (the bottleneck), as in
        :class:`~sklearn.decomposition.PCA`.

    hidden_layer_sizes : tuple of int, default=(128, 64)
        Widths of the encoder's hidden layers; the decoder mirrors them. The
        network is ``n_features -> *hidden_layer_sizes -> n_components`` and
        back. An empty tuple gives a single linear layer each way.

    activation : {"relu", "tanh", "sigmoid", "elu", "gelu", "leaky_relu", \
"selu", "identity"}, default="relu"
        Activation after every hidden layer. The code layer stays linear.

    output_activation : {"auto", "relu", "tanh", "sigmoid", "elu", "gelu", \
"leaky_relu", "selu", "identity"}, default="auto"
        Activation of the reconstruction. ``"auto"`` is ``"sigmoid"`` with
        ``loss="bce"`` and ``"identity"`` otherwise.

    loss : {"mse", "bce", "l1", "huber"}, default="mse"
        Reconstruction loss, averaged over features. It is both the training
        objective and the per-sample error behind ``score_samples``. Use
        ``"bce"`` (binary cross-entropy) only for data in [0, 1], such as
        pixel intensities; ``"l1"`` and ``"huber"`` are less sensitive to a
        few large errors than ``"mse"``.

    optimizer : {"adam", "adamw", "sgd", "rmsprop"}, default="adam"
        Torch optimizer. ``"sgd"`` uses Nesterov momentum 0.9.

    learning_rate_init : float, default=1e-3
        Learning rate (skorch's ``lr``).

    alpha : float, default=0.0
        L2 penalty, passed to the optimizer as ``weight_decay``.

    batch_size : int, default=256
        Rows per training mini-batch. Inference uses larger batches of
        2048 rows, chosen for throughput.

    max_iter : int, default=200
        Maximum number of epochs (skorch's ``max_epochs``).

    tol : float, default=1e-4
        Smallest decrease of the monitored loss that counts as an
        improvement.

    n_iter_no_change : int, default=10
        Training stops when the monitored loss has not improved by ``tol``
        for this many epochs in a row. The monitored loss is the training
        loss, or the validation loss when ``early_stopping=True``.

    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data, monitor the
        loss on it, and restore the weights of the best epoch at the end.

    validation_fraction : float, default=0.1
        Share of the training data held out when ``early_stopping=True``.

    device : str, default="auto"
        Torch device to train and infer on: ``"auto"`` (CUDA when available,
        else the CPU), ``"cpu"``, ``"cuda"`` or ``"cuda:<index>"``. A model
        trained on a GPU unpickles on a machine without one, on the CPU.

    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling and the validation split.
        Pass an int for reproducible results on the CPU. Torch's and
        NumPy's global random states are left unchanged.

    verbose : int, default=0
        ``0`` prints nothing; ``1`` or more prints one line per epoch with
        the training loss, the validation loss and the epoch's duration.

    warm_start : bool, default=False
        When True, ``fit`` continues training the network of the previous
        call instead of starting from new weights.""",
    "fitted_attributes": """net_ : skorch.NeuralNet
        The trained skorch net. ``net_.module_`` is the torch module and
        ``net_.history`` the per-epoch training record.

    n_iter_ : int
        Number of epochs trained, over all ``fit`` and ``partial_fit``
        calls since the network was created.

    loss_curve_ : list of float
        Training loss at each epoch.

    validation_scores_ : list of float or None
        Minus the validation loss at each epoch (higher is better, as
        ``score``) when ``early_stopping=True``, else None.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.""",
}


def fill_doc(cls):
    """Insert the shared parameter and attribute docs into a docstring.

    The docstrings of both estimators hold ``%(model_parameters)s`` and
    ``%(fitted_attributes)s``, so each parameter is documented once.
    """
    cls.__doc__ = cls.__doc__ % _DOC_FRAGMENTS
    return cls


def _draw_seed(random_state):
    """A torch seed from ``random_state`` that leaves NumPy's global state be."""
    if random_state is None:
        # check_random_state(None) would draw from, and advance, np.random's
        # global generator; a fresh Generator takes OS entropy instead.
        return int(np.random.default_rng().integers(2**31 - 1))
    return int(check_random_state(random_state).randint(2**31 - 1))


class _BaseAutoencoder(BaseEstimator):
    """Fitting and batched inference shared by the skae estimators.

    Subclasses add the public API of their kind (transformer or outlier
    detector) and may override :meth:`_after_fit` to compute what depends on
    the training data once the network is trained.
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": ["array-like"],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "output_activation": [StrOptions({"auto", *ACTIVATIONS})],
        "loss": [StrOptions(set(LOSSES))],
        "optimizer": [StrOptions(set(OPTIMIZERS))],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
    }

    def __init__(
        self,
        n_components=2,
        *,
        hidden_layer_sizes=(128, 64),
        activation="relu",
        output_activation="auto",
        loss="mse",
        optimizer="adam",
        learning_rate_init=1e-3,
        alpha=0.0,
        batch_size=256,
        max_iter=200,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        device="auto",
        random_state=None,
        verbose=0,
        warm_start=False,
    ):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.output_activation = output_activation
        self.loss = loss
        self.optimizer = optimizer
        self.learning_rate_init = learning_rate_init
        self.alpha = alpha
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the autoencoder on X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data. Scale it first (for example with
            :class:`~sklearn.preprocessing.StandardScaler`, or
            :class:`~sklearn.preprocessing.MinMaxScaler` for ``loss="bce"``).
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Train the autoencoder for one more epoch on X.

        The first call builds the network; later calls continue training it
        with the same optimizer state, so a model can be trained on data
        that arrives in chunks. ``early_stopping`` and ``max_iter`` do not
        apply.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The estimator, trained for one more epoch.
        """
        return self._fit(X, incremental=True)

    def score_samples(self, X):
        """Minus the reconstruction error of each sample.

        The error is the estimator's ``loss`` averaged over features, so
        higher scores mean better reconstructed, more typical samples.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Minus the per-sample reconstruction error, in X's float dtype.
        """
        X = self._validate_fitted_input(X)
        self._check_loss_domain(X)
        return -self._reconstruction_error(X)

    def _fit(self, X, incremental):
        continuing = hasattr(self, "net_") and (incremental or self.warm_start)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=not continuing)
        self._check_loss_domain(X)
        sizes = list(self.hidden_layer_sizes)
        if not all(isinstance(size, Integral) and size >= 1 for size in sizes):
            raise ValueError(
                "hidden_layer_sizes must hold positive integers, got "
                f"{self.hidden_layer_sizes!r}."
            )
        if continuing:
            net = self.net_
            net.set_params(
                lr=self.learning_rate_init,
                batch_size=self.batch_size,
                verbose=self.verbose,
            )
        else:
            net = make_net(
                self.get_params(),
                X.shape[1],
                resolve_device(self.device),
                _draw_seed(self.random_state),
            )
        epochs = 1 if incremental else self.max_iter
        validation = self.validation_fraction if self.early_stopping else None
        n_run, stopped = train(
            net, to_tensor(X), epochs, None if incremental else validation
        )
        if not (incremental or stopped) and n_run == epochs:
            warnings.warn(
                f"Maximum iterations ({self.max_iter}) reached and the "
                "optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=3,
            )
        self.net_ = net
        self.n_iter_ = len(net.history)
        self.loss_curve_ = [row["train_loss"] for row in net.history]
        valid = [-row["valid_loss"] for row in net.history if "valid_loss" in row]
        self.validation_scores_ = valid if self.early_stopping else None
        self._after_fit(X)
        return self

    def _after_fit(self, X):
        """Hook for what depends on the training data and trained network."""

    def _validate_fitted_input(self, X):
        check_is_fitted(self)
        # reset=False: check the feature count and names against fit's.
        return validate_data(self, X, dtype=[np.float64, np.float32], reset=False)

    def _check_loss_domain(self, X):
        if self.loss == "bce" and (X.min() < 0 or X.max() > 1):
            raise ValueError(
                "loss='bce' (binary cross-entropy) needs data in [0, 1], but X "
                f"ranges over [{X.min():.4g}, {X.max():.4g}]. Scale it with "
                "sklearn.preprocessing.MinMaxScaler or use loss='mse'."
            )

    def _map_batches(self, X, fn):
        """Apply ``fn`` to X in inference batches; gather rows in X's dtype."""
        net = self.net_
        net.module_.eval()
        device = torch.device(net.device)
        out = None
        with torch.inference_mode():
            for start in range(0, X.shape[0], INFERENCE_BATCH_SIZE):
                stop = start + INFERENCE_BATCH_SIZE
                result = fn(move_batch(to_tensor(X[start:stop]), device))
                if out is None:
                    shape = (X.shape[0], *result.shape[1:])
                    out, out_tensor = host_buffer(shape, X.dtype, device)
                # From CUDA this copy is queued, not waited for: the host
                # syncs once below instead of once per batch.
                out_tensor[start:stop].copy_(result, non_blocking=True)
        synchronize(device)
        return out

    def _encode(self, X):
        return self._map_batches(X, self.net_.module_.encode)

    def _decode(self, Z):
        return self._map_batches(Z, self.net_.module_.decode)

    def _reconstruction_error(self, X):
        module, criterion = self.net_.module_, self.net_.criterion_
        return self._map_batches(
            X, lambda x: criterion.per_sample(module.decode(module.encode(x)), x)
        )
