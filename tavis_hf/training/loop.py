"""The TAViS training loop (``python -m tavis_hf.training``, ``examples/train_tavis.py``), in named phases.

* :func:`setup` — Accelerator, data, model, run folder, loaders, optimizer, schedule and resumed state, gathered in a
  :class:`TrainingRun`.
* :func:`train_epoch` — one epoch (or what remains of it) of optimizer steps (:func:`train_step`).
* :func:`end_epoch` — the epoch's val evaluation, selection of the best weights, checkpoint and ``metrics.json``.
* :func:`evaluate_split` — AVSBench-exact metrics of one split (per-frame decoding, the authors' protocol), with the
  listening control when the recipe asks for it.
* :func:`finalise` — the selected weights scored on test, ``metrics.json`` and the release folder ``final/``.

:func:`train` runs the phases; :func:`main` parses a command line first. Unlike the authors' script, gradients are
synchronised across processes (DDP, FSDP or DeepSpeed, chosen at launch), the best epoch is selected on the **val**
split, the test split is evaluated once at the end, and training resumes exactly: every micro-batch draws its random
numbers from :func:`~tavis_hf.training.schedule.step_seed`, and a resumed run skips the batches already seen.

Run folder: ``recipe.json`` (what resuming checks), ``checkpoints/step_<n>/`` (Accelerate states, rotated),
``best_model/`` (weights + processor at the best val epoch, or the last with ``--no-select-best-model``),
``metrics.json`` (val per epoch, best, test), ``logs/`` (trackers) and ``final/`` (ready for the Hub).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from accelerate import Accelerator, DataLoaderConfiguration, DistributedDataParallelKwargs
from accelerate.utils import DistributedType, ProjectConfiguration, broadcast_object_list, set_seed
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from .arguments import RunArguments, parse_args
from .augmentation import mismatch_audio
from .checkpointing import TrainerProgress, prepare_output_dir, save_checkpoint, save_model, write_json_atomic
from .data import TavisClipTransform, collate_clips, load_training_dataset
from .model import load_model_and_processor, prepare_model_for_training
from .recipe import TrainingRecipe, config_fingerprint
from .release import run_record, write_release_folder
from .schedule import cosine_epoch_schedule, step_seed
from .tracking import requested_trackers

__all__ = [
    "TrainingRun",
    "check_replicas",
    "end_epoch",
    "evaluate_split",
    "finalise",
    "library_progress_bars",
    "main",
    "parameter_fingerprint",
    "setup",
    "train",
    "train_epoch",
    "train_step",
]


@dataclasses.dataclass
class TrainingRun:
    """What the phases of a run share. ``model``, ``optimizer``, ``scheduler`` and ``train_loader`` are the
    ``accelerator.prepare``-d objects (released by :func:`finalise` before the test evaluation)."""

    args: RunArguments
    recipe: TrainingRecipe
    accelerator: Accelerator
    dataset: Any
    processor: Any
    class_names: list[str]
    class_input_ids: torch.Tensor
    gt_source: str | None = None
    model: Any = None
    optimizer: Any = None
    scheduler: Any = None
    train_loader: Any = None
    eval_loaders: dict[str, Any] = dataclasses.field(default_factory=dict)
    trainable: list[torch.nn.Parameter] = dataclasses.field(default_factory=list)
    progress: TrainerProgress = dataclasses.field(default_factory=TrainerProgress)
    trackers: list[str] = dataclasses.field(default_factory=list)
    total_steps: int = 0
    bar: Any = None

    @property
    def output_dir(self) -> Path:
        return Path(self.args.output_dir)

    @property
    def save_every(self) -> int | None:
        """Optimizer steps between checkpoints; None: at the end of every epoch."""
        steps = self.recipe.checkpointing_steps
        return None if steps == "epoch" else int(steps)


# ------------------------------------------------------------------------------------------------------- setup
def _accelerator(args: RunArguments, recipe: TrainingRecipe, trackers: list[str]) -> Accelerator:
    output_dir = Path(args.output_dir)
    return Accelerator(
        gradient_accumulation_steps=recipe.gradient_accumulation_steps,
        mixed_precision=args.mixed_precision,
        log_with=trackers or None,
        project_config=ProjectConfiguration(project_dir=str(output_dir), logging_dir=str(output_dir / "logs")),
        dataloader_config=DataLoaderConfiguration(use_seedable_sampler=True, data_seed=recipe.seed),
        kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=not args.no_find_unused_parameters)],
        step_scheduler_with_optimizer=False,
    )


def _start_output_dir(accelerator, output_dir: Path, recipe, context: dict, resume_path: Path | None) -> None:
    """A new run: an empty ``output_dir`` with ``recipe.json``; a resumed run keeps its folder."""
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        if resume_path is None and output_dir.exists():
            shutil.rmtree(output_dir)
        output_dir.mkdir(parents=True, exist_ok=True)
        if resume_path is None:
            write_json_atomic(output_dir / "recipe.json", {"recipe": recipe.to_dict(), "context": context})
    accelerator.wait_for_everyone()


def _build_info(dataset) -> dict:
    from tavis_hf.data import avsbench_build_info

    try:
        return avsbench_build_info(dataset)
    except ValueError:  # a user dataset with the schema but without the builders' description
        return {}


def _data_loaders(run: TrainingRun) -> tuple[DataLoader, dict[str, DataLoader]]:
    """The training loader and the evaluation loaders (``val``, ``test`` and, with the listening control,
    ``val_shuffled_audio`` / ``test_shuffled_audio``), not yet prepared."""
    from tavis_hf.evaluation import with_shuffled_audio

    recipe, dataset, processor = run.recipe, run.dataset, run.processor
    semantic = recipe.eval_protocol == "avss"
    train_data = dataset["train"].with_transform(TavisClipTransform(processor, recipe.train_frames, training=True))
    eval_transform = TavisClipTransform(processor, "all", training=False, semantic=semantic)
    eval_splits = {split: dataset[split] for split in ("val", "test")}
    if recipe.eval_shuffled_audio_seed is not None:  # the listening control
        eval_splits.update({f"{split}_shuffled_audio": with_shuffled_audio(data, recipe.eval_shuffled_audio_seed)
                            for split, data in list(eval_splits.items())})  # fmt: skip
    eval_data = {name: data.with_transform(eval_transform) for name, data in eval_splits.items()}
    loader_kwargs = {"collate_fn": collate_clips, "num_workers": recipe.dataloader_num_workers}
    train_loader = DataLoader(train_data, shuffle=True, batch_size=recipe.per_device_train_batch_size,
                              **loader_kwargs)  # fmt: skip
    eval_loaders = {split: DataLoader(data, batch_size=recipe.per_device_eval_batch_size, **loader_kwargs)
                    for split, data in eval_data.items()}  # fmt: skip
    return train_loader, eval_loaders


def _prepare_training(run: TrainingRun, model, resume_path: Path | None) -> None:
    """Loaders, optimizer and schedule, ``accelerator.prepare``-d; then the resumed state and the trackers."""
    recipe, accelerator = run.recipe, run.accelerator
    train_loader, eval_loaders = _data_loaders(run)
    run.trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(run.trainable, lr=recipe.learning_rate, betas=(recipe.adam_beta1, recipe.adam_beta2),
                                  eps=recipe.adam_epsilon, weight_decay=recipe.weight_decay)  # fmt: skip
    scheduler = cosine_epoch_schedule(optimizer, recipe.num_train_epochs, recipe.min_learning_rate)
    run.model, run.optimizer, run.train_loader, *prepared, run.scheduler = accelerator.prepare(
        model, optimizer, train_loader, *eval_loaders.values(), scheduler
    )
    run.eval_loaders = dict(zip(eval_loaders, prepared))
    run.class_input_ids = run.class_input_ids.to(accelerator.device)
    if resume_path is not None:
        accelerator.print(f"resuming from {resume_path}")
        accelerator.load_state(str(resume_path))
        run.progress = TrainerProgress.load(resume_path / "trainer_state.json")
    if run.trackers:
        accelerator.init_trackers("tavis", config={k: v for k, v in recipe.to_dict().items() if v is not None})


def _plan_steps(run: TrainingRun, num_clips: int) -> None:
    recipe, accelerator = run.recipe, run.accelerator
    updates_per_epoch = -(-len(run.train_loader) // recipe.gradient_accumulation_steps)
    run.total_steps = recipe.num_train_epochs * updates_per_epoch
    if recipe.max_train_steps is not None:
        run.total_steps = min(run.total_steps, recipe.max_train_steps)
    accelerator.print(
        f"{num_clips} training clips, {accelerator.num_processes} processes, {len(run.train_loader)} batches of "
        f"{recipe.per_device_train_batch_size} per process per epoch, {run.total_steps} optimizer steps"
    )
    run.bar = tqdm(total=run.total_steps, initial=run.progress.global_step, desc="train",
                   disable=run.args.no_progress or not accelerator.is_local_main_process)  # fmt: skip


def setup(args: RunArguments, recipe: TrainingRecipe) -> TrainingRun:
    """Everything before the first step. Nothing is written to ``args.output_dir`` until the data, the model and a
    resumption have been checked."""
    trackers = requested_trackers(args.report_to)
    accelerator = _accelerator(args, recipe, trackers)
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    set_seed(recipe.seed)
    with accelerator.main_process_first():  # generate / cache the dataset once
        dataset = load_training_dataset(args, recipe)
    model, processor = load_model_and_processor(args.model_name_or_path, args.model_preset, args.config_overrides,
                                                args.processor_name_or_path, args.bpe_path)  # fmt: skip
    context = {
        "model_config": config_fingerprint(model.config.to_dict()),
        "dataset": config_fingerprint({split: dataset[split]._fingerprint for split in dataset}),
        "num_processes": accelerator.num_processes,
    }
    prepare_model_for_training(model, recipe)
    resume_path = prepare_output_dir(args.output_dir, recipe, context, args.resume_from_checkpoint,
                                     args.overwrite_output_dir)  # fmt: skip
    _start_output_dir(accelerator, Path(args.output_dir), recipe, context, resume_path)

    class_names = dataset["train"].features["class_ids"].feature.names
    model.config.id2label = dict(enumerate(class_names))
    model.config.label2id = {name: i for i, name in enumerate(class_names)}
    run = TrainingRun(args=args, recipe=recipe, accelerator=accelerator, dataset=dataset, processor=processor,
                      class_names=class_names, class_input_ids=processor.encode_labels(class_names),
                      gt_source=_build_info(dataset["test"]).get("mask_source"), trackers=trackers)  # fmt: skip
    _prepare_training(run, model, resume_path)
    _plan_steps(run, dataset["train"].num_rows)
    return run


# ------------------------------------------------------------------------------------------------------ epochs
def _log_step(run: TrainingRun, outputs) -> None:
    accelerator, progress = run.accelerator, run.progress
    logs = {"train/loss": accelerator.reduce(outputs.loss.detach(), "mean").item(),
            "train/lr": run.scheduler.get_last_lr()[0], "train/epoch": progress.epoch}  # fmt: skip
    logs.update({f"train/{k}": accelerator.reduce(v.detach(), "mean").item()
                 for k, v in outputs.loss_terms.items()})  # fmt: skip
    run.bar.set_postfix(loss=f"{logs['train/loss']:.4f}")
    accelerator.log(logs, step=progress.global_step)


def _checkpoint(run: TrainingRun) -> None:
    save_checkpoint(run.accelerator, run.output_dir / "checkpoints", run.progress, run.recipe.checkpoints_total_limit)


def train_step(run: TrainingRun, batch: dict[str, torch.Tensor]) -> bool:
    """One micro-batch: seeded by :func:`step_seed`, audio-mismatch negatives drawn, forward, backward and (when the
    accumulation completes) the optimizer step, logging and step checkpoint. Returns whether an optimizer step was
    completed."""
    accelerator, recipe, progress = run.accelerator, run.recipe, run.progress
    torch.manual_seed(step_seed(recipe.seed, accelerator.process_index, progress.micro_step))
    batch, _ = mismatch_audio(batch, recipe.mismatched_audio_probability)
    with accelerator.accumulate(run.model):
        outputs = run.model(**batch, class_input_ids=run.class_input_ids, temporal=recipe.train_temporal)
        accelerator.backward(outputs.loss)
        if accelerator.sync_gradients and recipe.max_grad_norm is not None:
            accelerator.clip_grad_norm_(run.trainable, recipe.max_grad_norm)
        run.optimizer.step()
        run.optimizer.zero_grad()
    progress.micro_step += 1
    progress.batches_in_epoch += 1
    if not accelerator.sync_gradients:
        return False
    progress.global_step += 1
    run.bar.update(1)
    _log_step(run, outputs)
    if run.save_every and progress.global_step % run.save_every == 0:
        _checkpoint(run)
    return True


def train_epoch(run: TrainingRun) -> bool:
    """Train the current epoch from where it stands (a resumed run skips the batches already seen). Returns True when
    the run's step budget is reached (``max_train_steps``, or the last step of the last epoch)."""
    run.model.train()
    run.train_loader.set_epoch(run.progress.epoch)
    loader = run.train_loader
    if run.progress.batches_in_epoch:
        loader = run.accelerator.skip_first_batches(run.train_loader, run.progress.batches_in_epoch)
    for batch in loader:
        if train_step(run, batch) and run.progress.global_step >= run.total_steps:
            return True
    return False


