#!/usr/bin/env python
"""Fine-tune TAViS on AVSBench or SynthAVS (or any dataset with the same schema) with 🤗 Accelerate.

    accelerate launch [--config_file examples/accelerate_configs/multi_gpu.yaml] examples/train_tavis.py \
        --subset s4 --dataset_name_or_path avsbench_s4/ --model_name_or_path tavis-s4-hf --output_dir runs/s4 \
        [--config examples/configs/s4.yaml] [--mixed_precision bf16] [--resume_from_checkpoint latest]

Defaults are the authors' recipe for the subset (``tavis_hf.training.SUBSET_DEFAULTS``); every recipe value can be
set in a JSON/YAML file (``--config``) and overridden on the command line. Unlike the authors' script, gradients
are synchronised across processes (DDP, FSDP or DeepSpeed, chosen at launch), the best epoch is selected on the
**val** split, the test split is evaluated once at the end, and training resumes exactly.

Output folder: ``recipe.json`` (what resuming checks), ``checkpoints/step_<n>/`` (Accelerate states, rotated),
``best_model/`` (weights + processor at the best val epoch, or the last with ``--no-select_best_model``),
``metrics.json`` (val per epoch, best, test),
``logs/`` (trackers) and ``final/`` (best weights, processor and model card, ready for the Hub).
"""

import argparse
import contextlib
import hashlib
import json
import logging
import shlex
import shutil
from pathlib import Path

import torch
from accelerate import Accelerator, DataLoaderConfiguration, DistributedDataParallelKwargs
from accelerate.logging import get_logger
from accelerate.tracking import get_available_trackers
from accelerate.utils import DistributedType, ProjectConfiguration, broadcast_object_list, set_seed
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from tavis_hf import hub
from tavis_hf.evaluation import metric_prediction, with_shuffled_audio
from tavis_hf.metrics import AVSBenchMetric
from tavis_hf.models.imagebind import load_bpe_merges
from tavis_hf.models.tavis import TavisConfig, TavisModel, TavisProcessor
from tavis_hf.training import (
    CachedImageBindAudio,
    TavisClipTransform,
    TrainerProgress,
    add_recipe_arguments,
    check_resume_compatible,
    check_training_dataset,
    collate_clips,
    cosine_epoch_schedule,
    given_recipe_values,
    list_checkpoints,
    load_recipe_file,
    mismatch_audio,
    parameter_fingerprint,
    register_jsonl_tracker,
    resolve_recipe,
    save_checkpoint,
    step_seed,
    write_json_atomic,
)

logger = get_logger(__name__)
PRESETS = ("tiny", "release", "paper")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    data = parser.add_argument_group("data")
    data.add_argument("--dataset_name_or_path", help="DatasetDict folder (save_to_disk) or a Hub dataset id")
    data.add_argument("--synthavs", metavar="TRAIN,VAL,TEST", help="generate SynthAVS with these clip counts instead")
    data.add_argument("--synthavs_image_size", type=int, default=224, help="SynthAVS frame size (default: 224)")
    data.add_argument("--max_train_samples", type=int, help="use the first N training clips")
    data.add_argument("--max_eval_samples", type=int, help="use the first N val/test clips")
    model = parser.add_argument_group("model")
    model.add_argument("--model_name_or_path", help="TAViS folder or Hub id to fine-tune (e.g. a converted release)")
    model.add_argument("--model_preset", choices=PRESETS, help="random-init TavisConfig preset instead")
    model.add_argument(
        "--config_overrides",
        help="with --model_preset: comma-separated config fields, e.g. 'ce_double_normalization=false,"
        "loss_weight_a2t=1.0'; dotted keys reach the sub-configs (TavisConfig.update_from_string)",
    )
    model.add_argument("--processor_name_or_path", help="processor (default: the model's folder)")
    model.add_argument("--bpe_path", help="ImageBind BPE file for a preset's tokenizer (tiny: byte-level)")
    run = parser.add_argument_group("run")
    run.add_argument("--output_dir", required=True, help="run folder")
    run.add_argument("--overwrite_output_dir", action="store_true", help="delete a non-empty output_dir first")
    run.add_argument("--resume_from_checkpoint", help="'latest' or a checkpoints/step_<n> folder of output_dir")
    run.add_argument("--report_to", default="jsonl", help="comma-separated trackers: jsonl, tensorboard, … or none")
    run.add_argument("--mixed_precision", choices=["no", "fp16", "bf16"], help="overrides the accelerate config")
    run.add_argument(
        "--no_find_unused_parameters",
        action="store_true",
        help="DDP without find_unused_parameters (only if every trainable parameter gets a gradient)",
    )
    run.add_argument(
        "--no_progress", action="store_true", help="no progress bars (also none from datasets/transformers)"
    )
    add_recipe_arguments(parser)
    args = parser.parse_args(argv)
    if (args.dataset_name_or_path is None) == (args.synthavs is None):
        parser.error("pass exactly one of --dataset_name_or_path and --synthavs")
    if (args.model_name_or_path is None) == (args.model_preset is None):
        parser.error("pass exactly one of --model_name_or_path and --model_preset")
    if args.config_overrides and args.model_preset is None:
        parser.error(
            "--config_overrides changes a --model_preset config; edit a pretrained model's config.json instead"
        )
    file_values = load_recipe_file(args.config) if args.config else {}
    return args, resolve_recipe(file_values, given_recipe_values(args))


