"""Reusable pieces of the TAViS fine-tuning examples (``examples/train_tavis.py``, ``examples/train_tavis_trainer.py``).

* :class:`TrainingRecipe` — every training hyper-parameter, with the authors' recipe per subset as defaults
  (``docs/fidelity.md`` §4), overridable from a JSON/YAML file and from the command line
  (:func:`add_recipe_arguments`, :func:`resolve_recipe`).
* Data: :func:`check_training_dataset` (schema and subset checks), :class:`TavisClipTransform` (one AVSBench-schema
  example -> model tensors with subset-specific frame sampling and one audio clip per frame) and
  :func:`collate_clips`.
* :class:`CachedImageBindAudio` — optional cache of the frozen ImageBind audio tower (identical outputs).
* Schedule and state: :func:`cosine_epoch_schedule`, :func:`step_seed`, :class:`TrainerProgress`, atomic and rotated
  checkpoints (:func:`save_checkpoint`, :func:`list_checkpoints`), resume checks (:func:`check_resume_compatible`).
* :class:`JSONLTracker` — an offline Accelerate tracker writing one JSON object per line.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from accelerate.tracking import LOGGER_TYPE_TO_CLASS, GeneralTracker, on_main_process, register_tracker_class
from torch import nn

__all__ = [
    "REQUIRED_COLUMNS",
    "RESUME_NEUTRAL_FIELDS",
    "SUBSET_DEFAULTS",
    "CachedImageBindAudio",
    "JSONLTracker",
    "TavisClipTransform",
    "TrainerProgress",
    "TrainingRecipe",
    "add_recipe_arguments",
    "check_resume_compatible",
    "check_training_dataset",
    "collate_clips",
    "cosine_epoch_schedule",
    "decoded_waveform",
    "given_recipe_values",
    "list_checkpoints",
    "mismatch_audio",
    "parameter_fingerprint",
    "register_jsonl_tracker",
    "load_recipe_file",
    "resolve_recipe",
    "save_checkpoint",
    "step_seed",
    "write_json_atomic",
]

#: Columns of the AVSBench/SynthAVS schema (:mod:`tavis_hf.data.avsbench`) that training and evaluation read.
REQUIRED_COLUMNS = ("frames", "audio", "masks", "semantic_masks", "annotated", "class_ids", "subset")

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
_MULTI = {**_OBJECT_LIKE, "per_device_train_batch_size": 4, "train_frames": "all", "train_temporal": "clip"}
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


def _help(text: str, **extra) -> Any:
    return dataclasses.field(metadata={"help": text, **extra})


@dataclasses.dataclass
class TrainingRecipe:
    """Training hyper-parameters. Defaults are the authors' recipe (``docs/fidelity.md`` §4); subset-specific
    defaults come from :data:`SUBSET_DEFAULTS` through :func:`resolve_recipe`."""

    subset: str = _help(f"dataset subset: {', '.join(SUBSET_DEFAULTS)}")
    learning_rate: float = dataclasses.field(default=3e-5, metadata={"help": "AdamW peak learning rate"})
    min_learning_rate: float = dataclasses.field(default=1e-7, metadata={"help": "cosine floor (eta_min)"})
    weight_decay: float = dataclasses.field(default=0.01, metadata={"help": "AdamW weight decay"})
    adam_beta1: float = dataclasses.field(default=0.9, metadata={"help": "AdamW beta1"})
    adam_beta2: float = dataclasses.field(default=0.999, metadata={"help": "AdamW beta2"})
    adam_epsilon: float = dataclasses.field(default=1e-8, metadata={"help": "AdamW epsilon"})
    max_grad_norm: float | None = dataclasses.field(
        default=None, metadata={"help": "gradient clipping norm (the authors do not clip)"}
    )
    num_train_epochs: int = dataclasses.field(default=80, metadata={"help": "epochs (cosine period)"})
    max_train_steps: int | None = dataclasses.field(
        default=None, metadata={"help": "stop after this many optimizer steps (the schedule stays per epoch)"}
    )
    per_device_train_batch_size: int = dataclasses.field(default=10, metadata={"help": "clips per process per step"})
    per_device_eval_batch_size: int = dataclasses.field(default=1, metadata={"help": "clips per process at eval"})
    gradient_accumulation_steps: int = dataclasses.field(default=1, metadata={"help": "micro-batches per update"})
    image_size: int = dataclasses.field(default=224, metadata={"help": "SAM2 input size (must match the model)"})
    train_frames: str = dataclasses.field(
        default="annotated",
        metadata={"help": "'annotated': the first annotated frame of each clip (S4); 'all': every frame (MS3, v2)"},
    )
    train_temporal: str = dataclasses.field(
        default="per-frame", metadata={"help": "'per-frame' or 'clip' (SAM2 memory over the clip) while training"}
    )
    eval_protocol: str = dataclasses.field(
        default="avsbench", metadata={"help": "tavis_hf.metrics protocol: avsbench, tavis_release or avss"}
    )
    eval_videos_per_batch: int | None = dataclasses.field(
        default=1, metadata={"help": "videos per reference batch of the metric (F depends on it)"}
    )
    metric_for_best_model: str = dataclasses.field(
        default="jaccard", metadata={"help": "val metric selecting the best checkpoint (jaccard or miou)"}
    )
    select_best_model: bool = dataclasses.field(
        default=True,
        metadata={
            "help": "keep the weights of the best val epoch (by metric_for_best_model); with --no-select_best_model "
            "the last epoch's weights are kept (val is still scored and recorded every epoch)"
        },
    )
    seed: int = dataclasses.field(default=42, metadata={"help": "seed of the data order and of every step"})
    activation_checkpointing: bool = dataclasses.field(
        default=False, metadata={"help": "recompute SAM2 block activations in the backward pass"}
    )
    imagebind_train_mode: bool = dataclasses.field(
        default=False, metadata={"help": "the authors' quirk: ImageBind in train mode (drop path active)"}
    )
    cache_audio_features: bool = dataclasses.field(
        default=False, metadata={"help": "cache the frozen ImageBind audio features (identical results)"}
    )
    train_imagebind_audio: bool = dataclasses.field(
        default=False,
        metadata={
            "help": "also train the ImageBind audio tower. TAViS freezes its pretrained ImageBind; for a model whose "
            "ImageBind was not pretrained at scale (the tiny SynthAVS default, whose tower is only aligned on SynthAVS "
            "by examples/pretrain_imagebind_audio.py)"
        },
    )
    train_sam2_image_encoder: bool = dataclasses.field(
        default=False,
        metadata={
            "help": "also train the SAM2 image encoder (Hiera + neck). TAViS freezes its pretrained SAM2 encoder; only "
            "for a model trained from a random initialisation (the tiny SynthAVS default)"
        },
    )
    mismatched_audio_probability: float = dataclasses.field(
        default=0.0,
        metadata={
            "help": "not in TAViS (0 = the authors' recipe): probability that a training clip gets the soundtrack of "
            "another clip of its batch with no sounding class in common, and a target where nothing sounds "
            "(tavis_hf.training.mismatch_audio); teaches a model trained from scratch to listen rather than to "
            "segment every salient object"
        },
    )
    eval_shuffled_audio_seed: int | None = dataclasses.field(
        default=None,
        metadata={
            "help": "the listening control (not in TAViS): also score val every epoch, and the final test, with every "
            "clip given another clip's soundtrack (tavis_hf.evaluation.with_shuffled_audio, this derangement seed); "
            "metrics get 'shuffled_audio' and '<metric_for_best_model>_drop_with_shuffled_audio'. Doubles the "
            "evaluation time; selection is unchanged"
        },
    )
    checkpointing_steps: str = dataclasses.field(
        default="epoch", metadata={"help": "save the training state every N optimizer steps, or 'epoch'"}
    )
    checkpoints_total_limit: int | None = dataclasses.field(
        default=2, metadata={"help": "keep at most this many training-state checkpoints"}
    )
    dataloader_num_workers: int = dataclasses.field(default=0, metadata={"help": "DataLoader workers per process"})

    def __post_init__(self):
        if self.subset not in SUBSET_DEFAULTS:
            raise ValueError(f"unknown subset {self.subset!r}; choose one of {', '.join(SUBSET_DEFAULTS)}")
        positive = ("num_train_epochs", "per_device_train_batch_size", "per_device_eval_batch_size",
                    "gradient_accumulation_steps", "image_size")  # fmt: skip
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
        choices = {
            "train_frames": ("annotated", "all"),
            "train_temporal": ("per-frame", "clip"),
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
        if self.checkpointing_steps != "epoch" and not (
            self.checkpointing_steps.isdigit() and int(self.checkpointing_steps) > 0
        ):
            raise ValueError(
                f"checkpointing_steps must be a positive integer or 'epoch', got {self.checkpointing_steps!r}"
            )
        if semantic and self.eval_videos_per_batch is not None:
            raise ValueError("eval_protocol='avss' accumulates over all frames: set eval_videos_per_batch to none")
        if not semantic and self.eval_protocol == "avsbench" and self.eval_videos_per_batch is None:
            raise ValueError("eval_protocol='avsbench' needs eval_videos_per_batch (AVSBench test.py uses 1)")
        if self.cache_audio_features and self.imagebind_train_mode:
            raise ValueError("cache_audio_features needs a deterministic audio tower: not with imagebind_train_mode")
        if self.cache_audio_features and self.train_imagebind_audio:
            raise ValueError("cache_audio_features needs a frozen audio tower: not with train_imagebind_audio")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


#: Fields that may change between a run and its resumption (they do not change the training trajectory).
RESUME_NEUTRAL_FIELDS = frozenset(
    {"max_train_steps", "checkpointing_steps", "checkpoints_total_limit", "per_device_eval_batch_size",
     "cache_audio_features", "activation_checkpointing", "dataloader_num_workers"}
)  # fmt: skip


def _field_type(field: dataclasses.Field) -> type:
    name = str(field.type).replace(" ", "")
    for kind in (bool, int, float, str):
        if name.startswith(kind.__name__):
            return kind
    raise TypeError(f"unsupported recipe field type {field.type!r}")


def add_recipe_arguments(parser: argparse.ArgumentParser) -> None:
    """Add one ``--<field>`` option per :class:`TrainingRecipe` field, plus ``--config`` (a recipe file). Options
    not given are absent from the parsed namespace (``argparse.SUPPRESS``); booleans get ``--x/--no-x``; optional
    numbers accept ``none``. Pass :func:`given_recipe_values` of the namespace to :func:`resolve_recipe`."""
    group = parser.add_argument_group("training recipe (defaults: the authors' recipe for --subset)")
    group.add_argument("--config", help="JSON or YAML recipe file (examples/configs/); the command line overrides it")
    for field in dataclasses.fields(TrainingRecipe):
        kind = _field_type(field)
        option = f"--{field.name}"
        help_text = field.metadata["help"]
        if kind is bool:
            group.add_argument(option, action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS, help=help_text)
            continue
        optional = "None" in str(field.type)

        def convert(value: str, kind=kind, optional=optional, name=field.name):
            if optional and value.lower() == "none":
                return None
            try:
                return kind(value)
            except ValueError:
                raise argparse.ArgumentTypeError(f"--{name}: expected {kind.__name__}, got {value!r}") from None

        group.add_argument(option, type=convert, default=argparse.SUPPRESS, help=help_text)


def given_recipe_values(namespace: argparse.Namespace) -> dict[str, Any]:
    """The recipe fields given on the command line (see :func:`add_recipe_arguments`)."""
    return {field.name: getattr(namespace, field.name) for field in dataclasses.fields(TrainingRecipe)
            if hasattr(namespace, field.name)}  # fmt: skip


def load_recipe_file(path: str | os.PathLike) -> dict[str, Any]:
    """Read a JSON (``.json``) or YAML (``.yaml``/``.yml``) recipe; unknown keys raise ``ValueError``."""
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
    known = {field.name for field in dataclasses.fields(TrainingRecipe)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"{path} has unknown recipe fields {unknown}; known: {sorted(known)}")
    return values


def resolve_recipe(
    file_values: Mapping[str, Any] | None = None, cli_values: Mapping[str, Any] | None = None
) -> TrainingRecipe:
    """Build the recipe: dataclass defaults < :data:`SUBSET_DEFAULTS` of the subset < file values < command line
    values (every key given counts, ``None`` included)."""
    given = {**(file_values or {}), **(cli_values or {})}
    subset = given.get("subset")
    if subset is None:
        raise ValueError("no subset given: pass --subset or set 'subset' in the recipe file")
    if subset not in SUBSET_DEFAULTS:
        raise ValueError(f"unknown subset {subset!r}; choose one of {', '.join(SUBSET_DEFAULTS)}")
    if "checkpointing_steps" in given:
        given["checkpointing_steps"] = str(given["checkpointing_steps"])
    return TrainingRecipe(**{**SUBSET_DEFAULTS[subset], **given})


def check_resume_compatible(saved: Mapping[str, Any], recipe: TrainingRecipe, saved_context: Mapping[str, Any],
                            context: Mapping[str, Any]) -> None:  # fmt: skip
    """Raise ``ValueError`` naming every difference between a saved run (``recipe.json``) and this one, except the
    :data:`RESUME_NEUTRAL_FIELDS`. ``context`` holds what else fixes the trajectory (model config hash, dataset
    fingerprints, number of processes)."""
    current = recipe.to_dict()
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


# ------------------------------------------------------------------------------------------------------------ data
def check_training_dataset(dataset_dict, subset: str, splits: Sequence[str] = ("train", "val", "test")) -> None:
    """Check a ``DatasetDict`` against the AVSBench schema before training: the splits exist, every split has the
    :data:`REQUIRED_COLUMNS`, and the examples are from ``subset``. Raises ``ValueError`` listing every problem."""
    problems = []
    missing_splits = [split for split in splits if split not in dataset_dict]
    if missing_splits:
        problems.append(f"missing splits {missing_splits} (the dataset has {sorted(dataset_dict)})")
    for split in splits:
        if split not in dataset_dict:
            continue
        dataset = dataset_dict[split]
        missing = [column for column in REQUIRED_COLUMNS if column not in dataset.column_names]
        if missing:
            problems.append(f"split {split!r} lacks columns {missing} (schema: tavis_hf.data.avsbench)")
            continue
        if dataset.num_rows == 0:
            problems.append(f"split {split!r} is empty")
            continue
        found = dataset.select_columns("subset")[0]["subset"]
        if found != subset:
            problems.append(f"split {split!r} holds subset {found!r}, but the recipe is for subset {subset!r}")
    if problems:
        raise ValueError("dataset does not fit the training recipe:\n  " + "\n  ".join(problems))


def decoded_waveform(audio) -> tuple[np.ndarray, int]:
    """The decoded ``Audio`` column value (torchcodec ``AudioDecoder`` or a ``{"array", "sampling_rate"}`` dict)."""
    if isinstance(audio, Mapping):
        return np.asarray(audio["array"], dtype=np.float32), int(audio["sampling_rate"])
    samples = audio.get_all_samples()
    return samples.data.numpy(), int(samples.sample_rate)


class TavisClipTransform:
    """AVSBench-schema example -> tensors for [`TavisModel`] (use with ``Dataset.with_transform``).

    The audio of the whole clip is split into one 2-s ImageBind clip per frame by the processor (frame ``k`` of
    ``T`` <-> clip ``k``) **before** frames are sampled, so a sampled frame keeps its own clip.

    Args:
        processor: a [`TavisProcessor`].
        frames: ``"annotated"`` (the first annotated frame, S4 training), ``"all"`` (every frame).
        training: output ``labels`` (class-id maps from ``semantic_masks``) and ``label_frame_mask``; otherwise
            ``target_masks`` (binary ground truth at its original size), ``target_semantic`` (when ``semantic``)
            and ``annotated``.
        semantic: evaluation targets are class maps (AVSS) as well as binary masks.

    Each output value has no batch dimension: ``pixel_values (T, 3, S, S)``, ``imagebind_pixel_values (T, 3, s, s)``,
    ``input_features (T, 1, 128, 204)``; training adds ``labels (T, S, S)`` int64 and ``label_frame_mask (T,)``
    bool; evaluation adds ``target_masks (T, H, W)`` bool, ``annotated (T,)`` bool and, with ``semantic``,
    ``target_semantic (T, H, W)`` int64.
    """

    def __init__(self, processor, frames: str = "all", training: bool = True, semantic: bool = False):
        if frames not in ("annotated", "all"):
            raise ValueError(f"frames must be 'annotated' or 'all', got {frames!r}")
        self.processor = processor
        self.frames = frames
        self.training = training
        self.semantic = semantic

    def _one(self, example: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        annotated = torch.tensor(example["annotated"], dtype=torch.bool)
        if not bool(annotated.any()):
            raise ValueError(f"clip {example.get('uid', '?')!r} has no annotated frame")
        needs_semantic = self.training or self.semantic
        if needs_semantic and not example["semantic_masks"]:
            raise ValueError(
                f"clip {example.get('uid', '?')!r} has no semantic_masks: the TAViS loss and AVSS metrics need "
                "class-id masks (build AVSBench with its semantic labels, tavis_hf.data.load_avsbench)"
            )
        waveform, rate = decoded_waveform(example["audio"])
        maps = [np.asarray(mask) for mask in example["semantic_masks"]] if self.training else None
        inputs = self.processor(videos=list(example["frames"]), audio=waveform, sampling_rate=rate,
                                segmentation_maps=maps)  # fmt: skip
        out = {key: inputs[key][0] for key in ("pixel_values", "imagebind_pixel_values", "input_features")}
        if self.training:
            out["labels"] = inputs["labels"][0].long()
            out["label_frame_mask"] = annotated
        else:
            out["target_masks"] = torch.from_numpy(np.stack([np.asarray(m) for m in example["masks"]]) > 0)
            out["annotated"] = annotated
            if self.semantic:
                out["target_semantic"] = torch.from_numpy(
                    np.stack([np.asarray(m) for m in example["semantic_masks"]]).astype(np.int64)
                )
        if self.frames == "annotated":
            first = int(annotated.nonzero()[0, 0])
            out = {key: value[first : first + 1] for key, value in out.items()}
        return out

    def __call__(self, batch: Mapping[str, list]) -> dict[str, list[torch.Tensor]]:
        size = len(next(iter(batch.values())))
        rows = [self._one({key: values[i] for key, values in batch.items()}) for i in range(size)]
        return {key: [row[key] for row in rows] for key in rows[0]}


def collate_clips(examples: Sequence[Mapping[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Stack the per-clip tensors of :class:`TavisClipTransform` into a batch (clips must have the same number of
    frames and sizes)."""
    if not examples:
        raise ValueError("cannot collate an empty batch")
    batch = {}
    for key in examples[0]:
        shapes = {tuple(example[key].shape) for example in examples}
        if len(shapes) != 1:
            raise ValueError(f"cannot batch {key!r}: clips have shapes {sorted(shapes)} (same T and size needed)")
        batch[key] = torch.stack([example[key] for example in examples])
    return batch