def best_record(progress: TrainerProgress, recipe: TrainingRecipe) -> dict:
    """``metrics.json["best"]``: the kept epoch and how it was chosen."""
    return {"metric": recipe.metric_for_best_model, "value": progress.best_metric, "epoch": progress.best_epoch,
            "step": progress.best_step, "selection": "best val" if recipe.select_best_model else "last epoch"}  # fmt: skip


def end_epoch(run: TrainingRun) -> None:
    """After the last batch of an epoch: the schedule's step, the val evaluation, the best weights (``best_model/``),
    the epoch checkpoint (unless checkpoints are per step) and ``metrics.json``."""
    accelerator, recipe, progress = run.accelerator, run.recipe, run.progress
    run.scheduler.step()
    result = evaluate_split(run, run.model, "val")
    value = result[recipe.metric_for_best_model]
    progress.val_history.append({"epoch": progress.epoch, "step": progress.global_step, **result})
    accelerator.log({f"val/{k}": v for k, v in result.items() if isinstance(v, float)}, step=progress.global_step)
    improved = not recipe.select_best_model or progress.best_metric is None or value > progress.best_metric
    progress.epoch += 1
    progress.batches_in_epoch = 0
    if improved:
        progress.best_metric, progress.best_step, progress.best_epoch = value, progress.global_step, progress.epoch - 1
        save_model(accelerator, run.model, run.processor, run.output_dir / "best_model")
    if run.save_every is None:
        _checkpoint(run)
    if accelerator.is_main_process:
        write_json_atomic(run.output_dir / "metrics.json", {"val": progress.val_history,
                                                            "best": best_record(progress, recipe)})  # fmt: skip


