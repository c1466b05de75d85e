"""Training data: the dataset a run trains on, its checks, and the per-clip tensors the model takes.

* :func:`load_training_dataset` — a ``DatasetDict`` (train/val/test) from a folder, the Hub or SynthAVS, checked.
* :func:`check_training_dataset` — schema (:data:`REQUIRED_COLUMNS`) and subset checks.
* :func:`decoded_waveform` — the one audio decoder of the package's dataset readers (training and evaluation).
* :class:`TavisClipTransform` — one AVSBench-schema example -> model tensors (frame sampling, one audio clip per
  frame); :func:`collate_clips` stacks them into a batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

if TYPE_CHECKING:
    from .arguments import RunArguments
    from .recipe import TrainingRecipe

__all__ = [
    "REQUIRED_COLUMNS",
    "TavisClipTransform",
    "check_training_dataset",
    "collate_clips",
    "decoded_waveform",
    "load_training_dataset",
]

#: Columns of the AVSBench/SynthAVS schema (:mod:`tavis_hf.data.avsbench`) that training and evaluation read.
REQUIRED_COLUMNS = ("frames", "audio", "masks", "semantic_masks", "annotated", "class_ids", "subset")


def _generate_synthavs(counts: str, subset: str, image_size: int):
    from tavis_hf.data import make_synthavs
    from tavis_hf.data.synthetic import DATASET_MODES

    sizes = [int(c) for c in counts.split(",")]
    if len(sizes) != 3:
        raise ValueError(f"--synthavs needs TRAIN,VAL,TEST counts, got {counts!r}")
    modes = {name: mode for mode, name in DATASET_MODES.items()}
    if subset not in modes:
        raise ValueError(f"--synthavs generates subsets {', '.join(modes)}, not {subset!r}")
    return make_synthavs(dict(zip(("train", "val", "test"), sizes)), mode=modes[subset], image_size=image_size)


def load_training_dataset(args: RunArguments, recipe: TrainingRecipe):
    """The ``DatasetDict`` of a run: SynthAVS generated with ``args.synthavs`` clip counts, a ``save_to_disk`` folder
    or a Hub dataset (``args.dataset_name_or_path``), checked against the recipe's subset
    (:func:`check_training_dataset`) and cut to ``args.max_train_samples`` / ``args.max_eval_samples``."""
    import datasets

    if args.synthavs:
        dataset = _generate_synthavs(args.synthavs, recipe.subset, args.synthavs_image_size)
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
            raise ValueError(f"--eval-shuffled-audio-seed needs at least 2 clips in val and test to shuffle the "
                             f"audio across; the dataset has {small}")  # fmt: skip
    return dataset


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
    """``(waveform, sampling_rate)`` of a decoded ``Audio`` column value: a torchcodec ``AudioDecoder`` (all its
    samples, ``(channels, samples)`` float32) or a ``{"array", "sampling_rate"}`` dict (``datasets`` without
    torchcodec, or an in-memory example)."""
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
