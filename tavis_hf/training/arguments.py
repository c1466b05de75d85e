"""The training command's arguments: :class:`RunArguments` (data, model and run folder) next to the
:class:`~tavis_hf.training.recipe.TrainingRecipe`, and the parser of ``python -m tavis_hf.training`` /
``examples/train_tavis.py`` (:func:`build_parser`, :func:`parse_args`).

Options are hyphenated (``--model-name-or-path``); the underscore spellings (``--model_name_or_path``) are aliases.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Sequence

from .recipe import (
    TrainingRecipe,
    add_recipe_arguments,
    given_recipe_values,
    load_recipe_file,
    option_strings,
    resolve_recipe,
)

__all__ = ["MODEL_PRESETS", "SYNTHAVS_DEFAULT_SUBSET", "RunArguments", "build_parser", "parse_args"]

#: Random-init ``TavisConfig`` presets a run can start from.
MODEL_PRESETS = ("tiny", "release", "paper")
#: The subset of a run on generated SynthAVS (``--synthavs``) that names none: ``make_synthavs``'s default
#: (single-source) clips.
SYNTHAVS_DEFAULT_SUBSET = "synth-s4"


@dataclasses.dataclass
class RunArguments:
    """What a training run reads and writes, apart from the recipe: the data, the starting model and the run folder.

    Exactly one of ``dataset_name_or_path`` and ``synthavs`` (``"TRAIN,VAL,TEST"`` clip counts), exactly one of
    ``model_name_or_path`` and ``model_preset``. ``config_overrides`` (``TavisConfig.update_from_string``) changes
    the model's behaviour, the one place for it (the recipe holds no model setting)."""

    output_dir: str
    dataset_name_or_path: str | None = None
    synthavs: str | None = None
    synthavs_image_size: int = 224
    max_train_samples: int | None = None
    max_eval_samples: int | None = None
    model_name_or_path: str | None = None
    model_preset: str | None = None
    config_overrides: str | None = None
    processor_name_or_path: str | None = None
    bpe_path: str | None = None
    overwrite_output_dir: bool = False
    resume_from_checkpoint: str | None = None
    report_to: str = "jsonl"
    mixed_precision: str | None = None
    no_find_unused_parameters: bool = False
    no_progress: bool = False

    def __post_init__(self):
        if (self.dataset_name_or_path is None) == (self.synthavs is None):
            raise ValueError("pass exactly one of --dataset-name-or-path and --synthavs")
        if (self.model_name_or_path is None) == (self.model_preset is None):
            raise ValueError("pass exactly one of --model-name-or-path and --model-preset")
        if self.model_preset is not None and self.model_preset not in MODEL_PRESETS:
            raise ValueError(f"model_preset must be one of {MODEL_PRESETS}, got {self.model_preset!r}")


def _add(group, name: str, **kwargs) -> None:
    group.add_argument(*option_strings(name), dest=name, **kwargs)


def _add_data_and_model_arguments(parser: argparse.ArgumentParser) -> None:
    data = parser.add_argument_group("data")
    _add(data, "dataset_name_or_path", help="DatasetDict folder (save_to_disk) or a Hub dataset id")
    _add(
        data,
        "synthavs",
        metavar="TRAIN,VAL,TEST",
        help=f"generate SynthAVS with these clip counts instead (subset {SYNTHAVS_DEFAULT_SUBSET} unless --subset or "
        "the recipe file names synth-ms3 or synth-mixed)",
    )
    _add(data, "synthavs_image_size", type=int, default=224, help="SynthAVS frame size (default: 224)")
    _add(data, "max_train_samples", type=int, help="use the first N training clips")
    _add(data, "max_eval_samples", type=int, help="use the first N val/test clips")
    model = parser.add_argument_group("model (its config holds every model setting)")
    _add(model, "model_name_or_path", help="TAViS folder or Hub id to fine-tune (e.g. a converted release)")
    _add(model, "model_preset", choices=MODEL_PRESETS, help="random-init TavisConfig preset instead")
    _add(
        model,
        "config_overrides",
        help="comma-separated model config fields, e.g. 'imagebind_train_mode=true,loss_weight_a2t=1.0'; dotted keys "
        "reach the sub-configs (TavisConfig.update_from_string). A pretrained model must still load every weight",
    )
    _add(model, "processor_name_or_path", help="processor (default: the model's folder)")
    _add(model, "bpe_path", help="ImageBind BPE file for a preset's tokenizer (tiny: byte-level)")


def _add_run_arguments(parser: argparse.ArgumentParser) -> None:
    run = parser.add_argument_group("run")
    _add(run, "output_dir", required=True, help="run folder")
    _add(run, "overwrite_output_dir", action="store_true", help="delete a non-empty output dir first")
    _add(run, "resume_from_checkpoint", help="'latest' or a checkpoints/step_<n> folder of the output dir")
    _add(run, "report_to", default="jsonl", help="comma-separated trackers: jsonl, tensorboard, … or none")
    _add(run, "mixed_precision", choices=["no", "fp16", "bf16"], help="overrides the accelerate config")
    _add(
        run,
        "no_find_unused_parameters",
        action="store_true",
        help="DDP without find_unused_parameters (only if every trainable parameter gets a gradient)",
    )
    _add(run, "no_progress", action="store_true", help="no progress bars (also none from datasets/transformers)")


def build_parser(description: str | None = None, prog: str | None = None) -> argparse.ArgumentParser:
    """The parser of the training command: :class:`RunArguments` options, then the recipe's
    (:func:`~tavis_hf.training.recipe.add_recipe_arguments`)."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description=description or "Fine-tune TAViS with 🤗 Accelerate (tavis_hf.training).",
        epilog="Every option also accepts its underscore spelling (--output_dir for --output-dir).",
    )
    _add_data_and_model_arguments(parser)
    _add_run_arguments(parser)
    add_recipe_arguments(parser)
    return parser


def parse_args(
    argv: Sequence[str] | None = None, description: str | None = None, prog: str | None = None
) -> tuple[RunArguments, TrainingRecipe]:
    """Parse a training command line into ``(RunArguments, TrainingRecipe)``; the recipe is resolved from the
    subset's defaults, ``--config`` and the recipe options (:func:`~tavis_hf.training.recipe.resolve_recipe`)."""
    parser = build_parser(description, prog)
    namespace = parser.parse_args(argv)
    names = [field.name for field in dataclasses.fields(RunArguments)]
    try:
        args = RunArguments(**{name: getattr(namespace, name) for name in names})
    except ValueError as error:
        parser.error(str(error))
    file_values = load_recipe_file(namespace.config) if namespace.config else {}
    cli_values = given_recipe_values(namespace)
    if args.synthavs is not None and "subset" not in {**file_values, **cli_values}:
        cli_values["subset"] = SYNTHAVS_DEFAULT_SUBSET
    return args, resolve_recipe(file_values, cli_values)
