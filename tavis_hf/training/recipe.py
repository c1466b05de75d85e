"""The training recipe: every optimisation and data setting of a TAViS training run, and nothing about the model.

* :class:`TrainingRecipe` — the settings, with the authors' recipe per subset as defaults (``docs/fidelity.md`` §4,
  :data:`SUBSET_DEFAULTS`).
* Where the values come from: :func:`add_recipe_arguments` / :func:`given_recipe_values` (command line, hyphenated
  options with the field names as aliases), :func:`load_recipe_file` (JSON/YAML, keys are field names) and
  :func:`resolve_recipe` (defaults < subset < file < command line).
* Resuming: :func:`check_resume_compatible` compares a run's recorded ``recipe.json`` with this one.

Model behaviour is the model's config (``TavisConfig``), not the recipe's: :data:`MOVED_SETTINGS` lists the former
recipe fields that now live there. A recipe given by a user (file, command line, keyword) that names one fails with a
one-line message saying where the setting lives; a recorded recipe (``recipe.json`` of an earlier run,
``training_recipe.json`` of a model folder) is only read, and :func:`recorded_recipe` drops them.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..models.tavis.configuration_tavis import TEMPORAL_MODES, canonical_temporal

__all__ = [
    "MOVED_SETTINGS",
    "RESUME_NEUTRAL_FIELDS",
    "SUBSET_DEFAULTS",
    "TrainingRecipe",
    "add_recipe_arguments",
    "check_resume_compatible",
    "config_fingerprint",
    "given_recipe_values",
    "load_recipe_file",
    "option_strings",
    "recorded_recipe",
    "resolve_recipe",
]

_OBJECT_LIKE = {
    "num_train_epochs": 80,
    "eval_protocol": "avsbench",
    "eval_videos_per_batch": 1,
    "metric_for_best_model": "jaccard",
}
_SINGLE = {
    **_OBJECT_LIKE,
    "per_device_train_batch_size": 10,
    "train_frames": "annotated",
    "train_temporal": "per-frame",
}
_MULTI = {**_OBJECT_LIKE, "per_device_train_batch_size": 4, "train_frames": "all", "train_temporal": "tracking"}
#: The authors' recipe per subset (S4: the annotated frame, batch 10; MS3: 5-frame clips with SAM2 memory, batch 4;
#: AVSS v2: 10-frame clips, batch 4, 40 epochs, semantic metric). ``v1s``/``v1m`` are S4/MS3 with semantic labels;
#: ``synth-*`` are the SynthAVS counterparts.
SUBSET_DEFAULTS: dict[str, dict[str, Any]] = {
    "s4": _SINGLE,
    "v1s": _SINGLE,
    "synth-s4": _SINGLE,
    "ms3": _MULTI,
    "v1m": _MULTI,
    "synth-ms3": _MULTI,
    "synth-mixed": _MULTI,
    "v2": {
        **_MULTI,
        "num_train_epochs": 40,
        "eval_protocol": "avss",
        "eval_videos_per_batch": None,
        "metric_for_best_model": "miou",
    },
}

#: Former recipe fields that are model settings now, and where each lives: naming one in a recipe file, on the command
#: line or as a keyword is an error with this message.
MOVED_SETTINGS = {
    "image_size": "image_size is a model setting: frames are resized to the model's config.image_size by its "
    "processor; remove it from the training settings (choose the model with --model-name-or-path or --model-preset)",
    "imagebind_train_mode": "imagebind_train_mode is a model setting: use --config-overrides "
    "imagebind_train_mode=true (TavisConfig.imagebind_train_mode; the model's config value is used)",
}
_MOVED_BOOLEANS = {"imagebind_train_mode"}  # had --x/--no-x options


def _help(text: str, default: Any = dataclasses.MISSING) -> Any:
    return dataclasses.field(default=default, metadata={"help": text})


@dataclasses.dataclass
class TrainingRecipe:
    """Training hyper-parameters. Defaults are the authors' recipe (``docs/fidelity.md`` §4); subset-specific
    defaults come from :data:`SUBSET_DEFAULTS` through :func:`resolve_recipe`."""

    subset: str = _help(f"dataset subset: {', '.join(SUBSET_DEFAULTS)}")
    learning_rate: float = _help("AdamW peak learning rate", 3e-5)
    min_learning_rate: float = _help("cosine floor (eta_min)", 1e-7)
    weight_decay: float = _help("AdamW weight decay", 0.01)
    adam_beta1: float = _help("AdamW beta1", 0.9)
    adam_beta2: float = _help("AdamW beta2", 0.999)
    adam_epsilon: float = _help("AdamW epsilon", 1e-8)
    max_grad_norm: float | None = _help("gradient clipping norm (the authors do not clip)", None)
    num_train_epochs: int = _help("epochs (cosine period)", 80)
    max_train_steps: int | None = _help("stop after this many optimizer steps (the schedule stays per epoch)", None)
    per_device_train_batch_size: int = _help("clips per process per step", 10)
    per_device_eval_batch_size: int = _help("clips per process at eval", 1)
    gradient_accumulation_steps: int = _help("micro-batches per update", 1)
    train_frames: str = _help(
        "'annotated': the first annotated frame of each clip (S4); 'all': every frame (MS3, v2)", "annotated"
    )
    train_temporal: str = _help(
        "'per-frame' or 'tracking' (SAM2 memory over each clip's frames) while training; 'clip' is read as 'tracking'",
        "per-frame",
    )
    eval_protocol: str = _help("tavis_hf.metrics protocol: avsbench, tavis_release or avss", "avsbench")
    eval_videos_per_batch: int | None = _help("videos per reference batch of the metric (F depends on it)", 1)
    metric_for_best_model: str = _help("val metric selecting the best checkpoint (jaccard or miou)", "jaccard")
    select_best_model: bool = _help(
        "keep the weights of the best val epoch (by metric_for_best_model); with --no-select-best-model the last "
        "epoch's weights are kept (val is still scored and recorded every epoch)",
        True,
    )
    seed: int = _help("seed of the data order and of every step", 42)
    activation_checkpointing: bool = _help("recompute SAM2 block activations in the backward pass", False)
    cache_audio_features: bool = _help(
        "cache the frozen ImageBind audio features (identical results; not with the model's imagebind_train_mode)",
        False,
    )
    train_imagebind_audio: bool = _help(
        "also train the ImageBind audio tower. TAViS freezes its pretrained ImageBind; for a model whose ImageBind was "
        "not pretrained at scale (the tiny SynthAVS default, whose tower is only aligned on SynthAVS by "
        "examples/pretrain_imagebind_audio.py)",
        False,
    )
    train_sam2_image_encoder: bool = _help(
        "also train the SAM2 image encoder (Hiera + neck). TAViS freezes its pretrained SAM2 encoder; only for a "
        "model trained from a random initialisation (the tiny SynthAVS default)",
        False,
    )
    mismatched_audio_probability: float = _help(
        "not in TAViS (0 = the authors' recipe): probability that a training clip gets the soundtrack of another clip "
        "of its batch with no sounding class in common, and a target where nothing sounds "
        "(tavis_hf.training.mismatch_audio); teaches a model trained from scratch to listen rather than to segment "
        "every salient object",
        0.0,
    )
    eval_shuffled_audio_seed: int | None = _help(
        "the listening control (not in TAViS): also score val every epoch, and the final test, with every clip given "
        "another clip's soundtrack (tavis_hf.evaluation.with_shuffled_audio, this derangement seed); metrics get "
        "'shuffled_audio' and '<metric_for_best_model>_drop_with_shuffled_audio'. Doubles the evaluation time; "
        "selection is unchanged",
        None,
    )
    checkpointing_steps: str = _help("save the training state every N optimizer steps, or 'epoch'", "epoch")
    checkpoints_total_limit: int | None = _help("keep at most this many training-state checkpoints", 2)
    dataloader_num_workers: int = _help("DataLoader workers per process", 0)

    def __post_init__(self):
        if self.subset not in SUBSET_DEFAULTS:
            raise ValueError(f"unknown subset {self.subset!r}; choose one of {', '.join(SUBSET_DEFAULTS)}")
        with contextlib.suppress(ValueError):  # "clip", the former name of "tracking", is read as "tracking"
            self.train_temporal = canonical_temporal(self.train_temporal)
        self._check_ranges()
        self._check_choices()

    def _check_ranges(self) -> None:
        positive = ("num_train_epochs", "per_device_train_batch_size", "per_device_eval_batch_size",
                    "gradient_accumulation_steps")  # fmt: skip
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("max_train_steps", "checkpoints_total_limit", "eval_videos_per_batch"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be >= 1 or unset, got {value}")
        if not 0 <= self.mismatched_audio_probability <= 1:
            raise ValueError(f"mismatched_audio_probability must be in [0, 1], got {self.mismatched_audio_probability}")
        if not 0 <= self.min_learning_rate <= self.learning_rate:
            raise ValueError(f"need 0 <= min_learning_rate <= learning_rate, got {self.min_learning_rate}")
        if self.checkpointing_steps != "epoch" and not (
            self.checkpointing_steps.isdigit() and int(self.checkpointing_steps) > 0
        ):
            raise ValueError(
                f"checkpointing_steps must be a positive integer or 'epoch', got {self.checkpointing_steps!r}"
            )
        if self.cache_audio_features and self.train_imagebind_audio:
            raise ValueError("cache_audio_features needs a frozen audio tower: not with train_imagebind_audio")

    def _check_choices(self) -> None:
        choices = {
            "train_frames": ("annotated", "all"),
            "train_temporal": TEMPORAL_MODES,
            "eval_protocol": ("avsbench", "tavis_release", "avss"),
            "metric_for_best_model": ("jaccard", "fmeasure", "miou", "fscore"),
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        semantic = self.eval_protocol == "avss"
        if semantic != (self.metric_for_best_model in ("miou", "fscore")):
            raise ValueError(
                f"metric_for_best_model={self.metric_for_best_model!r} is not produced by eval_protocol="
                f"{self.eval_protocol!r} (binary protocols: jaccard/fmeasure; avss: miou/fscore)"
            )
        if semantic and self.eval_videos_per_batch is not None:
            raise ValueError("eval_protocol='avss' accumulates over all frames: set eval_videos_per_batch to none")
        if not semantic and self.eval_protocol == "avsbench" and self.eval_videos_per_batch is None:
            raise ValueError("eval_protocol='avsbench' needs eval_videos_per_batch (AVSBench test.py uses 1)")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


#: Fields that may change between a run and its resumption (they do not change the training trajectory).
RESUME_NEUTRAL_FIELDS = frozenset(
    {"max_train_steps", "checkpointing_steps", "checkpoints_total_limit", "per_device_eval_batch_size",
     "cache_audio_features", "activation_checkpointing", "dataloader_num_workers"}
)  # fmt: skip


# ------------------------------------------------------------------------------------------------- command line
def option_strings(name: str) -> list[str]:
    """``--a-b`` then the field-name spelling ``--a_b`` as an alias (when it differs)."""
    hyphenated = f"--{name.replace('_', '-')}"
    return [hyphenated] if "_" not in name else [hyphenated, f"--{name}"]


def _field_type(field: dataclasses.Field) -> type:
    name = str(field.type).replace(" ", "")
    for kind in (bool, int, float, str):
        if name.startswith(kind.__name__):
            return kind
    raise TypeError(f"unsupported recipe field type {field.type!r}")


class _Toggle(argparse.BooleanOptionalAction):
    """``--x/--no-x`` whose usage line names the hyphenated spellings only (the underscore aliases still parse)."""

    def format_usage(self) -> str:
        return " | ".join(option for option in self.option_strings if "_" not in option)


class _MovedSetting(argparse.Action):
    """An option of a former recipe field: exits with the one-line message saying where the setting lives now."""

    def __init__(self, option_strings, dest, message: str, **kwargs):
        self.message = message
        super().__init__(option_strings, dest, nargs="?", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    def __call__(self, parser, namespace, values, option_string=None):
        parser.exit(2, f"{parser.prog}: error: {option_string}: {self.message}\n")


def add_recipe_arguments(parser: argparse.ArgumentParser) -> None:
    """Add one ``--<field>`` option per :class:`TrainingRecipe` field (hyphenated, ``--num-train-epochs``, with the
    field name ``--num_train_epochs`` as an alias), plus ``--config`` (a recipe file). Options not given are absent
    from the parsed namespace (``argparse.SUPPRESS``); booleans get ``--x/--no-x``; optional numbers accept ``none``.
    Pass :func:`given_recipe_values` of the namespace to :func:`resolve_recipe`. The options of
    :data:`MOVED_SETTINGS` exit with their message."""
    group = parser.add_argument_group("training recipe (defaults: the authors' recipe for --subset)")
    group.add_argument("--config", help="JSON or YAML recipe file (examples/configs/); the command line overrides it")
    for field in dataclasses.fields(TrainingRecipe):
        kind = _field_type(field)
        options = option_strings(field.name)
        help_text = field.metadata["help"]
        if kind is bool:
            group.add_argument(*options, action=_Toggle, default=argparse.SUPPRESS, help=help_text)
            continue
        optional = "None" in str(field.type)

        def convert(value: str, kind=kind, optional=optional, option=options[0]):
            if optional and value.lower() == "none":
                return None
            try:
                return kind(value)
            except ValueError:
                raise argparse.ArgumentTypeError(f"{option}: expected {kind.__name__}, got {value!r}") from None

        group.add_argument(*options, type=convert, default=argparse.SUPPRESS, help=help_text)
    for name, message in MOVED_SETTINGS.items():
        options = option_strings(name)
        if name in _MOVED_BOOLEANS:
            options += [f"--no-{option[2:]}" for option in options]
        group.add_argument(*options, action=_MovedSetting, message=message)


def given_recipe_values(namespace: argparse.Namespace) -> dict[str, Any]:
    """The recipe fields given on the command line (see :func:`add_recipe_arguments`)."""
    return {field.name: getattr(namespace, field.name) for field in dataclasses.fields(TrainingRecipe)
            if hasattr(namespace, field.name)}  # fmt: skip


# -------------------------------------------------------------------------------------------------- recipe files
def _check_no_moved_settings(values: Mapping[str, Any], where: str) -> None:
    moved = [name for name in MOVED_SETTINGS if name in values]
    if moved:
        raise ValueError(f"{where}{MOVED_SETTINGS[moved[0]]}")


def load_recipe_file(path: str | os.PathLike) -> dict[str, Any]:
    """Read a JSON (``.json``) or YAML (``.yaml``/``.yml``) recipe given by a user: unknown keys, and the model settings
    of :data:`MOVED_SETTINGS`, raise ``ValueError``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"recipe file not found: {path}")
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        values = json.loads(text)
    elif path.suffix in (".yaml", ".yml"):
        import yaml

        values = yaml.safe_load(text)
    else:
        raise ValueError(f"recipe file must end in .json, .yaml or .yml: {path}")
    if not isinstance(values, dict):
        raise ValueError(f"{path} must hold a mapping of recipe fields, got {type(values).__name__}")
    _check_no_moved_settings(values, f"{path}: ")
    known = {field.name for field in dataclasses.fields(TrainingRecipe)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"{path} has unknown recipe fields {unknown}; known: {sorted(known)}")
    return values


