"""skorch glue: batches, device resolution, seeding."""

import numpy as np
import pytest
import torch

from skae._training import _Batches, _seeded, _TensorDataset, resolve_device, to_tensor


def test_batches_cover_every_row_once_per_epoch():
    X = torch.arange(10.0).reshape(10, 1)
    batches = _Batches(
        _TensorDataset(X), 4, shuffle=True, seed=0, device=torch.device("cpu")
    )
    assert len(batches) == 3
    epoch = [xb for xb, _ in batches]
    assert [len(xb) for xb in epoch] == [4, 4, 2]
    rows = torch.cat(epoch).flatten()
    assert sorted(rows.tolist()) == list(range(10))
    assert rows.tolist() != list(range(10))  # shuffled
    assert torch.cat([xb for xb, _ in batches]).flatten().tolist() != rows.tolist()


def test_batches_of_a_subset_stay_in_the_subset():
    X = torch.arange(10.0).reshape(10, 1)
    subset = torch.utils.data.Subset(_TensorDataset(X), [1, 3, 5])
    batches = _Batches(subset, 2, shuffle=False, seed=0, device=torch.device("cpu"))
    assert torch.cat([xb for xb, _ in batches]).flatten().tolist() == [1.0, 3.0, 5.0]


def test_target_is_the_input():
    batches = _Batches(
        _TensorDataset(torch.ones(3, 2)), 8, False, 0, torch.device("cpu")
    )
    xb, yb = next(iter(batches))
    assert xb is yb


def test_to_tensor_shares_writable_float32_memory():
    X = np.zeros((3, 2), dtype=np.float32)
    assert to_tensor(X).data_ptr() == X.ctypes.data
    X.flags.writeable = False
    assert to_tensor(X).data_ptr() != X.ctypes.data
    assert to_tensor(np.zeros((3, 2))).dtype == torch.float32


def test_resolve_device():
    assert resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    with pytest.raises(ValueError, match="not a torch device"):
        resolve_device("tpu")


def test_seeded_is_reproducible_and_restores_global_state():
    state = torch.get_rng_state()
    with _seeded(3, torch.device("cpu")):
        first = torch.rand(3)
    with _seeded(3, torch.device("cpu")):
        second = torch.rand(3)
    torch.testing.assert_close(first, second)
    assert torch.equal(state, torch.get_rng_state())
