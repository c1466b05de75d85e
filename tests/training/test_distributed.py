"""A real 2-process DDP run on CPU (`ACCELERATE_USE_CPU=1 torchrun --nproc_per_node 2`): gradients are all-reduced,
so the replicas stay identical (the authors' script never synchronised them)."""

import json
import os
import socket
import subprocess
import sys

import pytest
from safetensors.torch import load_file

from .conftest import TRAIN_SCRIPT, tiny_argv


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_two_process_cpu_ddp(synth_s4_dir, tmp_path):
    out = tmp_path / "ddp"
    env = {**os.environ, "ACCELERATE_USE_CPU": "1", "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    args = tiny_argv(synth_s4_dir, out, "--per_device_train_batch_size", "1", "--num_train_epochs", "1",
                     "--max_train_steps", "2", "--checkpointing_steps", "1")  # fmt: skip
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(_free_port()),
               str(TRAIN_SCRIPT), *args]  # fmt: skip
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    metrics = json.loads((out / "metrics.json").read_text())
    # the script gathers a per-parameter fingerprint from both ranks and raises if they differ
    assert metrics["num_processes"] == 2 and metrics["replicas_identical"] is True
    assert metrics["test"]["num_videos"] == 1  # gather_for_metrics dropped the padded duplicate
    first = load_file(out / "checkpoints" / "step_1" / "model.safetensors")
    second = load_file(out / "checkpoints" / "step_2" / "model.safetensors")
    assert any(not (first[k] == v).all() for k, v in second.items())
    losses = [json.loads(line) for line in (out / "logs" / "tavis" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in losses if "train/loss" in r] == [1, 2]