def recorded_recipe(values: Mapping[str, Any]) -> dict[str, Any]:
    """A recipe as an earlier run recorded it (``recipe.json``, ``training_recipe.json``), for reading only: the
    former fields of :data:`MOVED_SETTINGS` are dropped (the model's config holds them, and the run's model config
    fingerprint covers them), and ``train_temporal="clip"`` reads as its current name ``"tracking"``."""
    values = {key: value for key, value in values.items() if key not in MOVED_SETTINGS}
    if "train_temporal" in values:
        with contextlib.suppress(ValueError):
            values["train_temporal"] = canonical_temporal(values["train_temporal"])
    return values


def resolve_recipe(
    file_values: Mapping[str, Any] | None = None, cli_values: Mapping[str, Any] | None = None
) -> TrainingRecipe:
    """Build the recipe: dataclass defaults < :data:`SUBSET_DEFAULTS` of the subset < file values < command line
    values (every key given counts, ``None`` included)."""
    given = {**(file_values or {}), **(cli_values or {})}
    _check_no_moved_settings(given, "")
    subset = given.get("subset")
    if subset is None:
        raise ValueError("no subset given: pass --subset or set 'subset' in the recipe file")
    if subset not in SUBSET_DEFAULTS:
        raise ValueError(f"unknown subset {subset!r}; choose one of {', '.join(SUBSET_DEFAULTS)}")
    if "checkpointing_steps" in given:
        given["checkpointing_steps"] = str(given["checkpointing_steps"])
    return TrainingRecipe(**{**SUBSET_DEFAULTS[subset], **given})