# -------------------------------------------------------------------------------------------------- evaluation
def _evaluate(run: TrainingRun, model, loader, split: str) -> dict:
    """AVSBench-exact metrics of `model` on `loader` (per-frame decoding); every process gets the result. `"avss"`
    scores the split with its own class vocabulary: the training one, or all classes on the test split of an
    open-vocabulary dataset (`tavis_hf.data.make_open_vocabulary`)."""
    from tavis_hf.evaluation import metric_prediction
    from tavis_hf.metrics import AVSBenchMetric

    accelerator, recipe = run.accelerator, run.recipe
    semantic = recipe.eval_protocol == "avss"
    class_names = run.dataset[split].features["class_ids"].feature.names
    class_input_ids = run.class_input_ids
    if class_names != run.class_names:
        class_input_ids = run.processor.encode_labels(class_names).to(accelerator.device)
    metric = AVSBenchMetric(protocol=recipe.eval_protocol, videos_per_batch=recipe.eval_videos_per_batch,
                            num_classes=len(class_names), gt_source=run.gt_source, split=split)  # fmt: skip
    model.eval()
    show = not run.args.no_progress and accelerator.is_local_main_process
    for batch in tqdm(loader, desc=f"eval {split}", disable=not show):
        with torch.no_grad(), accelerator.autocast():
            outputs = model(pixel_values=batch["pixel_values"], imagebind_pixel_values=batch["imagebind_pixel_values"],
                            input_features=batch["input_features"],
                            class_input_ids=class_input_ids if semantic else None, temporal="per-frame")  # fmt: skip
        target = batch["target_semantic"] if semantic else batch["target_masks"]
        prediction = metric_prediction(outputs, tuple(target.shape[-2:]), semantic)
        prediction, target, annotated = accelerator.gather_for_metrics((prediction, target, batch["annotated"]))
        if accelerator.is_main_process:
            metric.update(prediction.cpu(), target.cpu(), annotated.cpu())
    result = [metric.compute() if accelerator.is_main_process else None]
    broadcast_object_list(result)
    return result[0]


