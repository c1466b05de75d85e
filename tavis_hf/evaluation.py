"""Scoring a TAViS model on an AVSBench-schema dataset with the AVSBench-exact metrics (`tavis_hf.metrics`).

`evaluate_dataset` scores a loaded model (used by the training scripts too); `evaluate_model` loads a model, scores
it (and, with a seed, the shuffled-audio control) and returns an *evaluation record*, the JSON that
`tavis-hf evaluate --output` and `examples/evaluate_avsbench.py --output` write, that model cards render and that the
published figures are checked against::

    {"command": "tavis-hf evaluate ...", "tavis_hf_version": "...",
     "model": {"name_or_path": "...", "fingerprint": "sha256:..."},
     "dataset": {"name": "SynthAVS", "type": "synthavs", "config": "synth-ms3", "split": "test", "num_videos": 100,
                 "fingerprint": "..."},
     "protocol": {"name": "avsbench", "videos_per_batch": 1, "score_space": "sigmoid", "gt_source": "semantic"},
     "metrics": {"jaccard": ..., "fmeasure": ...}, "num_videos": 100, "num_frames": 500,
     "shuffled_audio": {"seed": 0, "metrics": {...}, "drop": {"jaccard": ..., "fmeasure": ...}}}

`shuffled_audio` is present only when the control was run; AVSS records also carry `per_class`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from .training.data import decoded_waveform

__all__ = [
    "audio_derangement",
    "dataset_identity",
    "evaluate_dataset",
    "evaluate_model",
    "metric_prediction",
    "with_shuffled_audio",
]


def metric_prediction(outputs, target_size: tuple[int, int], semantic: bool) -> torch.Tensor:
    """The prediction a metric scores, at the ground-truth size `target_size` `(H, W)`.

    Binary protocols: `outputs.pred_masks` logits `(B, T, S, S)` bilinearly resized (float). `"avss"`:
    `outputs.semantic_masks` class ids `(B, T, S, S)` NEAREST-resized (long).
    """
    if semantic:
        return F.interpolate(outputs.semantic_masks.float(), size=target_size, mode="nearest").long()
    return F.interpolate(outputs.pred_masks.float(), size=target_size, mode="bilinear")


def audio_derangement(num_clips: int, seed: int) -> np.ndarray:
    """`source[i]`: the clip whose soundtrack clip `i` gets in the shuffled-audio control; a seeded random
    permutation without fixed points (no clip keeps its own sound)."""
    if num_clips < 2:
        raise ValueError("shuffling the audio across clips needs at least 2 clips")
    order = np.random.default_rng(seed).permutation(num_clips)
    source = np.empty_like(order)
    source[order] = np.roll(order, -1)  # clip order[k] hears clip order[k + 1]
    return source


def with_shuffled_audio(dataset, seed: int):
    """The shuffled-audio control of an AVSBench-schema `datasets.Dataset`: clip `i` keeps everything but its
    `audio`, which becomes that of clip `audio_derangement(num_rows, seed)[i]` (a new dataset; `dataset` is
    unchanged)."""
    from datasets import concatenate_datasets

    source = audio_derangement(dataset.num_rows, seed)
    borrowed = dataset.select(source.tolist()).select_columns("audio")
    return concatenate_datasets([dataset.remove_columns("audio"), borrowed], axis=1)


def evaluate_dataset(
    model, processor, dataset, metric, progress: bool = True, device=None, shuffle_audio_seed: int | None = None
) -> dict:
    """Run `model` on every clip of `dataset` (AVSBench schema) and return `metric.compute()`.

    Frames are decoded independently (the authors' protocol). Binary protocols score `pred_masks` against `masks`;
    `"avss"` scores `semantic_masks` against `semantic_masks`, with the dataset's class vocabulary (see
    [`metric_prediction`]). Frames flagged not annotated are handled by the metric.

    With `shuffle_audio_seed`, every clip gets the soundtrack of another clip ([`with_shuffled_audio`]): the control
    that shows how much a model relies on listening; the result then records the seed.
    """
    semantic = metric.protocol == "avss"
    key = "semantic_masks" if semantic else "masks"
    class_names = dataset.features["class_ids"].feature.names
    device = torch.device(device or "cpu")
    class_input_ids = processor.encode_labels(class_names).to(device) if semantic else None
    model.eval().to(device)
    if shuffle_audio_seed is not None:
        dataset = with_shuffled_audio(dataset, shuffle_audio_seed)
    for example in tqdm(dataset, desc="evaluating", unit="clip", disable=not progress):
        if semantic and not example[key]:
            raise ValueError("protocol 'avss' needs semantic_masks, which this dataset does not have")
        waveform, rate = decoded_waveform(example["audio"])  # the training transform's decoder
        inputs = processor(videos=example["frames"], audio=waveform, sampling_rate=rate)
        with torch.no_grad():
            outputs = model(**inputs.to(device), class_input_ids=class_input_ids, temporal="per-frame")
        target = torch.from_numpy(np.stack([np.asarray(mask) for mask in example[key]]))[None]
        if not semantic:
            target = target > 0
        prediction = metric_prediction(outputs, tuple(target.shape[-2:]), semantic)
        metric.update(prediction.cpu(), target, torch.tensor([example["annotated"]]))
    result = metric.compute()
    if shuffle_audio_seed is not None:
        result["audio_shuffled_across_clips_seed"] = shuffle_audio_seed
    return result


def dataset_identity(dataset) -> dict:
    """`{"name", "type", "config"}` of an AVSBench-schema dataset built by `tavis_hf.data` (card name, model-index
    type, subset): `tavis_hf.hub.records.subset_identity` of its recorded subset."""
    from .data import avsbench_build_info
    from .hub.records import subset_identity

    return subset_identity(avsbench_build_info(dataset).get("subset"))


def _model_identity(name_or_path: str | Path, model) -> dict:
    """`{"name_or_path", "fingerprint"}`: the weights' sha256 for a local folder, the Hub commit otherwise."""
    from .hub import weights_fingerprint

    if Path(name_or_path).is_dir():
        return {"name_or_path": str(name_or_path), "fingerprint": weights_fingerprint(name_or_path)}
    return {"name_or_path": str(name_or_path), "revision": getattr(model.config, "_commit_hash", None)}