def mismatch_audio(
    batch: Mapping[str, torch.Tensor], probability: float
) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """Audio-mismatch negatives for training (not part of TAViS; ``TrainingRecipe.mismatched_audio_probability``).

    Each clip of a collated training batch is drawn with ``probability``: a drawn clip takes the ``input_features``
    of another clip of the batch whose sounding classes (the non-zero ``labels`` of its annotated frames) share none
    with its own, chosen uniformly, and its ``labels`` become background everywhere — the objects of one scene do
    not make the sounds of another. A drawn clip with no such partner in the batch is left unchanged. Random numbers
    come from torch's global generator (seeded per step by the training script, so a resumed run draws the same).

    The target is exact when no visible object of the clip is silent in its own soundtrack but of a class heard in
    the borrowed one; such objects are rare in AVSBench, and in SynthAVS (random classes) they make a small fraction
    of the negatives label noise.

    Args:
        batch: ``input_features (B, T, 1, 128, 204)``, ``labels (B, T, S, S)`` class ids, ``label_frame_mask (B, T)``
            and any other entries (passed through).
        probability (`float`): chance that a clip is drawn, in ``[0, 1]``.

    Returns:
        ``(batch, swapped)``: a new dict (the input tensors are not modified) and the ``(B,)`` bool mask of clips that
        got another clip's audio.
    """
    if not 0 <= probability <= 1:
        raise ValueError(f"probability must be in [0, 1], got {probability}")
    features, labels, annotated = batch["input_features"], batch["labels"], batch["label_frame_mask"]
    num_clips = features.shape[0]
    swapped = torch.zeros(num_clips, dtype=torch.bool)
    if probability == 0 or num_clips < 2:
        return dict(batch), swapped
    classes = [set(labels[i][annotated[i]].unique().tolist()) - {0} for i in range(num_clips)]
    drawn = torch.rand(num_clips) < probability
    new_features, new_labels = features.clone(), labels.clone()
    for i in drawn.nonzero().flatten().tolist():
        partners = [j for j in range(num_clips) if j != i and not classes[i] & classes[j]]
        if not partners:
            continue
        j = partners[int(torch.randint(len(partners), ()))]
        new_features[i] = features[j]
        new_labels[i] = 0
        swapped[i] = True
    return {**batch, "input_features": new_features, "labels": new_labels}, swapped