# ------------------------------------------------------------------------------------------------------ resuming
def config_fingerprint(value: Any) -> str:
    """A short sha256 of a JSON-able value (a model config dict, the dataset fingerprints): the run context that
    :func:`check_resume_compatible` compares."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]


def check_resume_compatible(saved: Mapping[str, Any], recipe: TrainingRecipe, saved_context: Mapping[str, Any],
                            context: Mapping[str, Any]) -> None:  # fmt: skip
    """Raise ``ValueError`` naming every difference between a saved run (``recipe.json``) and this one, except the
    :data:`RESUME_NEUTRAL_FIELDS`. ``context`` holds what else fixes the trajectory (model config hash, dataset
    fingerprints, number of processes). A saved recipe is read with :func:`recorded_recipe`: its former model
    settings are covered by the model config hash."""
    saved, current = recorded_recipe(saved), recipe.to_dict()
    diffs = [
        f"{key}: saved {saved.get(key)!r}, now {current.get(key)!r}"
        for key in sorted(set(saved) | set(current))
        if key not in RESUME_NEUTRAL_FIELDS and saved.get(key) != current.get(key)
    ]
    diffs += [
        f"{key}: saved {saved_context.get(key)!r}, now {context.get(key)!r}"
        for key in sorted(set(saved_context) | set(context))
        if saved_context.get(key) != context.get(key)
    ]
    if diffs:
        raise ValueError(
            "the checkpoint comes from another training configuration; refusing to resume (nothing was written):\n  "
            + "\n  ".join(diffs)
        )
