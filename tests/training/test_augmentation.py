"""tavis_hf.training.augmentation: audio-mismatch negatives."""

import numpy as np
import pytest
import torch

from tavis_hf.training import mismatch_audio


def _mismatch_batch():
    """Five clips of 2 frames; clip i sounds the classes `classes[i]` (clip 4: classes 1, 2 and 3, so it shares a
    class with clips 0-3 and has no partner), only frame 1 annotated; every clip's features are filled with its
    index."""
    classes = [{1}, {2}, {1}, {3}, {1, 2, 3}]
    labels = torch.zeros(5, 2, 4, 4, dtype=torch.long)
    for i, ids in enumerate(classes):
        for k, class_id in enumerate(sorted(ids)):
            labels[i, 1, k, :] = class_id
    labels[:, 0] = 7  # not annotated: must not count as a sounding class
    features = torch.arange(5, dtype=torch.float32).view(5, 1, 1, 1, 1).expand(5, 2, 1, 3, 3).clone()
    mask = torch.tensor([[False, True]] * 5)
    return classes, {"input_features": features, "labels": labels, "label_frame_mask": mask, "uid": "kept"}


def test_mismatch_audio_takes_a_disjoint_partner_and_empties_the_target():
    classes, batch = _mismatch_batch()
    original = {key: value.clone() for key, value in batch.items() if torch.is_tensor(value)}
    torch.manual_seed(0)
    out, swapped = mismatch_audio(batch, probability=1.0)
    assert swapped.tolist() == [True, True, True, True, False]  # clip 4 shares a class with every other clip
    for i in range(5):
        donor = int(out["input_features"][i, 0, 0, 0, 0])
        if swapped[i]:
            assert donor != i and not classes[i] & classes[donor]
            assert torch.equal(out["input_features"][i], original["input_features"][donor])
            assert int(out["labels"][i].abs().sum()) == 0
        else:
            assert torch.equal(out["input_features"][i], original["input_features"][i])
            assert torch.equal(out["labels"][i], original["labels"][i])
    assert out["uid"] == "kept" and torch.equal(out["label_frame_mask"], original["label_frame_mask"])
    for key, value in original.items():  # the caller's tensors are untouched
        assert torch.equal(batch[key], value), key


def test_mismatch_audio_probability_and_seeding():
    _, batch = _mismatch_batch()
    out, swapped = mismatch_audio(batch, probability=0.0)
    assert not swapped.any() and torch.equal(out["input_features"], batch["input_features"])
    draws = []
    for _ in range(2):
        torch.manual_seed(3)
        out, swapped = mismatch_audio(batch, probability=0.5)
        draws.append((swapped.clone(), out["input_features"].clone()))
    assert torch.equal(draws[0][0], draws[1][0]) and torch.equal(draws[0][1], draws[1][1])
    counts = []
    for seed in range(200):
        torch.manual_seed(seed)
        counts.append(int(mismatch_audio(batch, probability=0.5)[1][:4].sum()))
    assert 1.6 < np.mean(counts) < 2.4  # 4 eligible clips drawn with probability 1/2
    with pytest.raises(ValueError, match="probability must be in"):
        mismatch_audio(batch, probability=-0.1)
