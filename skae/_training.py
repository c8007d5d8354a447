"""skorch glue: the net an estimator's parameters describe, and its training."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import inspect
import math
import warnings
from contextlib import contextmanager

import numpy as np
import scipy.sparse as sp
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EarlyStopping, EpochTimer, PrintLog
from skorch.dataset import ValidSplit
from skorch.history import History
from torch.utils.data import Dataset, Subset

from ._device import TrainingBatches, draw_member_rows, move_batch, to_tensor
from ._losses import ReconstructionLoss
from ._modules import AutoencoderModule, EnsembleModule, VariationalAutoencoderModule

__all__ = [
    "NOISES",
    "OPTIMIZERS",
    "build_net",
    "draw_seed",
    "map_tensors",
    "module_and_kwargs",
    "module_class",
    "net_spec",
    "trained_state",
    "train",
]

#: Optimizer name -> (torch optimizer class, fixed keyword arguments). The
#: keys are the accepted values of the estimators' ``optimizer``. SGD gets
#: Nesterov momentum 0.9, as ``MLPRegressor(solver="sgd")`` does by default.
OPTIMIZERS = {
    "adam": (torch.optim.Adam, {}),
    "adamw": (torch.optim.AdamW, {}),
    "sgd": (torch.optim.SGD, {"momentum": 0.9, "nesterov": True}),
    "rmsprop": (torch.optim.RMSprop, {}),
}


def _gaussian_noise(x, level):
    return x + level * torch.randn_like(x)


def _masking_noise(x, level):
    # Vincent et al. (2008): each entry is set to 0 with probability
    # ``level``, without the rescaling of dropout, so the network learns to
    # fill in missing entries rather than to undo a change of scale.
    return x * (torch.rand_like(x) >= level)


#: Noise name -> ``f(batch, noise_level)`` corrupting a training batch. The
#: keys are the accepted values of the estimators' ``noise``.
NOISES = {"gaussian": _gaussian_noise, "masking": _masking_noise}

#: Optimizers run with ``fused=True`` where torch has fused kernels for
#: them (torch >= 2.4, on the CPU and CUDA): one kernel updates all the
#: parameters, instead of several small ops per parameter tensor. The
#: results match the default implementation to float32 rounding.
_FUSED = {"adam", "adamw", "sgd"}


def draw_seed(random_state):
    """A torch seed from ``random_state`` that leaves NumPy's global state be.

    Examples
    --------
    >>> from skae._training import draw_seed
    >>> draw_seed(0) == draw_seed(0)
    True
    """
    if random_state is None:
        # check_random_state(None) would draw from, and advance, np.random's
        # global generator; a fresh Generator takes OS entropy instead.
        return int(np.random.default_rng().integers(2**31 - 1))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(2**31 - 1))
    return int(np.random.RandomState(random_state).randint(2**31 - 1))


@contextmanager
def _seeded(seed, device):
    """Seed torch inside the block and restore its global RNG state after.

    Weight initialisation and dropout draw from torch's global generators;
    forking them keeps ``fit`` reproducible without changing the random
    state a user's own code sees.
    """
    cuda = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda):
        torch.random.default_generator.manual_seed(seed)
        for index in cuda:
            with torch.cuda.device(index):
                torch.cuda.manual_seed(seed)
        yield


def active_components(sparsity, n_components):
    """Active code units of a sparse autoencoder: ``ceil(sparsity * n)``.

    ``sparsity`` is the sparse autoencoder's sparsity parameter, the target
    share of active code units, as in Ng's notes (where 0.05 is the
    textbook value); None for a dense code (``sparsity=0``).

    Examples
    --------
    >>> from skae._training import active_components
    >>> active_components(0.05, 32), active_components(0.25, 32)
    (2, 8)
    """
    if not sparsity:
        return None
    # The small offset keeps 0.25 * 32 at 8 despite float rounding.
    return max(1, math.ceil(sparsity * n_components - 1e-9))


def net_spec(params, n_features, n_components, criterion, device, seed, ensemble=None):
    """Describe the net an estimator's parameters ask for, with values resolved.

    The spec is the one mapping from estimator parameters to the net: a cold
    fit, a warm start, ``partial_fit`` and loading all build their net from
    one through :func:`build_net`. It holds plain data (and a custom module
    class), so a fitted estimator can keep it as the record of what it
    trained.

    Parameters
    ----------
    params : dict
        The estimator's ``get_params(deep=False)``, with ``module__<name>``
        entries merged into ``module_params``.
    n_features : int
        Number of input features.
    n_components : int
        Resolved code size.
    criterion : dict
        Keyword arguments of :class:`~skae._losses.ReconstructionLoss`.
    device : torch.device
        Resolved device.
    seed : int
        Seed of the initial weights, the shuffling and the validation split.
    ensemble : dict or None, default=None
        ``{"n_members": int, "max_samples": "auto", int or float}`` to train
        an ensemble of networks, each on its own sample of the rows (see
        :class:`~skae._modules.EnsembleModule`); None for one network.

    Returns
    -------
    spec : dict
    """
    output_activation = params["output_activation"]
    if output_activation == "auto":
        output_activation = "sigmoid" if params["loss"] == "bce" else "identity"
    module = params["module"]
    if module is None:
        module_kwargs = {
            "n_features": n_features,
            "n_components": n_components,
            "hidden_layer_sizes": tuple(int(n) for n in params["hidden_layer_sizes"]),
            "activation": params["activation"],
            "output_activation": output_activation,
            "dropout": float(params["dropout"]),
            "batch_norm": bool(params["batch_norm"]),
            "active_components": active_components(params["sparsity"], n_components),
        }
    else:
        accepted = inspect.signature(module).parameters
        any_keyword = any(p.kind is p.VAR_KEYWORD for p in accepted.values())
        sizes = {"n_features": n_features, "n_components": n_components}
        sizes = {k: v for k, v in sizes.items() if any_keyword or k in accepted}
        module_kwargs = {**(params["module_params"] or {}), **sizes}
    return {
        "module": module,
        "module_kwargs": module_kwargs,
        "variational": bool(params["variational"]),
        "criterion": dict(criterion),
        "optimizer": params["optimizer"],
        "learning_rate_init": float(params["learning_rate_init"]),
        "alpha": float(params["alpha"]),
        "batch_size": int(params["batch_size"]),
        "max_iter": int(params["max_iter"]),
        "tol": float(params["tol"]),
        "n_iter_no_change": int(params["n_iter_no_change"]),
        "noise": params["noise"],
        "noise_level": float(params["noise_level"]),
        "verbose": int(params["verbose"]),
        "device": str(device),
        "seed": int(seed),
        "ensemble": None if ensemble is None else dict(ensemble),
    }


def module_class(spec):
    """The ``torch.nn.Module`` class of the network, or of each ensemble
    member, that a spec builds."""
    if spec["module"] is not None:
        return spec["module"]
    return VariationalAutoencoderModule if spec["variational"] else AutoencoderModule


def module_and_kwargs(spec):
    """The module class a spec builds and its constructor's arguments."""
    if spec["ensemble"] is None:
        return module_class(spec), spec["module_kwargs"]
    return EnsembleModule, {
        "member": module_class(spec),
        "n_members": spec["ensemble"]["n_members"],
        **spec["module_kwargs"],
    }


