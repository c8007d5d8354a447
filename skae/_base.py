"""Shared base of the skae estimators: parameters, fitting, batched inference."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state, check_scalar
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, validate_data
from torch import nn

from ._losses import LOSSES
from ._modules import ACTIVATIONS
from ._persistence import net_from_state, net_to_state
from ._training import (
    INFERENCE_BATCH_SIZE,
    NOISES,
    OPTIMIZERS,
    host_buffer,
    make_net,
    move_batch,
    resolve_device,
    synchronize,
    to_tensor,
    train,
)
from ._version import __version__

__all__ = ["Interval", "StrOptions", "fill_doc"]

_DOC_FRAGMENTS = {
    "family": """``sparsity``, ``noise`` and ``variational`` turn the plain
    autoencoder into the other members of the textbook family: sparse,
    denoising and variational autoencoders; ``module`` takes a network of
    your own, such as a convolutional one. The user guide's "Which
    autoencoder?" page compares them.""",
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

    dropout : float in [0, 1), default=0.0
        Probability of zeroing each hidden unit (not the code) during
        training, to regularise wide networks. Inference never drops.

    batch_norm : bool, default=False
        Batch-normalise every hidden layer before its activation, which can
        speed up the training of deep networks. Needs at least 2 training
        samples; at inference the statistics of the training data are used.

    loss : {"mse", "bce", "l1", "huber"}, default="mse"
        Reconstruction loss, averaged over features. It is both the training
        objective and the per-sample error behind ``score_samples``.
        ``"bce"`` (binary cross-entropy) is the loss for data in [0, 1],
        such as pixel intensities scaled by
        :class:`~sklearn.preprocessing.MinMaxScaler`: it reads each feature
        as the probability of a pixel being on, its gradient does not fade
        near 0 and 1 as that of ``"mse"`` through a sigmoid does, and with
        ``variational=True`` it makes ``score_samples`` the ELBO of a
        Bernoulli decoder. It raises for data outside [0, 1]. ``"l1"`` and
        ``"huber"`` are less sensitive to a few large errors than ``"mse"``.

    sparsity : float, default=0.0
        Weight of an L1 penalty on the codes, which makes a *sparse
        autoencoder* (the idea of Keras' ``activity_regularizer``): each
        sample's loss gains ``sparsity * sum(abs(code)) / n_features``, so
        that few code units are active for any one sample. Typical values
        lie between 1e-3 and 1e-1; it is most useful with a wide code. Pair
        it with a small ``alpha`` (say 1e-3): without weight decay the
        decoder can grow its weights, and the penalty then mostly shrinks
        the scale of the codes instead of zeroing entries. Not combinable
        with ``variational=True``, whose KL term already regularises the
        codes.

    noise : {"gaussian", "masking"} or None, default=None
        Corrupt the training inputs but not the targets, which makes a
        *denoising autoencoder*: it learns to map corrupted samples back to
        clean ones, and so features that survive corruption. ``"gaussian"``
        adds noise of standard deviation ``noise_level`` to every entry;
        ``"masking"`` sets each entry to 0 with probability
        ``noise_level``. The noise is drawn anew for every batch, on the
        training device, and seeded by ``random_state``. ``transform``,
        ``inverse_transform`` and the scores never add noise.

    noise_level : float, default=0.1
        Standard deviation of the Gaussian noise, in the units of the
        (scaled) data, or the probability of masking an entry, below 1.
        Ignored when ``noise=None``.

    variational : bool, default=False
        Train a *variational autoencoder* (VAE): the encoder gives the mean
        and log-variance of a Gaussian posterior ``q(z | x)``, the decoder
        reconstructs from a draw of it (the reparameterisation trick), and
        the loss adds ``beta`` times the KL divergence of ``q(z | x)`` from
        the standard normal prior. ``transform`` returns the posterior
        mean, ``score_samples`` minus the negative ELBO, and ``sample``
        draws new data.

    beta : float, default=1.0
        Weight of the KL term when ``variational=True``; ``beta > 1`` (a
        beta-VAE) gives codes closer to the prior at the cost of blurrier
        reconstructions. The KL, summed over the latent dimensions, is
        divided by ``n_features``, as the reconstruction loss is averaged
        over features: with ``beta=1`` the training loss is the negative
        ELBO per feature, and its scale does not change with the width of
        the data. Ignored when ``variational=False``.

    module : torch.nn.Module subclass or None, default=None
        A network class of your own, used instead of the fully connected
        one (for example a convolutional autoencoder for images). It must
        define ``encode(x)``, returning codes of shape
        ``(n_samples, n_codes)``, and ``decode(z)``, returning
        reconstructions of ``x``'s shape ``(n_samples, n_features)``; with
        ``variational=True`` also ``encode_distribution(x)``, returning the
        posterior mean and log-variance, with ``encode`` returning the mean.
        It is built at ``fit`` with the keyword arguments ``n_features``
        and ``n_components`` where its constructor accepts them, and with
        ``module_params``. ``hidden_layer_sizes``, ``activation`` and
        ``output_activation`` do not apply to it (with ``loss="bce"`` its
        output must lie in [0, 1]); ``dropout`` and ``batch_norm`` must keep
        their defaults.

    module_params : dict or None, default=None
        Further keyword arguments of ``module``'s constructor, as
        ``kernel_params`` are for the kernel of
        :class:`~sklearn.decomposition.KernelPCA`. Each entry is also
        exposed as a parameter ``module__<name>``, as skorch names them:
        ``set_params(module__channels=8)`` updates ``module_params``, so
        ``GridSearchCV`` can search ``{"module__channels": [8, 16]}``.

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

    n_components_ : int
        Width of the codes: ``n_components``, or what the ``encode`` method
        of a custom ``module`` returns.

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

    The docstrings of both estimators hold ``%(family)s``,
    ``%(model_parameters)s`` and ``%(fitted_attributes)s``, so each
    parameter is documented once.
    """
    cls.__doc__ = cls.__doc__ % _DOC_FRAGMENTS
    return cls


def _check_variational(estimator):
    """``available_if`` condition of the methods only a VAE has."""
    if not estimator.variational:
        raise AttributeError(
            "This method needs variational=True: a plain autoencoder has no "
            "prior to draw codes from."
        )
    return True


def _draw_seed(random_state):
    """A torch seed from ``random_state`` that leaves NumPy's global state be."""
    if random_state is None:
        # check_random_state(None) would draw from, and advance, np.random's
        # global generator; a fresh Generator takes OS entropy instead.
        return int(np.random.default_rng().integers(2**31 - 1))
    return int(check_random_state(random_state).randint(2**31 - 1))


def _check_float32_range(X):
    """Reject finite float64 values that float32, torch's dtype, makes inf."""
    limit = np.finfo(np.float32).max
    largest = abs(X).max() if X.dtype == np.float64 and X.size else 0
    if largest > limit:
        raise ValueError(
            f"X has values of magnitude up to {largest:.3g}, beyond "
            f"float32's range ({limit:.3g}) in which the network computes. "
            "Scale the data, for example with sklearn.preprocessing.StandardScaler."
        )


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
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "batch_norm": ["boolean"],
        "loss": [StrOptions(set(LOSSES))],
        "sparsity": [Interval(Real, 0, None, closed="left")],
        "noise": [None, StrOptions(set(NOISES))],
        "noise_level": [Interval(Real, 0, None, closed="left")],
        "variational": ["boolean"],
        "beta": [Interval(Real, 0, None, closed="left")],
        "module": [None, type],
        "module_params": [None, dict],
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
        dropout=0.0,
        batch_norm=False,
        loss="mse",
        sparsity=0.0,
        noise=None,
        noise_level=0.1,
        variational=False,
        beta=1.0,
        module=None,
        module_params=None,
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
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.loss = loss
        self.sparsity = sparsity
        self.noise = noise
        self.noise_level = noise_level
        self.variational = variational
        self.beta = beta
        self.module = module
        self.module_params = module_params
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

        With ``variational=True`` the score is minus the negative ELBO per
        feature: the loss of reconstructing the sample from its posterior
        mean, plus the KL divergence of its posterior from the prior
        divided by ``n_features``. Decoding the mean, one point instead of
        the ELBO's expectation over ``q(z | x)``, makes the scores
        deterministic. The KL enters with weight 1 whatever ``beta``, so
        the scores of models trained with different ``beta`` compare.

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

    @available_if(_check_variational)
    def sample(self, n_samples=1, random_state=None):
        """Generate new samples: decode codes drawn from the prior.

        Only with ``variational=True``, whose training pulls the codes of
        the data toward the standard normal prior, so that decoded prior
        draws look like the data. Both estimators have it: a VAE is a
        density model, like :class:`~sklearn.neighbors.KernelDensity` and
        :class:`~sklearn.mixture.GaussianMixture`, which have ``sample``
        too, whichever API it is used through.

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples to generate.
        random_state : int, RandomState instance or None, default=None
            Seeds the codes. None takes fresh entropy from the operating
            system and leaves NumPy's global random state unchanged.

        Returns
        -------
        X : ndarray of shape (n_samples, `n_features_in_`)
            The decoder's outputs (the mean of ``p(x | z)``, with no
            observation noise added), in the float dtype of the training
            data.

        Examples
        --------
        >>> from sklearn.datasets import load_digits
        >>> from skae import AutoencoderTransformer
        >>> X = load_digits().data / 16.0
        >>> vae = AutoencoderTransformer(
        ...     4, variational=True, loss="bce", max_iter=5, random_state=0
        ... ).fit(X)
        >>> vae.sample(3, random_state=0).shape
        (3, 64)
        """
        check_is_fitted(self)
        check_scalar(n_samples, "n_samples", Integral, min_val=1)
        rng = (
            np.random.default_rng()
            if random_state is None
            else check_random_state(random_state)
        )
        codes = rng.standard_normal((n_samples, self.n_components_))
        return self._decode(codes.astype(self._training_dtype))

    def get_params(self, deep=True):
        """Get parameters for this estimator.

        Parameters
        ----------
        deep : bool, default=True
            If True, also list ``module__<name>`` for each entry of
            ``module_params``.

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        params = super().get_params(deep=deep)
        # What set_params accepts, get_params(deep=True) lists. An invalid
        # module_params is left for fit to report: get_params must not raise.
        if deep and isinstance(self.module_params, dict):
            for name, value in self.module_params.items():
                params[f"module__{name}"] = value
        return params

    def set_params(self, **params):
        """Set the parameters of this estimator.

        ``module__<name>=value`` sets the entry ``name`` of
        ``module_params``, as skorch spells the arguments of its module.

        Parameters
        ----------
        **params : dict
            Estimator parameters.

        Returns
        -------
        self : object
            The estimator.
        """
        entries = {
            key.removeprefix("module__"): params.pop(key)
            for key in list(params)
            if key.startswith("module__")
        }
        if entries:
            # A new dict: the old one may be shared with a clone's.
            given = params.get("module_params", self.module_params) or {}
            params["module_params"] = {**given, **entries}
        return super().set_params(**params)

    def _fit(self, X, incremental):
        continuing = hasattr(self, "net_") and (incremental or self.warm_start)
        X = validate_data(
            self,
            X,
            accept_sparse=("csr", "csc"),
            dtype=[np.float64, np.float32],
            reset=not continuing,
        )
        _check_float32_range(X)
        self._check_loss_domain(X)
        sizes = list(self.hidden_layer_sizes)
        if not all(isinstance(size, Integral) and size >= 1 for size in sizes):
            raise ValueError(
                "hidden_layer_sizes must hold positive integers, got "
                f"{self.hidden_layer_sizes!r}."
            )
        self._check_variant(n_samples=X.shape[0])
        if continuing:
            net = self.net_
            net.set_params(
                lr=self.learning_rate_init,
                batch_size=self.batch_size,
                verbose=self.verbose,
                noise=self.noise,
                noise_level=self.noise_level,
            )
        else:
            net = self._make_net(
                X, resolve_device(self.device), _draw_seed(self.random_state)
            )
        epochs = 1 if incremental else self.max_iter
        validation = self.validation_fraction if self.early_stopping else None
        n_run, stopped = train(
            net,
            # Row batches of sparse data are sliced from CSR and densified
            # one at a time; the whole matrix never is.
            X.tocsr() if sp.issparse(X) else to_tensor(X),
            epochs,
            None if incremental else validation,
        )
        if not (incremental or stopped) and n_run == epochs:
            warnings.warn(
                f"Maximum iterations ({self.max_iter}) reached and the "
                "optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=3,
            )
        self.net_ = net
        # Encoding one row gives the code width of any module, custom or not.
        self.n_components_ = self._encode(X[:1]).shape[1]
        # The dtype's name, not a numpy.dtype: skops.io loads strings
        # without asking the user to trust numpy.dtype.
        self._training_dtype = X.dtype.name
        self.n_iter_ = len(net.history)
        self.loss_curve_ = [row["train_loss"] for row in net.history]
        valid = [-row["valid_loss"] for row in net.history if "valid_loss" in row]
        self.validation_scores_ = valid if self.early_stopping else None
        self._after_fit(X)
        return self

    def _make_net(self, X, device, seed):
        """Hook that builds the untrained net for training data ``X``.

        Subclasses override it to resolve data-dependent parameters (into
        fitted attributes, never into the parameters) or to swap parts of
        the net before it is initialised.
        """
        return make_net(self.get_params(), X.shape[1], device, seed)

    def _after_fit(self, X):
        """Hook for what depends on the training data and trained network."""

    def _check_variant(self, n_samples):
        """Raise ValueError for parameter combinations that make no sense."""
        if self.noise == "masking" and self.noise_level >= 1:
            raise ValueError(
                "noise='masking' sets each input entry to 0 with probability "
                f"noise_level, which must be below 1; got {self.noise_level}."
            )
        if self.variational and self.sparsity:
            raise ValueError(
                "sparsity does not combine with variational=True: the KL term "
                "already pulls the codes toward the prior (tune beta instead). "
                "Set sparsity=0 or variational=False."
            )
        if self.batch_norm and n_samples < 2:
            raise ValueError(
                "batch_norm=True needs at least 2 training samples to compute "
                "batch statistics, got 1 sample."
            )
        if self.module is None:
            if self.module_params:
                raise ValueError(
                    "module_params go to the constructor of a custom module, "
                    "but module=None: the built-in network takes its settings "
                    "from the estimator's parameters."
                )
            return
        self._check_custom_module()

    def _check_custom_module(self):
        """Check the parameters that go with a custom ``module`` class.

        Its methods are checked on the built network, by ``train``.
        """
        module = self.module
        if not issubclass(module, nn.Module):
            raise ValueError(
                "module must be a torch.nn.Module subclass (the class itself, "
                f"not an instance); got {module!r}."
            )
        if self.dropout or self.batch_norm:
            raise ValueError(
                "dropout and batch_norm configure the built-in network; build "
                f"them into {module.__name__} instead (its settings go in "
                "module_params)."
            )
        reserved = sorted(
            {"n_features", "n_components"} & set(self.module_params or {})
        )
        if reserved:
            raise ValueError(
                f"module_params must not set {', '.join(reserved)}: n_features "
                "comes from the data and n_components from the estimator."
            )

    def _validate_fitted_input(self, X):
        check_is_fitted(self)
        # reset=False: check the feature count and names against fit's.
        X = validate_data(
            self,
            X,
            accept_sparse=("csr", "csc"),
            dtype=[np.float64, np.float32],
            reset=False,
        )
        _check_float32_range(X)
        return X

    def _check_loss_domain(self, X):
        if self.loss == "bce" and (X.min() < 0 or X.max() > 1):
            raise ValueError(
                "loss='bce' (binary cross-entropy) needs data in [0, 1], but X "
                f"ranges over [{X.min():.4g}, {X.max():.4g}]. Scale it with "
                "sklearn.preprocessing.MinMaxScaler or use loss='mse'."
            )

    def _batches(self, X):
        """Yield ``(rows, x)``: X's inference batches on the net's device.

        The module is in evaluation mode and autograd is off while the
        caller handles each batch.
        """
        net = self.net_
        net.module_.eval()
        device = torch.device(net.device)
        if sp.issparse(X):
            X = X.tocsr()  # row slices of CSC would scan every column
        # Wide data gets fewer rows per batch, so that one batch of input
        # stays within about 4 MiB of float32 whatever the feature count.
        step = max(1, min(INFERENCE_BATCH_SIZE, 2**20 // max(X.shape[1], 1)))
        with torch.inference_mode():
            for start in range(0, X.shape[0], step):
                rows = slice(start, start + step)
                yield rows, move_batch(to_tensor(X[rows]), device)

    def _map_batches(self, X, fn):
        """Apply ``fn`` to X in inference batches; gather rows in X's dtype."""
        out = None
        for rows, x in self._batches(X):
            result = fn(x)
            if out is None:
                shape = (X.shape[0], *result.shape[1:])
                out, out_tensor = host_buffer(shape, X.dtype, x.device)
            # From CUDA this copy is queued, not waited for: the host syncs
            # once below instead of once per batch.
            out_tensor[rows].copy_(result, non_blocking=True)
        synchronize(torch.device(self.net_.device))
        return out

    def _encode(self, X):
        return self._map_batches(X, self.net_.module_.encode)

    def _decode(self, Z):
        return self._map_batches(Z, self.net_.module_.decode)

    def _reconstruction_error(self, X):
        """Per-sample error behind ``score_samples``; a VAE's negative ELBO."""
        return self._map_batches(X, self.net_.per_sample_loss)

    def __getstate__(self):
        # A new dict: object.__getstate__ returns the instance's own
        # __dict__, which must not gain the saved-state entries.
        state = {**super().__getstate__(), "_skae_version": __version__}
        if "net_" in state:
            # skorch pickles its torch objects as a pickle nested in the
            # net's state, which skops.io cannot audit. Plain data
            # (parameters, NumPy arrays) keeps secure loading possible, and
            # serves pickle as well.
            state["net_"] = net_to_state(state["net_"])
        return state

    def __setstate__(self, state):
        state = dict(state)
        saved = state.pop("_skae_version", "unknown (older than 0.1.0)")
        if saved != __version__:
            # Fitted state (the net's layout, private attributes) may change
            # between releases; say which two versions meet.
            warnings.warn(
                f"This {type(self).__name__} was saved with skae {saved} and "
                f"is loaded with skae {__version__}; it may not work or give "
                f"different results. Refit it, or load it with skae {saved}.",
                UserWarning,
                stacklevel=2,
            )
        net_state = state.pop("net_", None)
        super().__setstate__(state)
        if net_state is not None:
            # make_net supplies the net's classes and callbacks from this
            # estimator's parameters; the architecture, device and seed it
            # is given are then replaced by the saved ones.
            net = make_net(self.get_params(), self.n_features_in_, "cpu", 0)
            self.net_ = net_from_state(net_state, net)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
