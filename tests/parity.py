"""Parity with the authors' code: how the tests find it, and the record of what they measured.

The parity tests compare `tavis_hf` with the authors' TAViS, the official ImageBind and AVSBench's metric code,
read from folders named by environment variables (README, "Parity with the authors' code"); `.ci/run` sets them
when the project's `shared/reference/` is beside the checkout, and elsewhere the tests skip with `HOW_TO_ENABLE`.

With `TAVIS_HF_PARITY_RECORD=PATH`, every maximum difference a parity test measures is written to PATH (JSON) at the
end of the session: `docs/parity.json` is written that way, and the README's parity table is checked against it.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path

import torch

RECORD_ENV = "TAVIS_HF_PARITY_RECORD"
HOW_TO_ENABLE = "see README.md, 'Parity with the authors' code' (.ci/run sets it when ../shared/reference exists)"


class ParityRecord:
    """Maximum absolute differences by name (the largest value recorded under a name wins) and the settings they
    were measured with."""

    def __init__(self) -> None:
        self.max_abs_diff: dict[str, float] = {}
        self.settings: dict[str, object] = {}

    def add(self, name: str, value: float) -> None:
        self.max_abs_diff[name] = max(float(value), self.max_abs_diff.get(name, 0.0))

    def write(self, path: str | Path, command: list[str]) -> None:
        record = {
            "command": " ".join([f"{RECORD_ENV}={path}", "python3 -m pytest", *command]),
            "environment": {
                "torch": torch.__version__,
                "python": platform.python_version(),
                "machine": platform.machine(),
                "threads": torch.get_num_threads(),
            },
            "settings": dict(sorted(self.settings.items())),
            "max_abs_diff": dict(sorted(self.max_abs_diff.items())),
        }
        Path(path).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        print(f"\nparity record written to {path}", file=sys.stderr)


def record_path() -> str | None:
    return os.environ.get(RECORD_ENV) or None
