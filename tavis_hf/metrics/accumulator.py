"""`AVSBenchMetric`: an accumulator that makes each paper's evaluation protocol explicit.

Memory stays small: per frame only the Jaccard value and the 255-point F curve (binary protocols), or per-class sums
(AVSS) are kept; masks are never stored. Batches are formed exactly as a reference ``DataLoader`` with
``batch_size=videos_per_batch`` and ``drop_last=False`` would form them, in the order videos were given to
:meth:`AVSBenchMetric.update` (when gathering across processes, gather in dataset order first).

Protocols (``docs/avsbench.md`` §9; why papers' numbers differ: §10):

* ``"avsbench"`` — AVSBench ``test.py``: sigmoid scores; M_J and M_F averaged over batches of ``videos_per_batch``
  videos, which must be given explicitly (the literature used 1, 2, 4 or 8; F depends on it).
* ``"tavis_release"`` — the TAViS release (inherited from SAMA-AVS): J as AVSBench, F thresholds raw logits,
  one video per batch.
* ``"avss"`` — AVSBench-semantic mIoU / F over all classes including background, summed over all frames (batch
  independent). ``include_padding_frames=True`` counts frames flagged not annotated with an all-background target,
  like the official loader's zero padding of v1 clips to 10 frames (the caller passes the model's predictions on
  those padding frames).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .functional import (
    BETA2,
    batch_fmeasure_from_curves,
    frame_fmeasure_curves,
    frame_jaccard,
    semantic_batch_stats,
    semantic_miou_fscore,
)

PROTOCOLS = ("avsbench", "tavis_release", "avss")

__all__ = ["PROTOCOLS", "AVSBenchMetric"]


class AVSBenchMetric:
    """Accumulate AVS metrics over videos with an explicit protocol.

    Args:
        protocol: ``"avsbench"``, ``"tavis_release"`` or ``"avss"`` (see the module docstring).
        videos_per_batch: videos per reference batch for binary protocols; required for ``"avsbench"``, must be 1 (or
            None) for ``"tavis_release"``, must be None for ``"avss"``.
        num_classes: number of classes for ``"avss"`` (71 for AVSBench-semantic, background included).
        class_names: optional names (length ``num_classes``) used by :meth:`per_class_report`.
        num_thresholds: F-measure thresholds (255).
        include_padding_frames: ``"avss"`` only; see the module docstring.
        gt_source: free-text provenance recorded in :meth:`compute` (e.g. ``"object"`` or ``"semantic"``).
        split: free-text split name recorded in :meth:`compute`.
    """

    def __init__(
        self,
        protocol: str = "avsbench",
        videos_per_batch: int | None = None,
        num_classes: int = 71,
        class_names: Sequence[str] | None = None,
        num_thresholds: int = 255,
        include_padding_frames: bool = False,
        gt_source: str | None = None,
        split: str | None = None,
    ):
        if protocol not in PROTOCOLS:
            raise ValueError(f"unknown protocol {protocol!r}; choose one of {PROTOCOLS}")
        if protocol == "avsbench" and videos_per_batch is None:
            raise ValueError(
                "protocol='avsbench' needs videos_per_batch (F depends on it; AVSBench test.sh uses 4, test.py 1)"
            )
        if protocol == "tavis_release":
            if videos_per_batch not in (None, 1):
                raise ValueError("protocol='tavis_release' evaluates one video per batch; videos_per_batch must be 1")
            videos_per_batch = 1
        if protocol == "avss" and videos_per_batch is not None:
            raise ValueError("protocol='avss' accumulates over all frames; videos_per_batch does not apply")
        if videos_per_batch is not None and videos_per_batch < 1:
            raise ValueError(f"videos_per_batch must be >= 1, got {videos_per_batch}")
        if include_padding_frames and protocol != "avss":
            raise ValueError("include_padding_frames only applies to protocol='avss'")
        if class_names is not None and len(class_names) != num_classes:
            raise ValueError(f"class_names has {len(class_names)} entries but num_classes={num_classes}")
        self.protocol = protocol
        self.videos_per_batch = videos_per_batch
        self.num_classes = num_classes
        self.class_names = list(class_names) if class_names is not None else None
        self.num_thresholds = num_thresholds
        self.include_padding_frames = include_padding_frames
        self.gt_source = gt_source
        self.split = split
        self.reset()

    def reset(self) -> None:
        """Forget everything accumulated so far."""
        self._jaccard: list[torch.Tensor] = []  # per video: (T_annotated,)
        self._curves: list[torch.Tensor] = []  # per video: (T_annotated, K)
        self._valid: list[torch.Tensor] = []  # per video: (T_annotated,)
        self._labels: list[str | None] = []  # per video: optional category (binary protocols)
        self._iou_sum = torch.zeros(self.num_classes)
        self._f_sum = torch.zeros(self.num_classes)
        self._count = torch.zeros(self.num_classes)
        self.num_videos = 0
        self.num_frames = 0

    @property
    def apply_sigmoid(self) -> bool:
        """Score space of the F-measure: sigmoid (AVSBench) or raw logits (TAViS release)."""
        return self.protocol != "tavis_release"

    def update(
        self,
        predictions: torch.Tensor,
        targets: torch.Tensor,
        annotated: torch.Tensor | Sequence | None = None,
        labels: Sequence[str] | None = None,
    ) -> None:
        """Add a batch of videos.

        Args:
            predictions: binary protocols: ``(B, T, H, W)`` mask logits. ``"avss"``: ``(B, T, C, H, W)`` class logits
                or ``(B, T, H, W)`` integer class-id maps.
            targets: ``(B, T, H, W)``: binary masks (bool / 0-1) or class ids (``"avss"``).
            annotated: optional ``(B, T)`` bool flags; frames that are not annotated are skipped (or, for
                ``"avss"`` with ``include_padding_frames``, scored against an all-background target).
            labels: binary protocols only: one category per video (e.g. the S4 ``category`` or
                ``sounding_objects``) for :meth:`per_class_report`.
        """
        if not isinstance(predictions, torch.Tensor) or not isinstance(targets, torch.Tensor):
            raise TypeError("predictions and targets must be torch tensors")
        if targets.ndim != 4:
            raise ValueError(f"targets must be (B, T, H, W), got {tuple(targets.shape)}")
        b, t = targets.shape[:2]
        if predictions.shape[:2] != (b, t):
            raise ValueError(
                f"predictions {tuple(predictions.shape)} and targets {tuple(targets.shape)} disagree on (B, T)"
            )
        if annotated is None:
            flags = torch.ones(b, t, dtype=torch.bool)
        else:
            flags = torch.as_tensor(annotated, dtype=torch.bool).cpu()
            if flags.shape != (b, t):
                raise ValueError(f"annotated must be (B, T) = {(b, t)}, got {tuple(flags.shape)}")
        if labels is not None and (self.protocol == "avss" or len(labels) != b):
            raise ValueError("labels are one string per video and only apply to the binary protocols")
        if self.protocol == "avss":
            self._update_semantic(predictions, targets, flags)
        else:
            self._update_binary(predictions, targets, flags)
            self._labels.extend(labels if labels is not None else [None] * b)
        self.num_videos += b

    def _update_binary(self, predictions: torch.Tensor, targets: torch.Tensor, flags: torch.Tensor) -> None:
        if predictions.shape != targets.shape:
            raise ValueError(f"predictions {tuple(predictions.shape)} must match targets {tuple(targets.shape)}")
        for video in range(targets.shape[0]):
            keep = flags[video].to(predictions.device)
            logits, target = predictions[video][keep], targets[video][keep]
            self._jaccard.append(frame_jaccard(logits, target).cpu())
            curves, valid = frame_fmeasure_curves(logits, target, self.apply_sigmoid, self.num_thresholds, BETA2)
            self._curves.append(curves.cpu())
            self._valid.append(valid.cpu())
            self.num_frames += int(keep.sum())

    def _update_semantic(self, predictions: torch.Tensor, targets: torch.Tensor, flags: torch.Tensor) -> None:
        is_logits = predictions.is_floating_point()
        if is_logits and predictions.ndim != 5:
            raise ValueError(f"avss logits must be (B, T, C, H, W), got {tuple(predictions.shape)}")
        targets = targets.clone()
        if self.include_padding_frames:
            targets[~flags.to(targets.device)] = 0
            flags = torch.ones_like(flags)
        keep = flags.reshape(-1).to(predictions.device)
        frames_pred = predictions.flatten(0, 1)[keep]
        frames_target = targets.flatten(0, 1)[keep.to(targets.device)]
        iou, f, count = semantic_batch_stats(frames_pred, frames_target, self.num_classes)
        self._iou_sum += iou
        self._f_sum += f
        self._count += count
        self.num_frames += int(keep.sum())

    def _batches(self):
        vpb = self.videos_per_batch
        for start in range(0, len(self._jaccard), vpb):
            yield (
                torch.cat(self._jaccard[start : start + vpb]),
                torch.cat(self._curves[start : start + vpb]),
                torch.cat(self._valid[start : start + vpb]),
            )

    def compute(self) -> dict:
        """Final metrics with their provenance.

        Returns:
            Binary protocols: ``{"jaccard", "fmeasure", "num_batches", ...}``; ``"avss"``: ``{"miou", "fscore",
            "miou_no_bg", "fscore_no_bg", ...}``. Every result also carries ``protocol``, ``score_space``,
            ``videos_per_batch``, ``gt_source``, ``split``, ``num_videos`` and ``num_frames``.
        """
        if self.num_videos == 0:
            raise ValueError("no videos were added; call update() first")
        info = {
            "protocol": self.protocol,
            "videos_per_batch": self.videos_per_batch,
            "gt_source": self.gt_source,
            "split": self.split,
            "num_videos": self.num_videos,
            "num_frames": self.num_frames,
        }
        if self.protocol == "avss":
            miou, fscore = semantic_miou_fscore(self._iou_sum, self._f_sum, self._count)
            miou_nb, fscore_nb = semantic_miou_fscore(self._iou_sum, self._f_sum, self._count, exclude_background=True)
            return {
                "miou": miou,
                "fscore": fscore,
                "miou_no_bg": miou_nb,
                "fscore_no_bg": fscore_nb,
                "score_space": "argmax",
                "include_padding_frames": self.include_padding_frames,
                **info,
            }
        jaccards, fmeasures = [], []
        for jac, curves, valid in self._batches():
            if jac.numel() == 0:
                raise ValueError("a batch has no annotated frames; the reference batch would be empty")
            jaccards.append(jac.sum().item() / jac.numel())
            fmeasures.append(batch_fmeasure_from_curves(curves, valid))
        return {
            "jaccard": sum(jaccards) / len(jaccards),
            "fmeasure": sum(fmeasures) / len(fmeasures),
            "num_batches": len(jaccards),
            "score_space": "sigmoid" if self.apply_sigmoid else "logits",
            **info,
        }

    def per_class_report(self) -> list[dict]:
        """Per-class results.

        ``"avss"``: ``[{"class_id", "name", "iou", "fscore", "frames"}]`` for every class; ``frames`` is the number
        of frames in which the class was predicted or present; ``iou`` / ``fscore`` are 0 when ``frames == 0``.

        Binary protocols: ``[{"name", "jaccard", "fmeasure", "videos", "frames"}]`` per label given to
        :meth:`update`, sorted by name: ``jaccard`` is the per-frame mean and ``fmeasure`` the mean of per-video F
        (one video per batch), whatever ``videos_per_batch`` is.
        """
        if self.protocol != "avss":
            return self._per_label_report()
        iou = torch.nan_to_num(self._iou_sum / self._count, nan=0.0)
        f = torch.nan_to_num(self._f_sum / self._count, nan=0.0)
        names = self.class_names or [str(c) for c in range(self.num_classes)]
        return [
            {
                "class_id": c,
                "name": names[c],
                "iou": iou[c].item(),
                "fscore": f[c].item(),
                "frames": int(self._count[c]),
            }
            for c in range(self.num_classes)
        ]

    def _per_label_report(self) -> list[dict]:
        if any(label is None for label in self._labels):
            raise ValueError("pass labels= to every update() call to get a per-class report")
        report = []
        for name in sorted(set(self._labels)):
            videos = [i for i, label in enumerate(self._labels) if label == name]
            jaccard = torch.cat([self._jaccard[i] for i in videos])
            fmeasures = [batch_fmeasure_from_curves(self._curves[i], self._valid[i]) for i in videos]
            report.append(
                {
                    "name": name,
                    "jaccard": jaccard.mean().item() if jaccard.numel() else 0.0,
                    "fmeasure": sum(fmeasures) / len(fmeasures),
                    "videos": len(videos),
                    "frames": jaccard.numel(),
                }
            )
        return report
