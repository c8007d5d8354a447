"""Devices, tensors, training batches and batched inference."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import scipy.sparse as sp
import torch

__all__ = [
    "INFERENCE_BATCH_SIZE",
    "TrainingBatches",
    "draw_member_rows",
    "inference_batches",
    "map_batches",
    "move_batch",
    "resolve_device",
    "to_tensor",
]

#: Rows per forward pass at inference. Larger than a training batch: no
#: gradients are kept, so throughput rises with batch size until the
#: activations of one batch stop fitting in cache. ``bench_speed.py``'s
#: batch-size table measures it (``benchmarks/results/speed.md``). Tests and
#: benchmarks patch this one name.
INFERENCE_BATCH_SIZE = 2048

#: Devices skae trains on: torch's fused optimizers, pinned host buffers and
#: the CUDA availability check are written for these two.
_SUPPORTED_DEVICES = ("cpu", "cuda")


def resolve_device(device):
    """Turn the ``device`` parameter into a ``torch.device``, or raise.

    Parameters
    ----------
    device : str or torch.device
        ``"auto"`` (CUDA when available, else the CPU), ``"cpu"``,
        ``"cuda"`` or ``"cuda:<index>"``.

    Returns
    -------
    device : torch.device

    Raises
    ------
    ValueError
        When ``device`` is not a torch device, not one skae supports, or
        names a GPU this machine lacks.

    Examples
    --------
    >>> from skae._device import resolve_device
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device={device!r} is not a torch device; use 'auto', 'cpu', "
            "'cuda' or 'cuda:<index>'."
        ) from exc
    if resolved.type not in _SUPPORTED_DEVICES:
        raise ValueError(
            f"device={device!r} is not supported: skae trains on 'cpu' and "
            "'cuda' devices only; use device='auto', 'cpu' or 'cuda'."
        )
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} was requested but CUDA is not available on "
                "this machine; use device='auto' to fall back to the CPU."
            )
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} names GPU {resolved.index}, but this machine "
                f"has {torch.cuda.device_count()}."
            )
    return resolved


def to_tensor(X):
    """A float32 CPU tensor over ``X``, sharing memory where numpy allows.

    A scipy sparse ``X`` is densified: pass it one batch at a time.

    Examples
    --------
    >>> import numpy as np
    >>> from skae._device import to_tensor
    >>> to_tensor(np.zeros((2, 3))).dtype
    torch.float32
    """
    if sp.issparse(X):
        return torch.from_numpy(X.toarray().astype(np.float32, copy=False))
    if X.dtype == np.float32 and X.flags.writeable:
        return torch.from_numpy(X)
    # torch refuses to share read-only memory (memmaps), and float64 data
    # must be cast once anyway: both get one float32 copy.
    return torch.tensor(X, dtype=torch.float32)


def move_batch(batch, device):
    """Send a CPU batch to ``device``; asynchronously through pinned memory."""
    if device.type == "cuda":
        return batch.pin_memory().to(device, non_blocking=True)
    return batch


class TrainingBatches:
    """Shuffled mini-batches of training rows, on the training device.

    One ``randperm`` per epoch and one ``index_select`` per batch replace
    ``DataLoader``'s per-sample ``__getitem__`` and collate, which cost as
    much as the forward pass of a small network. Rows of a sparse matrix are
    sliced from CSR and densified one batch at a time.

    Parameters
    ----------
    X : torch.Tensor or scipy.sparse.csr_matrix of shape (n_samples, n_features)
        All the training rows.
    indices : torch.Tensor or None
        The rows to iterate over: a 1-D tensor (a validation split's rows),
        or a 2-D tensor with one row of indices per member of an ensemble,
        whose batches are then stacked on a leading member axis; None for
        all rows.
    batch_size : int
        Rows per batch (per member).
    shuffle : bool
        Draw a new order every epoch (training), or keep the rows' order.
    seed : int
        Seed of the shuffling order.
    device : torch.device
        Where the batches go.

    Examples
    --------
    >>> import torch
    >>> from skae._device import TrainingBatches
    >>> batches = TrainingBatches(
    ...     torch.zeros(10, 2), None, 4, True, 0, torch.device("cpu")
    ... )
    >>> [len(x) for x, _ in batches]
    [4, 4, 2]
    >>> members = torch.tensor([[0, 1, 2], [3, 4, 5]])
    >>> batches = TrainingBatches(
    ...     torch.zeros(10, 2), members, 2, True, 0, torch.device("cpu")
    ... )
    >>> [tuple(x.shape) for x, _ in batches]
    [(2, 3, 2)]
    """

    def __init__(self, X, indices, batch_size, shuffle, seed, device):
        self.X = X
        self.indices = indices
        self.batch_size = batch_size
        self.device = device
        self.generator = torch.Generator().manual_seed(seed) if shuffle else None

    def __len__(self):
        return len(self._stops())

    def _n_rows(self):
        return self.X.shape[0] if self.indices is None else self.indices.shape[-1]

    def _stops(self):
        n = self._n_rows()
        stops = [*range(self.batch_size, n, self.batch_size), n]
        if self.generator is not None and len(stops) > 1 and n - stops[-2] == 1:
            # A one-row training batch has no batch statistics: BatchNorm
            # raises on it in train mode. It joins the batch before it.
            del stops[-2]
        return stops

    def _order(self):
        if self.generator is None:
            return self.indices
        if self.indices is None:
            return torch.randperm(self._n_rows(), generator=self.generator)
        # One permutation per row of indices (per member), drawn at once.
        keys = torch.rand(self.indices.shape, generator=self.generator)
        return self.indices.gather(-1, keys.argsort(dim=-1))

    def _gather(self, rows):
        """The rows of X at ``rows`` (any shape), as a float32 tensor."""
        flat = rows.reshape(-1)
        if sp.issparse(self.X):
            batch = to_tensor(self.X[flat.numpy()])
        else:
            batch = self.X.index_select(0, flat)
        return batch.view(*rows.shape, self.X.shape[1])

    def __iter__(self):
        order = self._order()
        start = 0
        for stop in self._stops():
            if order is None:
                batch = self.X[start:stop]
                if sp.issparse(batch):
                    batch = to_tensor(batch)
            else:
                batch = self._gather(order[..., start:stop])
            batch = move_batch(batch, self.device)
            start = stop
            yield batch, batch


