"""Scoring a TAViS model on an AVSBench-schema dataset with the AVSBench-exact metrics (`tavis_hf.metrics`).

Used by `tavis-hf evaluate`, `examples/evaluate_avsbench.py` and the training scripts.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

__all__ = ["audio_derangement", "evaluate_dataset", "metric_prediction", "with_shuffled_audio"]


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
        samples = example["audio"].get_all_samples()
        inputs = processor(videos=example["frames"], audio=samples.data.numpy(), sampling_rate=samples.sample_rate)
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
