"""Tests of the TAViS training loss (`tavis_hf.models.tavis.loss_tavis`)."""

from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F

from tavis_hf.models.tavis.loss_tavis import (
    TavisLoss,
    TavisLossOutput,
    TavisLossTerms,
    filter_small_objects,
    hungarian_match,
    mask_iou_loss,
    sample_points,
)

# --------------------------------------------------------------------------------------------- ground truth


def test_filter_small_objects_counts_area_over_the_whole_video():
    labels = torch.zeros(2, 2, 10, 10, dtype=torch.long)
    labels[0, 0, :2, :5] = 3  # class 3: 10 px in frame 0 ...
    labels[0, 1, :2, :5] = 3  # ... + 10 px in frame 1 = 20 px -> removed
    labels[0, 0, 5:7, :6] = 4  # class 4: 12 px ...
    labels[0, 1, 5:8, :3] = 4  # ... + 9 px = 21 px -> kept
    labels[1, 0, :5, :5] = 3  # the other video: class 3 with 25 px in one frame -> kept
    labels[1, 1, 9, 9] = 7  # 1 px -> removed
    filtered = filter_small_objects(labels, min_area=20)

    assert filtered.dtype == labels.dtype and filtered.shape == labels.shape
    assert not (filtered[0] == 3).any()
    assert torch.equal(filtered[0] == 4, labels[0] == 4)
    assert torch.equal(filtered[1] == 3, labels[1] == 3)
    assert not (filtered[1] == 7).any()
    assert int(labels[0].eq(3).sum()) == 20  # the input is left untouched


def test_filter_small_objects_without_background_pixels():
    # The released code treats the smallest label of a video as background; here only class 0 is background, so in a
    # video without background pixels the smallest class is still filtered.
    labels = torch.full((1, 2, 4, 4), 6, dtype=torch.long)
    labels[0, 0, :3, :4] = 5  # 12 px of class 5, 20 px of class 6
    filtered = filter_small_objects(labels, min_area=15)
    assert torch.equal(filtered == 0, labels == 5)
    assert torch.equal(filtered == 6, labels == 6)


def test_filter_small_objects_rejects_bad_input():
    with pytest.raises(ValueError, match="B, T, H, W"):
        filter_small_objects(torch.zeros(2, 4, 4, dtype=torch.long))
    with pytest.raises(TypeError, match="integer"):
        filter_small_objects(torch.zeros(1, 1, 4, 4))


# --------------------------------------------------------------------------------------------- matching


def test_sample_points_at_pixel_centres_and_xy_order():
    maps = torch.arange(2 * 3 * 4, dtype=torch.float32).view(2, 3, 4)
    coords = torch.tensor([[(1 + 0.5) / 4, (2 + 0.5) / 3], [(3 + 0.5) / 4, (0 + 0.5) / 3]])  # (x, y)
    torch.testing.assert_close(sample_points(maps, coords), torch.stack([maps[:, 2, 1], maps[:, 0, 3]], dim=1))
    halfway = torch.tensor([[(1 + 1.0) / 4, (0 + 0.5) / 3]])  # between columns 1 and 2 of row 0
    torch.testing.assert_close(sample_points(maps, halfway)[:, 0], (maps[:, 0, 1] + maps[:, 0, 2]) / 2)


def _two_object_frame(num_queries=4, num_classes=6, size=16):
    labels = torch.zeros(1, size, size, dtype=torch.long)
    labels[0, :8, :8] = 2
    labels[0, 8:, 8:] = 5
    logits = torch.full((1, num_queries, size, size), -8.0)
    logits[0, 3] = torch.where(labels[0] == 2, 8.0, -8.0)  # query 3 segments class 2
    logits[0, 1] = torch.where(labels[0] == 5, 8.0, -8.0)  # query 1 segments class 5
    class_logits = torch.zeros(1, num_queries, num_classes)
    return labels, logits, class_logits