# ---------------------------------------------------------------------------------------------- audio feature cache
class CachedImageBindAudio:
    """Memoise a frozen ImageBind audio tower (``ImageBindModel.audio_model``) per input clip.

    :meth:`attach` routes the tower's ``forward`` through the cache (its parameters, state-dict keys and other
    attributes are untouched); :meth:`detach` restores it. The key is the SHA-1 of each ``(1, 128, 204)`` log-mel
    clip's bytes, so a clip seen in an earlier epoch is not re-encoded; outputs are bit-identical to the tower's (it
    must be frozen and in eval mode, which every call checks). Entries are kept on the CPU in the tower's dtype.
    """

    def __init__(self, audio_model: nn.Module):
        self.audio_model = audio_model
        self._forward = audio_model.forward
        self._cache: dict[bytes, torch.Tensor] = {}
        self.hits = 0
        self.misses = 0

    def attach(self) -> CachedImageBindAudio:
        self.audio_model.forward = self.__call__
        return self

    def detach(self) -> None:
        del self.audio_model.forward

    def __call__(self, input_features: torch.Tensor, **kwargs):
        from transformers.modeling_outputs import BaseModelOutputWithPooling

        if self.audio_model.training or any(p.requires_grad for p in self.audio_model.parameters()):
            raise RuntimeError("CachedImageBindAudio needs a frozen audio tower in eval mode")
        keys = [  # raw bytes: works for every dtype (numpy has no bfloat16)
            hashlib.sha1(row.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes()).digest()
            for row in input_features
        ]
        missing = [i for i, key in enumerate(keys) if key not in self._cache]
        if missing:
            hidden = self._forward(input_features[missing], **kwargs).last_hidden_state
            for i, value in zip(missing, hidden):
                self._cache[keys[i]] = value.detach().cpu()
        self.hits += len(keys) - len(missing)
        self.misses += len(missing)
        stacked = torch.stack([self._cache[key] for key in keys]).to(input_features.device)
        return BaseModelOutputWithPooling(
            last_hidden_state=stacked, pooler_output=self.audio_model.post_layernorm(stacked[:, 0])
        )