def evaluate_model(
    model_name_or_path: str | Path,
    dataset,
    *,
    protocol: str,
    videos_per_batch: int | None = None,
    shuffle_audio_seed: int | None = None,
    device=None,
    progress: bool = True,
    command: str | None = None,
) -> dict:
    """Load a TAViS model strictly, score it on `dataset` (one split, AVSBench schema) under `protocol` and return the
    evaluation record (module docstring). With `shuffle_audio_seed`, the same clips are scored again with every clip
    given another clip's soundtrack ([`with_shuffled_audio`]) and the record gets `shuffled_audio`.

    Raises:
        ValueError: the model does not load cleanly or is not a TAViS model, the protocol is unknown or misses an
            option, or the control has fewer than 2 clips.
    """
    from transformers import AutoProcessor

    from . import __version__
    from .data import avsbench_build_info
    from .hub import eval_record_from_metric, load_model_checked
    from .metrics import AVSBenchMetric

    class_names = dataset.features["class_ids"].feature.names
    split = str(dataset.split) if dataset.split is not None else None

    def new_metric():
        return AVSBenchMetric(
            protocol=protocol,
            videos_per_batch=videos_per_batch,
            num_classes=len(class_names),
            class_names=class_names,
            gt_source=avsbench_build_info(dataset).get("mask_source"),
            split=split,
        )

    metric = new_metric()  # validates the protocol before the model is loaded
    if shuffle_audio_seed is not None:
        audio_derangement(dataset.num_rows, shuffle_audio_seed)  # fails early below 2 clips
    model = load_model_checked(model_name_or_path)
    if model.config.model_type != "tavis":
        raise ValueError(f"{model_name_or_path} is a {model.config.model_type!r} model; evaluation needs TAViS")
    processor = AutoProcessor.from_pretrained(model_name_or_path)
    result = evaluate_dataset(model, processor, dataset, metric, progress=progress, device=device)
    identity = dataset_identity(dataset)
    record = {"command": command, "tavis_hf_version": __version__, "model": _model_identity(model_name_or_path, model)}
    record.update(eval_record_from_metric(result, dataset_name=identity["name"], dataset_type=identity["type"],
                                          dataset_config=identity["config"]))  # fmt: skip
    record["dataset"].update(num_videos=dataset.num_rows, fingerprint=dataset._fingerprint)
    if protocol == "avss":
        record["per_class"] = [row for row in metric.per_class_report() if row["frames"] > 0]
    if shuffle_audio_seed is not None:
        control = evaluate_dataset(
            model, processor, dataset, new_metric(), progress=progress, device=device,
            shuffle_audio_seed=shuffle_audio_seed,
        )  # fmt: skip
        shuffled = {key: float(control[key]) for key in record["metrics"]}
        drop = {key: record["metrics"][key] - value for key, value in shuffled.items()}
        record["shuffled_audio"] = {"seed": shuffle_audio_seed, "metrics": shuffled, "drop": drop}
    return record


def write_record(record: dict, path: str | Path) -> None:
    """Write an evaluation record as indented JSON (parent folders created)."""
    import json

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
