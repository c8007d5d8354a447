"""The benchmarked autoencoders behind one small interface.

Every contender trains the same network where its API allows: ``n_features
-> 128 -> 64 -> 8 -> 64 -> 128 -> n_features`` with ReLU, Adam at learning
rate 1e-3, mean squared error, mini-batches of 256 shuffled rows, float32,
and no weight decay. Each class's ``note`` says where it differs.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import warnings
from contextlib import contextmanager

import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor
from torch import nn
from torch.nn import functional as F

import skae._device
from skae import AutoencoderTransformer

__all__ = [
    "CONTENDERS",
    "LeanLoop",
    "LeanLoopDefaultAdam",
    "MLPAutoencoder",
    "NaiveSkorch",
    "PCABaseline",
    "PyODAutoEncoder",
    "Skae",
    "inference_batch_size",
    "inference_rows",
    "pyod_available",
    "warm_up",
]

LEARNING_RATE = 1e-3


def pyod_available():
    """Whether PyOD, an optional contender, can be imported."""
    try:
        import pyod  # noqa: F401
    except ImportError:
        return False
    return True


@contextmanager
def inference_batch_size(rows):
    """Set the rows per inference batch of skae and the lean loop in a block.

    skae reads the private module constant ``INFERENCE_BATCH_SIZE``; the
    benchmark changes it only to measure which value to ship.
    """
    before = skae._device.INFERENCE_BATCH_SIZE
    skae._device.INFERENCE_BATCH_SIZE = rows
    try:
        yield
    finally:
        skae._device.INFERENCE_BATCH_SIZE = before


def inference_rows(n_features):
    """Rows per inference batch of skae for ``n_features`` columns.

    ``skae._device.INFERENCE_BATCH_SIZE``, read at call time (the batch-size
    benchmark patches it), and fewer for wide data: skae keeps one batch of
    input within 2**20 values, and the lean loop copies that rule.
    """
    return max(1, min(skae._device.INFERENCE_BATCH_SIZE, 2**20 // max(n_features, 1)))


def warm_up(classes, device, n_features=100):
    """Fit and score each contender class once on a little data.

    The first fit in a process pays one-time costs: lazy imports (torch's
    first optimizer imports torch._dynamo, about a second), PyOD's numba
    compilation. Timed runs should not.
    """
    X = np.random.default_rng(0).standard_normal((512, n_features), dtype=np.float32)
    for cls in classes:
        cls(epochs=1, device=device).fit(X).reconstruction_error(X)


def _mse_rows(X, reconstruction):
    """Per-sample mean squared error, as skae's ``-score_samples``."""
    return ((X - reconstruction) ** 2).mean(axis=1)


def _to_device(batch, device):
    """One host-to-device copy per batch, through pinned memory on CUDA."""
    if device.type == "cuda":
        return batch.pin_memory().to(device, non_blocking=True)
    return batch


def _relu_stack(widths, n_out):
    """Linear + ReLU through ``widths``, then a linear layer to ``n_out``."""
    layers = []
    for n_in, n_hidden in zip(widths[:-1], widths[1:], strict=True):
        layers += [nn.Linear(n_in, n_hidden), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(widths[-1], n_out))


class LeanModule(nn.Module):
    """The benchmark network written out in plain torch.

    Parameters
    ----------
    n_features : int
        Width of the input and the reconstruction.
    n_components : int, default=8
        Width of the linear code layer.
    hidden : tuple of int, default=(128, 64)
        Widths of the encoder's hidden layers, mirrored by the decoder.
    """

    def __init__(self, n_features, n_components=8, hidden=(128, 64)):
        super().__init__()
        self.encoder = _relu_stack([n_features, *hidden], n_components)
        self.decoder = _relu_stack([n_components, *reversed(hidden)], n_features)

    def forward(self, x):
        """Reconstruct a batch."""
        return self.decoder(self.encoder(x))


class Contender:
    """A benchmarked model: fit, inference, and epochs to a target error.

    Parameters
    ----------
    epochs : int
        Epochs of a :meth:`fit`.
    device : torch.device
        Where torch-based contenders compute; the others ignore it.
    batch_size : int, default=256
        Rows per training mini-batch.
    seed : int, default=0
        Seed of the weights and the shuffling, fixed so that every fit of
        a contender does the same work.
    **params
        Extra estimator parameters (used by :class:`Skae`).
    """

    #: Name in the tables.
    name = ""
    #: How it differs from the common setup.
    note = ""
    #: Whether it has ``transform`` and ``inverse_transform`` (a code).
    has_codes = False
    #: Whether it trains by epochs, so that time-to-quality applies.
    trains = True
    #: Whether the inference benchmarks time it.
    infers = True

    def __init__(self, epochs, device, batch_size=256, seed=0, **params):
        self.epochs = epochs
        self.device = device
        self.batch_size = batch_size
        self.seed = seed
        self.params = params
        self.model_ = None

    def fit(self, X):
        """Train a new model on X for ``epochs`` epochs; return self."""
        raise NotImplementedError

    def partial_fit(self, X):
        """Train the current model, or a new one, for one more epoch."""
        raise NotImplementedError

    def reconstruction_error(self, X):
        """Per-sample mean squared reconstruction error of X."""
        raise NotImplementedError

    def transform(self, X):
        """The codes of X (only where :attr:`has_codes`)."""
        raise NotImplementedError

    def inverse_transform(self, Z):
        """Reconstructions from codes (only where :attr:`has_codes`)."""
        raise NotImplementedError

    def epochs_to_reach(self, X_train, X_test, target, max_epochs):
        """Epochs of training on X_train until the test error is <= target.

        Returns
        -------
        epochs : int or None
            None when ``max_epochs`` epochs do not reach ``target``.
        """
        self.model_ = None
        for epoch in range(1, max_epochs + 1):
            self.partial_fit(X_train)
            if self.reconstruction_error(X_test).mean() <= target:
                return epoch
        return None