# ------------------------------------------------------------------------------------------------- build pieces
def load_data(args, recipe):
    import datasets

    if args.synthavs:
        from tavis_hf.data import make_synthavs
        from tavis_hf.data.synthetic import DATASET_MODES

        counts = [int(c) for c in args.synthavs.split(",")]
        if len(counts) != 3:
            raise ValueError(f"--synthavs needs TRAIN,VAL,TEST counts, got {args.synthavs!r}")
        modes = {subset: mode for mode, subset in DATASET_MODES.items()}
        if recipe.subset not in modes:
            raise ValueError(f"--synthavs generates subsets {', '.join(modes)}, not {recipe.subset!r}")
        mode = modes[recipe.subset]
        dataset = make_synthavs(dict(zip(("train", "val", "test"), counts)), mode=mode,
                                image_size=args.synthavs_image_size)  # fmt: skip
    elif Path(args.dataset_name_or_path).is_dir():
        dataset = datasets.load_from_disk(args.dataset_name_or_path)
    else:
        dataset = datasets.load_dataset(args.dataset_name_or_path)
    if not isinstance(dataset, datasets.DatasetDict):
        raise ValueError(
            f"{args.dataset_name_or_path} is a single Dataset; a DatasetDict with train/val/test is needed"
        )
    check_training_dataset(dataset, recipe.subset)
    limits = {"train": args.max_train_samples, "val": args.max_eval_samples, "test": args.max_eval_samples}
    for split, limit in limits.items():
        if limit is not None:
            dataset[split] = dataset[split].select(range(min(limit, dataset[split].num_rows)))
    if recipe.eval_shuffled_audio_seed is not None:
        small = {split: dataset[split].num_rows for split in ("val", "test") if dataset[split].num_rows < 2}
        if small:
            raise ValueError(f"--eval_shuffled_audio_seed needs at least 2 clips in val and test to shuffle the "
                             f"audio across; the dataset has {small}")  # fmt: skip
    return dataset


