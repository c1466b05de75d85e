"""AVSBench-exact metrics: hand-computed cases (docs/avsbench.md §11) and an independent per-frame loop reference.

The loop reference below is written from the formulas (docs/avsbench.md §8), not from the reference code:
per frame and per threshold in numpy float32, explicit comparisons, no vectorisation tricks.
"""

import math

import numpy as np
import pytest
import torch

from tavis_hf.metrics.functional import (
    _passed_thresholds,
    batch_fmeasure,
    batch_jaccard,
    fmeasure_thresholds,
    frame_jaccard,
    semantic_batch_stats,
    semantic_miou_fscore,
)

F32 = np.float32
#: float32 machine epsilon (2^-23); tolerances below are small multiples of it, from the float32 operations compared.
EPS32 = float(np.finfo(np.float32).eps)
#: a few float32 roundings of a value in [0, 1] (the hand cases: one division, or the F formula's five operations on
#: exact counts and the float32 roundings of 1.3 and 0.3; each within eps/2 relative).
FEW_ROUNDINGS = 4 * EPS32


def _sigmoid32(x):
    return torch.sigmoid(torch.from_numpy(np.asarray(x, dtype=F32))).numpy()


def loop_jaccard(logits, target):
    """M_J of one batch: mean over frames of I/(U+1e-7), empty GT -> background agreement over H*W."""
    values = []
    for y, g in zip(_sigmoid32(logits), target):  # float32 sigmoid of the whole batch, as the metric takes it
        p = (y > 0.5).astype(F32)
        g = g.astype(F32)
        if g.sum() > 0:
            values.append(F32((p * g).sum()) / F32(np.maximum(p, g).sum() + F32(1e-7)))
        else:
            values.append(F32(((1 - p) * (1 - g)).sum()) / F32(F32(g.size) + F32(1e-7)))
    return float(np.mean(np.asarray(values, dtype=np.float64)))


def loop_fmeasure(scores, target, apply_sigmoid=True, num=255):
    """M_F of one batch: per-frame F curves over linspace(0, 1-1e-10, num) (float32), mean over frames with a
    non-empty GT, then max; 0 if there is none."""
    # the reference's thresholds: torch.linspace in float32 (numpy's float64 linspace rounded to float32 differs by
    # one ulp at 10 of the 255), and the float32 sigmoid of the whole batch, as the metric takes them
    thresholds = torch.linspace(0, 1 - 1e-10, num, dtype=torch.float32).numpy()
    scores = _sigmoid32(scores) if apply_sigmoid else np.asarray(scores, dtype=F32)
    curves = []
    for y, g in zip(scores, target):
        if g.sum() == 0:
            continue
        g = g.astype(F32)
        curve = np.zeros(num, dtype=F32)
        for k, t in enumerate(thresholds):
            sel = (y >= t).astype(F32)
            tp = F32((sel * g).sum())
            p = tp / F32(sel.sum() + F32(1e-20))
            r = tp / F32(g.sum() + F32(1e-20))
            with np.errstate(invalid="ignore"):
                f = F32(1.3) * p * r / (F32(0.3) * p + r)
            curve[k] = 0.0 if np.isnan(f) else f
        curves.append(curve)
    if not curves:
        return 0.0
    return float(np.mean(np.asarray(curves, dtype=np.float64), axis=0).max())


def loop_semantic(pred, target, num_classes):
    """AVSS per-class sums over frames: IoU = I/(U+eps), F from I/P and I/G (NaN -> 0), count of frames with U>0."""
    iou_sum, f_sum, count = np.zeros(num_classes), np.zeros(num_classes), np.zeros(num_classes)
    for p, g in zip(pred, target):
        for c in range(num_classes):
            inter = float(((p == c) & (g == c)).sum())
            npred, ngt = float((p == c).sum()), float((g == c).sum())
            union = npred + ngt - inter
            iou_sum[c] += inter / (union + 2.220446049250313e-16)
            if inter > 0:
                prec, rec = inter / npred, inter / ngt
                f_sum[c] += 1.3 * prec * rec / (0.3 * prec + rec)
            count[c] += union > 0
    per_iou = np.where(count > 0, iou_sum / np.maximum(count, 1), 0.0)
    per_f = np.where(count > 0, f_sum / np.maximum(count, 1), 0.0)
    return per_iou.mean(), per_f.mean()


