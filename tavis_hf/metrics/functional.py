"""AVSBench-exact audio-visual segmentation metrics (M_J, M_F, AVSS mIoU / F-score), device-agnostic.

The formulas restate the AVSBench reference implementation (``OpenNLPLab/AVSBench``: ``utility.mask_iou``,
``utility.Eval_Fmeasure`` / ``_eval_pr`` and ``compute_color_metrics._batch_miou_fscore``); see
``docs/avsbench.md`` §8. Everything is computed in float32 like the reference, with the same thresholds and
epsilons, on whatever device the inputs live on. Public results are Python floats.

Binary metrics (AVSBench-object S4 / MS3), inputs ``(N, H, W)`` with N frames:

* :func:`batch_jaccard` — ``mask_iou``: prediction ``sigmoid(logit) > 0.5`` (strict); per frame
  ``|P∩G| / (|P∪G| + 1e-7)``, or, when the ground truth is empty, the fraction of pixels predicted background
  ``|¬P∩¬G| / (H·W + 1e-7)``; averaged over the N frames of the batch.
* :func:`batch_fmeasure` — ``Eval_Fmeasure``: 255 thresholds ``linspace(0, 1 - 1e-10, 255)`` in float32 (the last one
  is exactly 1.0), selection ``score >= t``, precision ``TP / (|sel| + 1e-20)``, recall ``TP / (|G| + 1e-20)``,
  ``F = 1.3 P R / (0.3 P + R)`` (NaN → 0); frames with an empty ground truth are skipped; the per-threshold F curve is
  averaged over the remaining frames and **then** maximised (so F depends on the batch composition); a batch
  without any non-empty ground truth scores 0. ``apply_sigmoid=False`` thresholds raw logits (the TAViS release).

Semantic metrics (AVSBench-semantic), logits ``(N, C, H, W)`` (or class-id maps ``(N, H, W)``) and class-id targets
``(N, H, W)``:

* :func:`semantic_batch_stats` — per class c (background = 0 included), summed over frames: per-frame
  ``IoU = I / (U + 2.220446049250313e-16)``, per-frame ``F = 1.3 (I/P)(I/G) / (0.3 (I/P) + I/G)`` (NaN → 0), and the
  number of frames where c is predicted or present (``U > 0``).
* :func:`semantic_miou_fscore` — finishes the accumulated sums: per-class means (0 for a class never seen) averaged
  over **all** C classes.
"""

from __future__ import annotations

import math

import torch

__all__ = [
    "AVSS_IOU_EPS",
    "BETA2",
    "JACCARD_EPS",
    "batch_fmeasure",
    "batch_jaccard",
    "fmeasure_thresholds",
    "frame_fmeasure_curves",
    "frame_jaccard",
    "semantic_batch_stats",
    "semantic_miou_fscore",
]

#: F-measure beta² of the AVSBench reference.
BETA2 = 0.3
#: Epsilon added to the union in ``mask_iou``.
JACCARD_EPS = 1e-7
#: Epsilon added to numerator guards in ``_eval_pr``.
PR_EPS = 1e-20
#: Epsilon added to the per-class union in the AVSS metric (``numpy.finfo(float).eps``).
AVSS_IOU_EPS = 2.220446049250313e-16


