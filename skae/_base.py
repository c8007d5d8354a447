"""The shared estimator: parameters, the fit driver, scoring and saving."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state, check_scalar

# The one module importing scikit-learn's private helpers; _outlier.py takes
# Interval and StrOptions from here.
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ._device import inference_batches, map_batches, resolve_device, to_tensor
from ._losses import LOSSES
from ._modules import ACTIVATIONS
from ._persistence import net_from_state, net_to_state
from ._training import (
    NOISES,
    OPTIMIZERS,
    build_net,
    draw_seed,
    net_spec,
    train,
    trained_state,
)
from ._validation import check_combinations, check_float32_range, check_loss_domain
from ._version import __version__

__all__ = []

#: Prefix of the parameters passed to a custom module, as skorch spells them.
_MODULE_PREFIX = "module__"


def _check_variational(estimator):
    """``available_if`` condition of the methods only a VAE has."""
    if not estimator.variational:
        raise AttributeError(
            "This method needs variational=True: a plain autoencoder has no "
            "prior to draw codes from."
        )
    return True


def _layers(spec):
    """What in a net spec defines the network's layers, by name."""
    ensemble = spec["ensemble"] or {}
    return {
        "module": spec["module"],
        **spec["module_kwargs"],
        "variational": spec["variational"],
        "n_estimators": ensemble.get("n_members"),
    }