def draw_member_rows(n_rows, n_members, max_samples, generator):
    """Each member's row sample, drawn without replacement.

    Parameters
    ----------
    n_rows : int
        Rows to draw from.
    n_members : int
        Number of samples.
    max_samples : "auto", int or float
        Rows per sample: ``"auto"`` is ``min(256, n_rows)``, an int is
        capped at ``n_rows``, a float is that share of ``n_rows``.
    generator : torch.Generator
        Source of the draws.

    Returns
    -------
    rows : torch.Tensor of shape (n_members, n_samples_per_member)

    Examples
    --------
    >>> import torch
    >>> from skae._device import draw_member_rows
    >>> rows = draw_member_rows(1000, 3, "auto", torch.Generator().manual_seed(0))
    >>> rows.shape
    torch.Size([3, 256])
    """
    if max_samples == "auto":
        size = min(256, n_rows)
    elif isinstance(max_samples, float):
        size = max(1, int(max_samples * n_rows))
    else:
        size = min(max_samples, n_rows)
    return torch.stack(
        [torch.randperm(n_rows, generator=generator)[:size] for _ in range(n_members)]
    )


def inference_batches(X, device):
    """Yield ``(rows, x)``: X's inference batches on ``device``.

    Autograd is off while the caller handles each batch. Wide data gets
    fewer rows per batch, so that one batch of input stays within about
    4 MiB of float32 whatever the feature count.

    Parameters
    ----------
    X : ndarray or scipy sparse matrix of shape (n_samples, n_features)
        Validated data.
    device : torch.device
        Where the batches go.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from skae._device import inference_batches
    >>> [x.shape for _, x in inference_batches(np.zeros((3, 2)), torch.device("cpu"))]
    [torch.Size([3, 2])]
    """
    if sp.issparse(X):
        X = X.tocsr()  # row slices of CSC would scan every column
    step = max(1, min(INFERENCE_BATCH_SIZE, 2**20 // max(X.shape[1], 1)))
    with torch.inference_mode():
        for start in range(0, X.shape[0], step):
            rows = slice(start, start + step)
            yield rows, move_batch(to_tensor(X[rows]), device)


def map_batches(X, fn, device, dtype=None):
    """Apply ``fn`` to X in inference batches; gather its rows on the host.

    Parameters
    ----------
    X : ndarray or scipy sparse matrix of shape (n_samples, n_features)
        Validated data.
    fn : callable
        Maps a batch tensor to a tensor with one row per input row.
    device : torch.device
        Where ``fn`` runs.
    dtype : numpy dtype, default=None
        Dtype of the result; X's by default.

    Returns
    -------
    out : ndarray of shape (n_samples, ...)

    Examples
    --------
    >>> import numpy as np, torch
    >>> from skae._device import map_batches
    >>> map_batches(np.ones((3, 2)), lambda x: x.sum(dim=1), torch.device("cpu"))
    array([2., 2., 2.])
    """
    dtype = X.dtype if dtype is None else dtype
    out = None
    for rows, x in inference_batches(X, device):
        result = fn(x)
        if out is None:
            out, out_tensor = _host_buffer(
                (X.shape[0], *result.shape[1:]), dtype, device
            )
        # From CUDA this copy is queued, not waited for: the host syncs
        # once below instead of once per batch.
        out_tensor[rows].copy_(result, non_blocking=True)
    if device.type == "cuda":
        torch.cuda.current_stream(device).synchronize()
    return out


def _host_buffer(shape, dtype, device):
    """A NumPy array for results computed on ``device``, and a tensor over it.

    For CUDA the memory is pinned, so that ``copy_(..., non_blocking=True)``
    into the tensor returns at once and the host waits only once, at the end
    of :func:`map_batches`.
    """
    if device.type == "cuda":
        torch_dtype = torch.from_numpy(np.empty(0, dtype=dtype)).dtype
        tensor = torch.empty(shape, dtype=torch_dtype, pin_memory=True)
        return tensor.numpy(), tensor
    array = np.empty(shape, dtype=dtype)
    return array, torch.from_numpy(array)