def _fused_available(device):
    """Whether torch has a fused Adam kernel for ``device``."""
    return torch.__version__ >= "2.4" and device.type in ("cpu", "cuda")


class LeanLoop(Contender):
    """The reference: the strongest hand-written torch loop we could write.

    Training: one ``randperm`` per epoch, tensor slicing per batch,
    ``zero_grad/forward/backward/step``, with ``Adam(fused=True)`` where
    torch has the kernel, as skae uses. Inference: ``torch.inference_mode``
    batches written in place into one preallocated output (pinned on CUDA,
    copied without blocking, one synchronisation at the end), as skae does.
    Batches have skae's rows (:func:`inference_rows`), so that the two
    differ in framework work only.
    """

    name = "lean torch loop (reference)"
    note = (
        "randperm per epoch, slicing per batch, fused Adam; inference_mode "
        "batches of skae's size written in place into one output"
    )
    has_codes = True
    #: Adam's ``fused`` argument: the fused kernel where torch has one.
    fused = True

    def _new(self, n_features):
        torch.manual_seed(self.seed)
        self.model_ = LeanModule(n_features).to(self.device)
        fused = True if self.fused and _fused_available(self.device) else None
        self.optimizer_ = torch.optim.Adam(
            self.model_.parameters(), LEARNING_RATE, fused=fused
        )

    def _epoch(self, X):
        X = torch.from_numpy(X)
        self.model_.train()
        order = torch.randperm(len(X))
        for start in range(0, len(X), self.batch_size):
            batch = _to_device(X[order[start : start + self.batch_size]], self.device)
            self.optimizer_.zero_grad()
            loss = F.mse_loss(self.model_(batch), batch)
            loss.backward()
            self.optimizer_.step()

    def fit(self, X):
        self._new(X.shape[1])
        for _ in range(self.epochs):
            self._epoch(X)
        return self

    def partial_fit(self, X):
        if self.model_ is None:
            self._new(X.shape[1])
        self._epoch(X)
        return self

    def _map(self, fn, X, width):
        """``fn`` over X in inference batches, written into one output."""
        rows = inference_rows(X.shape[1])
        self.model_.eval()
        X = torch.from_numpy(X)
        cuda = self.device.type == "cuda"
        out = torch.empty((len(X), width), pin_memory=cuda)
        with torch.inference_mode():
            for start in range(0, len(X), rows):
                batch = _to_device(X[start : start + rows], self.device)
                out[start : start + rows].copy_(fn(batch), non_blocking=cuda)
        if cuda:
            torch.cuda.synchronize(self.device)
        return out.numpy()

    def reconstruction_error(self, X):
        def error(x):
            return ((self.model_(x) - x) ** 2).mean(dim=1, keepdim=True)

        return self._map(error, X, 1)[:, 0]

    def transform(self, X):
        return self._map(self.model_.encoder, X, 8)

    def inverse_transform(self, Z):
        return self._map(self.model_.decoder, Z, self.model_.decoder[-1].out_features)


class LeanLoopDefaultAdam(LeanLoop):
    """The lean loop with torch's default (unfused) Adam, for context.

    Most hand-written loops use the default; the gap to :class:`LeanLoop`
    is what the fused kernel buys. Not the reference, and training only.
    """

    name = "lean torch loop, default Adam"
    note = "the reference with torch's default, unfused Adam; training only"
    fused = None
    infers = False


class Skae(Contender):
    """skae's ``AutoencoderTransformer``, with early stopping kept from
    cutting epochs (``tol=0``, patience of all the epochs)."""

    name = "skae"
    note = (
        "the reference's network, fused Adam and inference batches, behind "
        "skorch and scikit-learn's API (validation, history, callbacks)"
    )
    has_codes = True

    def _estimator(self):
        return AutoencoderTransformer(
            n_components=8,
            hidden_layer_sizes=(128, 64),
            batch_size=self.batch_size,
            max_iter=self.epochs,
            tol=0.0,
            n_iter_no_change=self.epochs,
            device=str(self.device),
            random_state=self.seed,
            **self.params,
        )

    def fit(self, X):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.model_ = self._estimator().fit(X)
        return self

    def partial_fit(self, X):
        if self.model_ is None:
            self.model_ = self._estimator()
        self.model_.partial_fit(X)
        return self

    def reconstruction_error(self, X):
        return -self.model_.score_samples(X)

    def transform(self, X):
        return self.model_.transform(X)

    def inverse_transform(self, Z):
        return self.model_.inverse_transform(Z)