class _BaseAutoencoder(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """Fitting, encoding, scoring and saving shared by the skae estimators.

    Both estimators encode (``transform``, ``inverse_transform``, feature
    names ``<classname>0``, ...), so one fitted detector also reduces
    dimensions. Subclasses add the rest of the public API of their kind
    (transformer or outlier detector) and may extend these hooks:
    :meth:`_n_components`, :meth:`_criterion_params` and :meth:`_ensemble`
    resolve parameters into the net spec, :meth:`_hold_out` keeps rows out
    of training, :meth:`_after_fit` computes what depends on the training
    data once the network is trained, and :meth:`_error_function` is the
    scoring rule behind ``score_samples``.
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": ["array-like"],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "output_activation": [StrOptions({"auto", *ACTIVATIONS})],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "batch_norm": ["boolean"],
        "loss": [StrOptions(set(LOSSES))],
        "sparsity": [Interval(Real, 0, 1, closed="left")],
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
        **module__kwargs,
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
        self._set_module_kwargs(module__kwargs)

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
        """Compute minus the reconstruction error of each sample.

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
            A row whose values overflow float32 inside the network scores
            ``-inf``, with a ``RuntimeWarning``: never NaN.
        """
        return -self._errors(self._validate_scoring_input(X))

    def transform(self, X):
        """Encode X: the code of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to encode.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features_out)
            The codes, in X's float dtype: ``n_components_`` columns, or, for
            a detector's ensemble, its networks' codes side by side
            (``n_estimators * n_components_`` columns).
        """
        return self._encode(self._validate_fitted_input(X))

    def inverse_transform(self, X):
        """Decode codes back to the input space.

        An ensemble decodes each network's codes with that network and
        averages the reconstructions.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_out)
            Codes, as returned by :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_samples, `n_features_in_`)
            The reconstructions, in the codes' float dtype.
        """
        check_is_fitted(self)
        Z = check_array(X, dtype=[np.float64, np.float32])
        if Z.shape[1] != self._n_features_out:
            raise ValueError(
                f"X has {Z.shape[1]} columns, but the codes of this "
                f"{type(self).__name__} have {self._n_features_out} "
                "(n_components_)."
            )
        return self._decode(Z)

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
        # An ensemble is a mixture of its members' models: each sample comes
        # from one member, drawn uniformly.
        members = rng.choice(self._n_members(), size=n_samples)
        return self._map_batches(
            np.column_stack([codes, members]).astype(self._training_dtype),
            lambda batch: self.net_.sample_rows(batch[:, :-1], batch[:, -1]),
        )

    def get_params(self, deep=True):
        """Get parameters for this estimator.

        Parameters
        ----------
        deep : bool, default=True
            Not used: the estimator holds no sub-estimators. Present for
            API consistency.

        Returns
        -------
        params : dict
            Parameter names mapped to their values, the ``module__<name>``
            arguments of a custom module included.
        """
        params = super().get_params(deep=deep)
        params.update(self._module_kwargs)
        return params

    def set_params(self, **params):
        """Set the parameters of this estimator.

        ``module__<name>=value`` sets an argument of a custom module's
        constructor, as skorch spells it.

        Parameters
        ----------
        **params : dict
            Estimator parameters.

        Returns
        -------
        self : object
            The estimator.
        """
        self._set_module_kwargs(
            {
                key: params.pop(key)
                for key in list(params)
                if key.startswith(_MODULE_PREFIX)
            }
        )
        return super().set_params(**params)

    def _set_module_kwargs(self, module_kwargs):
        # A private dict, not attributes: scikit-learn's checks allow no
        # public attribute beyond the signature's. A new dict each time, as
        # a clone's must not share it.
        for key in module_kwargs:
            if not key.startswith(_MODULE_PREFIX) or key == _MODULE_PREFIX:
                raise TypeError(
                    f"{type(self).__name__} got an unexpected keyword argument "
                    f"{key!r}; the only free-form arguments are "
                    "module__<name>, for the constructor of a custom module."
                )
        self._module_kwargs = {**getattr(self, "_module_kwargs", {}), **module_kwargs}

    def _params(self):
        """``get_params()``, with ``module__<name>`` merged into module_params."""
        params = self.get_params(deep=False)
        module_kwargs = {
            key.removeprefix(_MODULE_PREFIX): params.pop(key)
            for key in list(params)
            if key.startswith(_MODULE_PREFIX)
        }
        if module_kwargs:
            params["module_params"] = {
                **(params["module_params"] or {}),
                **module_kwargs,
            }
        return params

    def _fit(self, X, incremental):
        """Fit as a transaction: on any exception, the estimator is left as
        it was before the call, and the exception propagates."""
        before = dict(vars(self))
        try:
            return self._fit_once(X, incremental)
        except BaseException:
            vars(self).clear()
            vars(self).update(before)
            raise

    def _fit_once(self, X, incremental):
        continuing = hasattr(self, "net_") and (incremental or self.warm_start)
        X = validate_data(
            self,
            X,
            accept_sparse=("csr", "csc"),
            dtype=[np.float64, np.float32],
            reset=not continuing,
        )
        check_float32_range(X)
        params = self._params()
        check_loss_domain(X, params["loss"])
        check_combinations(params, n_samples=X.shape[0])
        seed = self._net_spec_["seed"] if continuing else draw_seed(self.random_state)
        spec = net_spec(
            params,
            n_features=X.shape[1],
            n_components=self._n_components(X.shape[1]),
            criterion=self._criterion_params(),
            device=resolve_device(self.device),
            seed=seed,
            ensemble=self._ensemble(),
        )
        state = None
        if continuing:
            self._check_architecture(spec)
            same_optimizer = spec["optimizer"] == self._net_spec_["optimizer"]
            state = trained_state(self.net_, keep_optimizer=same_optimizer)
        # A new net even when continuing, loaded with the trained state:
        # every fit builds its net from the current parameters in one way,
        # and the previous net stays intact should this fit fail.
        net = build_net(spec, state)
        n_seen = len(net.history)
        train_rows, held_out_rows = self._hold_out(
            X.shape[0], np.random.default_rng([seed, n_seen])
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
            rows=train_rows,
        )
        if not (incremental or stopped) and n_run == epochs:
            self._warn_max_iter()
        self.net_ = net
        self._net_spec_ = spec
        # Encoding one row gives the code width of any module, custom or not.
        self.n_components_ = self._encode(X[:1]).shape[1] // self._n_members()
        # The dtype's name, not a numpy.dtype: skops.io loads strings
        # without asking the user to trust numpy.dtype.
        self._training_dtype = X.dtype.name
        self.n_iter_ = len(net.history)
        self.loss_curve_ = [row["train_loss"] for row in net.history]
        valid = [-row["valid_loss"] for row in net.history if "valid_loss" in row]
        self.validation_scores_ = valid if self.early_stopping else None
        self._after_fit(X, train_rows, held_out_rows, incremental)
        return self

    def _warn_max_iter(self):
        warnings.warn(
            f"Maximum iterations ({self.max_iter}) reached and the "
            "optimization hasn't converged yet.",
            ConvergenceWarning,
            stacklevel=4,
        )

    def _check_architecture(self, spec):
        """Raise ValueError where a warm start would change the network."""
        before, after = _layers(self._net_spec_), _layers(spec)
        changed = [
            f"{name} ({before.get(name)!r} -> {after.get(name)!r})"
            for name in sorted(before.keys() | after.keys(), key=str)
            if before.get(name) != after.get(name)
        ]
        if changed:
            raise ValueError(
                "warm_start=True and partial_fit continue training the fitted "
                "network, but the parameters changed its layers: "
                f"{', '.join(changed)}. Restore them, or fit a new network "
                "(warm_start=False, or a clone of this estimator)."
            )

    def _n_components(self, n_features):
        """Code size of the built-in network, resolved for ``n_features``."""
        return self.n_components

    def _criterion_params(self):
        """Keyword arguments of the training criterion."""
        return {"loss": self.loss, "beta": self.beta}

    def _ensemble(self):
        """The ensemble part of the net spec; None trains one network."""
        return None

    def _n_members(self):
        ensemble = self._net_spec_["ensemble"]
        return 1 if ensemble is None else ensemble["n_members"]

    def _hold_out(self, n_rows, rng):
        """Indices of the rows to train on and of rows held out of training;
        None for all rows and for none."""
        return None, None

    def _after_fit(self, X, train_rows, held_out_rows, incremental):
        """Hook for what depends on the training data and trained network."""

    def _error_function(self):
        """A function from a batch to each row's error (``-score_samples``)."""
        return self.net_.per_sample_loss

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
        check_float32_range(X)
        return X

    def _validate_scoring_input(self, X):
        """:meth:`_validate_fitted_input`, and the fitted loss's domain."""
        X = self._validate_fitted_input(X)
        check_loss_domain(X, self._net_spec_["criterion"]["loss"])
        return X

    def _inference_batches(self, X):
        """X's inference batches on the net's device, the module in eval mode."""
        self.net_.module_.eval()
        return inference_batches(X, torch.device(self.net_.device))

    def _map_batches(self, X, fn, dtype=None):
        """Apply ``fn`` to X's inference batches, the module in eval mode."""
        self.net_.module_.eval()
        return map_batches(X, fn, torch.device(self.net_.device), dtype)

    def _encode(self, X):
        return self._map_batches(X, self.net_.encode_rows)

    def _decode(self, Z):
        return self._map_batches(Z, self.net_.decode_rows)

    def _errors(self, X):
        """Each row's error, ``-score_samples``: see :meth:`_map_scores`."""
        return self._map_scores(X, self._error_function())

    def _map_scores(self, X, fn):
        """Apply a scoring function to X in batches; warn of rows that
        overflowed float32 in the network, whose scores are ``inf``."""
        scores = self._map_batches(X, fn)
        overflowed = np.isinf(scores).any(axis=tuple(range(1, scores.ndim)))
        if overflowed.any():
            warnings.warn(
                f"{overflowed.sum()} of {len(scores)} rows overflowed float32 "
                "inside the network; they get the worst possible score (-inf) "
                "and count as outliers. Scale the data as the training data "
                "was scaled.",
                RuntimeWarning,
                stacklevel=3,
            )
        return scores

    def __getstate__(self):
        # A new dict: object.__getstate__ returns the instance's own
        # __dict__, which must not gain the saved-state entries.
        state = {**super().__getstate__(), "_skae_version": __version__}
        if "net_" in state:
            # skorch pickles its torch objects as a pickle nested in the
            # net's state, which skops.io cannot audit. Plain data
            # (NumPy arrays, numbers) keeps secure loading possible, and
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
            # The net is rebuilt from the fitted spec, what the last fit
            # trained, never from the parameters, which set_params may have
            # changed since.
            self.net_ = net_from_state(self._net_spec_, net_state)
            self._net_spec_ = {**self._net_spec_, "device": self.net_.device}

    @property
    def _n_features_out(self):
        """Number of transformed output features: an ensemble's members'
        codes side by side."""
        return self.n_components_ * self._n_members()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
