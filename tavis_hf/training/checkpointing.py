"""The run folder's state on disk: trainer progress, atomic JSON, rotated training-state checkpoints, model folders.

* :class:`TrainerProgress` — where training stands (``trainer_state.json`` in every checkpoint).
* :func:`write_json_atomic` — JSON written to a temporary file, then renamed into place.
* :func:`save_checkpoint` / :func:`list_checkpoints` — ``checkpoints/step_<n>`` (Accelerate states), atomic and rotated.
* :func:`save_model` — ``save_pretrained`` of the weights and processor into a folder, atomically.
* :func:`prepare_output_dir` — check the run folder before anything is written; find the checkpoint to resume from.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .recipe import TrainingRecipe, check_resume_compatible

__all__ = [
    "CHECKPOINT_PREFIX",
    "TrainerProgress",
    "list_checkpoints",
    "prepare_output_dir",
    "save_checkpoint",
    "save_model",
    "write_json_atomic",
]


@dataclasses.dataclass
class TrainerProgress:
    """Where training stands; saved as ``trainer_state.json`` inside every checkpoint.

    ``batches_in_epoch`` counts micro-batches of the current epoch already consumed by each process (the resumed run
    skips them); ``micro_step`` counts all micro-batches (it drives :func:`step_seed`)."""

    epoch: int = 0
    global_step: int = 0
    micro_step: int = 0
    batches_in_epoch: int = 0
    best_metric: float | None = None
    best_step: int | None = None
    best_epoch: int | None = None
    val_history: list = dataclasses.field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def load(cls, path: str | os.PathLike) -> TrainerProgress:
        values = json.loads(Path(path).read_text(encoding="utf-8"))
        known = {field.name for field in dataclasses.fields(cls)}
        if set(values) != known:
            raise ValueError(f"{path} is not a trainer state (keys {sorted(values)})")
        return cls(**values)


def write_json_atomic(path: str | os.PathLike, data: Any) -> None:
    """Write JSON to a temporary file in the same folder, then ``os.replace`` it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        json.dump(data, stream, indent=2, sort_keys=True)
        stream.write("\n")
    os.replace(tmp, path)


CHECKPOINT_PREFIX = "step_"


def list_checkpoints(root: str | os.PathLike) -> list[Path]:
    """Complete checkpoints ``root/step_<n>`` sorted by step (partial ``*.tmp`` folders are ignored)."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = [
        path
        for path in root.iterdir()
        if path.is_dir() and path.name.startswith(CHECKPOINT_PREFIX) and path.name[len(CHECKPOINT_PREFIX) :].isdigit()
    ]
    return sorted(found, key=lambda path: int(path.name[len(CHECKPOINT_PREFIX) :]))


def save_checkpoint(
    accelerator,
    root: str | os.PathLike,
    progress: TrainerProgress,
    total_limit: int | None,
    extra_files: Callable[[Path], None] | None = None,
) -> Path:
    """``accelerator.save_state`` into ``root/step_<global_step>.tmp`` + ``trainer_state.json``, then an atomic rename
    to ``root/step_<global_step>``, then deletion of the oldest checkpoints beyond ``total_limit``. Every process
    must call it (sharded states); only the main process touches the folders."""
    root = Path(root)
    final = root / f"{CHECKPOINT_PREFIX}{progress.global_step}"
    tmp = root / f"{final.name}.tmp"
    if accelerator.is_main_process:
        root.mkdir(parents=True, exist_ok=True)
        if tmp.exists():
            shutil.rmtree(tmp)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(tmp))
    if accelerator.is_main_process:
        write_json_atomic(tmp / "trainer_state.json", progress.to_dict())
        if extra_files is not None:
            extra_files(tmp)
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
        if total_limit is not None:
            for old in list_checkpoints(root)[:-total_limit]:
                shutil.rmtree(old)
    accelerator.wait_for_everyone()
    return final


def save_model(accelerator, model, processor, folder: Path) -> None:
    """``save_pretrained`` of the (gathered) weights and the processor into ``folder``, atomically. Every process
    must call it (sharded states); only the main process writes."""
    state_dict = accelerator.get_state_dict(model)
    if accelerator.is_main_process:
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        accelerator.unwrap_model(model).save_pretrained(tmp, state_dict=state_dict)
        processor.save_pretrained(tmp)
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)
    accelerator.wait_for_everyone()


def prepare_output_dir(
    output_dir: str | os.PathLike,
    recipe: TrainingRecipe,
    context: Mapping[str, Any],
    resume_from_checkpoint: str | None = None,
    overwrite_output_dir: bool = False,
) -> Path | None:
    """Check the run folder before anything is written; return the checkpoint to resume from (or None).

    Resuming (``resume_from_checkpoint``: ``"latest"`` or a ``checkpoints/step_<n>`` folder of ``output_dir``) needs
    the run's ``recipe.json`` and a recipe and ``context`` it is compatible with (:func:`check_resume_compatible`).
    Otherwise a non-empty ``output_dir`` is refused unless ``overwrite_output_dir``."""
    output_dir = Path(output_dir)
    if resume_from_checkpoint:
        saved = output_dir / "recipe.json"
        if not saved.is_file():
            raise FileNotFoundError(f"cannot resume: {saved} does not exist")
        record = json.loads(saved.read_text(encoding="utf-8"))
        check_resume_compatible(record["recipe"], recipe, record["context"], context)
        checkpoints = output_dir / "checkpoints"
        if resume_from_checkpoint == "latest":
            found = list_checkpoints(checkpoints)
            if not found:
                raise FileNotFoundError(f"cannot resume: no checkpoint under {checkpoints}")
            return found[-1]
        path = Path(resume_from_checkpoint)
        if path.resolve().parent != checkpoints.resolve() or path not in list_checkpoints(path.parent):
            raise ValueError(f"--resume-from-checkpoint must be 'latest' or a step_<n> folder of {checkpoints}")
        return path
    if output_dir.exists() and any(output_dir.iterdir()) and not overwrite_output_dir:
        raise FileExistsError(
            f"{output_dir} is not empty: pass --resume-from-checkpoint latest to continue, or "
            "--overwrite-output-dir to start over"
        )
    return None
