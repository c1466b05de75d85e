"""The run's release folder ``final/``: the selected weights and processor, the training records and a model card
derived from them (``tavis_hf.hub.model_card_from_folder``), ready for ``tavis-hf push``."""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

from ..hub.records import subset_identity
from .arguments import RunArguments
from .checkpointing import TrainerProgress, write_json_atomic
from .recipe import TrainingRecipe

__all__ = ["run_record", "write_release_folder"]

#: The options of :class:`RunArguments` a run's recorded command repeats (the recipe is ``training_recipe.json``).
_RECORDED_OPTIONS = ("dataset_name_or_path", "synthavs", "synthavs_image_size", "max_train_samples", "max_eval_samples",
                     "model_name_or_path", "model_preset", "config_overrides", "processor_name_or_path", "bpe_path",
                     "mixed_precision", "output_dir")  # fmt: skip


def run_record(args: RunArguments, dataset) -> dict:
    """``final/training_run.json``: what the recipe does not say (the command, starting point, data and clip counts),
    so that the model card (``tavis_hf.hub.model_card_from_folder``) can say it."""
    command = ["python", "examples/train_tavis.py", "--config", "training_recipe.json"]
    for name in _RECORDED_OPTIONS:
        value = getattr(args, name, None)
        if value is not None and not (name == "synthavs_image_size" and args.synthavs is None):
            command += [f"--{name}", str(value)]
    keys = ("model_name_or_path", "model_preset", "config_overrides", "dataset_name_or_path", "synthavs")
    local = args.model_name_or_path is not None and Path(args.model_name_or_path).is_dir()
    return {"command": shlex.join(command), **{key: getattr(args, key) for key in keys},
            "model_is_local_folder": local,
            "num_clips": {split: dataset[split].num_rows for split in dataset}}  # fmt: skip


def _card_description(recipe: TrainingRecipe, progress: TrainerProgress, metrics: dict, run: dict | None) -> str:
    trained = "fine-tuned" if run and run.get("model_name_or_path") else "trained"
    selection = "best val " + recipe.metric_for_best_model if recipe.select_best_model else "the last"
    return (
        f"TAViS {trained} on {subset_identity(recipe.subset)['name']} ({recipe.subset}) with `examples/train_tavis.py`: "
        f"{progress.global_step} optimizer steps, weights of {metrics['selected_weights']} "
        f"(epoch {progress.best_epoch}: {selection})."
    )


def write_release_folder(
    output_dir: Path,
    selected: Path,
    recipe: TrainingRecipe,
    progress: TrainerProgress,
    metrics: dict,
    run: dict | None = None,
) -> None:
    """``output_dir/final``: the selected weights, processor, training records (``training_metrics.json``,
    ``training_recipe.json``, ``training_run.json``: ``run``, and the ``pretraining.json`` of a starting folder made
    by examples/pretrain_imagebind_audio.py) and the model card draft, ready for the Hub. The card is
    ``tavis_hf.hub.model_card_from_folder`` of that folder: every claim comes from those files."""
    from tavis_hf import hub

    final, tmp = output_dir / "final", output_dir / "final.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(selected, tmp)
    write_json_atomic(tmp / "training_metrics.json", metrics)
    write_json_atomic(tmp / "training_recipe.json", recipe.to_dict())
    if run is not None:
        write_json_atomic(tmp / "training_run.json", run)
        start = Path(run["model_name_or_path"] or "")
        if run["model_is_local_folder"] and (start / "pretraining.json").is_file():  # the step before this one
            shutil.copyfile(start / "pretraining.json", tmp / "pretraining.json")
    card = hub.model_card_from_folder(
        tmp,
        model_name=output_dir.name,
        local_path=final,
        description=_card_description(recipe, progress, metrics, run),
    )
    card.save(tmp / "README.md")
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