def load_model_and_processor(args, recipe):
    if args.model_name_or_path:
        model = TavisModel.from_pretrained(args.model_name_or_path)
        processor = TavisProcessor.from_pretrained(args.processor_name_or_path or args.model_name_or_path)
    else:
        config = getattr(TavisConfig, args.model_preset)()
        if args.config_overrides:
            config.update_from_string(args.config_overrides)
            config.validate_architecture()
        model = TavisModel(config)
        if args.processor_name_or_path:
            processor = TavisProcessor.from_pretrained(args.processor_name_or_path)
        else:
            if args.bpe_path is None and args.model_preset != "tiny":
                raise ValueError(f"--model_preset {args.model_preset} needs --bpe_path or --processor_name_or_path")
            merges = load_bpe_merges(args.bpe_path) if args.bpe_path else []
            processor = TavisProcessor.from_tavis_config(config, merges)
    if model.config.image_size != recipe.image_size:
        raise ValueError(
            f"image_size={recipe.image_size} but the model runs at {model.config.image_size} px; "
            f"pass --image_size {model.config.image_size} or another model"
        )
    model.config.imagebind_train_mode = recipe.imagebind_train_mode
    if recipe.train_imagebind_audio:
        model.imagebind.audio_model.requires_grad_(True)
    if recipe.train_sam2_image_encoder:
        model.sam2.vision_encoder.requires_grad_(True)
    fingerprint = _fingerprint(model.config.to_dict())
    if recipe.activation_checkpointing:
        model.activation_checkpointing_enable()
    if recipe.cache_audio_features:
        CachedImageBindAudio(model.imagebind.audio_model).attach()
    return model, processor, fingerprint


def _fingerprint(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]


# --------------------------------------------------------------------------------------------------- evaluation
def check_replicas(model, accelerator) -> bool | None:
    """DDP only: every process must hold the same weights (gradients are all-reduced); None when not applicable."""
    if accelerator.distributed_type not in (DistributedType.MULTI_CPU, DistributedType.MULTI_GPU):
        return None
    fingerprints = accelerator.gather(parameter_fingerprint(model).to(accelerator.device)[None])
    if not bool((fingerprints == fingerprints[:1]).all()):
        raise RuntimeError("DDP replicas diverged: gradients were not synchronised")
    return True


def evaluate(model, loader, accelerator, recipe, class_input_ids, num_classes, gt_source, split, progress=True):
    """AVSBench-exact metrics of `model` on `loader` (per-frame decoding, the authors' protocol); every process
    gets the result."""
    semantic = recipe.eval_protocol == "avss"
    metric = AVSBenchMetric(protocol=recipe.eval_protocol, videos_per_batch=recipe.eval_videos_per_batch,
                            num_classes=num_classes, gt_source=gt_source, split=split)  # fmt: skip
    model.eval()
    for batch in tqdm(loader, desc=f"eval {split}", disable=not (progress and accelerator.is_local_main_process)):
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


# --------------------------------------------------------------------------------------------------------- main
def prepare_output_dir(args, recipe, context) -> Path | None:
    """Check the output folder before anything is written; return the checkpoint to resume from (or None)."""
    output_dir = Path(args.output_dir)
    if args.resume_from_checkpoint:
        saved = output_dir / "recipe.json"
        if not saved.is_file():
            raise FileNotFoundError(f"cannot resume: {saved} does not exist")
        record = json.loads(saved.read_text(encoding="utf-8"))
        check_resume_compatible(record["recipe"], recipe, record["context"], context)
        if args.resume_from_checkpoint == "latest":
            found = list_checkpoints(output_dir / "checkpoints")
            if not found:
                raise FileNotFoundError(f"cannot resume: no checkpoint under {output_dir / 'checkpoints'}")
            return found[-1]
        path = Path(args.resume_from_checkpoint)
        if path.resolve().parent != (output_dir / "checkpoints").resolve() or path not in list_checkpoints(path.parent):
            raise ValueError(
                f"--resume_from_checkpoint must be 'latest' or a step_<n> folder of {output_dir}/checkpoints"
            )
        return path
    if output_dir.exists() and any(output_dir.iterdir()):
        if not args.overwrite_output_dir:
            raise FileExistsError(
                f"{output_dir} is not empty: pass --resume_from_checkpoint latest to continue, or "
                "--overwrite_output_dir to start over"
            )
    return None