def t(x, dtype=torch.float32):
    return torch.tensor(x, dtype=dtype)


# ---------------------------------------------------------------- hand-computed cases (docs/avsbench.md §11)


@pytest.mark.parametrize(
    ("logits", "target", "expected"),
    [
        ([[[-5.0, -5.0], [-5.0, -5.0]]], [[[0, 0], [0, 0]]], 4 / (4 + 1e-7)),  # 1: empty GT, empty prediction
        ([[[5.0, 5.0], [5.0, 5.0]]], [[[0, 0], [0, 0]]], 0.0),  # 2: empty GT, full prediction
        ([[[5.0, 5.0], [-5.0, -5.0]]], [[[0, 0], [0, 0]]], 0.5),  # 3
        ([[[0.0, 0.0], [0.0, 0.0]]], [[[1, 1], [1, 1]]], 0.0),  # 4: sigmoid(0) = 0.5 is not foreground
        ([[[3, 3, -3, -3, 3, 3, -3, -3]]], [[[1, 1, 1, 1, 0, 0, 0, 0]]], 1 / 3),  # 5
    ],
)
def test_jaccard_hand_cases(logits, target, expected):
    # one float32 division of exact counts (the 1e-7 vanishes in float32 next to a union >= 1)
    assert batch_jaccard(t(logits), t(target, torch.int64)) == pytest.approx(expected, abs=EPS32)


def test_jaccard_tiny_positive_logit_is_background():
    # sigmoid(1e-8) rounds to exactly 0.5 in float32 -> not foreground (strict > 0.5).
    assert batch_jaccard(t([[[1e-8]]]), t([[[1]]])) == 0.0


def test_thresholds_float32():
    th = fmeasure_thresholds(255)
    assert th.dtype == torch.float32 and th[-1].item() == 1.0 and th[0].item() == 0.0
    assert th[1].item() == pytest.approx((1 - 1e-10) / 254, rel=2 * EPS32)  # float32 step (1 - 1e-10) / 254


@pytest.mark.parametrize("num", [2, 3, 17, 255])
def test_threshold_counting_is_exact_at_boundaries(num):
    th = fmeasure_thresholds(num)
    scores = torch.cat(
        [
            th,
            torch.nextafter(th, torch.full_like(th, 2.0)),
            torch.nextafter(th, torch.full_like(th, -1.0)),
            torch.tensor([-1e30, -5.0, -1e-30, 1.0000001, 3.0, 1e30, float("inf"), float("-inf")]),
            torch.rand(1000, generator=torch.Generator().manual_seed(num)),
        ]
    )
    expected = torch.searchsorted(th, scores, right=True)
    torch.testing.assert_close(_passed_thresholds(scores, th), expected)


@pytest.mark.parametrize("constant", [0.0, -3.0, 7.0])
def test_fmeasure_constant_score(constant):
    # 8: thresholds up to sigmoid(constant) select everything (P = 0.25, R = 1), the others nothing (F = 0); for
    # constant 7, sigmoid(7) < 1 selects everything up to t < sigmoid(7) -> same F.
    target = t([[[1, 0, 0, 0]]], torch.int64)
    value = batch_fmeasure(t([[[constant] * 4]]), target)
    assert value == pytest.approx(1.3 * 0.25 / (0.3 * 0.25 + 1), abs=FEW_ROUNDINGS)


