"""Training-time augmentation of collated batches: audio-mismatch negatives (:func:`mismatch_audio`, not in TAViS)."""

from __future__ import annotations

from collections.abc import Mapping

import torch

__all__ = ["mismatch_audio"]


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