def _net_kwargs(spec):
    """The skorch constructor arguments of a spec."""
    optimizer, fixed = OPTIMIZERS[spec["optimizer"]]
    device = torch.device(spec["device"])
    if (
        spec["optimizer"] in _FUSED
        and device.type in ("cpu", "cuda")
        and torch.__version__ >= "2.4"
    ):
        fixed = {**fixed, "fused": True}
    stopping = _EarlyStopping(
        monitor="train_loss",
        patience=spec["n_iter_no_change"],
        threshold=spec["tol"],
        threshold_mode="abs",
    )
    callbacks = [("divergence", _DivergenceCheck())]
    k = spec["module_kwargs"].get("active_components")
    if spec["module"] is None and k is not None:
        n_components = spec["module_kwargs"]["n_components"]
        # Annealed over the first half of max_iter, as measured on the
        # digits: it halves the never-active code units at 2 of 32 active.
        anneal = max(1, round(spec["max_iter"] / 2))
        callbacks.append(("sparse_code", _SparseCode(n_components, k, anneal)))
    callbacks.append(("stopping", stopping))
    module, module_kwargs = module_and_kwargs(spec)
    ensemble = spec["ensemble"] or {"n_members": None, "max_samples": None}
    return {
        "module": module,
        **{f"module__{key}": value for key, value in module_kwargs.items()},
        "criterion": ReconstructionLoss,
        **{f"criterion__{key}": value for key, value in spec["criterion"].items()},
        "optimizer": optimizer,
        "lr": spec["learning_rate_init"],
        "optimizer__weight_decay": spec["alpha"],
        **{f"optimizer__{key}": value for key, value in fixed.items()},
        "max_epochs": spec["max_iter"],
        "batch_size": spec["batch_size"],
        "train_split": None,
        "callbacks": callbacks,
        "verbose": spec["verbose"],
        "device": spec["device"],
        "seed": spec["seed"],
        "noise": spec["noise"],
        "noise_level": spec["noise_level"],
        "variational": spec["variational"],
        "n_members": ensemble["n_members"],
        "max_samples": ensemble["max_samples"],
    }


