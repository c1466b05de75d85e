# Copyright 2026 The tavis_hf contributors. Licensed under the MIT licence.
"""TAViS training objective: ground-truth preparation, Hungarian matching and the loss terms.

This module reproduces the semantics of the authors' released training code (``backward_G`` of their video
predictor and their Mask2Former-style matcher), written from the description in ``docs/fidelity.md`` §3,
device-agnostic (no ``.cuda()``) and without detectron2 (point sampling uses
:func:`torch.nn.functional.grid_sample`).

Notation: ``F`` frames (a batch of ``B`` videos of ``T`` frames flattened, ``F = B * T``), ``N`` object queries per
frame (5 in TAViS), ``C`` classes including background at index 0 (71 for AVSBench-semantic), ``D`` the width of the
pseudo-text / class-text features (1024 for ImageBind-huge), ``H x W`` the mask resolution (224 x 224 in TAViS).

The module depends only on torch, scipy and transformers' ``ModelOutput``; it imports nothing from the rest of
``tavis_hf``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment
from torch import nn
from transformers.utils import ModelOutput

__all__ = [
    "TavisLoss",
    "TavisLossOutput",
    "TavisLossTerms",
    "filter_small_objects",
    "hungarian_match",
    "mask_iou_loss",
    "sample_points",
]


def filter_small_objects(labels: torch.LongTensor, min_area: int = 20) -> torch.LongTensor:
    """Reset to background every object class whose total area in a video is at most `min_area` pixels.

    The area of a class is counted over **all frames of a video together** (the released code does the same). Only
    non-background classes (label > 0) are considered; background stays 0.

    The released code skips the *smallest label value found in the video* as "background", which wrongly exempts the
    smallest real class from filtering when a video has no background pixel. That bug is not reproduced: here class 0
    is background, always.

    Args:
        labels (`torch.LongTensor` of shape `(B, T, H, W)`):
            Semantic label maps, one video per batch entry, 0 = background.
        min_area (`int`, *optional*, defaults to 20):
            Classes covering `<= min_area` pixels in a video (summed over its `T` frames) become background.

    Returns:
        `torch.LongTensor` of shape `(B, T, H, W)`: a filtered copy of `labels`.
    """
    if labels.ndim != 4:
        raise ValueError(f"`labels` must have shape (B, T, H, W), got {tuple(labels.shape)}.")
    if labels.dtype.is_floating_point or labels.dtype == torch.bool:
        raise TypeError(f"`labels` must be an integer tensor, got {labels.dtype}.")
    if min_area < 0:
        raise ValueError(f"`min_area` must be >= 0, got {min_area}.")
    filtered = labels.clone()
    for clip_labels, clip_out in zip(labels, filtered):
        classes, areas = torch.unique(clip_labels, return_counts=True)
        small = classes[(classes != 0) & (areas <= min_area)]
        if small.numel() > 0:
            clip_out[torch.isin(clip_labels, small)] = 0
    return filtered


def sample_points(masks: torch.Tensor, point_coords: torch.Tensor) -> torch.Tensor:
    """Bilinearly sample maps at normalised points (Mask2Former / PointRend `point_sample` convention).

    Coordinates are `(x, y)` in [0, 1] over the whole map; they are mapped to `2p - 1` and sampled with
    `grid_sample(..., align_corners=False)` and zero padding outside the map.

    Args:
        masks (`torch.Tensor` of shape `(K, H, W)`):
            Maps to sample (logits or binary targets as floats).
        point_coords (`torch.Tensor` of shape `(P, 2)`):
            Points shared by all `K` maps.

    Returns:
        `torch.Tensor` of shape `(K, P)`.
    """
    if masks.ndim != 3:
        raise ValueError(f"`masks` must have shape (K, H, W), got {tuple(masks.shape)}.")
    if point_coords.ndim != 2 or point_coords.shape[-1] != 2:
        raise ValueError(f"`point_coords` must have shape (P, 2), got {tuple(point_coords.shape)}.")
    grid = (2.0 * point_coords - 1.0).to(masks.dtype)
    grid = grid.view(1, 1, -1, 2).expand(masks.shape[0], 1, -1, 2)
    return F.grid_sample(masks.unsqueeze(1), grid, mode="bilinear", align_corners=False).view(masks.shape[0], -1)


def _check_labels(labels: torch.Tensor, num_classes: int) -> None:
    if labels.dtype.is_floating_point or labels.dtype == torch.bool:
        raise TypeError(f"`labels` must be an integer tensor, got {labels.dtype}.")
    if labels.numel() > 0:
        low, high = int(labels.min()), int(labels.max())
        if low < 0 or high >= num_classes:
            raise ValueError(
                f"`labels` must lie in [0, {num_classes - 1}] (0 = background, {num_classes} classes), got values "
                f"in [{low}, {high}]."
            )


@torch.no_grad()
def hungarian_match(
    *,
    object_logits: torch.Tensor,
    audio_class_logits: torch.Tensor,
    image_class_logits: torch.Tensor,
    labels: torch.LongTensor,
    num_points: int = 12544,
    cost_weights: Sequence[float] = (5.0, 5.0, 5.0, 5.0),
    generator: torch.Generator | None = None,
) -> list[tuple[torch.LongTensor, torch.LongTensor]]:
    r"""Match the object queries of every frame to that frame's ground-truth objects (no gradient).

    Targets of a frame are its distinct non-background classes, one object per class (instances merged), each with
    the binary mask `labels == class`. Costs between query `q` and target class `c`, on `num_points` uniform random
    points shared by all masks of the frame:

    - class: $-p_{a2t}[q, c]$ and $-p_{v2t}[q, c]$ (softmax over the `C` classes of the logits);
    - mask: sigmoid binary cross-entropy averaged over the points;
    - dice: $1 - (2 \sum \sigma(x) t + 1) / (\sum \sigma(x) + \sum t + 1)$ over the points;

    combined as `w_a * class_a + w_v * class_v + w_mask * mask + w_dice * dice` (`cost_weights`, TAViS: all 5) and
    solved with `scipy.optimize.linear_sum_assignment`.

    Args:
        object_logits (`torch.Tensor` of shape `(F, N, H, W)`): object mask logits.
        audio_class_logits (`torch.Tensor` of shape `(F, N, C)`): audio-to-text class logits.
        image_class_logits (`torch.Tensor` of shape `(F, N, C)`): highlight-image-to-text class logits.
        labels (`torch.LongTensor` of shape `(F, H, W)`): semantic labels, 0 = background.
        num_points (`int`, *optional*, defaults to 12544): points sampled per frame.
        cost_weights (`Sequence[float]` of length 4, *optional*): `(w_a, w_v, w_mask, w_dice)`.
        generator (`torch.Generator`, *optional*): source of the random points (for determinism); it may live on any
            device, the points are moved to the logits' device.

    Returns:
        `list` of `F` pairs `(query_indices, target_classes)`, both `torch.LongTensor` of shape `(M_f,)` on the
        logits' device, `M_f = min(N, number of target classes of frame f)`, sorted by query index.
    """
    _check_match_inputs(object_logits, audio_class_logits, image_class_logits, labels)
    if len(cost_weights) != 4:
        raise ValueError(f"`cost_weights` must hold 4 numbers (audio, image, mask, dice), got {cost_weights}.")
    if num_points < 1:
        raise ValueError(f"`num_points` must be >= 1, got {num_points}.")
    weight_audio, weight_image, weight_mask, weight_dice = (float(w) for w in cost_weights)
    device = object_logits.device
    audio_probs = audio_class_logits.float().softmax(-1)
    image_probs = image_class_logits.float().softmax(-1)

    matches = []
    for frame in range(object_logits.shape[0]):
        target_classes = torch.unique(labels[frame])
        target_classes = target_classes[target_classes != 0]
        if target_classes.numel() == 0:
            empty = torch.empty(0, dtype=torch.long, device=device)
            matches.append((empty, empty.clone()))
            continue
        target_masks = (labels[frame].unsqueeze(0) == target_classes.view(-1, 1, 1)).float()  # (K, H, W)
        point_coords = torch.rand(
            num_points, 2, generator=generator, device=generator.device if generator is not None else device
        ).to(device)
        pred_points = sample_points(object_logits[frame].float(), point_coords)  # (N, P)
        target_points = sample_points(target_masks, point_coords)  # (K, P)

        # sigmoid BCE of every (query, target) pair, averaged over the points
        cost_mask = (
            F.softplus(-pred_points) @ target_points.T + F.softplus(pred_points) @ (1 - target_points).T
        ) / num_points
        pred_probs = pred_points.sigmoid()
        numerator = 2 * pred_probs @ target_points.T
        denominator = pred_probs.sum(-1, keepdim=True) + target_points.sum(-1).unsqueeze(0)
        cost_dice = 1 - (numerator + 1) / (denominator + 1)
        cost = (
            -weight_audio * audio_probs[frame][:, target_classes]
            - weight_image * image_probs[frame][:, target_classes]
            + weight_mask * cost_mask
            + weight_dice * cost_dice
        )
        query_indices, target_indices = linear_sum_assignment(cost.cpu().numpy())
        query_indices = torch.as_tensor(query_indices, dtype=torch.long, device=device)
        matches.append((query_indices, target_classes[torch.as_tensor(target_indices, device=device)]))
    return matches


def _check_match_inputs(object_logits, audio_class_logits, image_class_logits, labels) -> None:
    if object_logits.ndim != 4:
        raise ValueError(f"`object_logits` must have shape (F, N, H, W), got {tuple(object_logits.shape)}.")
    num_frames, num_queries, height, width = object_logits.shape
    for name, logits in (("audio_class_logits", audio_class_logits), ("image_class_logits", image_class_logits)):
        if logits.ndim != 3 or logits.shape[:2] != (num_frames, num_queries):
            raise ValueError(f"`{name}` must have shape ({num_frames}, {num_queries}, C), got {tuple(logits.shape)}.")
    if audio_class_logits.shape != image_class_logits.shape:
        raise ValueError(
            f"`audio_class_logits` {tuple(audio_class_logits.shape)} and `image_class_logits` "
            f"{tuple(image_class_logits.shape)} must have the same shape."
        )
    if labels.shape != (num_frames, height, width):
        raise ValueError(f"`labels` must have shape ({num_frames}, {height}, {width}), got {tuple(labels.shape)}.")
    _check_labels(labels, audio_class_logits.shape[-1])


def mask_iou_loss(logits: torch.Tensor, targets: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    r"""Soft IoU loss $1 - \sum \sigma g / (\sum \sigma + \sum g - \sum \sigma g + \epsilon)$, averaged over masks.

    Args:
        logits (`torch.Tensor` of shape `(K, H, W)`): mask logits.
        targets (`torch.Tensor` of shape `(K, H, W)`): binary targets (float).
        eps (`float`, *optional*, defaults to 1e-6): added to the union (an empty target and prediction give 1).

    Returns:
        0-d `torch.Tensor`.
    """
    probs = logits.sigmoid()
    intersection = (probs * targets).sum(dim=(-2, -1))
    union = (probs + targets).sum(dim=(-2, -1)) - intersection
    return (1 - intersection / (union + eps)).mean()


@dataclass
class TavisLossTerms(ModelOutput):
    r"""The unweighted terms of the TAViS loss, each a 0-d tensor (see [`TavisLoss`] for what each computes and
    `docs/fidelity.md` §3 for the release). A mapping too: `dict(terms)` or `terms.items()` give `loss_<term>: value`
    (what training logs).

    Args:
        loss_a2t (`torch.FloatTensor`): class-weighted cross-entropy of the audio-to-text class logits.
        loss_i2t (`torch.FloatTensor`): the same for the highlight-image-to-text class logits.
        loss_object_bce (`torch.FloatTensor`): BCE of the matched object masks.
        loss_object_iou (`torch.FloatTensor`): soft IoU loss of the matched object masks.
        loss_a2pt (`torch.FloatTensor`): MSE between the pseudo-text features and their target class-text features.
        loss_binary_bce (`torch.FloatTensor`): BCE of the binary (global-prompt) mask against the sounding pixels.
        loss_binary_iou (`torch.FloatTensor`): soft IoU loss of the binary mask.
        loss_binary_presence (`torch.FloatTensor`): BCE of the global prompt's SAM2 object score against "the frame
            has a sounding object" (not in TAViS; zero without presence logits).
    """

    loss_a2t: torch.FloatTensor | None = None
    loss_i2t: torch.FloatTensor | None = None
    loss_object_bce: torch.FloatTensor | None = None
    loss_object_iou: torch.FloatTensor | None = None
    loss_a2pt: torch.FloatTensor | None = None
    loss_binary_bce: torch.FloatTensor | None = None
    loss_binary_iou: torch.FloatTensor | None = None
    loss_binary_presence: torch.FloatTensor | None = None


@dataclass
class TavisLossOutput(ModelOutput):
    r"""Output of [`TavisLoss`].

    Args:
        loss (`torch.FloatTensor` of shape `()`): the weighted total.
        terms ([`TavisLossTerms`]): every unweighted term.
        num_matched (`int`): `M`, the number of matched (query, object) pairs over all frames.
        matched_indices (`list` of `F` pairs of `torch.LongTensor`): per frame `(query_indices, target_classes)`, see
            [`hungarian_match`].
    """

    loss: torch.FloatTensor | None = None
    terms: TavisLossTerms | None = None
    num_matched: int | None = None
    matched_indices: list[tuple[torch.LongTensor, torch.LongTensor]] | None = None


class TavisLoss(nn.Module):
    r"""The TAViS training loss (released-code semantics), a parameter-free module.

    $\mathcal L = w_{a2t} \mathcal L_{a2t} + w_{i2t} \mathcal L_{i2t} + w_{bce}\,\mathrm{BCE}_{obj} +
    w_{iou}\,\mathrm{IoU}_{obj} + w_{a2pt} \mathcal L_{a2pt} + w'_{bce}\,\mathrm{BCE}_{bin} + w'_{iou}\,\mathrm{IoU}_{bin}
    + w_{pres}\,\mathrm{BCE}_{pres}$
    with `M` the number of matched (query, object) pairs over all frames (see [`hungarian_match`]):

    - `loss_a2t` / `loss_i2t`: class-weighted cross-entropy over all `F * N` queries of the audio-to-text /
      image-to-text logits; targets are the matched classes, background (0) for unmatched queries; class weights
      `[background_class_weight, 1, ..., 1]`; PyTorch's weighted mean `sum(w * ce) / sum(w)`, **then divided by
      `M` again** when `ce_double_normalization` (the released code does this).
    - `loss_object_bce`: BCE-with-logits of the `M` matched object logits against their masks, mean over `M*H*W`.
    - `loss_object_iou`: [`mask_iou_loss`] of the same, mean over `M`.
    - `loss_a2pt`: mean squared error between the `N` pseudo-text features of every frame and the class-text features
      of their target classes (row 0, "background", for unmatched queries). The released code feeds detached
      pseudo-text features, so this term trains nothing there; detaching is the caller's decision.
    - `loss_binary_bce` / `loss_binary_iou`: the same two mask losses on the binary (global-prompt) logits against
      `labels > 0`, over all `F` frames.
    - `loss_binary_presence` (not in TAViS; weight 0 by default): BCE-with-logits of the global prompt's SAM2
      object-score logit against "the frame has a sounding object" (`(labels > 0).any()`), mean over the `F` frames;
      zero without `binary_presence_logits`.

    If `M = 0` only the binary terms contribute, as in the released code; the other terms are returned as zeros that
    are still connected to their inputs (so `backward()` and DDP see every input).

    Small objects are **not** filtered here: the area threshold is per video, so apply [`filter_small_objects`] to the
    `(B, T, H, W)` labels before flattening them to frames.

    Args:
        config (*optional*):
            Any object with (some of) the attributes below; missing ones take these defaults:
            `loss_weight_a2t=0.5`, `loss_weight_i2t=0.5`, `loss_weight_object_bce=1.0`, `loss_weight_object_iou=1.0`,
            `loss_weight_a2pt=0.3`, `loss_weight_binary_bce=1.0`, `loss_weight_binary_iou=1.0`,
            `loss_weight_binary_presence=0.0`,
            `background_class_weight=0.1`, `num_matching_points=12544`, `matcher_cost_weights=(5, 5, 5, 5)`
            (audio class, image class, mask BCE, dice), `ce_double_normalization=True`.
    """

    _DEFAULTS = {
        "loss_weight_a2t": 0.5,
        "loss_weight_i2t": 0.5,
        "loss_weight_object_bce": 1.0,
        "loss_weight_object_iou": 1.0,
        "loss_weight_a2pt": 0.3,
        "loss_weight_binary_bce": 1.0,
        "loss_weight_binary_iou": 1.0,
        "loss_weight_binary_presence": 0.0,
        "background_class_weight": 0.1,
        "num_matching_points": 12544,
        "matcher_cost_weights": (5.0, 5.0, 5.0, 5.0),
        "ce_double_normalization": True,
    }
    _TERMS = ("a2t", "i2t", "object_bce", "object_iou", "a2pt", "binary_bce", "binary_iou", "binary_presence")

    def __init__(self, config=None):
        super().__init__()
        for name, default in self._DEFAULTS.items():
            setattr(self, name, getattr(config, name, default))
        self.matcher_cost_weights = tuple(float(w) for w in self.matcher_cost_weights)
        if len(self.matcher_cost_weights) != 4:
            raise ValueError(f"`matcher_cost_weights` must hold 4 numbers, got {self.matcher_cost_weights}.")

    def extra_repr(self) -> str:
        return ", ".join(f"{name}={getattr(self, name)}" for name in self._DEFAULTS)

    def forward(
        self,
        *,
        object_logits: torch.Tensor,
        binary_logits: torch.Tensor,
        audio_class_logits: torch.Tensor,
        image_class_logits: torch.Tensor,
        pseudo_text_features: torch.Tensor | None,
        class_text_hidden: torch.Tensor | None,
        labels: torch.LongTensor,
        binary_presence_logits: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> TavisLossOutput:
        """Compute the loss.

        Args:
            object_logits (`torch.Tensor` of shape `(F, N, H, W)`): object-query mask logits.
            binary_logits (`torch.Tensor` of shape `(F, H, W)`): global-prompt mask logits.
            audio_class_logits (`torch.Tensor` of shape `(F, N, C)`): audio-to-text class logits.
            image_class_logits (`torch.Tensor` of shape `(F, N, C)`): highlight-image-to-text class logits.
            pseudo_text_features (`torch.Tensor` of shape `(F, N, D)`, *optional*): pseudo-text features of the
                object queries; `None` (together with `class_text_hidden`) disables `loss_a2pt`.
            class_text_hidden (`torch.Tensor` of shape `(C, D)`, *optional*): text features of the `C` class prompts.
            labels (`torch.LongTensor` of shape `(F, H, W)`): semantic labels in `[0, C)`, 0 = background, already
                filtered with [`filter_small_objects`].
            binary_presence_logits (`torch.Tensor` of shape `(F,)`, *optional*): SAM2 object-score logits of the
                global prompt, for `loss_binary_presence`.
            generator (`torch.Generator`, *optional*): random source of the matching points.

        Returns:
            [`TavisLossOutput`]: the weighted total `loss`, every unweighted term (`terms`, a [`TavisLossTerms`]), the
            number of matched pairs `num_matched` (`M`) and `matched_indices` (per frame `(query_indices,
            target_classes)`, see [`hungarian_match`]).
        """
        self._check_inputs(object_logits, binary_logits, audio_class_logits, image_class_logits,
                           pseudo_text_features, class_text_hidden, labels)  # fmt: skip
        matches = hungarian_match(
            object_logits=object_logits,
            audio_class_logits=audio_class_logits,
            image_class_logits=image_class_logits,
            labels=labels,
            num_points=self.num_matching_points,
            cost_weights=self.matcher_cost_weights,
            generator=generator,
        )
        losses = self._matched_terms(matches, object_logits, audio_class_logits, image_class_logits,
                                     pseudo_text_features, class_text_hidden, labels)  # fmt: skip
        losses.update(self._binary_terms(binary_logits, binary_presence_logits, labels))
        total = sum(getattr(self, f"loss_weight_{name}") * losses[name] for name in self._TERMS)
        return TavisLossOutput(
            loss=total,
            terms=TavisLossTerms(**{f"loss_{name}": losses[name] for name in self._TERMS}),
            num_matched=sum(int(queries.numel()) for queries, _ in matches),
            matched_indices=matches,
        )

    @staticmethod
    def _check_inputs(object_logits, binary_logits, audio_class_logits, image_class_logits, pseudo_text_features,
                      class_text_hidden, labels) -> None:  # fmt: skip
        _check_match_inputs(object_logits, audio_class_logits, image_class_logits, labels)
        num_frames, num_queries, height, width = object_logits.shape
        num_classes = audio_class_logits.shape[-1]
        if binary_logits.shape != (num_frames, height, width):
            raise ValueError(
                f"`binary_logits` must have shape ({num_frames}, {height}, {width}), got {tuple(binary_logits.shape)}."
            )
        if (pseudo_text_features is None) != (class_text_hidden is None):
            raise ValueError("`pseudo_text_features` and `class_text_hidden` must be given together (or both None).")
        if pseudo_text_features is None:
            return
        if pseudo_text_features.ndim != 3 or pseudo_text_features.shape[:2] != (num_frames, num_queries):
            raise ValueError(
                f"`pseudo_text_features` must have shape ({num_frames}, {num_queries}, D), got "
                f"{tuple(pseudo_text_features.shape)}."
            )
        if class_text_hidden.shape != (num_classes, pseudo_text_features.shape[-1]):
            raise ValueError(
                f"`class_text_hidden` must have shape ({num_classes}, {pseudo_text_features.shape[-1]}), got "
                f"{tuple(class_text_hidden.shape)}."
            )

    def _matched_terms(self, matches, object_logits, audio_class_logits, image_class_logits, pseudo_text_features,
                       class_text_hidden, labels) -> dict[str, torch.Tensor]:  # fmt: skip
        """The terms on the matched queries: `a2t`, `i2t`, `object_bce`, `object_iou`, `a2pt` (zeros connected to
        their inputs when nothing is matched)."""
        num_frames, num_queries = object_logits.shape[:2]
        num_classes = audio_class_logits.shape[-1]
        frame_indices = torch.cat([torch.full_like(queries, frame) for frame, (queries, _) in enumerate(matches)])
        query_indices = torch.cat([queries for queries, _ in matches])
        matched_classes = torch.cat([classes for _, classes in matches])
        num_matched = int(query_indices.numel())
        losses = {}
        if num_matched > 0:
            target_classes = torch.zeros(num_frames, num_queries, dtype=torch.long, device=object_logits.device)
            target_classes[frame_indices, query_indices] = matched_classes
            normalizer = num_matched if self.ce_double_normalization else 1
            for name, logits in (("a2t", audio_class_logits), ("i2t", image_class_logits)):
                class_weights = torch.ones(num_classes, dtype=logits.dtype, device=logits.device)
                class_weights[0] = self.background_class_weight
                cross_entropy = F.cross_entropy(logits.flatten(0, 1), target_classes.flatten(), weight=class_weights)
                losses[name] = cross_entropy / normalizer

            matched_logits = object_logits[frame_indices, query_indices]  # (M, H, W)
            matched_masks = (labels[frame_indices] == matched_classes.view(-1, 1, 1)).to(matched_logits.dtype)
            losses["object_bce"] = F.binary_cross_entropy_with_logits(matched_logits, matched_masks)
            losses["object_iou"] = mask_iou_loss(matched_logits, matched_masks)
            if pseudo_text_features is not None:
                losses["a2pt"] = F.mse_loss(pseudo_text_features, class_text_hidden[target_classes])
        else:
            losses["a2t"] = audio_class_logits.sum() * 0.0
            losses["i2t"] = image_class_logits.sum() * 0.0
            losses["object_bce"] = losses["object_iou"] = object_logits.sum() * 0.0
        if "a2pt" not in losses:
            losses["a2pt"] = (
                object_logits.new_zeros(()) if pseudo_text_features is None else pseudo_text_features.sum() * 0.0
            )
        return losses

    @staticmethod
    def _binary_terms(binary_logits, binary_presence_logits, labels) -> dict[str, torch.Tensor]:
        """The terms on the global prompt: `binary_bce`, `binary_iou` and `binary_presence` (zero without
        `binary_presence_logits`)."""
        binary_targets = (labels > 0).to(binary_logits.dtype)
        losses = {
            "binary_bce": F.binary_cross_entropy_with_logits(binary_logits, binary_targets),
            "binary_iou": mask_iou_loss(binary_logits, binary_targets),
        }
        if binary_presence_logits is None:
            losses["binary_presence"] = binary_logits.new_zeros(())
            return losses
        num_frames = binary_logits.shape[0]
        if binary_presence_logits.shape != (num_frames,):
            raise ValueError(
                f"`binary_presence_logits` must have shape ({num_frames},), got {tuple(binary_presence_logits.shape)}."
            )
        present = binary_targets.flatten(1).amax(1)
        losses["binary_presence"] = F.binary_cross_entropy_with_logits(binary_presence_logits.float(), present.float())
        return losses
