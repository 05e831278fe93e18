"""Training on the CPU uses every core even after the local backend set one torch thread for play."""

from __future__ import annotations

import os

from tests.conftest import requires


@requires("torch")
def test_all_cores_lifts_the_play_setting_and_restores_it() -> None:
    import torch

    from arena.train.common import all_cores
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # what LocalBackend does for play on the CPU
    try:
        with all_cores("cpu"):
            assert torch.get_num_threads() == cores
        assert torch.get_num_threads() == 1
        with all_cores("cuda"):  # nothing to do off the CPU
            assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