def evaluate_split(run: TrainingRun, model, split: str) -> dict:
    """The metrics of `model` on ``split`` (``"val"`` or ``"test"``); with the recipe's listening control, also
    ``shuffled_audio`` (the same clips with borrowed soundtracks) and ``<metric>_drop_with_shuffled_audio``."""
    names = [name for name in (split, f"{split}_shuffled_audio") if name in run.eval_loaders]
    scores = [_evaluate(run, model, run.eval_loaders[name], split) for name in names]
    result = scores[0]
    if len(scores) == 2:
        key = run.recipe.metric_for_best_model
        result["shuffled_audio"] = {
            **scores[1],
            "audio_shuffled_across_clips_seed": run.recipe.eval_shuffled_audio_seed,
        }
        result[f"{key}_drop_with_shuffled_audio"] = result[key] - scores[1][key]
    return result


def parameter_fingerprint(model: torch.nn.Module) -> torch.Tensor:
    """One float64 sum per trainable parameter, ``(num_trainable,)``: equal on every DDP replica exactly when the
    replicas hold the same weights (as they must when gradients are all-reduced)."""
    return torch.stack([p.detach().double().sum() for p in model.parameters() if p.requires_grad])


def check_replicas(model, accelerator) -> bool | None:
    """DDP only: every process must hold the same weights (gradients are all-reduced); None when not applicable."""
    if accelerator.distributed_type not in (DistributedType.MULTI_CPU, DistributedType.MULTI_GPU):
        return None
    fingerprints = accelerator.gather(parameter_fingerprint(model).to(accelerator.device)[None])
    if not bool((fingerprints == fingerprints[:1]).all()):
        raise RuntimeError("DDP replicas diverged: gradients were not synchronised")
    return True


