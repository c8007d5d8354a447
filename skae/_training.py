"""skorch glue: the training net, its batches, callbacks, devices and seeds."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import copy
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
from torch.utils.data import Dataset, Subset

from ._losses import ReconstructionLoss
from ._modules import AutoencoderModule, VariationalAutoencoderModule

__all__ = [
    "INFERENCE_BATCH_SIZE",
    "NOISES",
    "OPTIMIZERS",
    "make_net",
    "resolve_device",
    "to_tensor",
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
#: results match the default implementation to float32 rounding, and a fit
#: of a small network on the CPU takes a fifth less time.
_FUSED = {"adam", "adamw", "sgd"}

#: Rows per forward pass at inference. Larger than a training batch: no
#: gradients are kept, so throughput rises with batch size until the
#: activations of one batch stop fitting in cache. On 2 CPU cores, 2048
#: rows scored fastest for 100 and for 1,000 features; 4096 took 5-10 %
#: longer and 65536 twice as long (benchmarks/bench_speed.py).
INFERENCE_BATCH_SIZE = 2048


def resolve_device(device):
    """Turn the ``device`` parameter into a ``torch.device``, or raise.

    Examples
    --------
    >>> from skae._training import resolve_device
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device={device!r} is not a torch device; use 'auto', 'cpu', "
            "'cuda' or 'cuda:<index>'."
        ) from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was requested but CUDA is not available on this "
            "machine; use device='auto' to fall back to the CPU."
        )
    return resolved


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


def to_tensor(X):
    """A float32 CPU tensor over ``X``, sharing memory where numpy allows.

    A scipy sparse ``X`` is densified: pass it one batch at a time.
    """
    if sp.issparse(X):
        return torch.from_numpy(X.toarray().astype(np.float32, copy=False))
    if X.dtype == np.float32 and X.flags.writeable:
        return torch.from_numpy(X)
    # torch refuses to share read-only memory (memmaps), and float64 data
    # must be cast once anyway: both get one float32 copy.
    return torch.tensor(X, dtype=torch.float32)


class _TensorDataset(Dataset):
    """The training rows as one tensor, or one CSR matrix for sparse input;
    batches are sliced, not collated."""

    def __init__(self, X):
        self.X = X

    def __len__(self):
        return self.X.shape[0]

    def __getitem__(self, i):
        return self.X[i], self.X[i]


class _Batches:
    """Mini-batches of a :class:`_TensorDataset` or a ``Subset`` of one.

    One ``randperm`` per epoch and one ``index_select`` per batch replace
    ``DataLoader``'s per-sample ``__getitem__`` and collate, which cost as
    much as the forward pass of a small network.
    """

    def __init__(self, dataset, batch_size, shuffle, seed, device):
        if isinstance(dataset, Subset):
            self.X = dataset.dataset.X
            self.indices = torch.as_tensor(np.asarray(dataset.indices))
        else:
            self.X = dataset.X
            self.indices = None
        self.batch_size = batch_size
        self.device = device
        self.generator = None
        if shuffle:
            self.generator = torch.Generator().manual_seed(seed)

    def __len__(self):
        return len(self._stops())

    def _stops(self):
        n = self.X.shape[0] if self.indices is None else len(self.indices)
        stops = [*range(self.batch_size, n, self.batch_size), n]
        if self.generator is not None and len(stops) > 1 and n - stops[-2] == 1:
            # A one-row training batch has no batch statistics: BatchNorm
            # raises on it in train mode. It joins the batch before it.
            del stops[-2]
        return stops

    def _order(self):
        if self.generator is None:
            return self.indices
        n = self.X.shape[0] if self.indices is None else len(self.indices)
        perm = torch.randperm(n, generator=self.generator)
        return perm if self.indices is None else self.indices[perm]

    def __iter__(self):
        order = self._order()
        start = 0
        for stop in self._stops():
            if sp.issparse(self.X):
                rows = (
                    slice(start, stop) if order is None else order[start:stop].numpy()
                )
                batch = to_tensor(self.X[rows])
            elif order is None:
                batch = self.X[start:stop]
            else:
                batch = self.X.index_select(0, order[start:stop])
            batch = move_batch(batch, self.device)
            start = stop
            yield batch, batch


def move_batch(batch, device):
    """Send a CPU batch to ``device``; asynchronously through pinned memory."""
    if device.type == "cuda":
        return batch.pin_memory().to(device, non_blocking=True)
    return batch


