#!/usr/bin/env python
"""Fine-tune TAViS with `transformers.Trainer` (short alternative to examples/train_tavis.py).

    python examples/train_tavis_trainer.py --subset synth-s4 --dataset-name-or-path synthavs/ \
        --model-name-or-path tavis-tiny --output-dir runs/trainer [--num-train-epochs 3] [--bf16]

Same recipe, data transform, collator, model loading (the model's config rules its behaviour, `--config-overrides`
changes it), trainable towers and metric as the Accelerate script (`tavis_hf.training`), with these differences: the
best epoch is chosen by val *loss* (Trainer's `load_best_model_at_end`; the test split is then scored with the
AVSBench metric), the cosine schedule steps every optimizer step (the authors': once per epoch), two checkpoints are
kept, and `metric_for_best_model`, `select_best_model`, `cache_audio_features`, `checkpointing_steps`,
`checkpoints_total_limit`, `mismatched_audio_probability` and `eval_shuffled_audio_seed` are not used. Use the
Accelerate script for M_J-based selection, exact resume, feature caching and the listening control. Every option also
accepts its underscore spelling.
"""

import argparse
import json
from pathlib import Path

import datasets
from transformers import Trainer, TrainingArguments

from tavis_hf.evaluation import evaluate_dataset
from tavis_hf.metrics import AVSBenchMetric
from tavis_hf.training import (
    TavisClipTransform,
    add_recipe_arguments,
    check_training_dataset,
    collate_clips,
    given_recipe_values,
    load_model_and_processor,
    load_recipe_file,
    option_strings,
    resolve_recipe,
    set_trainable_towers,
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for name, help_text in (("dataset_name_or_path", "DatasetDict folder (save_to_disk)"),
                            ("model_name_or_path", "TAViS folder or Hub id"), ("output_dir", "run folder")):  # fmt: skip
        parser.add_argument(*option_strings(name), dest=name, required=True, help=help_text)
    parser.add_argument(*option_strings("config_overrides"), dest="config_overrides",
                        help="comma-separated model config fields (TavisConfig.update_from_string)")  # fmt: skip
    parser.add_argument("--bf16", action="store_true", help="bf16 mixed precision")
    add_recipe_arguments(parser)
    args = parser.parse_args(argv)
    return args, resolve_recipe(load_recipe_file(args.config) if args.config else {}, given_recipe_values(args))


def training_arguments(args, recipe) -> TrainingArguments:
    """The recipe as `TrainingArguments` (selection by val loss, per-step cosine schedule)."""
    return TrainingArguments(
        output_dir=args.output_dir, num_train_epochs=recipe.num_train_epochs, max_steps=recipe.max_train_steps or -1,
        per_device_train_batch_size=recipe.per_device_train_batch_size,
        per_device_eval_batch_size=recipe.per_device_eval_batch_size,
        gradient_accumulation_steps=recipe.gradient_accumulation_steps, learning_rate=recipe.learning_rate,
        weight_decay=recipe.weight_decay, adam_beta1=recipe.adam_beta1, adam_beta2=recipe.adam_beta2,
        adam_epsilon=recipe.adam_epsilon, max_grad_norm=recipe.max_grad_norm or 0.0, lr_scheduler_type="cosine_with_min_lr",
        lr_scheduler_kwargs={"min_lr": recipe.min_learning_rate},
        seed=recipe.seed, bf16=args.bf16, activation_checkpointing=recipe.activation_checkpointing,
        eval_strategy="epoch", save_strategy="epoch", load_best_model_at_end=True, save_total_limit=2,
        prediction_loss_only=True, remove_unused_columns=False, label_names=["labels"], report_to="none",
        dataloader_num_workers=recipe.dataloader_num_workers, ddp_find_unused_parameters=True,
    )  # fmt: skip


def main(argv=None):
    args, recipe = parse_args(argv)
    dataset = datasets.load_from_disk(args.dataset_name_or_path)
    check_training_dataset(dataset, recipe.subset)
    model, processor = load_model_and_processor(args.model_name_or_path, config_overrides=args.config_overrides)
    set_trainable_towers(model, recipe)
    names = dataset["train"].features["class_ids"].feature.names
    model.config.id2label = dict(enumerate(names))
    model.config.label2id = {name: i for i, name in enumerate(names)}
    model.accepts_loss_kwargs = False  # the TAViS loss is a per-batch mean: let Trainer scale it
    class_input_ids = processor.encode_labels(names)

    def collator(examples):  # the class prompts travel with every batch (the model caches their encoding)
        return {**collate_clips(examples), "class_input_ids": class_input_ids, "temporal": recipe.train_temporal}

    transform = TavisClipTransform(processor, recipe.train_frames, training=True)
    trainer = Trainer(model=model, args=training_arguments(args, recipe), data_collator=collator,
                      processing_class=processor, train_dataset=dataset["train"].with_transform(transform),
                      eval_dataset=dataset["val"].with_transform(TavisClipTransform(processor, "all")))  # fmt: skip
    trainer.train()
    trainer.save_model(Path(args.output_dir) / "final")
    if trainer.is_world_process_zero():
        metric = AVSBenchMetric(protocol=recipe.eval_protocol, videos_per_batch=recipe.eval_videos_per_batch,
                                num_classes=len(names), split="test")  # fmt: skip
        test = evaluate_dataset(trainer.model, processor, dataset["test"], metric, device=trainer.args.device)
        (Path(args.output_dir) / "test_metrics.json").write_text(json.dumps(test, indent=2) + "\n")
        print(json.dumps(test))


if __name__ == "__main__":
    main()
