"""The CPU settings every trial trains under: threads and flushed subnormals, restored after."""

from __future__ import annotations

import pytest
import torch

from emergent import cells


def test_subnormals_are_flushed_while_training_and_restored_after():
    if not torch.set_flush_denormal(False):  # PyTorch's default; a CPU without the mode
        pytest.skip("this CPU cannot flush subnormals")
    tiny = torch.tensor([1e-40])  # float32's smallest normal number is 1.2e-38
    with cells.subnormals_flushed():
        assert (tiny * 1.0).item() == 0.0
    assert (tiny * 1.0).item() > 0.0


def test_threads_are_set_while_training_and_restored_after():
    before = torch.get_num_threads()
    with cells.cpu_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