def host_buffer(shape, dtype, device):
    """A NumPy array for results computed on ``device``, and a tensor over it.

    For CUDA the memory is pinned, so that ``copy_(..., non_blocking=True)``
    into the tensor returns at once and the host waits only in
    :func:`synchronize`.
    """
    if device.type == "cuda":
        dtype = torch.from_numpy(np.empty(0, dtype=dtype)).dtype
        tensor = torch.empty(shape, dtype=dtype, pin_memory=True)
        return tensor.numpy(), tensor
    array = np.empty(shape, dtype=dtype)
    return array, torch.from_numpy(array)


def synchronize(device):
    """Wait until the work queued on ``device`` is done (a no-op on the CPU)."""
    if device.type == "cuda":
        torch.cuda.current_stream(device).synchronize()


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

    Differences from the parent, each for speed or for the autoencoder's
    loss: batches come from :class:`_Batches`; the epoch loss is summed on
    the device and read once per epoch, not once per batch; train mode is
    set once per epoch, not once per batch; ``infer`` returns
    ``(reconstruction, code)``, and for a variational autoencoder
    ``(reconstruction, code, (mean, log_var))``, so losses can use the code
    and the posterior; training batches are corrupted on the device when
    ``noise`` is set.

    Random draws (noise, the reparameterisation) use torch's global
    generators: :func:`train` runs inside a forked, seeded copy of them, so
    they are reproducible and leave the user's random state unchanged.

    Parameters
    ----------
    *args, **kwargs
        Passed to :class:`skorch.NeuralNet`.
    seed : int, default=0
        Seed of the shuffling order; each ``partial_fit`` call offsets it
        by the number of epochs already run.
    noise : {"gaussian", "masking"} or None, default=None
        Key of :data:`NOISES` corrupting the training inputs, not the
        targets; None trains on clean inputs.
    noise_level : float, default=0.1
        Standard deviation of the Gaussian noise, or share of masked entries.
    variational : bool, default=False
        Train the module as a variational autoencoder through its
        ``encode_distribution`` method.
    """

    def __init__(
        self, *args, seed=0, noise=None, noise_level=0.1, variational=False, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.seed = seed
        self.noise = noise
        self.noise_level = noise_level
        self.variational = variational

    def get_default_callbacks(self):
        # skorch's PassthroughScoring callbacks average per-batch losses that
        # run_single_epoch below no longer records.
        return [("epoch_timer", EpochTimer()), ("print_log", _PrintLog())]

    def get_dataset(self, X, y=None):
        return _TensorDataset(X)

    def get_iterator(self, dataset, training=False):
        return _Batches(
            dataset,
            batch_size=self.batch_size,
            shuffle=training,
            seed=self.seed + len(self.history),
            device=torch.device(self.device),
        )

    def infer(self, x, **fit_params):
        if not self.variational:
            code = self.module_.encode(x)
            return self.module_.decode(code), code
        mean, log_var = self.module_.encode_distribution(x)
        code = mean
        if self.module_.training:
            # The reparameterisation trick: a draw from q(z | x) through
            # which gradients reach the mean and the log-variance. Outside
            # training the code is the posterior mean, so validation losses
            # and scores are deterministic.
            code = mean + torch.exp(0.5 * log_var) * torch.randn_like(mean)
        return self.module_.decode(code), code, (mean, log_var)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        reconstruction, code, *posterior = y_pred
        return self.criterion_(reconstruction, y_true, code, *posterior)

    def per_sample_loss(self, x):
        """Scoring error of each row of ``x``, the module in evaluation mode.

        The reconstruction error, and for a VAE the negative ELBO per
        feature, from the posterior mean: see ``ReconstructionLoss``.
        """
        reconstruction, _, *posterior = self.infer(x)
        return self.criterion_.per_sample(reconstruction, x, *posterior)

    def train_step_single(self, batch, **fit_params):
        # skorch's version first calls _set_training(True), which walks every
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
        self._set_training(training)
        total = torch.zeros((), device=self.device)
        count = 0
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            n_rows = len(batch[0])
            # One fused in-place op: a third of the cost of `total += loss * n`.
            total.add_(step["loss"].detach(), alpha=n_rows)
            count += n_rows
            self.notify("on_batch_end", batch=batch, training=training, **step)
        self.history.record(prefix + "_loss", (total / count).item())


def make_net(params, n_features, device, seed):
    """Build the (uninitialised) skorch net for an estimator's parameters.

    Parameters
    ----------
    params : dict
        The estimator's ``get_params()``.
    n_features : int
        Number of input features.
    device : torch.device
        Resolved device, see :func:`resolve_device`.
    seed : int
        Seed of the shuffling order and of the validation split.

    Returns
    -------
    net : skorch.NeuralNet
    """
    device = torch.device(device)
    optimizer, optimizer_kwargs = OPTIMIZERS[params["optimizer"]]
    if (
        params["optimizer"] in _FUSED
        and device.type in ("cpu", "cuda")
        and torch.__version__ >= "2.4"
    ):
        optimizer_kwargs = {**optimizer_kwargs, "fused": True}
    stopping = _EarlyStopping(
        monitor="train_loss",
        patience=params["n_iter_no_change"],
        threshold=params["tol"],
        threshold_mode="abs",
    )
    module, module_kwargs = _module_and_kwargs(params, n_features)
    return _AutoencoderNet(
        module=module,
        **{f"module__{key}": value for key, value in module_kwargs.items()},
        criterion=ReconstructionLoss,
        criterion__loss=params["loss"],
        criterion__sparsity=params["sparsity"],
        criterion__beta=params["beta"],
        # Only the outlier detector has the parameter; see its docs.
        criterion__trim_fraction=params.get("trim_fraction", 0.0),
        optimizer=optimizer,
        lr=params["learning_rate_init"],
        optimizer__weight_decay=params["alpha"],
        **{f"optimizer__{key}": value for key, value in optimizer_kwargs.items()},
        max_epochs=params["max_iter"],
        batch_size=params["batch_size"],
        train_split=None,
        callbacks=[("divergence", _DivergenceCheck()), ("stopping", stopping)],
        verbose=params["verbose"],
        device=str(device),
        seed=seed,
        noise=params["noise"],
        noise_level=params["noise_level"],
        variational=params["variational"],
    )


def _module_and_kwargs(params, n_features):
    """The module class to build and its constructor arguments."""
    if params["module"] is not None:
        module = params["module"]
        accepted = inspect.signature(module).parameters
        any_keyword = any(p.kind is p.VAR_KEYWORD for p in accepted.values())
        sizes = {"n_features": n_features, "n_components": params["n_components"]}
        sizes = {k: v for k, v in sizes.items() if any_keyword or k in accepted}
        return module, {**(params["module_params"] or {}), **sizes}
    output_activation = params["output_activation"]
    if output_activation == "auto":
        output_activation = "sigmoid" if params["loss"] == "bce" else "identity"
    module = (
        VariationalAutoencoderModule if params["variational"] else AutoencoderModule
    )
    return module, {
        "n_features": n_features,
        "n_components": params["n_components"],
        "hidden_layer_sizes": tuple(params["hidden_layer_sizes"]),
        "activation": params["activation"],
        "output_activation": output_activation,
        "dropout": params["dropout"],
        "batch_norm": params["batch_norm"],
    }


def train(net, X, epochs, validation_fraction=None):
    """Train ``net`` on the tensor ``X`` for up to ``epochs`` epochs.

    With ``validation_fraction``, a held-out split decides when to stop and
    the best weights are restored; without, the training loss decides.
    Training that diverges raises ``ValueError`` and leaves ``net`` with the
    weights it had before this call. Torch is seeded from ``net.seed`` and
    the number of epochs already run, and its global RNG state restored.

    Returns
    -------
    n_run : int
        Epochs run by this call.
    stopped : bool
        Whether the loss stopped improving before ``epochs`` ran out.
    """
    n_done = len(net.history) if net.initialized_ else 0
    with _seeded(net.seed + n_done, torch.device(net.device)):
        return _train(net, X, epochs, validation_fraction, n_done)


def _train(net, X, epochs, validation_fraction, n_done):
    if not net.initialized_:
        net.initialize()
        x = move_batch(
            to_tensor(X[:2]) if sp.issparse(X) else X[:2], torch.device(net.device)
        )
        _check_module(net.module_, x, net.variational)
    stopping = dict(net.callbacks_)["stopping"]
    stopping.monitor = "train_loss" if validation_fraction is None else "valid_loss"
    stopping.load_best = validation_fraction is not None
    net.train_split = (
        None
        if validation_fraction is None
        else ValidSplit(validation_fraction, stratified=False, random_state=net.seed)
    )
    before = copy.deepcopy((net.module_.state_dict(), net.optimizer_.state_dict()))
    try:
        net.partial_fit(X, epochs=epochs)
    except ValueError:
        net.module_.load_state_dict(before[0])
        net.optimizer_.load_state_dict(before[1])
        del net.history[n_done:]
        raise
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


def _check_module(module, x, variational):
    """Raise ValueError where ``module`` does not fit the training loop.

    It needs the methods training calls, 2-D codes, and reconstructions of
    ``x``'s shape. A custom module that breaks any of these would otherwise fail deep
    inside training, or train against a broadcast target without complaint.
    """
    name = type(module).__name__
    if variational and not callable(getattr(module, "encode_distribution", None)):
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
