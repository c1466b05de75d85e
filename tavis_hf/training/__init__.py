"""TAViS training as a library: ``python -m tavis_hf.training`` (or ``accelerate launch -m tavis_hf.training``,
``tavis-hf train``) runs it; ``examples/train_tavis.py`` and ``examples/train_tavis_trainer.py`` are thin scripts
over it. One module per concept:

* :mod:`.recipe` — :class:`TrainingRecipe` (optimisation and data settings; the model's settings are its config's),
  recipe files, command-line options, resume compatibility.
* :mod:`.arguments` — :class:`RunArguments` (data, starting model, run folder) and the command's parser.
* :mod:`.data` — the run's dataset and its checks, :func:`decoded_waveform`, :class:`TavisClipTransform`,
  :func:`collate_clips`.
* :mod:`.augmentation` — :func:`mismatch_audio` (audio-mismatch negatives).
* :mod:`.model` — the model and processor a run trains (:func:`load_model_and_processor`), prepared by the recipe.
* :mod:`.audio_cache` — :class:`CachedImageBindAudio` (identical outputs of a frozen audio tower, computed once).
* :mod:`.schedule` — :func:`cosine_epoch_schedule`, :func:`step_seed`.
* :mod:`.checkpointing` — :class:`TrainerProgress`, atomic and rotated checkpoints, atomic JSON and model folders.
* :mod:`.tracking` — :class:`JSONLTracker` and the ``--report-to`` check.
* :mod:`.release` — the run's release folder ``final/`` and its records.
* :mod:`.loop` — the loop in phases: :func:`setup`, :func:`train_epoch`, :func:`end_epoch`, :func:`evaluate_split`,
  :func:`finalise`; :func:`train` and :func:`main`.
* :mod:`.audio_pretraining` — aligning a random ImageBind audio tower with its text tower before TAViS training.

Names are imported lazily (importing :mod:`tavis_hf.training.data` does not import Accelerate).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "recipe": ("MOVED_SETTINGS", "RESUME_NEUTRAL_FIELDS", "SUBSET_DEFAULTS", "TrainingRecipe", "add_recipe_arguments",
               "check_resume_compatible", "config_fingerprint", "given_recipe_values", "load_recipe_file",
               "option_strings", "recorded_recipe", "resolve_recipe"),
    "arguments": ("MODEL_PRESETS", "SYNTHAVS_DEFAULT_SUBSET", "RunArguments", "build_parser", "parse_args"),
    "data": ("REQUIRED_COLUMNS", "TavisClipTransform", "check_training_dataset", "collate_clips", "decoded_waveform",
             "load_training_dataset"),
    "augmentation": ("mismatch_audio",),
    "model": ("load_model_and_processor", "prepare_model_for_training", "set_trainable_towers"),
    "audio_cache": ("CachedImageBindAudio",),
    "schedule": ("cosine_epoch_schedule", "step_seed"),
    "checkpointing": ("CHECKPOINT_PREFIX", "TrainerProgress", "list_checkpoints", "prepare_output_dir",
                      "save_checkpoint", "save_model", "write_json_atomic"),
    "tracking": ("JSONLTracker", "register_jsonl_tracker", "requested_trackers"),
    "release": ("run_record", "write_release_folder"),
    "loop": ("TrainingRun", "best_record", "check_replicas", "end_epoch", "evaluate_split", "finalise",
             "library_progress_bars", "main", "parameter_fingerprint", "setup", "train", "train_epoch", "train_step"),
    "audio_pretraining": ("PretrainingArguments", "audio_clips", "load_pretraining_split", "pretrain_imagebind_audio"),
}  # fmt: skip
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
