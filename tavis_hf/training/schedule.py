"""The learning-rate schedule and the per-step seeds of a training run."""

from __future__ import annotations

import hashlib
import math

import torch

__all__ = ["cosine_epoch_schedule", "step_seed"]


def cosine_epoch_schedule(
    optimizer: torch.optim.Optimizer, num_epochs: int, min_lr: float
) -> torch.optim.lr_scheduler.LambdaLR:
    """The authors' ``CosineAnnealingLR(T_max=num_epochs, eta_min=min_lr)`` stepped once per epoch, as a closed form:
    ``lr_e = min_lr + (lr - min_lr) (1 + cos(pi e / num_epochs)) / 2`` for epoch ``e`` (0-based)."""
    peaks = [group["lr"] for group in optimizer.param_groups]
    if any(peak <= 0 for peak in peaks):
        raise ValueError("learning rates must be positive")

    def factor(epoch: int, peak: float) -> float:
        return (min_lr + (peak - min_lr) * (1 + math.cos(math.pi * min(epoch, num_epochs) / num_epochs)) / 2) / peak

    return torch.optim.lr_scheduler.LambdaLR(optimizer, [lambda e, p=p: factor(e, p) for p in peaks])


def step_seed(seed: int, process_index: int, micro_step: int) -> int:
    """Seed of one micro-batch: a pure function of the run seed, the process and the micro-batch counter, so a
    resumed run draws exactly the random numbers (matcher points, …) of an uninterrupted one."""
    digest = hashlib.sha256(f"{seed}/{process_index}/{micro_step}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)
