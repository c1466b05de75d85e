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

`shuffled_audio` is present only when the control was run; AVSS records also carry `per_class`. Zero-shot records
(protocol `"zero-shot"`, `tavis_hf.zero_shot`) carry `per_class` (each class with its group, seen or unseen) and
`open_vocabulary` (the split: name, source, seen and unseen classes); their protocol names the class-scoring rule.
Listening records (protocol `"listening"`, `tavis_hf.listening`) carry `protocol.metric_protocol`, `protocol.seed`,
`conditions` (a row per sound condition) and, once written, `chart` (the PNG beside the record).
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from .devices import resolve_device
from .model_sources import check_model_source, hub_loading_errors
from .training.data import decoded_waveform

__all__ = [
    "audio_derangement",
    "dataset_identity",
    "evaluate_dataset",
    "evaluate_model",
    "metric_prediction",
    "new_metric",
    "with_audio_from",
    "with_shuffled_audio",
    "write_record",
]


SEMANTIC_PROTOCOLS = ("avss", "zero-shot")
"""Protocols that score class-id maps (`semantic_masks`), with the dataset's class vocabulary encoded as text."""


def new_metric(protocol: str, dataset, *, videos_per_batch: int | None = None, class_scoring: str | None = None):
    """The metric of `protocol` for `dataset` (one split): `tavis_hf.zero_shot.ZeroShotMetric` for `"zero-shot"`
    (`class_scoring` recorded, default its rule), else `AVSBenchMetric` with the split's vocabulary and provenance.

    Raises:
        ValueError: the protocol is unknown or misses an option, or (zero-shot) the split has no open-vocabulary
            split or holds only the seen classes.
    """
    from .data import avsbench_build_info, open_vocabulary_info
    from .metrics import AVSBenchMetric
    from .zero_shot import ZERO_SHOT_CLASS_SCORING, ZERO_SHOT_PROTOCOL, ZeroShotMetric

    class_names = dataset.features["class_ids"].feature.names
    split = str(dataset.split) if dataset.split is not None else None
    provenance = {"gt_source": avsbench_build_info(dataset).get("mask_source"), "split": split}
    if protocol == ZERO_SHOT_PROTOCOL:
        scoring = class_scoring or ZERO_SHOT_CLASS_SCORING
        return ZeroShotMetric(class_names, open_vocabulary_info(dataset), scoring, **provenance)
    if class_scoring is not None:
        raise ValueError(f"class_scoring applies to the zero-shot protocol, not {protocol!r}")
    return AVSBenchMetric(protocol=protocol, videos_per_batch=videos_per_batch, num_classes=len(class_names),
                          class_names=class_names, **provenance)  # fmt: skip


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


def with_audio_from(dataset, source, rows=None):
    """Clips of an AVSBench-schema `datasets.Dataset` with borrowed soundtracks: row `k` of the result is clip
    `rows[k]` (every clip by default) with everything but its `audio`, which is that of clip `source[k]` (a new
    dataset; `dataset` is unchanged)."""
    from datasets import concatenate_datasets

    kept = dataset if rows is None else dataset.select([int(row) for row in rows])
    borrowed = dataset.select([int(clip) for clip in source]).select_columns("audio")
    return concatenate_datasets([kept.remove_columns("audio"), borrowed], axis=1)


def with_shuffled_audio(dataset, seed: int):
    """The shuffled-audio control of an AVSBench-schema `datasets.Dataset`: clip `i` keeps everything but its
    `audio`, which becomes that of clip `audio_derangement(num_rows, seed)[i]` ([`with_audio_from`])."""
    return with_audio_from(dataset, audio_derangement(dataset.num_rows, seed))


def evaluate_dataset(
    model,
    processor,
    dataset,
    metric,
    progress: bool = True,
    device=None,
    shuffle_audio_seed: int | None = None,
    audio_transform=None,
) -> dict:
    """Run `model` on every clip of `dataset` (AVSBench schema) and return `metric.compute()`.

    Frames are decoded independently (the authors' protocol). Binary protocols score `pred_masks` against `masks`;
    `"avss"` scores `semantic_masks` against `semantic_masks`, with the dataset's class vocabulary (see
    [`metric_prediction`]). Frames flagged not annotated are handled by the metric.

    With `shuffle_audio_seed`, every clip gets the soundtrack of another clip ([`with_shuffled_audio`]): the control
    that shows how much a model relies on listening; the result then records the seed. `audio_transform(index,
    waveform)` replaces clip `index`'s decoded soundtrack by the waveform it returns (same sampling rate; the
    listening conditions of `tavis_hf.listening`).
    """
    semantic = metric.protocol in SEMANTIC_PROTOCOLS
    key = "semantic_masks" if semantic else "masks"
    class_names = dataset.features["class_ids"].feature.names
    device = resolve_device(device)
    class_input_ids = processor.encode_labels(class_names).to(device) if semantic else None
    model.eval().to(device)
    if shuffle_audio_seed is not None:
        dataset = with_shuffled_audio(dataset, shuffle_audio_seed)
    for index, example in enumerate(tqdm(dataset, desc="evaluating", unit="clip", disable=not progress)):
        if semantic and not example[key]:
            raise ValueError(f"protocol {metric.protocol!r} needs semantic_masks, which this dataset does not have")
        waveform, rate = decoded_waveform(example["audio"])  # the training transform's decoder
        if audio_transform is not None:
            waveform = audio_transform(index, waveform)
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