# ---------------------------------------------------------------------------------------------------- finalise
def _selected_weights(run: TrainingRun) -> Path:
    """``best_model/`` (the best val epoch, or the last one without selection); ``last_model/`` (saved now) when no
    epoch finished."""
    selected = run.output_dir / "best_model"
    if not selected.is_dir():
        selected = run.output_dir / "last_model"
        save_model(run.accelerator, run.model, run.processor, selected)
    return selected


def finalise(run: TrainingRun) -> dict:
    """The test evaluation of the selected weights, reloaded from disk on every process (the same code path for DDP,
    FSDP and DeepSpeed), the final ``metrics.json`` and the release folder ``final/``. Returns the metrics."""
    from tavis_hf.models.tavis import TavisModel

    accelerator, recipe, progress = run.accelerator, run.recipe, run.progress
    replicas_identical = check_replicas(run.model, accelerator)
    selected = _selected_weights(run)
    run.model = run.optimizer = run.scheduler = run.train_loader = None
    run.trainable = []
    accelerator.free_memory()
    best_model = TavisModel.from_pretrained(selected).to(accelerator.device)
    test = evaluate_split(run, best_model, "test")
    accelerator.log({f"test/{k}": v for k, v in test.items() if isinstance(v, float)}, step=progress.global_step)
    metrics = {"val": progress.val_history, "best": best_record(progress, recipe), "test": test,
               "selected_weights": selected.name, "replicas_identical": replicas_identical,
               "num_processes": accelerator.num_processes}  # fmt: skip
    if accelerator.is_main_process:
        write_json_atomic(run.output_dir / "metrics.json", metrics)
        write_release_folder(run.output_dir, selected, recipe, progress, metrics, run=run_record(run.args, run.dataset))
        headline = {k: test[k] for k in ("jaccard", "fmeasure", "miou", "fscore") if k in test}
        accelerator.print(json.dumps({"best": metrics["best"], "test": headline}))
    accelerator.wait_for_everyone()
    accelerator.end_training()
    return metrics


# -------------------------------------------------------------------------------------------------------- runs
def train(args: RunArguments, recipe: TrainingRecipe) -> dict:
    """A whole run: :func:`setup`, the epochs (:func:`train_epoch`, :func:`end_epoch`) until the step budget is spent,
    and :func:`finalise`. Returns the final metrics (``metrics.json``)."""
    run = setup(args, recipe)
    done = run.progress.global_step >= run.total_steps
    while not done and run.progress.epoch < recipe.num_train_epochs:
        done = train_epoch(run)
        if run.progress.batches_in_epoch < len(run.train_loader):
            break  # stopped by max_train_steps inside the epoch: no epoch-end work
        end_epoch(run)
    run.bar.close()
    return finalise(run)


@contextlib.contextmanager
def library_progress_bars(enabled: bool):
    """With `enabled=False` (``--no-progress``), also silence the bars of datasets and transformers (weights written
    every epoch, indices flattened) for the duration of the run, then restore their previous state."""
    import datasets
    from transformers.utils import logging as transformers_logging

    previous = (datasets.is_progress_bar_enabled(), transformers_logging.is_progress_bar_enabled())
    if not enabled:
        datasets.disable_progress_bars()
        transformers_logging.disable_progress_bar()
    try:
        yield
    finally:
        if previous[0]:
            datasets.enable_progress_bars()
        if previous[1]:
            transformers_logging.enable_progress_bar()


def main(argv: Sequence[str] | None = None, description: str | None = None, prog: str | None = None) -> dict:
    """Parse a training command line (:func:`~tavis_hf.training.arguments.parse_args`) and :func:`train`."""
    args, recipe = parse_args(argv, description, prog)
    with library_progress_bars(enabled=not args.no_progress):
        return train(args, recipe)