def test_hungarian_match_follows_masks():
    labels, logits, class_logits = _two_object_frame()
    ((queries, classes),) = hungarian_match(
        object_logits=logits, audio_class_logits=class_logits, image_class_logits=class_logits, labels=labels
    )
    assert queries.tolist() == [1, 3] and classes.tolist() == [5, 2]


def test_hungarian_match_follows_classes_when_masks_are_uninformative():
    labels, _, class_logits = _two_object_frame()
    logits = torch.zeros(1, 4, 16, 16)
    audio = class_logits.clone()
    audio[0, 0, 5] = 6.0  # query 0 -> class 5
    audio[0, 2, 2] = 6.0  # query 2 -> class 2
    ((queries, classes),) = hungarian_match(
        object_logits=logits, audio_class_logits=audio, image_class_logits=class_logits, labels=labels
    )
    assert queries.tolist() == [0, 2] and classes.tolist() == [5, 2]
    # the image-to-text logits alone decide the same way
    ((queries, classes),) = hungarian_match(
        object_logits=logits, audio_class_logits=class_logits, image_class_logits=audio, labels=labels
    )
    assert queries.tolist() == [0, 2] and classes.tolist() == [5, 2]


def test_hungarian_match_empty_frame_and_more_targets_than_queries():
    labels = torch.zeros(2, 8, 8, dtype=torch.long)
    labels[1, 0, :3] = torch.tensor([1, 2, 3])
    out = hungarian_match(
        object_logits=torch.randn(2, 2, 8, 8),
        audio_class_logits=torch.randn(2, 2, 4),
        image_class_logits=torch.randn(2, 2, 4),
        labels=labels,
    )
    assert out[0][0].numel() == 0 and out[0][1].numel() == 0
    assert out[1][0].tolist() == [0, 1] and set(out[1][1].tolist()) <= {1, 2, 3}


def test_matching_is_deterministic_with_a_generator():
    torch.manual_seed(0)
    labels = torch.randint(0, 4, (3, 12, 12))
    inputs = dict(
        object_logits=torch.randn(3, 5, 12, 12),
        audio_class_logits=torch.randn(3, 5, 4),
        image_class_logits=torch.randn(3, 5, 4),
        labels=labels,
        num_points=7,
    )
    first = hungarian_match(**inputs, generator=torch.Generator().manual_seed(123))
    second = hungarian_match(**inputs, generator=torch.Generator().manual_seed(123))
    for (q1, c1), (q2, c2) in zip(first, second):
        assert torch.equal(q1, q2) and torch.equal(c1, c2)


# --------------------------------------------------------------------------------------------- loss


def _manual_ce(logits, targets, weights):
    log_probs = logits.log_softmax(-1)
    picked = -log_probs[torch.arange(len(targets)), targets]
    return (weights[targets] * picked).sum() / weights[targets].sum()


def _manual_iou(logits, targets):
    probs = logits.sigmoid()
    inter = (probs * targets).sum(dim=(-2, -1))
    return (1 - inter / ((probs + targets).sum(dim=(-2, -1)) - inter + 1e-6)).mean()


def _manual_bce(logits, targets):
    return (-(targets * F.logsigmoid(logits) + (1 - targets) * F.logsigmoid(-logits))).mean()