def test_fmeasure_batch_dependence():
    # 9: one frame per batch -> 1.0 each; both frames in one batch -> 18/23 = 0.782609 (for 0.1 < t <= 0.3 frame 0
    # selects both pixels, F = 1.3 * 0.5 / 1.15 = 13/23, and frame 1 its positive pixel only, F = 1).
    logit = torch.logit(t([[[0.9, 0.6]], [[0.3, 0.1]]]).double()).float()
    target = t([[[1, 0]], [[1, 0]]], torch.int64)
    assert batch_fmeasure(logit[:1], target[:1]) == pytest.approx(1.0, abs=FEW_ROUNDINGS)
    assert batch_fmeasure(logit[1:], target[1:]) == pytest.approx(1.0, abs=FEW_ROUNDINGS)
    assert batch_fmeasure(logit, target) == pytest.approx(18 / 23, abs=FEW_ROUNDINGS + EPS32)  # + the 2-frame mean


def test_fmeasure_logits_versus_sigmoid():
    target = t([[[1, 0]]], torch.int64)
    value = batch_fmeasure(t([[[-0.5, -1.0]]]), target, apply_sigmoid=True)
    assert value == pytest.approx(1.0, abs=FEW_ROUNDINGS)  # 10
    assert batch_fmeasure(t([[[-0.5, -1.0]]]), target, apply_sigmoid=False) == 0.0
    for sig in (True, False):  # 11
        assert batch_fmeasure(t([[[0.5, 0.2]]]), target, apply_sigmoid=sig) == pytest.approx(1.0, abs=FEW_ROUNDINGS)


def test_fmeasure_saturation_and_empty():
    # 12: sigmoid(20) == 1.0 is selected even at t = 1.0.
    target = t([[[1, 0, 0, 0]]], torch.int64)
    assert batch_fmeasure(t([[[20.0, -20.0, -20.0, -20.0]]]), target) == pytest.approx(1.0, abs=FEW_ROUNDINGS)
    # 13: an empty-GT frame is ignored; an all-empty batch scores 0.
    logits = torch.randn(3, 5, 6, generator=torch.Generator().manual_seed(0))
    gt = (torch.randn(3, 5, 6, generator=torch.Generator().manual_seed(1)) > 0).long()
    gt[1] = 0
    with_empty = batch_fmeasure(logits, gt)
    without = batch_fmeasure(logits[[0, 2]], gt[[0, 2]])
    assert with_empty == without  # the same two per-frame curves (exact counts), averaged in the same order
    assert batch_fmeasure(logits, torch.zeros_like(gt)) == 0.0


def test_semantic_hand_cases():
    pred = t([[[0, 1], [2, 2]]], torch.int64)
    gt = t([[[0, 1], [1, 2]]], torch.int64)
    stats = semantic_batch_stats(pred, gt, num_classes=3)  # 14
    torch.testing.assert_close(stats[0], t([1.0, 0.5, 0.5]))
    # class 1: P = 1, R = 1/2 -> F = 0.65 / 0.8 = 0.8125; class 2: P = 1/2, R = 1 -> F = 0.65 / 1.15 = 13/23
    f_sum = 1.0 + 0.8125 + 13 / 23
    torch.testing.assert_close(stats[1], t([1.0, 0.8125, 13 / 23]), atol=FEW_ROUNDINGS, rtol=0)
    miou, f = semantic_miou_fscore(*stats)  # + a float32 mean over the classes: one more rounding per class
    assert (miou, f) == (pytest.approx(2 / 3, abs=FEW_ROUNDINGS + 3 * EPS32), pytest.approx(f_sum / 3, abs=7 * EPS32))
    miou71, f71 = semantic_miou_fscore(*semantic_batch_stats(pred, gt, num_classes=71))  # 15
    assert miou71 == pytest.approx(2 / 71, abs=7 * EPS32) and f71 == pytest.approx(f_sum / 71, abs=7 * EPS32)
    # 16: false-positive class
    miou, f = semantic_miou_fscore(
        *semantic_batch_stats(t([[[1, 0], [0, 0]]], torch.int64), t([[[0, 0], [0, 0]]], torch.int64), 2)
    )
    # class 0: I = 3, U = 4, P = 1, R = 3/4 -> F = 0.975 / 1.05 = 13/14; class 1: predicted only -> IoU = F = 0
    assert miou == pytest.approx(0.375, abs=7 * EPS32) and f == pytest.approx(13 / 28, abs=7 * EPS32)
    # 17: a class present in one of two frames is averaged over that frame only
    gt2 = t([[[1, 0], [0, 0]], [[0, 0], [0, 0]]], torch.int64)
    iou, fs, count = semantic_batch_stats(gt2.clone(), gt2, 2)
    assert count.tolist() == [2.0, 1.0]
    assert semantic_miou_fscore(iou, fs, count)[0] == pytest.approx(1.0, abs=7 * EPS32)


