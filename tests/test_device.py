"""Devices, tensors, training batches and batched inference."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch

import skae._device
from skae import AutoencoderOutlierDetector, AutoencoderTransformer
from skae._device import TrainingBatches, map_batches, resolve_device, to_tensor

from .conftest import TINY

CPU = torch.device("cpu")


def test_batches_cover_every_row_once_per_epoch():
    X = torch.arange(10.0).reshape(10, 1)
    batches = TrainingBatches(X, None, 4, shuffle=True, seed=0, device=CPU)
    assert len(batches) == 3
    epoch = [xb for xb, _ in batches]
    assert [len(xb) for xb in epoch] == [4, 4, 2]
    rows = torch.cat(epoch).flatten()
    assert sorted(rows.tolist()) == list(range(10))
    assert rows.tolist() != list(range(10))  # shuffled
    assert torch.cat([xb for xb, _ in batches]).flatten().tolist() != rows.tolist()


def test_a_one_row_last_batch_joins_the_batch_before():
    batches = TrainingBatches(torch.zeros(9, 1), None, 4, True, 0, CPU)
    assert [len(xb) for xb, _ in batches] == [4, 5]


def test_batches_of_a_split_stay_in_the_split():
    X = torch.arange(10.0).reshape(10, 1)
    indices = torch.tensor([1, 3, 5])
    batches = TrainingBatches(X, indices, 2, shuffle=False, seed=0, device=CPU)
    assert torch.cat([xb for xb, _ in batches]).flatten().tolist() == [1.0, 3.0, 5.0]


def test_sparse_batches_are_densified_one_at_a_time():
    X = sp.random(50, 7, density=0.3, format="csr", random_state=0)
    batches = TrainingBatches(X, None, 16, shuffle=True, seed=0, device=CPU)
    rows = torch.cat([xb for xb, _ in batches])
    assert rows.shape == (50, 7)
    np.testing.assert_allclose(
        np.sort(rows.sum(dim=1).numpy()), np.sort(X.toarray().sum(axis=1)), rtol=1e-5
    )


def test_target_is_the_input():
    xb, yb = next(iter(TrainingBatches(torch.ones(3, 2), None, 8, False, 0, CPU)))
    assert xb is yb


def test_to_tensor_shares_writable_float32_memory():
    X = np.zeros((3, 2), dtype=np.float32)
    assert to_tensor(X).data_ptr() == X.ctypes.data
    X.flags.writeable = False
    assert to_tensor(X).data_ptr() != X.ctypes.data
    assert to_tensor(np.zeros((3, 2))).dtype == torch.float32


def test_resolve_device():
    assert resolve_device("cpu") == CPU
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected


@pytest.mark.parametrize(
    "device, message",
    [
        ("tpu", "not a torch device"),
        ("gpu0", "not a torch device"),
        ("mps", "not supported"),
        ("xpu", "not supported"),
        ("meta", "not supported"),
        (torch.device("meta"), "not supported"),
    ],
)
def test_unsupported_devices_fail_before_torch_is_called(device, message):
    with pytest.raises(ValueError, match=message):
        resolve_device(device)


def test_cuda_is_refused_where_missing(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="CUDA is not available"):
        resolve_device("cuda")
    assert resolve_device("auto") == CPU


@pytest.mark.parametrize(
    "estimator", [AutoencoderTransformer, AutoencoderOutlierDetector]
)
def test_estimators_refuse_unsupported_devices_at_fit(estimator, digits):
    with pytest.raises(ValueError, match="not supported"):
        estimator(device="mps", **TINY).fit(digits[0][:20])


def test_map_batches_gathers_rows_in_the_requested_dtype():
    X = np.arange(12.0).reshape(6, 2)
    out = map_batches(X, lambda x: x * 2, CPU)
    np.testing.assert_array_equal(out, X * 2)
    assert out.dtype == np.float64
    assert map_batches(X, lambda x: x, CPU, np.float32).dtype == np.float32


def test_inference_batches_match_one_pass(digits, monkeypatch):
    # Inference runs in fixed-size batches; a batch edge must not change
    # any row's result. The batch size is patched in its one place.
    X = digits[0][:300]
    ae = AutoencoderTransformer(**TINY).fit(X)
    detector = AutoencoderOutlierDetector(**TINY).fit(X)
    whole = ae.score_samples(X), ae.transform(X), detector.score_samples(X)
    monkeypatch.setattr(skae._device, "INFERENCE_BATCH_SIZE", 7)
    batched = ae.score_samples(X), ae.transform(X), detector.score_samples(X)
    for a, b in zip(whole, batched, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_batches_and_inference_round_trip(digits):
    cuda = torch.device("cuda")
    X = torch.arange(10.0).reshape(10, 1)
    batch, _ = next(iter(TrainingBatches(X, None, 4, True, 0, cuda)))
    assert batch.is_cuda
    out = map_batches(digits[0][:50], lambda x: x.sum(dim=1), cuda)
    np.testing.assert_allclose(out, digits[0][:50].sum(axis=1), rtol=1e-5)