def build_net(spec, state=None):
    """Build and initialise the net of ``spec``, optionally from a trained state.

    Parameters
    ----------
    spec : dict
        From :func:`net_spec`.
    state : dict or None, default=None
        What a trained net carries over: ``"module"`` (a state dict),
        ``"optimizer"`` (a state dict, or None to start the optimizer
        afresh) and ``"history"`` (a list of dicts). None initialises new
        weights from ``spec["seed"]`` and checks the module.

    Returns
    -------
    net : skorch.NeuralNet
        An initialised net. With ``state``, the optimizer keeps its moment
        estimates but takes the spec's hyperparameters (learning rate,
        weight decay).
    """
    net = _AutoencoderNet(**_net_kwargs(spec))
    device = torch.device(spec["device"])
    # Initial weights are drawn from torch's global generator: seeded, for
    # reproducible fits, and forked, so the caller's random stream is left be.
    with _seeded(spec["seed"], device):
        net.initialize()
    if state is None:
        return net
    net.module_.load_state_dict(state["module"])
    if state["optimizer"] is not None:
        hyperparameters = [
            {key: value for key, value in group.items() if key != "params"}
            for group in net.optimizer_.param_groups
        ]
        # load_state_dict moves the optimizer state to the parameters' device
        # and brings back the saved hyperparameters: the spec's win.
        net.optimizer_.load_state_dict(state["optimizer"])
        for group, values in zip(
            net.optimizer_.param_groups, hyperparameters, strict=True
        ):
            group.update(values)
    net.history = History(dict(row) for row in state["history"])
    return net


def trained_state(net, keep_optimizer=True):
    """The state of a trained net that :func:`build_net` carries over."""
    optimizer = None
    if keep_optimizer:
        # Cloned: the new optimizer may otherwise share, and update in place,
        # the moment tensors of this net, which must stay as it is should
        # the next fit fail.
        optimizer = map_tensors(net.optimizer_.state_dict(), torch.clone)
    return {
        "module": net.module_.state_dict(),
        "optimizer": optimizer,
        "history": list(net.history),
    }