def test_semantic_no_background_drops_class_zero():
    # 18: "noBg" drops class 0, not class 70.
    gt = torch.zeros(1, 4, 4, dtype=torch.int64)
    gt[0, :2] = 70
    pred = gt.clone()
    pred[0, 0, 0] = 0
    stats = semantic_batch_stats(pred, gt, 71)
    no_bg = semantic_miou_fscore(*stats, exclude_background=True)[0]
    per_class = torch.nan_to_num(stats[0] / stats[2])
    official_style = per_class[:-1].mean().item()
    assert no_bg == pytest.approx(per_class[1:].mean().item(), abs=1e-7)
    assert no_bg != pytest.approx(official_style, abs=1e-4)


def test_semantic_logits_use_argmax():
    logits = torch.randn(2, 4, 5, 7, generator=torch.Generator().manual_seed(3))
    target = torch.randint(0, 4, (2, 5, 7), generator=torch.Generator().manual_seed(4))
    a = semantic_batch_stats(logits, target)
    b = semantic_batch_stats(logits.argmax(1), target, num_classes=4)
    for x, y in zip(a, b):
        torch.testing.assert_close(x, y)


# ---------------------------------------------------------------- random cases against the loop reference


def _random_case(rng, n, h, w, empty_frames=0, mode="normal"):
    logits = (rng.normal(size=(n, h, w)) * rng.uniform(0.5, 4)).astype(F32)
    if mode == "all_positive":
        logits = np.abs(logits) + 1
    blobs = rng.random((n, h, w)) < rng.uniform(0.1, 0.7)
    target = blobs.astype(np.int64)
    target[:empty_frames] = 0
    logits += target * rng.uniform(0, 3)  # mildly informative logits
    return logits, target


@pytest.mark.parametrize("seed", range(6))
def test_binary_metrics_match_loop_reference(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 9))
    h, w = int(rng.integers(1, 20)), int(rng.integers(1, 20))  # odd sizes included
    mode = "all_positive" if seed % 3 == 2 else "normal"
    logits, target = _random_case(rng, n, h, w, empty_frames=int(rng.integers(0, n + 1)), mode=mode)
    tl, tt = torch.from_numpy(logits), torch.from_numpy(target)
    # Per frame both sides compute the same float32 values from the same sigmoid, thresholds and exact counts; they
    # differ only in the mean over the n frames (float32 sum of n values in [0, 1] here, float64 in the loop): at most
    # (n - 1) eps/2 relative on a sum <= n, i.e. n * eps on the mean, plus one rounding.
    tolerance = (n + 1) * EPS32
    assert batch_jaccard(tl, tt) == pytest.approx(loop_jaccard(logits, target), abs=tolerance)
    for sig in (True, False):
        assert batch_fmeasure(tl, tt, apply_sigmoid=sig) == pytest.approx(
            loop_fmeasure(logits, target, apply_sigmoid=sig), abs=tolerance
        )


@pytest.mark.parametrize("seed", range(4))
def test_semantic_metrics_match_loop_reference(seed):
    rng = np.random.default_rng(100 + seed)
    c = int(rng.integers(2, 12))
    n, h, w = int(rng.integers(1, 6)), int(rng.integers(1, 15)), int(rng.integers(1, 15))
    logits = torch.from_numpy(rng.normal(size=(n, c, h, w)).astype(F32))
    target = rng.integers(0, c, size=(n, h, w))
    target[0] = 0  # an all-background frame
    miou, f = semantic_miou_fscore(*semantic_batch_stats(logits, torch.from_numpy(target)))
    ref_miou, ref_f = loop_semantic(logits.argmax(1).numpy(), target, c)
    # float32 against float64 on exact areas: per frame a few roundings (the F formula: 5 operations and the float32
    # 1.3 and 0.3), a float32 sum over the n frames, a division by the count and a float32 mean over the c classes,
    # each within eps/2 relative of values <= 1
    tolerance = (FEW_ROUNDINGS / EPS32 + n + c + 1) * EPS32
    assert miou == pytest.approx(ref_miou, abs=tolerance) and f == pytest.approx(ref_f, abs=tolerance)