@pytest.mark.parametrize("double_normalization", [True, False])
def test_loss_terms_match_hand_computation(double_normalization):
    torch.manual_seed(0)
    num_classes, dim = 6, 3
    labels, object_logits, _ = _two_object_frame(num_queries=4, num_classes=num_classes, size=8 * 2)
    object_logits = object_logits * 0.3 + 0.5 * torch.randn_like(object_logits)  # keep the matching obvious
    labels = torch.cat([labels, torch.zeros_like(labels)])  # frame 1: background only
    object_logits = torch.cat([object_logits, torch.randn_like(object_logits)])
    binary_logits = torch.randn(2, 16, 16)
    audio = torch.randn(2, 4, num_classes)
    image = torch.randn(2, 4, num_classes)
    pseudo = torch.randn(2, 4, dim)
    class_text = torch.randn(num_classes, dim)
    config = SimpleNamespace(
        loss_weight_a2t=0.7,
        loss_weight_binary_iou=2.0,
        loss_weight_binary_presence=1.5,
        background_class_weight=0.25,
        ce_double_normalization=double_normalization,
    )
    loss = TavisLoss(config)
    assert loss.loss_weight_i2t == 0.5 and loss.num_matching_points == 12544  # defaults for missing attributes
    out = loss(
        object_logits=object_logits,
        binary_logits=binary_logits,
        audio_class_logits=audio,
        image_class_logits=image,
        pseudo_text_features=pseudo,
        class_text_hidden=class_text,
        labels=labels,
        binary_presence_logits=torch.tensor([0.3, -0.4]),
        generator=torch.Generator().manual_seed(0),
    )
    assert isinstance(out, TavisLossOutput) and isinstance(out.terms, TavisLossTerms)
    assert list(out.terms) == [f"loss_{name}" for name in TavisLoss._TERMS]  # one field per term, in order
    assert out.num_matched == 2
    assert [q.tolist() for q, _ in out.matched_indices] == [[1, 3], []]

    targets = torch.zeros(2, 4, dtype=torch.long)
    targets[0, 1], targets[0, 3] = 5, 2
    weights = torch.tensor([0.25] + [1.0] * (num_classes - 1))
    norm = 2 if double_normalization else 1
    expected = {
        "a2t": _manual_ce(audio.flatten(0, 1), targets.flatten(), weights) / norm,
        "i2t": _manual_ce(image.flatten(0, 1), targets.flatten(), weights) / norm,
        "object_bce": _manual_bce(object_logits[0, [1, 3]], torch.stack([labels[0] == 5, labels[0] == 2]).float()),
        "object_iou": _manual_iou(object_logits[0, [1, 3]], torch.stack([labels[0] == 5, labels[0] == 2]).float()),
        "a2pt": (pseudo - class_text[targets]).square().mean(),
        "binary_bce": _manual_bce(binary_logits, (labels > 0).float()),
        "binary_iou": _manual_iou(binary_logits, (labels > 0).float()),
        "binary_presence": _manual_bce(torch.tensor([0.3, -0.4]), torch.tensor([1.0, 0.0])),  # frame 1: nothing
    }
    weights_by_term = {"a2t": 0.7, "i2t": 0.5, "object_bce": 1.0, "object_iou": 1.0, "a2pt": 0.3}
    weights_by_term.update(binary_bce=1.0, binary_iou=2.0, binary_presence=1.5)
    for name, value in expected.items():
        torch.testing.assert_close(getattr(out.terms, f"loss_{name}"), value, msg=name)
        assert getattr(out.terms, f"loss_{name}").ndim == 0
    torch.testing.assert_close(out.loss, sum(weights_by_term[k] * v for k, v in expected.items()))


def test_binary_presence_term_is_off_by_default_and_checks_its_shape():
    labels, object_logits, class_logits = _two_object_frame()
    inputs = dict(object_logits=object_logits, binary_logits=torch.zeros(1, 16, 16), audio_class_logits=class_logits,
                  image_class_logits=class_logits, pseudo_text_features=None, class_text_hidden=None, labels=labels)  # fmt: skip
    without = TavisLoss()(**inputs)
    assert float(without.terms.loss_binary_presence) == 0.0
    default = TavisLoss()(**inputs, binary_presence_logits=torch.tensor([-2.0]))
    assert float(default.terms.loss_binary_presence) > 2.0  # the frame has a sounding object, the logit says no
    torch.testing.assert_close(default.loss, without.loss)  # weight 0 (TAViS)
    with pytest.raises(ValueError, match=r"binary_presence_logits.*shape \(1,\)"):
        TavisLoss()(**inputs, binary_presence_logits=torch.zeros(1, 1))