# ------------------------------------------------------------------------------------------- schedule and progress
def cosine_epoch_schedule(
    optimizer: torch.optim.Optimizer, num_epochs: int, min_lr: float
) -> torch.optim.lr_scheduler.LambdaLR:
    """The authors' ``CosineAnnealingLR(T_max=num_epochs, eta_min=min_lr)`` stepped once per epoch, as a closed form:
    ``lr_e = min_lr + (lr - min_lr) (1 + cos(pi e / num_epochs)) / 2`` for epoch ``e`` (0-based)."""
    peaks = [group["lr"] for group in optimizer.param_groups]
    if any(peak <= 0 for peak in peaks):
        raise ValueError("learning rates must be positive")

    def factor(epoch: int, peak: float) -> float:
        return (min_lr + (peak - min_lr) * (1 + math.cos(math.pi * min(epoch, num_epochs) / num_epochs)) / 2) / peak

    return torch.optim.lr_scheduler.LambdaLR(optimizer, [lambda e, p=p: factor(e, p) for p in peaks])


def parameter_fingerprint(model: nn.Module) -> torch.Tensor:
    """One float64 sum per trainable parameter, ``(num_trainable,)``: equal on every DDP replica exactly when the
    replicas hold the same weights (as they must when gradients are all-reduced)."""
    return torch.stack([p.detach().double().sum() for p in model.parameters() if p.requires_grad])


def step_seed(seed: int, process_index: int, micro_step: int) -> int:
    """Seed of one micro-batch: a pure function of the run seed, the process and the micro-batch counter, so a
    resumed run draws exactly the random numbers (matcher points, …) of an uninterrupted one."""
    digest = hashlib.sha256(f"{seed}/{process_index}/{micro_step}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


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


# ------------------------------------------------------------------------------------------------------- tracking
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