def _record(command: str | None, model_name_or_path, model, dataset, result: dict) -> dict:
    """The fields every evaluation record has (module docstring) for `result`, an `AVSBenchMetric.compute()`."""
    from . import __version__
    from .hub import eval_record_from_metric

    identity = dataset_identity(dataset)
    record = {"command": command, "tavis_hf_version": __version__, "model": _model_identity(model_name_or_path, model)}
    record.update(eval_record_from_metric(result, dataset_name=identity["name"], dataset_type=identity["type"],
                                          dataset_config=identity["config"]))  # fmt: skip
    record["dataset"].update(num_videos=dataset.num_rows, fingerprint=dataset._fingerprint)
    return record


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
    class_scoring: str | None = None,
) -> dict:
    """Load a TAViS model strictly, score it on `dataset` (one split, AVSBench schema) under `protocol` and return the
    evaluation record (module docstring). With `shuffle_audio_seed`, the same clips are scored again with every clip
    given another clip's soundtrack ([`with_shuffled_audio`]) and the record gets `shuffled_audio`.

    `protocol="listening"` (`tavis_hf.listening`) scores the clips under every sound condition with the `"avsbench"`
    metric protocol (`videos_per_batch` 1 unless given; `shuffle_audio_seed`, 0 unless given, seeds the conditions):
    `metrics` are the own-audio ones, `protocol` records `metric_protocol` and `seed`, and `conditions` holds a row
    per condition.

    `protocol="zero-shot"` (`tavis_hf.zero_shot`) scores the full-vocabulary split of an open-vocabulary dataset with
    the model's classes chosen by `class_scoring` (a `TavisConfig.avss_class_source`; default the protocol's rule).

    Raises:
        FileNotFoundError: no such model folder (or Hub model), or a folder without `config.json`.
        ValueError: the model does not load cleanly or is not a TAViS model, the protocol is unknown or misses an
            option, the control has fewer than 2 clips, `device` does not exist on this machine, or (listening) a
            clip is shorter than one audio window or silent.
    """
    from transformers import AutoProcessor

    from .hub import load_model_checked
    from .listening import LISTENING_METRIC_PROTOCOL, LISTENING_PROTOCOL, listening_protocol, score_listening_conditions

    model_name_or_path = check_model_source(model_name_or_path)  # before anything loads
    device = resolve_device(device)
    listening = protocol == LISTENING_PROTOCOL
    if listening:
        videos_per_batch = 1 if videos_per_batch is None else videos_per_batch
        shuffle_audio_seed = 0 if shuffle_audio_seed is None else shuffle_audio_seed

    metric_of_run = functools.partial(new_metric, LISTENING_METRIC_PROTOCOL if listening else protocol, dataset,
                                      videos_per_batch=videos_per_batch, class_scoring=class_scoring)  # fmt: skip
    metric = metric_of_run()  # validates the protocol before the model is loaded
    if shuffle_audio_seed is not None:
        audio_derangement(dataset.num_rows, shuffle_audio_seed)  # fails early below 2 clips
    with hub_loading_errors(model_name_or_path):
        model = load_model_checked(model_name_or_path)
        processor = AutoProcessor.from_pretrained(model_name_or_path)
    if model.config.model_type != "tavis":
        raise ValueError(f"{model_name_or_path} is a {model.config.model_type!r} model; evaluation needs TAViS")
    if protocol == "zero-shot":
        model.config.avss_class_source = metric.class_scoring
    if listening:
        result, conditions = score_listening_conditions(
            model, processor, dataset, metric_of_run, seed=shuffle_audio_seed, device=device, progress=progress
        )
    else:
        result = evaluate_dataset(model, processor, dataset, metric, progress=progress, device=device)
    record = _record(command, model_name_or_path, model, dataset, result)
    if listening:
        record["protocol"] = listening_protocol(record["protocol"], shuffle_audio_seed)
        return {**record, "conditions": conditions}
    if protocol in SEMANTIC_PROTOCOLS:
        record["per_class"] = [row for row in metric.per_class_report() if row["frames"] > 0]
    if protocol == "zero-shot":
        record["open_vocabulary"] = metric.open_vocabulary
    if shuffle_audio_seed is not None:
        control = evaluate_dataset(
            model, processor, dataset, metric_of_run(), progress=progress, device=device,
            shuffle_audio_seed=shuffle_audio_seed,
        )  # fmt: skip
        record["shuffled_audio"] = _shuffled_audio(record["metrics"], control, shuffle_audio_seed)
    return record


def _shuffled_audio(metrics: dict, control: dict, seed: int) -> dict:
    """A record's `shuffled_audio`: the control's metrics (`control`, a `metric.compute()`) and their drop."""
    shuffled = {key: float(control[key]) for key in metrics}
    drop = {key: metrics[key] - value for key, value in shuffled.items()}
    return {"seed": seed, "metrics": shuffled, "drop": drop}


def write_record(record: dict, path: str | Path) -> None:
    """Write an evaluation record as indented JSON (parent folders created). A listening record's chart is drawn
    next to it first (`tavis_hf.listening.write_listening_chart`: the same name with `.png`), and `record["chart"]`
    names that file (relative to the record)."""
    import json

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if "conditions" in record:
        from .listening import write_listening_chart

        record["chart"] = write_listening_chart(record, path.with_suffix(".png")).name
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