def test_mask_iou_loss_values():
    target = torch.zeros(1, 4, 4)
    target[0, :2] = 1
    perfect = torch.where(target > 0, 30.0, -30.0)
    # 1 - 8 / (8 + 1e-6) = 1.25e-7, plus a few float32 roundings of values near 1 (each <= 6e-8): below 1e-6
    assert float(mask_iou_loss(perfect, target)) < 1e-6
    torch.testing.assert_close(mask_iou_loss(torch.full((1, 4, 4), -30.0), torch.zeros(1, 4, 4)), torch.tensor(1.0))
    half = torch.zeros(1, 4, 4)  # sigma = 0.5 everywhere: I = 4, U = 8 + 8 - 4
    torch.testing.assert_close(mask_iou_loss(half, target), torch.tensor(1 - 4 / (12 + 1e-6)))


def test_loss_without_matches_uses_only_binary_terms_and_keeps_the_graph():
    torch.manual_seed(0)
    inputs = dict(
        object_logits=torch.randn(2, 3, 8, 8, requires_grad=True),
        binary_logits=torch.randn(2, 8, 8, requires_grad=True),
        audio_class_logits=torch.randn(2, 3, 4, requires_grad=True),
        image_class_logits=torch.randn(2, 3, 4, requires_grad=True),
        pseudo_text_features=torch.randn(2, 3, 5, requires_grad=True),
        class_text_hidden=torch.randn(4, 5),
        labels=torch.zeros(2, 8, 8, dtype=torch.long),
    )
    out = TavisLoss()(**inputs)
    assert out.num_matched == 0
    for name in ("a2t", "i2t", "object_bce", "object_iou", "a2pt"):
        assert float(getattr(out.terms, f"loss_{name}").detach()) == 0.0
    torch.testing.assert_close(out.loss, out.terms.loss_binary_bce + out.terms.loss_binary_iou)
    out.loss.backward()
    assert inputs["binary_logits"].grad.abs().sum() > 0
    for name in ("object_logits", "audio_class_logits", "image_class_logits", "pseudo_text_features"):
        assert inputs[name].grad is not None and inputs[name].grad.abs().sum() == 0


def test_loss_without_pseudo_text():
    labels, object_logits, class_logits = _two_object_frame()
    out = TavisLoss()(
        object_logits=object_logits,
        binary_logits=torch.zeros(1, 16, 16),
        audio_class_logits=class_logits,
        image_class_logits=class_logits,
        pseudo_text_features=None,
        class_text_hidden=None,
        labels=labels,
    )
    assert float(out.terms.loss_a2pt) == 0.0 and out.num_matched == 2


def test_loss_rejects_bad_input():
    good = dict(
        object_logits=torch.randn(1, 2, 4, 4),
        binary_logits=torch.randn(1, 4, 4),
        audio_class_logits=torch.randn(1, 2, 3),
        image_class_logits=torch.randn(1, 2, 3),
        pseudo_text_features=None,
        class_text_hidden=None,
        labels=torch.zeros(1, 4, 4, dtype=torch.long),
    )
    loss = TavisLoss()
    with pytest.raises(ValueError, match=r"\[0, 2\]"):
        loss(**{**good, "labels": torch.full((1, 4, 4), 3)})
    with pytest.raises(ValueError, match=r"\[0, 2\]"):
        loss(**{**good, "labels": torch.full((1, 4, 4), -1)})
    with pytest.raises(TypeError, match="integer"):
        loss(**{**good, "labels": torch.zeros(1, 4, 4)})
    with pytest.raises(ValueError, match="binary_logits"):
        loss(**{**good, "binary_logits": torch.randn(1, 4, 5)})
    with pytest.raises(ValueError, match="image_class_logits"):
        loss(**{**good, "image_class_logits": torch.randn(1, 3, 3)})
    with pytest.raises(ValueError, match="together"):
        loss(**{**good, "pseudo_text_features": torch.randn(1, 2, 5)})
    with pytest.raises(ValueError, match="class_text_hidden"):
        loss(**{**good, "pseudo_text_features": torch.randn(1, 2, 5), "class_text_hidden": torch.randn(3, 4)})
    with pytest.raises(ValueError, match="matcher_cost_weights"):
        TavisLoss(SimpleNamespace(matcher_cost_weights=(5, 5)))
    assert not list(loss.parameters())
