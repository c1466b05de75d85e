"""The zero-shot protocol (`"zero-shot"`): a model trained on the seen classes of an open-vocabulary split
(`tavis_hf.data.make_open_vocabulary`) segments the test split with the full vocabulary, seen + unseen classes,
encoded as text; each query's class is the argmax of the class-scoring rule (`TavisConfig.avss_class_source`; the
protocol's rule is :data:`ZERO_SHOT_CLASS_SCORING`, ``"sum"``: audio-to-text plus image-to-text logits, coefficient 1).

Scores, as OV-AVSS computes them (``ruohaoguo/ovavss@baa883c``, ``demo_video/avsbench_eval.py``, ``scores_gzsl``;
``docs/avsbench.md`` §12): one confusion matrix over every annotated pixel of the test split, per-class IoU =
TP / (TP + FP + FN) from it (undefined for a class neither present nor predicted, and then left out), ``miou_seen``
and ``miou_unseen`` the means over the seen and the unseen classes (background in neither), ``miou_harmonic`` their
harmonic mean. ``miou_unseen`` is the zero-shot M_J that the TAViS paper compares with OV-AVSS. OV-AVSS prints no F
per group; ``fscore_seen`` / ``fscore_unseen`` / ``fscore_harmonic`` are tavis_hf's: the same group means of the
AVSS per-class F (``docs/avsbench.md`` §8.3: per frame, summed, divided by the frames where the class occurs).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from .metrics import semantic_batch_stats

__all__ = ["ZERO_SHOT_CLASS_SCORING", "ZERO_SHOT_PROTOCOL", "ZeroShotMetric", "harmonic_mean"]

ZERO_SHOT_PROTOCOL = "zero-shot"
ZERO_SHOT_CLASS_SCORING = "sum"
"""The class-scoring rule of the protocol (a `TavisConfig.avss_class_source` value): the argmax over classes of the
audio embedding's plus the image embedding's text similarity, added with coefficient 1."""


def harmonic_mean(seen: float, unseen: float) -> float:
    """``2 / (1/seen + 1/unseen)``, 0 when either is 0 (as OV-AVSS turns its NaN into 0)."""
    return 0.0 if seen <= 0 or unseen <= 0 else 2.0 / (1.0 / seen + 1.0 / unseen)


class ZeroShotMetric:
    """Accumulate the zero-shot scores (module docstring) over videos of the full-vocabulary test split.

    Args:
        class_names: the full vocabulary (background first) the predictions and targets are ids of.
        open_vocabulary: the split's record (`tavis_hf.data.open_vocabulary_info`): `name`, `seen_classes`,
            `unseen_classes`, `vocabulary` (must be ``"all"``).
        class_scoring: the rule the predictions were made with (recorded).
        gt_source, split: provenance recorded in :meth:`compute`.
    """

    protocol = ZERO_SHOT_PROTOCOL

    def __init__(
        self,
        class_names: Sequence[str],
        open_vocabulary: dict,
        class_scoring: str = ZERO_SHOT_CLASS_SCORING,
        gt_source: str | None = None,
        split: str | None = None,
    ):
        if open_vocabulary.get("vocabulary") != "all":
            raise ValueError(
                f"split {split!r} is labelled with the seen classes only; the zero-shot protocol scores the split "
                "with the full vocabulary (test)"
            )
        self.class_names = list(class_names)
        self.open_vocabulary = open_vocabulary
        self.class_scoring, self.gt_source, self.split = class_scoring, gt_source, split
        self.groups = {
            group: torch.tensor([self.class_names.index(name) for name in open_vocabulary[f"{group}_classes"]])
            for group in ("seen", "unseen")
        }
        size = len(self.class_names)
        self._intersection, self._predicted, self._labelled = (torch.zeros(size, dtype=torch.float64) for _ in "ipl")
        self._f_sum, self._frames = torch.zeros(size), torch.zeros(size)
        self.num_videos = self.num_frames = 0

    def update(self, predictions: torch.Tensor, targets: torch.Tensor, annotated: torch.Tensor | None = None) -> None:
        """Add videos: predicted class-id maps and class-id targets ``(B, T, H, W)``; frames flagged not annotated
        (``annotated`` ``(B, T)``) are skipped."""
        if predictions.shape != targets.shape or predictions.ndim != 4:
            raise ValueError(
                f"predictions {tuple(predictions.shape)} and targets {tuple(targets.shape)} must both be (B, T, H, W)"
            )
        keep = torch.ones(targets.shape[:2], dtype=torch.bool) if annotated is None else annotated.bool().cpu()
        pred, target = predictions.cpu()[keep].long(), targets.cpu()[keep].long()
        size = len(self.class_names)
        self._predicted += torch.bincount(pred.reshape(-1), minlength=size).double()
        self._labelled += torch.bincount(target.reshape(-1), minlength=size).double()
        self._intersection += torch.bincount(pred[pred == target], minlength=size).double()
        _, f_sum, frames = semantic_batch_stats(pred, target, size)
        self._f_sum += f_sum
        self._frames += frames
        self.num_videos += targets.shape[0]
        self.num_frames += int(keep.sum())

    def per_class(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-class IoU (dataset-level confusion counts) and F (AVSS per-frame mean); NaN where the class is neither
        present nor predicted."""
        union = self._predicted + self._labelled - self._intersection
        iou = torch.where(union > 0, self._intersection / union.clamp(min=1), torch.nan)
        fscore = torch.where(self._frames > 0, self._f_sum / self._frames.clamp(min=1), torch.nan)
        return iou, fscore

    def _group_mean(self, values: torch.Tensor, group: str, what: str) -> float:
        mean = values[self.groups[group]].nanmean().item()
        if math.isnan(mean):
            raise ValueError(f"no {group} class is present or predicted in the {self.num_frames} frames; no {what}")
        return mean

    def compute(self) -> dict:
        """``miou_unseen`` (the zero-shot M_J), ``miou_seen``, ``miou_harmonic``, ``fscore_unseen``, ``fscore_seen``,
        ``fscore_harmonic``, and the protocol's provenance."""
        if self.num_videos == 0:
            raise ValueError("no videos were added; call update() first")
        iou, fscore = self.per_class()
        result = {}
        for key, values in (("miou", iou), ("fscore", fscore)):
            seen, unseen = (self._group_mean(values, group, key) for group in ("seen", "unseen"))
            result.update(
                {f"{key}_unseen": unseen, f"{key}_seen": seen, f"{key}_harmonic": harmonic_mean(seen, unseen)}
            )
        return {
            **result,
            "protocol": self.protocol,
            "score_space": "argmax",
            "class_scoring": self.class_scoring,
            "open_vocabulary": self.open_vocabulary["name"],
            "gt_source": self.gt_source,
            "split": self.split,
            "num_videos": self.num_videos,
            "num_frames": self.num_frames,
        }

    def per_class_report(self) -> list[dict]:
        """``[{"class_id", "name", "group", "iou", "fscore", "frames"}]`` of the seen and unseen classes that are
        present or predicted."""
        iou, fscore = self.per_class()
        rows = []
        for group, ids in self.groups.items():
            for c in ids.tolist():
                if self._frames[c] > 0:
                    rows.append({"class_id": c, "name": self.class_names[c], "group": group, "iou": iou[c].item(),
                                 "fscore": fscore[c].item(), "frames": int(self._frames[c])})  # fmt: skip
        return sorted(rows, key=lambda row: row["class_id"])