def map_tensors(obj, fn):
    """Apply ``fn`` to every tensor or array inside nested dicts and lists."""
    if isinstance(obj, dict):
        return {key: map_tensors(value, fn) for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(map_tensors(item, fn) for item in obj)
    if isinstance(obj, torch.Tensor | np.ndarray):
        return fn(obj)
    return obj


class _TensorDataset(Dataset):
    """The training rows as one tensor, or one CSR matrix for sparse input;
    :class:`~skae._device.TrainingBatches` slices batches from it."""

    def __init__(self, X):
        self.X = X

    def __len__(self):
        return self.X.shape[0]

    def __getitem__(self, i):
        return self.X[i], self.X[i]


def _rows_of(dataset):
    """The training tensor (or CSR matrix) under ``dataset`` and the indices
    of its rows, None for all; Subsets of Subsets compose."""
    if not isinstance(dataset, Subset):
        return dataset.X, None
    X, rows = _rows_of(dataset.dataset)
    indices = torch.as_tensor(dataset.indices)
    return X, indices if rows is None else rows[indices]


class _DivergenceCheck(Callback):
    """Stop with a clear error when the training loss is not finite."""

    def on_epoch_end(self, net, **kwargs):
        loss = net.history[-1, "train_loss"]
        if not math.isfinite(loss):
            raise ValueError(
                f"Training diverged: the training loss became {loss} at epoch "
                f"{len(net.history)}. Lower learning_rate_init, or scale the data "
                "(for example with sklearn.preprocessing.StandardScaler)."
            )


class _SparseCode(Callback):
    """Training of a k-sparse autoencoder: the schedule of k and the norms.

    The number of active code units falls linearly from all of them at the
    first epoch to the target at epoch ``anneal`` (Makhzani and Frey, 2014):
    with the target from the start, many code units are never among the
    largest and never learn. Early stopping restarts at every epoch of the
    schedule, whose loss rises as k falls, and once more when it ends. After
    each optimizer step the decoder's weight columns are restored to unit
    norm. The epochs are counted over the net's whole history, so
    ``partial_fit`` follows the same schedule.

    Parameters
    ----------
    n_components : int
        Width of the code.
    k : int
        Active code units at the end of the schedule, and at inference.
    anneal : int
        Epochs over which k falls to its target.
    """

    def __init__(self, n_components, k, anneal):
        self.n_components = n_components
        self.k = k
        self.anneal = anneal

    def _k_at(self, epoch):
        """Active code units at ``epoch`` (1-based): the target from epoch
        ``anneal`` on."""
        if epoch >= self.anneal:
            return self.k
        step = (self.n_components - self.k) * (epoch - 1) / (self.anneal - 1)
        return round(self.n_components - step)

    def on_epoch_begin(self, net, **kwargs):
        net.module_.active_components = self._k_at(len(net.history))

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            net.module_.normalize_decoder_()

    def on_epoch_end(self, net, **kwargs):
        epoch = len(net.history)
        if self._k_at(epoch) > self.k or self._k_at(max(epoch - 1, 1)) > self.k:
            dict(net.callbacks_)["stopping"].restart()

    def on_train_end(self, net, **kwargs):
        net.module_.active_components = self.k


class _PrintLog(PrintLog):
    """skorch's ``PrintLog``, which formats its table only when it prints.

    skorch tabulates every epoch's row even at ``verbose=0``: about 0.3 ms
    an epoch, 2 % of a fit on the 1,797 digits, for output nobody sees.
    """

    def on_epoch_end(self, net, **kwargs):
        if net.verbose:
            super().on_epoch_end(net, **kwargs)


class _EarlyStopping(EarlyStopping):
    """skorch's ``EarlyStopping``, with a cheaper copy of the best weights.

    With ``load_best``, skorch deep-copies the state dict at every
    improvement: about 1.2 ms through ``copy.deepcopy`` for a small network,
    3 % of an ``early_stopping=True`` fit on the digits. Cloning the tensors
    takes a seventh of that; everything else is skorch's.
    """

    def restart(self):
        """Count the next epoch as an improvement, whatever its loss."""
        self.misses_ = 0
        self.dynamic_threshold_ = np.inf if self.lower_is_better else -np.inf

    def on_epoch_end(self, net, **kwargs):
        load_best, self.load_best = self.load_best, False
        try:
            super().on_epoch_end(net, **kwargs)
        finally:
            self.load_best = load_best
        if load_best and self.best_epoch_ == net.history[-1, "epoch"]:
            self.best_model_weights_ = {
                name: tensor.clone()
                for name, tensor in net.module_.state_dict().items()
            }


class _AutoencoderNet(NeuralNet):
    """A skorch ``NeuralNet`` that reconstructs its input.

    It overrides only hooks skorch documents for subclasses, each for speed
    or for the autoencoder's loss: batches come from
    :class:`~skae._device.TrainingBatches`; the epoch loss is summed on the
    device and read once per epoch, not once per batch; train mode is set
    once per epoch, not once per batch; ``infer`` returns
    ``(reconstruction, code, posterior)``, the posterior being a variational
    autoencoder's ``(mean, log_var)``, so losses can use it; training batches
    are corrupted on the device when ``noise`` is set. An ensemble's module
    (:class:`~skae._modules.EnsembleModule`) trains each member on its own
    row sample, drawn anew at every ``fit`` or ``partial_fit`` call; its
    batches and outputs carry a leading member axis.

    Random draws (noise, the reparameterisation) use torch's global
    generators: :func:`train` runs inside a forked, seeded copy of them, so
    they are reproducible and leave the user's random state unchanged.

    Parameters
    ----------
    *args, **kwargs
        Passed to :class:`skorch.NeuralNet`.
    seed : int, default=0
        Seed of the shuffling order and the members' row samples; each call
        offsets it by the number of epochs already run.
    noise : {"gaussian", "masking"} or None, default=None
        Key of :data:`NOISES` corrupting the training inputs, not the
        targets; None trains on clean inputs.
    noise_level : float, default=0.1
        Standard deviation of the Gaussian noise, or share of masked entries.
    variational : bool, default=False
        Train the module as a variational autoencoder through its
        ``encode_distribution`` method.
    n_members : int or None, default=None
        Members of an ensemble module; None for one network.
    max_samples : "auto", int, float or None, default=None
        Rows each member trains on, see
        :func:`~skae._device.draw_member_rows`.
    """

    def __init__(
        self,
        *args,
        seed=0,
        noise=None,
        noise_level=0.1,
        variational=False,
        n_members=None,
        max_samples=None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.seed = seed
        self.noise = noise
        self.noise_level = noise_level
        self.variational = variational
        self.n_members = n_members
        self.max_samples = max_samples

    def get_default_callbacks(self):
        # skorch's PassthroughScoring callbacks average per-batch losses that
        # run_single_epoch below no longer records.
        return [("epoch_timer", EpochTimer()), ("print_log", _PrintLog())]

    def get_dataset(self, X, y=None):
        # A Subset of the rows comes from train(), to train on some rows of
        # X without copying them.
        return X if isinstance(X, Dataset) else _TensorDataset(X)

    def get_split_datasets(self, X, y=None, **fit_params):
        train, valid = super().get_split_datasets(X, y, **fit_params)
        if self.n_members is not None:
            # Once per call, from the training split: every epoch of the
            # call trains each member on the same rows, as IsolationForest's
            # trees grow on fixed subsamples.
            _, rows = _rows_of(train)
            generator = torch.Generator().manual_seed(self.seed + len(self.history))
            drawn = draw_member_rows(
                len(train), self.n_members, self.max_samples, generator
            )
            self.member_rows_ = drawn if rows is None else rows[drawn]
        return train, valid

    def get_iterator(self, dataset, training=False):
        X, indices = _rows_of(dataset)
        if training and self.n_members is not None:
            indices = self.member_rows_
        return TrainingBatches(
            X,
            indices,
            batch_size=self.batch_size,
            shuffle=training,
            seed=self.seed + len(self.history),
            device=torch.device(self.device),
        )

    def infer(self, x, **fit_params):
        """Encode ``x`` once and decode it.

        Parameters
        ----------
        x : torch.Tensor of shape ([n_members,] n_samples, n_features)
            A batch on the net's device; an ensemble takes one batch per
            member, or one batch that all members see.

        Returns
        -------
        reconstruction, code, posterior
            The posterior is a VAE's ``(mean, log_var)`` and None for other
            autoencoders. For a VAE, the code is a draw from the posterior
            during training and its mean otherwise.
        """
        posterior = None
        if self.variational:
            mean, log_var = self.module_.encode_distribution(x)
            posterior = (mean, log_var)
            code = mean
            if self.module_.training:
                # The reparameterisation trick: a draw from q(z | x) through
                # which gradients reach the mean and the log-variance.
                # Outside training the code is the posterior mean, so
                # validation losses and scores are deterministic.
                code = mean + torch.exp(0.5 * log_var) * torch.randn_like(mean)
        else:
            code = self.module_.encode(x)
        return self.module_.decode(code), code, posterior

    def get_loss(self, y_pred, y_true, X=None, training=False):
        reconstruction, _, posterior = y_pred
        # An ensemble's validation batch is one batch that every member saw.
        target = y_true.expand_as(reconstruction)
        return self.criterion_(reconstruction, target, posterior)

    def encode_rows(self, x):
        """Codes of the rows of ``x``, one row each: an ensemble's members'
        codes side by side."""
        code = self.module_.encode(x)
        return code if code.dim() == 2 else code.transpose(0, 1).flatten(1)

    def decode_rows(self, z):
        """Reconstructions from rows of :meth:`encode_rows`: an ensemble's
        members' reconstructions, averaged."""
        if self.n_members is None:
            return self.module_.decode(z)
        blocks = z.view(len(z), self.n_members, -1).transpose(0, 1)
        return self.module_.decode(blocks).mean(dim=0)

    def sample_rows(self, z, members):
        """Decode prior draws ``z``, row ``i`` by member ``members[i]``."""
        if self.n_members is None:
            return self.module_.decode(z)
        out = None
        for member in members.unique():
            rows = members == member
            decoded = self.module_.members[int(member)].decode(z[rows])
            if out is None:
                out = decoded.new_empty((len(z), decoded.shape[1]))
            out[rows] = decoded
        return out

    def per_sample_loss(self, x):
        """Scoring loss of each row of ``x``, the module in evaluation mode.

        The mean over features of the elementwise loss, plus the KL term of
        a VAE (the negative ELBO per feature). NaN, from values that
        overflow float32 inside the network, becomes ``inf``: a row the
        model cannot reconstruct is maximally abnormal.
        """
        reconstruction, _, posterior = self.infer(x)
        error = self.criterion_.per_sample(reconstruction, x, posterior)
        return _worst_where_nan(error)

    def gaussian_feature_terms(self, x, error_scale, code_mean, code_whitener, shares):
        """Each feature's share of the negative log-likelihood of each row.

        The one scoring path of a detector, whose network is read as a
        nonlinear probabilistic PCA: the data are the decoded codes plus
        independent noise on each feature, and the codes are Gaussian. The
        negative log-likelihood (up to constants and a factor 2) is then the
        elementwise loss divided by each feature's error scale, plus the
        Mahalanobis distance of the code from the codes' centre. The code
        term is the squared length of the whitened code; each whitened
        direction's part goes to the features by ``shares``, so the terms of
        a row add up to its whole score. An ensemble's terms are averaged
        over its members. NaN becomes ``inf``, as in :meth:`per_sample_loss`.

        Parameters
        ----------
        x : torch.Tensor of shape (n_samples, n_features)
            A batch on the net's device, the module in evaluation mode.
        error_scale : torch.Tensor of shape ([n_members,] 1, n_features)
            Each feature's typical elementwise loss; float64, as the next.
        code_mean : torch.Tensor of shape ([n_members,] 1, n_codes)
            Centre of the codes.
        code_whitener : torch.Tensor of shape ([n_members,] n_codes, n_codes)
            A matrix ``L`` with ``L @ L.T`` the codes' precision matrix.
        shares : torch.Tensor of shape ([n_members,] n_codes, n_features)
            Each whitened code direction's shares of the features; each row
            sums to 1.

        Returns
        -------
        terms : torch.Tensor of shape (n_samples, n_features)
            In float64.
        """
        reconstruction, code, _ = self.infer(x)
        target = x.expand_as(reconstruction)
        elementwise, _ = self.criterion_.scored(reconstruction, target)
        # In float64: the small batched products below round differently
        # for rows at different places in a float32 batch, and a row's score
        # must not depend on its neighbours.
        elementwise = elementwise.double() / error_scale
        whitened = (code.double() - code_mean) @ code_whitener
        terms = elementwise + whitened.square() @ shares
        if terms.dim() == 3:
            terms = terms.mean(dim=0)
        return _worst_where_nan(terms)

    def train_step_single(self, batch, **fit_params):
        # skorch's version first sets the training mode, which walks every
        # submodule at every batch: 80 us, 4 % of a step of a small network.
        # run_single_epoch sets the mode once per epoch instead.
        Xi, yi = batch
        if self.noise is not None:
            # A new tensor: ``yi`` is the same clean batch and stays the target.
            Xi = NOISES[self.noise](Xi, self.noise_level)
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        if iterator is None:
            return
        self.module_.train(training)
        self.criterion_.train(training)
        total = torch.zeros((), device=self.device)
        count = 0
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            # Rows per member for an ensemble's stacked batches.
            n_rows = batch[0].shape[-2]
            # One fused in-place op: a third of the cost of `total += loss * n`.
            total.add_(step["loss"].detach(), alpha=n_rows)
            count += n_rows
            self.notify("on_batch_end", batch=batch, training=training, **step)
        self.history.record(prefix + "_loss", (total / count).item())


def _worst_where_nan(tensor):
    """``inf`` where ``tensor`` is NaN or ``inf``: the worst score."""
    return torch.nan_to_num(tensor, nan=math.inf, posinf=math.inf)


def train(net, X, epochs, validation_fraction=None, rows=None):
    """Train ``net`` on the tensor ``X`` for up to ``epochs`` epochs.

    With ``validation_fraction``, a held-out split decides when to stop and
    the best weights are restored; without, the training loss decides. Torch
    is seeded from ``net.seed`` and the number of epochs already run, and
    its global RNG state restored. The caller keeps ``net`` only when this
    returns: an exception may leave it half trained.

    ``rows``, an array of row indices, trains on those rows of X only,
    without copying them.

    Returns
    -------
    n_run : int
        Epochs run by this call.
    stopped : bool
        Whether the loss stopped improving before ``epochs`` ran out.
    """
    n_done = len(net.history)
    if n_done == 0:
        _check_module(net, X)
    stopping = dict(net.callbacks_)["stopping"]
    stopping.monitor = "train_loss" if validation_fraction is None else "valid_loss"
    stopping.load_best = validation_fraction is not None
    net.train_split = (
        None
        if validation_fraction is None
        else ValidSplit(validation_fraction, stratified=False, random_state=net.seed)
    )
    data = X if rows is None else Subset(_TensorDataset(X), rows)
    with _seeded(net.seed + n_done, torch.device(net.device)):
        net.partial_fit(data, epochs=epochs)
    if net.history and "train_loss" not in net.history[-1]:
        # An interrupt mid-epoch leaves that epoch's row half written.
        del net.history[-1]
    n_run = len(net.history) - n_done
    stopped = stopping.misses_ == stopping.patience
    if n_run < epochs and not stopped:
        # skorch swallows KeyboardInterrupt to end training cleanly.
        warnings.warn(
            f"Training was interrupted after {n_run} of {epochs} epochs; the "
            "model keeps the weights it had reached (those of the best epoch "
            "with early stopping).",
            UserWarning,
            stacklevel=3,
        )
    return n_run, stopped


def _check_module(net, X):
    """Raise ValueError where the module does not fit the training loop.

    It needs the methods training calls, 2-D codes, and reconstructions of
    the input's shape. A custom module that breaks any of these would
    otherwise fail deep inside training, or train against a broadcast target
    without complaint.
    """
    module = net.module_
    if isinstance(module, EnsembleModule):
        module = module.members[0]
    name = type(module).__name__
    if net.variational and not callable(getattr(module, "encode_distribution", None)):
        raise ValueError(
            f"variational=True needs a module with a variational head, but "
            f"{name} has no encode_distribution(x) method returning the mean "
            "and log-variance of the posterior."
        )
    missing = [
        m for m in ("encode", "decode") if not callable(getattr(module, m, None))
    ]
    if missing:
        raise ValueError(
            f"module {name} must define encode(x) and decode(z); it lacks "
            f"{' and '.join(missing)}."
        )
    x = move_batch(
        to_tensor(X[:2]) if sp.issparse(X) else X[:2], torch.device(net.device)
    )
    module.eval()
    with torch.inference_mode():
        code = module.encode(x)
        if code.ndim != 2:
            raise ValueError(
                f"{name}.encode must return codes of shape (n_samples, "
                f"n_components), but returned shape {tuple(code.shape)} for "
                f"input {tuple(x.shape)}; flatten them in encode."
            )
        reconstruction = module.decode(code)
    if reconstruction.shape != x.shape:
        raise ValueError(
            f"{name}.decode must return reconstructions of the input's shape "
            f"{tuple(x.shape)}, but returned shape {tuple(reconstruction.shape)}."
        )