class NaiveSkorch(Contender):
    """skorch's ``NeuralNetRegressor`` fitted on (X, X), as a user would."""

    name = "skorch, naive"
    note = (
        "NeuralNetRegressor fit on (X, X): DataLoader, per-batch .item(); "
        "train_split=None and shuffling on, to do the same epochs"
    )

    def _new(self, n_features):
        from skorch import NeuralNetRegressor

        torch.manual_seed(self.seed)
        self.model_ = NeuralNetRegressor(
            LeanModule,
            module__n_features=n_features,
            criterion=nn.MSELoss,
            optimizer=torch.optim.Adam,
            lr=LEARNING_RATE,
            batch_size=self.batch_size,
            max_epochs=self.epochs,
            train_split=None,
            iterator_train__shuffle=True,
            device=str(self.device),
            verbose=0,
        )

    def fit(self, X):
        self._new(X.shape[1])
        self.model_.fit(X, X)
        return self

    def partial_fit(self, X):
        if self.model_ is None:
            self._new(X.shape[1])
        self.model_.partial_fit(X, X, epochs=1)
        return self

    def reconstruction_error(self, X):
        return _mse_rows(X, self.model_.predict(X))


class PyODAutoEncoder(Contender):
    """PyOD's ``AutoEncoder`` (needs ``pip install pyod``)."""

    name = "PyOD AutoEncoder"
    note = (
        "ReLU after the code layer, drops the last partial batch, fit also "
        "scores the training set, inference at batch 256"
    )

    def _estimator(self, epochs):
        from pyod.models.auto_encoder import AutoEncoder

        # PyOD seeds the global RNGs in __init__, so a new instance per fit
        # makes every fit start from the same weights.
        return AutoEncoder(
            hidden_neuron_list=[128, 64, 8],
            hidden_activation_name="relu",
            batch_norm=False,
            dropout_rate=0.0,
            preprocessing=False,
            lr=LEARNING_RATE,
            epoch_num=epochs,
            batch_size=self.batch_size,
            optimizer_params={"weight_decay": 0.0},
            device=str(self.device),
            random_state=self.seed,
            verbose=0,
        )

    def fit(self, X):
        self.model_ = self._estimator(self.epochs).fit(X)
        return self

    def reconstruction_error(self, X):
        # decision_function is the Euclidean norm of each row's error.
        return self.model_.decision_function(X) ** 2 / X.shape[1]

    def epochs_to_reach(self, X_train, X_test, target, max_epochs):
        # PyOD trains only through fit; its per-epoch hook checks the error.
        class Reached(Exception):
            pass

        model = self._estimator(max_epochs)
        epochs = 0

        def check():
            nonlocal epochs
            epochs += 1
            self.model_ = model
            if self.reconstruction_error(X_test).mean() <= target:
                raise Reached
            model.model.train()  # decision_function left it in eval mode

        model.epoch_update = check
        try:
            model.fit(X_train)
        except Reached:
            return epochs
        return None


class MLPAutoencoder(Contender):
    """scikit-learn's ``MLPRegressor`` trained to map X to X (NumPy, CPU)."""

    name = "MLPRegressor (X -> X)"
    note = "NumPy on the CPU; ReLU after the code layer"

    def _new(self):
        self.model_ = MLPRegressor(
            hidden_layer_sizes=(128, 64, 8, 64, 128),
            activation="relu",
            solver="adam",
            alpha=0.0,
            batch_size=self.batch_size,
            learning_rate_init=LEARNING_RATE,
            max_iter=self.epochs,
            tol=0.0,
            n_iter_no_change=self.epochs,
            random_state=self.seed,
        )

    def fit(self, X):
        self._new()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.model_.fit(X, X)
        return self

    def partial_fit(self, X):
        if self.model_ is None:
            self._new()
        self.model_.partial_fit(X, X)
        return self

    def reconstruction_error(self, X):
        return _mse_rows(X, self.model_.predict(X))


class PCABaseline(Contender):
    """scikit-learn's ``PCA`` with 8 components: the linear baseline."""

    name = "PCA"
    note = "closed form on the CPU; epochs do not apply"
    has_codes = True
    trains = False

    def fit(self, X):
        self.model_ = PCA(n_components=8, random_state=self.seed).fit(X)
        return self

    def reconstruction_error(self, X):
        return _mse_rows(X, self.inverse_transform(self.transform(X)))

    def transform(self, X):
        return self.model_.transform(X)

    def inverse_transform(self, Z):
        return self.model_.inverse_transform(Z)


#: All contenders in table order; PyOD is skipped when it is not installed.
CONTENDERS = [
    LeanLoop,
    LeanLoopDefaultAdam,
    Skae,
    NaiveSkorch,
    PyODAutoEncoder,
    MLPAutoencoder,
    PCABaseline,
]
