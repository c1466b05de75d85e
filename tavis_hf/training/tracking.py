"""Experiment tracking of a training run: the offline :class:`JSONLTracker` and the ``--report-to`` check."""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from accelerate.tracking import (
    LOGGER_TYPE_TO_CLASS,
    GeneralTracker,
    get_available_trackers,
    on_main_process,
    register_tracker_class,
)

from .checkpointing import write_json_atomic

__all__ = ["JSONLTracker", "register_jsonl_tracker", "requested_trackers"]


class JSONLTracker(GeneralTracker):
    """Offline Accelerate tracker (``log_with="jsonl"``, see :func:`register_jsonl_tracker`):
    ``<logging_dir>/<run_name>/metrics.jsonl`` gets one JSON object per ``log`` call (``{"step": ..., **values}``)
    and the run configuration goes to ``config.json`` next to it."""

    name = "jsonl"
    requires_logging_directory = True

    @on_main_process
    def __init__(self, run_name: str, logging_dir: str | os.PathLike, **kwargs):
        super().__init__()
        self.run_dir = Path(logging_dir) / run_name
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.run_dir / "metrics.jsonl"

    @property
    def tracker(self):
        return self.path

    @on_main_process
    def store_init_configuration(self, values: dict):
        write_json_atomic(self.run_dir / "config.json", values)

    @on_main_process
    def log(self, values: dict, step: int | None = None, **kwargs):
        record = {"step": step, **{k: (v.item() if isinstance(v, torch.Tensor) else v) for k, v in values.items()}}
        with self.path.open("a", encoding="utf-8") as stream:
            stream.write(json.dumps(record) + "\n")


def register_jsonl_tracker() -> None:
    """Make ``log_with="jsonl"`` available to ``Accelerator`` (idempotent)."""
    if LOGGER_TYPE_TO_CLASS.get(JSONLTracker.name) is not JSONLTracker:
        register_tracker_class(JSONLTracker)


def requested_trackers(report_to: str) -> list[str]:
    """The trackers of a comma-separated ``--report-to`` value (``none``: no tracker); ``jsonl`` gets registered.
    Raises ``ValueError`` for a tracker that is not installed (Accelerate would drop it silently)."""
    trackers = [name for name in report_to.split(",") if name and name != "none"]
    if "jsonl" in trackers:
        register_jsonl_tracker()
    unavailable = [name for name in trackers if name != "jsonl" and name not in get_available_trackers()]
    if unavailable:
        raise ValueError(f"--report-to: trackers {unavailable} are not installed (available: jsonl, "
                         f"{', '.join(str(t) for t in get_available_trackers())})")  # fmt: skip
    return trackers