def _check_binary_inputs(scores: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if not isinstance(scores, torch.Tensor) or not isinstance(target, torch.Tensor):
        raise TypeError(
            f"expected torch tensors for scores and target, got {type(scores).__name__} and {type(target).__name__}"
        )
    if scores.ndim != 3 or scores.shape != target.shape:
        raise ValueError(
            f"expected scores and target of the same shape (N, H, W); got {tuple(scores.shape)} and {tuple(target.shape)}"
        )
    if not scores.is_floating_point():
        raise TypeError(f"scores must be a floating-point tensor (logits or probabilities), got {scores.dtype}")
    if scores.device != target.device:
        raise ValueError(f"scores on {scores.device} but target on {target.device}")
    if torch.isnan(scores).any():
        raise ValueError("scores contain NaN")
    if target.dtype != torch.bool:
        if ((target != 0) & (target != 1)).any():
            raise ValueError("target must be binary (values 0/1 or bool); binarise masks with `mask != 0` first")
    return scores.float(), target.bool()


def frame_jaccard(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-frame AVSBench Jaccard index.

    Args:
        logits: ``(N, H, W)`` float logits (the prediction is ``sigmoid(logits) > 0.5``, strict).
        target: ``(N, H, W)`` binary ground truth (bool or 0/1).

    Returns:
        ``(N,)`` float32 tensor on the input device: ``I / (U + 1e-7)``, or for an empty ground truth the fraction of
        pixels predicted background ``|¬P∩¬G| / (H·W + 1e-7)``.
    """
    logits, target = _check_binary_inputs(logits, target)
    pred = torch.sigmoid(logits) > 0.5
    inter = (pred & target).sum(dim=(1, 2))
    union = (pred | target).sum(dim=(1, 2))
    empty = target.sum(dim=(1, 2)) == 0
    num_pixels = logits.shape[1] * logits.shape[2]
    inter = torch.where(empty, (~pred & ~target).sum(dim=(1, 2)), inter)
    union = torch.where(empty, torch.full_like(union, num_pixels), union)
    return inter.float() / (union.float() + JACCARD_EPS)


def batch_jaccard(logits: torch.Tensor, target: torch.Tensor) -> float:
    """AVSBench ``mask_iou`` of one batch: the mean of :func:`frame_jaccard` over its ``N`` frames.

    Args:
        logits: ``(N, H, W)`` float logits.
        target: ``(N, H, W)`` binary ground truth.

    Returns:
        The batch Jaccard index as a Python float.
    """
    return frame_jaccard(logits, target).sum().item() / logits.shape[0]


def fmeasure_thresholds(num_thresholds: int = 255, device: torch.device | str | None = None) -> torch.Tensor:
    """The reference thresholds ``linspace(0, 1 - 1e-10, num_thresholds)`` in float32 (last value == 1.0)."""
    if num_thresholds < 2:
        raise ValueError(f"num_thresholds must be >= 2, got {num_thresholds}")
    return torch.linspace(0, 1 - 1e-10, num_thresholds, dtype=torch.float32, device=device)


def _passed_thresholds(scores: torch.Tensor, thresholds: torch.Tensor) -> torch.Tensor:
    """Number of thresholds ``t_k <= score`` per element (``searchsorted(..., right=True)``, about 5x faster).

    The thresholds are ``linspace(0, 1, K)`` up to float32 rounding, so every threshold below ``floor(s (K-1)) - 1``
    is certainly ``<= s`` and every threshold above ``floor(s (K-1)) + 2`` certainly ``> s``: only those four are
    compared, with the exact float32 values. Scores outside [0, 1] (raw logits) are clamped for the index only.
    """
    k = thresholds.numel()
    padded = torch.cat([thresholds, thresholds.new_full((4,), float("inf"))])
    base = (scores.clamp(-1.0, 2.0) * (k - 1)).floor().long().sub_(1).clamp_(0, k - 1)
    passed = base.clone()
    for offset in range(4):
        passed += padded[base + offset] <= scores
    return passed.clamp_(max=k)  # a score of +inf also passes the +inf padding


def frame_fmeasure_curves(
    scores: torch.Tensor,
    target: torch.Tensor,
    apply_sigmoid: bool = True,
    num_thresholds: int = 255,
    beta2: float = BETA2,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-frame F-measure curves over the reference thresholds.

    Selected pixels at threshold ``t_k`` are ``score >= t_k``. Instead of 255 comparisons per pixel, each pixel's
    number of passed thresholds is found exactly with the same float32 comparisons (see :func:`_passed_thresholds`)
    and the per-threshold counts come from a reversed cumulative histogram.

    Args:
        scores: ``(N, H, W)`` logits (``apply_sigmoid=True``) or already-final scores (``apply_sigmoid=False``, the
            TAViS release thresholds raw logits).
        target: ``(N, H, W)`` binary ground truth.
        apply_sigmoid: apply ``sigmoid`` before thresholding (AVSBench) or not (TAViS release).
        num_thresholds: number of thresholds (255 in the reference).
        beta2: β² of the F-measure (0.3).

    Returns:
        ``(curves, valid)``: ``curves`` is ``(N, num_thresholds)`` float32 with NaN replaced by 0; ``valid`` is
        ``(N,)`` bool, False for frames with an empty ground truth (skipped by the reference).
    """
    scores, target = _check_binary_inputs(scores, target)
    if apply_sigmoid:
        scores = torch.sigmoid(scores)
    n = scores.shape[0]
    thresholds = fmeasure_thresholds(num_thresholds, device=scores.device)
    # passed[p] = number of thresholds t_k with t_k <= score[p]  (i.e. pixel selected for k < passed[p])
    passed = _passed_thresholds(scores.reshape(n, -1), thresholds)
    offsets = torch.arange(n, device=scores.device).unsqueeze(1) * (num_thresholds + 1)
    flat_all = (passed + offsets).reshape(-1)
    hist_all = torch.bincount(flat_all, minlength=n * (num_thresholds + 1)).reshape(n, num_thresholds + 1)
    flat_pos = flat_all[target.reshape(-1)]
    hist_pos = torch.bincount(flat_pos, minlength=n * (num_thresholds + 1)).reshape(n, num_thresholds + 1)
    # selected count at threshold k = number of pixels with passed > k
    selected = hist_all.flip(1).cumsum(1).flip(1)[:, 1:].float()
    true_pos = hist_pos.flip(1).cumsum(1).flip(1)[:, 1:].float()
    positives = target.sum(dim=(1, 2)).float().unsqueeze(1)
    precision = true_pos / (selected + PR_EPS)
    recall = true_pos / (positives + PR_EPS)
    curves = (1 + beta2) * precision * recall / (beta2 * precision + recall)
    curves = torch.nan_to_num(curves, nan=0.0)
    valid = positives.squeeze(1) > 0
    return curves, valid


def batch_fmeasure(
    scores: torch.Tensor,
    target: torch.Tensor,
    apply_sigmoid: bool = True,
    num_thresholds: int = 255,
    beta2: float = BETA2,
) -> float:
    """AVSBench ``Eval_Fmeasure`` of one batch: ``max_k mean_{frames with non-empty GT} F_{n,k}``.

    Args:
        scores: ``(N, H, W)`` logits; see :func:`frame_fmeasure_curves` for ``apply_sigmoid``.
        target: ``(N, H, W)`` binary ground truth.
        apply_sigmoid: True = AVSBench (sigmoid scores); False = TAViS release (raw logits thresholded in [0, 1]).
        num_thresholds: number of thresholds (255).
        beta2: β² (0.3).

    Returns:
        The batch F-measure as a Python float; 0.0 when every ground truth in the batch is empty.
    """
    curves, valid = frame_fmeasure_curves(scores, target, apply_sigmoid, num_thresholds, beta2)
    return batch_fmeasure_from_curves(curves, valid)


def batch_fmeasure_from_curves(curves: torch.Tensor, valid: torch.Tensor) -> float:
    """Batch F-measure from per-frame curves (``(N, K)``) and validity flags (``(N,)``): mean-then-max, 0 if none."""
    count = int(valid.sum())
    if count == 0:
        return 0.0
    return (curves[valid].sum(0) / count).max().item()


def semantic_batch_stats(
    logits: torch.Tensor, target: torch.Tensor, num_classes: int | None = None, beta2: float = BETA2
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """AVSS per-class accumulators of one batch (``_batch_miou_fscore``), background (class 0) included.

    Args:
        logits: ``(N, C, H, W)`` float class logits (prediction = argmax of the softmax, as in the reference), or an
            integer ``(N, H, W)`` map of predicted class ids (then ``num_classes`` is required).
        target: ``(N, H, W)`` integer class ids in ``[0, C)``.
        num_classes: C; defaults to ``logits.shape[1]`` for logits.
        beta2: β² of the F-score (0.3).

    Returns:
        ``(iou_sum, fscore_sum, class_count)``, each a float32 ``(C,)`` tensor on the CPU: per-class sums over frames
        of the per-frame IoU and F-score, and the number of frames in which the class is predicted or present.
    """
    if not isinstance(logits, torch.Tensor) or not isinstance(target, torch.Tensor):
        raise TypeError("semantic_batch_stats expects torch tensors")
    if target.ndim != 3 or target.is_floating_point():
        raise ValueError(
            f"target must be an integer (N, H, W) class-id tensor, got {target.dtype} {tuple(target.shape)}"
        )
    if logits.is_floating_point():
        if logits.ndim != 4 or logits.shape[0] != target.shape[0] or logits.shape[2:] != target.shape[1:]:
            raise ValueError(
                f"expected logits (N, C, H, W) matching target (N, H, W); got {tuple(logits.shape)} and "
                f"{tuple(target.shape)}"
            )
        if num_classes is not None and num_classes != logits.shape[1]:
            raise ValueError(f"num_classes={num_classes} but logits have {logits.shape[1]} channels")
        num_classes = logits.shape[1]
        pred = torch.softmax(logits.float(), dim=1).argmax(dim=1)
    else:
        if logits.shape != target.shape:
            raise ValueError(f"predicted class map {tuple(logits.shape)} does not match target {tuple(target.shape)}")
        if num_classes is None:
            raise ValueError("num_classes is required when predictions are class-id maps")
        pred = logits.long()
        if pred.numel() and (pred.min() < 0 or pred.max() >= num_classes):
            raise ValueError(f"predicted class ids must lie in [0, {num_classes})")
    target = target.to(pred.device).long()
    if target.numel() and (target.min() < 0 or target.max() >= num_classes):
        raise ValueError(f"target class ids must lie in [0, {num_classes}); got range [{target.min()}, {target.max()}]")
    n = target.shape[0]
    offsets = torch.arange(n, device=pred.device).view(n, 1) * num_classes
    pred_flat = (pred.reshape(n, -1) + offsets).reshape(-1)
    target_flat = (target.reshape(n, -1) + offsets).reshape(-1)
    size = n * num_classes
    area_pred = torch.bincount(pred_flat, minlength=size).reshape(n, num_classes).float()
    area_lab = torch.bincount(target_flat, minlength=size).reshape(n, num_classes).float()
    area_inter = torch.bincount(pred_flat[pred_flat == target_flat], minlength=size).reshape(n, num_classes).float()
    area_union = area_pred + area_lab - area_inter
    iou = area_inter / (AVSS_IOU_EPS + area_union)
    precision = area_inter / area_pred
    recall = area_inter / area_lab
    fscore = torch.nan_to_num((1 + beta2) * precision * recall / (beta2 * precision + recall), nan=0.0)
    return iou.sum(0).cpu(), fscore.sum(0).cpu(), (area_union > 0).sum(0).float().cpu()


def semantic_miou_fscore(
    iou_sum: torch.Tensor, fscore_sum: torch.Tensor, class_count: torch.Tensor, exclude_background: bool = False
) -> tuple[float, float]:
    """Finish AVSS metrics from accumulated :func:`semantic_batch_stats` sums.

    Per class ``c``: ``iou_sum[c] / class_count[c]`` (0 when the class never occurred), then the mean over all
    classes (the headline numbers include background). ``exclude_background=True`` drops class 0 — the correct
    "noBg" variant (the reference's ``[:-1]`` drops the last class instead).

    Returns:
        ``(miou, fscore)`` as Python floats.
    """
    per_class_iou = torch.nan_to_num(iou_sum / class_count, nan=0.0)
    per_class_f = torch.nan_to_num(fscore_sum / class_count, nan=0.0)
    if exclude_background:
        per_class_iou, per_class_f = per_class_iou[1:], per_class_f[1:]
    miou, fscore = per_class_iou.mean().item(), per_class_f.mean().item()
    if math.isnan(miou) or math.isnan(fscore):
        raise ValueError("no classes to average over")
    return miou, fscore