def test_frame_jaccard_shape_and_dtype():
    values = frame_jaccard(torch.zeros(3, 4, 4), torch.zeros(3, 4, 4, dtype=torch.bool))
    assert values.shape == (3,) and values.dtype == torch.float32


@pytest.mark.parametrize(
    ("scores", "target", "error"),
    [
        (torch.zeros(2, 3), torch.zeros(2, 3), ValueError),  # not (N, H, W)
        (torch.zeros(1, 2, 2), torch.zeros(1, 2, 3), ValueError),  # shape mismatch
        (torch.zeros(1, 2, 2, dtype=torch.int64), torch.zeros(1, 2, 2), TypeError),  # integer scores
        (torch.zeros(1, 2, 2), torch.full((1, 2, 2), 255), ValueError),  # non-binary target
        (torch.full((1, 2, 2), math.nan), torch.zeros(1, 2, 2), ValueError),
    ],
)
def test_binary_input_errors(scores, target, error):
    with pytest.raises(error):
        batch_jaccard(scores, target)


def test_semantic_input_errors():
    with pytest.raises(ValueError, match="class ids"):
        semantic_batch_stats(torch.zeros(1, 3, 2, 2), torch.full((1, 2, 2), 3))
    with pytest.raises(ValueError, match="num_classes"):
        semantic_batch_stats(torch.zeros(1, 2, 2, dtype=torch.int64), torch.zeros(1, 2, 2, dtype=torch.int64))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_gpu_matches_cpu():
    rng = np.random.default_rng(7)
    n = 8
    logits, target = _random_case(rng, n, 33, 47, empty_frames=2)
    tl, tt = torch.from_numpy(logits), torch.from_numpy(target)
    # The per-frame values come from exact counts with the same float32 divisions; the devices may sum the n frames
    # in another order: (n + 1) eps on values in [0, 1]. The decisions must not hinge on the devices' sigmoid (a few
    # ulps of 0.5 apart, i.e. logits within ~1e-7 of 0): no logit within 1e-6 of 0, and F is thresholded on the CPU's
    # probabilities on both devices (255 thresholds: a few ulps would move pixels across some of them).
    tolerance = (n + 1) * EPS32
    assert np.abs(logits).min() > 1e-6
    assert batch_jaccard(tl.cuda(), tt.cuda()) == pytest.approx(batch_jaccard(tl, tt), abs=tolerance)
    probs = torch.sigmoid(tl)
    gpu_f = batch_fmeasure(probs.cuda(), tt.cuda(), apply_sigmoid=False)
    assert gpu_f == pytest.approx(batch_fmeasure(probs, tt, apply_sigmoid=False), abs=tolerance)
    generator = torch.Generator().manual_seed(8)
    sem_logits = torch.randn(4, 71, 16, 16, generator=generator)
    sem_target = torch.randint(0, 71, (4, 16, 16), generator=generator)
    top2 = sem_logits.softmax(1).topk(2, dim=1).values
    assert (top2[:, 0] - top2[:, 1]).min() > 1e-5  # the argmax does not hinge on the devices' softmax (a few ulps)
    gpu = semantic_miou_fscore(*semantic_batch_stats(sem_logits.cuda(), sem_target.cuda()))
    # per-class float32 sums over 4 frames and a mean over 71 classes, in the devices' orders
    tolerance = (FEW_ROUNDINGS / EPS32 + 4 + 71 + 1) * EPS32
    assert gpu == pytest.approx(semantic_miou_fscore(*semantic_batch_stats(sem_logits, sem_target)), abs=tolerance)