@contextlib.contextmanager
def library_progress_bars(enabled: bool):
    """With `enabled=False` (--no_progress), also silence the bars of datasets and transformers (weights written
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


def main(argv=None):
    args, recipe = parse_args(argv)
    with library_progress_bars(enabled=not args.no_progress):
        return train(args, recipe)


def train(args, recipe):
    trackers = [name for name in args.report_to.split(",") if name and name != "none"]
    if "jsonl" in trackers:
        register_jsonl_tracker()
    unavailable = [name for name in trackers if name != "jsonl" and name not in get_available_trackers()]
    if unavailable:  # accelerate would drop them silently
        raise ValueError(f"--report_to: trackers {unavailable} are not installed (available: jsonl, "
                         f"{', '.join(str(t) for t in get_available_trackers())})")  # fmt: skip
    output_dir = Path(args.output_dir)
    accelerator = Accelerator(
        gradient_accumulation_steps=recipe.gradient_accumulation_steps,
        mixed_precision=args.mixed_precision,
        log_with=trackers or None,
        project_config=ProjectConfiguration(project_dir=str(output_dir), logging_dir=str(output_dir / "logs")),
        dataloader_config=DataLoaderConfiguration(use_seedable_sampler=True, data_seed=recipe.seed),
        kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=not args.no_find_unused_parameters)],
        step_scheduler_with_optimizer=False,
    )
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    set_seed(recipe.seed)

    with accelerator.main_process_first():  # generate / cache the dataset once
        dataset = load_data(args, recipe)
    model, processor, model_fingerprint = load_model_and_processor(args, recipe)
    context = {
        "model_config": model_fingerprint,
        "dataset": _fingerprint({split: dataset[split]._fingerprint for split in dataset}),
        "num_processes": accelerator.num_processes,
    }
    resume_path = prepare_output_dir(args, recipe, context)
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        if resume_path is None and output_dir.exists():
            shutil.rmtree(output_dir)
        output_dir.mkdir(parents=True, exist_ok=True)
        if resume_path is None:
            write_json_atomic(output_dir / "recipe.json", {"recipe": recipe.to_dict(), "context": context})
    accelerator.wait_for_everyone()

    class_names = dataset["train"].features["class_ids"].feature.names
    gt_source = _build_info(dataset["test"]).get("mask_source")
    model.config.id2label = dict(enumerate(class_names))
    model.config.label2id = {name: i for i, name in enumerate(class_names)}
    class_input_ids = processor.encode_labels(class_names)
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

    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=recipe.learning_rate, betas=(recipe.adam_beta1, recipe.adam_beta2),
                                  eps=recipe.adam_epsilon, weight_decay=recipe.weight_decay)  # fmt: skip
    scheduler = cosine_epoch_schedule(optimizer, recipe.num_train_epochs, recipe.min_learning_rate)
    model, optimizer, train_loader, *prepared, scheduler = accelerator.prepare(
        model, optimizer, train_loader, *eval_loaders.values(), scheduler
    )
    eval_loaders = dict(zip(eval_loaders, prepared))
    class_input_ids = class_input_ids.to(accelerator.device)

    progress = TrainerProgress()
    if resume_path is not None:
        accelerator.print(f"resuming from {resume_path}")
        accelerator.load_state(str(resume_path))
        progress = TrainerProgress.load(resume_path / "trainer_state.json")
    if trackers:
        accelerator.init_trackers("tavis", config={k: v for k, v in recipe.to_dict().items() if v is not None})

    updates_per_epoch = -(-len(train_loader) // recipe.gradient_accumulation_steps)
    total_steps = recipe.num_train_epochs * updates_per_epoch
    if recipe.max_train_steps is not None:
        total_steps = min(total_steps, recipe.max_train_steps)
    accelerator.print(
        f"{len(train_data)} training clips, {accelerator.num_processes} processes, {len(train_loader)} batches of "
        f"{recipe.per_device_train_batch_size} per process per epoch, {total_steps} optimizer steps"
    )
    metrics_path = output_dir / "metrics.json"
    checkpoint_root = output_dir / "checkpoints"
    save_every = None if recipe.checkpointing_steps == "epoch" else int(recipe.checkpointing_steps)
    bar = tqdm(total=total_steps, initial=progress.global_step, desc="train",
               disable=args.no_progress or not accelerator.is_local_main_process)  # fmt: skip

    def checkpoint():
        save_checkpoint(accelerator, checkpoint_root, progress, recipe.checkpoints_total_limit)

    def evaluate_split(model, split):
        scores = [evaluate(model, eval_loaders[name], accelerator, recipe, class_input_ids, len(class_names), gt_source,
                           split, not args.no_progress)
                  for name in (split, f"{split}_shuffled_audio") if name in eval_loaders]  # fmt: skip
        result = scores[0]
        if len(scores) == 2:
            key = recipe.metric_for_best_model
            result["shuffled_audio"] = {
                **scores[1],
                "audio_shuffled_across_clips_seed": recipe.eval_shuffled_audio_seed,
            }
            result[f"{key}_drop_with_shuffled_audio"] = result[key] - scores[1][key]
        return result

    done = progress.global_step >= total_steps
    while not done and progress.epoch < recipe.num_train_epochs:
        model.train()
        train_loader.set_epoch(progress.epoch)
        loader = train_loader
        if progress.batches_in_epoch:
            loader = accelerator.skip_first_batches(train_loader, progress.batches_in_epoch)
        for batch in loader:
            torch.manual_seed(step_seed(recipe.seed, accelerator.process_index, progress.micro_step))
            batch, _ = mismatch_audio(batch, recipe.mismatched_audio_probability)
            with accelerator.accumulate(model):
                outputs = model(**batch, class_input_ids=class_input_ids, temporal=recipe.train_temporal)
                accelerator.backward(outputs.loss)
                if accelerator.sync_gradients and recipe.max_grad_norm is not None:
                    accelerator.clip_grad_norm_(trainable, recipe.max_grad_norm)
                optimizer.step()
                optimizer.zero_grad()
            progress.micro_step += 1
            progress.batches_in_epoch += 1
            if not accelerator.sync_gradients:
                continue
            progress.global_step += 1
            bar.update(1)
            logs = {"train/loss": accelerator.reduce(outputs.loss.detach(), "mean").item(),
                    "train/lr": scheduler.get_last_lr()[0], "train/epoch": progress.epoch}  # fmt: skip
            logs.update({f"train/{k}": accelerator.reduce(v.detach(), "mean").item()
                         for k, v in outputs.loss_terms.items()})  # fmt: skip
            bar.set_postfix(loss=f"{logs['train/loss']:.4f}")
            accelerator.log(logs, step=progress.global_step)
            if save_every and progress.global_step % save_every == 0:
                checkpoint()
            if progress.global_step >= total_steps:
                done = True
                break
        if progress.batches_in_epoch < len(train_loader):
            break  # stopped by max_train_steps inside the epoch: no epoch-end work
        scheduler.step()
        result = evaluate_split(model, "val")
        value = result[recipe.metric_for_best_model]
        progress.val_history.append({"epoch": progress.epoch, "step": progress.global_step, **result})
        accelerator.log({f"val/{k}": v for k, v in result.items() if isinstance(v, float)}, step=progress.global_step)
        improved = not recipe.select_best_model or progress.best_metric is None or value > progress.best_metric
        progress.epoch += 1
        progress.batches_in_epoch = 0
        if improved:
            progress.best_metric, progress.best_step, progress.best_epoch = (
                value,
                progress.global_step,
                progress.epoch - 1,
            )
            save_model(accelerator, model, processor, output_dir / "best_model")
        if save_every is None:
            checkpoint()
        if accelerator.is_main_process:
            write_json_atomic(metrics_path, {"val": progress.val_history, "best": _best(progress, recipe)})
    bar.close()

    replicas_identical = check_replicas(model, accelerator)
    # Final test evaluation with the best val weights (the last ones if no epoch finished), reloaded from disk on
    # every process: the same code path for DDP, FSDP and DeepSpeed.
    selected = output_dir / "best_model"
    if not selected.is_dir():
        selected = output_dir / "last_model"
        save_model(accelerator, model, processor, selected)
    del model, optimizer, scheduler, train_loader
    accelerator.free_memory()
    best_model = TavisModel.from_pretrained(selected).to(accelerator.device)
    test = evaluate_split(best_model, "test")
    accelerator.log({f"test/{k}": v for k, v in test.items() if isinstance(v, float)}, step=progress.global_step)
    metrics = {"val": progress.val_history, "best": _best(progress, recipe), "test": test,
               "selected_weights": selected.name, "replicas_identical": replicas_identical,
               "num_processes": accelerator.num_processes}  # fmt: skip
    if accelerator.is_main_process:
        write_json_atomic(metrics_path, metrics)
        write_release_folder(output_dir, selected, recipe, progress, metrics, run=run_record(args, dataset))
        headline = {k: test[k] for k in ("jaccard", "fmeasure", "miou", "fscore") if k in test}
        accelerator.print(json.dumps({"best": metrics["best"], "test": headline}))
    accelerator.wait_for_everyone()
    accelerator.end_training()


def save_model(accelerator, model, processor, folder: Path) -> None:
    """``save_pretrained`` of the (gathered) weights and the processor into ``folder``, atomically."""
    state_dict = accelerator.get_state_dict(model)
    if accelerator.is_main_process:
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        accelerator.unwrap_model(model).save_pretrained(tmp, state_dict=state_dict)
        processor.save_pretrained(tmp)
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)
    accelerator.wait_for_everyone()


def run_record(args, dataset) -> dict:
    """``final/training_run.json``: what the recipe does not say (the command, starting point, data and clip counts),
    so that the model card (``tavis_hf.hub.model_card_from_folder``) can say it."""
    command = ["python", "examples/train_tavis.py", "--config", "training_recipe.json"]
    options = ("dataset_name_or_path", "synthavs", "synthavs_image_size", "max_train_samples", "max_eval_samples",
               "model_name_or_path", "model_preset", "config_overrides", "processor_name_or_path", "bpe_path",
               "mixed_precision", "output_dir")  # fmt: skip
    for name in options:
        value = getattr(args, name, None)
        if value is not None and not (name == "synthavs_image_size" and args.synthavs is None):
            command += [f"--{name}", str(value)]
    keys = ("model_name_or_path", "model_preset", "config_overrides", "dataset_name_or_path", "synthavs")
    local = args.model_name_or_path is not None and Path(args.model_name_or_path).is_dir()
    return {"command": shlex.join(command), **{key: getattr(args, key) for key in keys},
            "model_is_local_folder": local,
            "num_clips": {split: dataset[split].num_rows for split in dataset}}  # fmt: skip


def write_release_folder(output_dir: Path, selected: Path, recipe, progress, metrics: dict, run: dict | None = None):
    """``output_dir/final``: the selected weights, processor, training records (``training_metrics.json``,
    ``training_recipe.json``, ``training_run.json``: ``run``, and the ``pretraining.json`` of a starting folder made
    by examples/pretrain_imagebind_audio.py) and the model card draft, ready for the Hub. The card is
    ``tavis_hf.hub.model_card_from_folder`` of that folder: every claim comes from those files."""
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
    trained = "fine-tuned" if run and run.get("model_name_or_path") else "trained"
    card = hub.model_card_from_folder(
        tmp,
        model_name=output_dir.name,
        local_path=final,
        description=(
            f"TAViS {trained} on {_dataset_name(recipe.subset)} ({recipe.subset}) with `examples/train_tavis.py`: "
            f"{progress.global_step} optimizer steps, weights of {metrics['selected_weights']} "
            f"(epoch {progress.best_epoch}: "
            f"{'best val ' + recipe.metric_for_best_model if recipe.select_best_model else 'the last'})."
        ),
    )
    card.save(tmp / "README.md")
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)


def _build_info(dataset) -> dict:
    from tavis_hf.data import avsbench_build_info

    try:
        return avsbench_build_info(dataset)
    except ValueError:  # a user dataset with the schema but without the builders' description
        return {}


def _best(progress: TrainerProgress, recipe) -> dict:
    return {"metric": recipe.metric_for_best_model, "value": progress.best_metric, "epoch": progress.best_epoch,
            "step": progress.best_step, "selection": "best val" if recipe.select_best_model else "last epoch"}  # fmt: skip


def _dataset_name(subset: str) -> str:
    if subset.startswith("synth"):
        return "SynthAVS"
    return "AVSBench-object" if subset in ("s4", "ms3") else "AVSBench-semantic"


if __name__ == "__main__":
    main()
