# Copyright 2026 The tavis_hf contributors. Licensed under the MIT licence.
"""Trainable SAM2 tracking for TAViS, built from the submodules of a transformers `Sam2VideoModel`.

`Sam2VideoModel.forward` runs under `torch.inference_mode()` and tracks one object per session entry, so it cannot
be trained through. This module re-expresses its per-frame tracking step (memory attention, mask decoding, object
pointers, memory encoding) as plain differentiable tensor code over a whole window of frames, with TAViS's custom
sparse/dense prompts in place of SAM2's prompt encoder:

- [`decode_frames_independently`]: every frame decoded on its own (`image embedding + no_memory_embedding`), which
  is how TAViS runs at test time and with `T = 1` (`temporal="per-frame"`);
- [`TavisSam2TrackingDriver`]: frame 0 is the conditioning frame, frames `t > 0` attend to the memory of earlier
  frames (SAM2 video tracking, `temporal="tracking"`), which is how TAViS trains on MS3 videos (`T = 5`).

Both return a [`TavisSam2DecoderOutput`]. Notation: `B` windows (videos), `T` frames per window, `P` prompts per
frame (6 in TAViS: 5 object prompts and the global one), `K` sparse tokens per prompt (1 in TAViS), `C` the SAM2
width (256), `h x w` the image-embedding grid (14 x 14 at 224 px), so low-resolution masks are `4h x 4w` (56 x 56)
and the image is `16h x 16w`.

Each of the `P` prompts of a window is its own tracked object with its own memory stream: the `(B, P)` pairs form
the object batch. Outputs keep the `(B, T, P)` layout.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import torch
import torch.nn.functional as F
from transformers.models.sam2_video.modeling_sam2_video import get_1d_sine_pe
from transformers.utils import ModelOutput

__all__ = [
    "TavisSam2DecoderOutput",
    "TavisSam2TrackingDriver",
    "TavisSam2WindowFeatures",
    "decode_frames_independently",
    "window_features_from_image_outputs",
]

# logit written over masks of objects judged absent when object-score suppression is on (stock SAM2 value)
NO_OBJECT_SCORE = -1024.0


@dataclass
class TavisSam2DecoderOutput(ModelOutput):
    r"""The mask the SAM2 decoder selected for every prompt of every frame ([`decode_frames_independently`],
    [`TavisSam2TrackingDriver`]).

    Args:
        low_res_masks (`torch.FloatTensor` of shape `(B, T, P, 4h, 4w)`): mask logits of the selected mask.
        iou_scores (`torch.FloatTensor` of shape `(B, T, P)`): its predicted IoU.
        object_score_logits (`torch.FloatTensor` of shape `(B, T, P)`): SAM2 object-score logit of the prompt (the
            object is judged present above the threshold).
        best_mask_index (`torch.LongTensor` of shape `(B, T, P)`): index of the selected mask among those the decoder
            returned (0 when a single mask is returned).
    """

    low_res_masks: torch.FloatTensor | None = None
    iou_scores: torch.FloatTensor | None = None
    object_score_logits: torch.FloatTensor | None = None
    best_mask_index: torch.LongTensor | None = None

    def map(self, function: Callable[[torch.Tensor], torch.Tensor]) -> TavisSam2DecoderOutput:
        """A new output with `function` applied to every field (e.g. a reshape)."""
        return type(self)(**{name: function(value) for name, value in self.items()})


class TavisSam2WindowFeatures(NamedTuple):
    """SAM2 image features of a window of frames, in `(B, T, ...)` layout (a plain 3-tuple of the same content is accepted too).

    Attributes:
        top (`torch.Tensor` of shape `(B, T, C, h, w)`): lowest-resolution FPN level (the image embedding), *without*
            `no_memory_embedding`.
        top_position (`torch.Tensor` of shape `(B, T, C, h, w)`): its sine positional encoding.
        high_res (`tuple` of two `torch.Tensor`): decoder high-resolution features after `conv_s0` / `conv_s1`, shapes
            `(B, T, C/8, 4h, 4w)` and `(B, T, C/4, 2h, 2w)`.
    """

    top: torch.Tensor
    top_position: torch.Tensor
    high_res: tuple[torch.Tensor, torch.Tensor]


def window_features_from_image_outputs(
    sam2, image_outputs, batch_size: int, num_frames: int
) -> TavisSam2WindowFeatures:
    """Reshape the output of `sam2.get_image_features(pixel_values)` on `B * T` frames into
    [`TavisSam2WindowFeatures`].

    Args:
        sam2 (`Sam2VideoModel`): the model whose `get_image_features` produced `image_outputs`.
        image_outputs: its output: `fpn_hidden_states` and `fpn_position_encoding`, lists of `(HW, B*T, C_l)`
            flattened maps from high to low resolution (frames ordered window-major).
        batch_size (`int`): `B`.
        num_frames (`int`): `T`.
    """
    feature_sizes = sam2.config.vision_config.backbone_feature_sizes

    def unflatten(flat: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
        if flat.shape[1] != batch_size * num_frames:
            raise ValueError(f"Expected {batch_size * num_frames} frames in the image features, got {flat.shape[1]}.")
        return flat.permute(1, 2, 0).reshape(batch_size, num_frames, flat.shape[-1], *size)

    levels = [unflatten(x, s) for x, s in zip(image_outputs.fpn_hidden_states, feature_sizes)]
    top_position = unflatten(image_outputs.fpn_position_encoding[-1], feature_sizes[-1])
    return TavisSam2WindowFeatures(levels[-1], top_position, (levels[0], levels[1]))


def _check_prompts(sparse_prompts, dense_prompts, top, high_res):
    """Validate shapes and return the sparse prompts as `(B, T, P, K, C)`."""
    if top.ndim != 5:
        raise ValueError(f"`top` image features must have shape (B, T, C, h, w), got {tuple(top.shape)}.")
    batch_size, num_frames, channels, height, width = top.shape
    if len(high_res) != 2:
        raise ValueError(f"`high_res` must hold two feature maps (s0, s1), got {len(high_res)}.")
    for name, feature, scale in (("s0", high_res[0], 4), ("s1", high_res[1], 2)):
        if (
            feature.ndim != 5
            or feature.shape[:2] != (batch_size, num_frames)
            or feature.shape[-2:]
            != (
                scale * height,
                scale * width,
            )
        ):
            raise ValueError(
                f"High-resolution feature {name} must have shape ({batch_size}, {num_frames}, C_{name}, "
                f"{scale * height}, {scale * width}), got {tuple(feature.shape)}."
            )
    if sparse_prompts.ndim == 4:
        sparse_prompts = sparse_prompts.unsqueeze(3)
    if sparse_prompts.ndim != 5 or sparse_prompts.shape[:2] != (batch_size, num_frames):
        raise ValueError(
            f"`sparse_prompts` must have shape ({batch_size}, {num_frames}, P, {channels}) or ({batch_size}, "
            f"{num_frames}, P, K, {channels}), got {tuple(sparse_prompts.shape)}."
        )
    if sparse_prompts.shape[-1] != channels:
        raise ValueError(f"`sparse_prompts` width {sparse_prompts.shape[-1]} differs from the image width {channels}.")
    if dense_prompts.shape != top.shape:
        raise ValueError(
            f"`dense_prompts` must have the image-embedding shape {tuple(top.shape)}, got {tuple(dense_prompts.shape)}."
        )
    return sparse_prompts


def _decode(
    sam2,
    image_embeddings: torch.Tensor,
    high_res: Sequence[torch.Tensor],
    sparse_prompts: torch.Tensor,
    dense_prompts: torch.Tensor,
    *,
    multimask_best_iou: bool,
    object_score_suppression: bool,
    object_score_threshold: float,
) -> tuple[TavisSam2DecoderOutput, torch.Tensor]:
    """Run `sam2.mask_decoder` on `(N, P)` prompts and select one mask per prompt.

    Shapes: `image_embeddings` and `dense_prompts` `(N, C, h, w)`, `high_res` `(N, C/8, 4h, 4w)` and
    `(N, C/4, 2h, 2w)`, `sparse_prompts` `(N, P, K, C)`. Returns the selection ([`TavisSam2DecoderOutput`] with
    `(N, P, ...)` fields) and the selected output tokens `(N, P, C)` (the object pointers are made from them).
    """
    num_items = image_embeddings.shape[0]
    positional = sam2.get_image_wide_positional_embeddings().repeat(num_items, 1, 1, 1)
    masks, iou_scores, tokens, object_score_logits = sam2.mask_decoder(
        image_embeddings=image_embeddings,
        image_positional_embeddings=positional,
        sparse_prompt_embeddings=sparse_prompts,
        dense_prompt_embeddings=dense_prompts,
        multimask_output=multimask_best_iou,
        high_resolution_features=list(high_res),
    )
    # masks (N, P, M, 4h, 4w), iou_scores (N, P, M), tokens (N, P, M, C), object_score_logits (N, P, 1)
    object_score_logits = object_score_logits.squeeze(-1)
    if object_score_suppression:
        appearing = (object_score_logits > object_score_threshold)[..., None, None, None]
        masks = torch.where(appearing, masks, torch.full_like(masks, NO_OBJECT_SCORE))
    best = iou_scores.argmax(-1)  # (N, P); 0 when a single mask is returned
    decoded = TavisSam2DecoderOutput(
        low_res_masks=masks.gather(2, best[..., None, None, None].expand(-1, -1, 1, *masks.shape[-2:])).squeeze(2),
        iou_scores=iou_scores.gather(2, best[..., None]).squeeze(2),
        object_score_logits=object_score_logits,
        best_mask_index=best,
    )
    return decoded, tokens.gather(2, best[..., None, None].expand(-1, -1, 1, tokens.shape[-1])).squeeze(2)


def decode_frames_independently(
    sam2,
    top: torch.Tensor,
    high_res: Sequence[torch.Tensor],
    sparse_prompts: torch.Tensor,
    dense_prompts: torch.Tensor,
    *,
    multimask_best_iou: bool = True,
    object_score_suppression: bool = False,
    object_score_threshold: float = 0.0,
) -> TavisSam2DecoderOutput:
    """Decode every frame on its own (no memory): `sam2.mask_decoder` on `top + no_memory_embedding + dense`.

    This is TAViS's inference path (and its `T = 1` training path): each frame is an initial conditioning frame.

    Args:
        sam2 (`Sam2VideoModel` or `Sam2Model`): supplies `mask_decoder`, `no_memory_embedding` and the dense
            positional encoding of the prompt grid.
        top (`torch.Tensor` of shape `(B, T, C, h, w)`): image embeddings without `no_memory_embedding`.
        high_res (`tuple` of `torch.Tensor`): `(s0 (B, T, C/8, 4h, 4w), s1 (B, T, C/4, 2h, 2w))` after
            `conv_s0` / `conv_s1`.
        sparse_prompts (`torch.Tensor` of shape `(B, T, P, C)` or `(B, T, P, K, C)`): one (or `K`) sparse tokens per
            prompt.
        dense_prompts (`torch.Tensor` of shape `(B, T, C, h, w)`): one dense prompt per frame, shared by its prompts.
        multimask_best_iou (`bool`, *optional*, defaults to `True`): decode the 3 multimask outputs and keep the one
            with the highest predicted IoU (TAViS); `False` uses the single-mask output (token 0, or the decoder's
            stability fallback in eval mode when its config enables it).
        object_score_suppression (`bool`, *optional*, defaults to `False`): stock SAM2 behaviour, overwriting the
            masks of prompts whose object-score logit is `<= object_score_threshold` with -1024 (TAViS: off).
        object_score_threshold (`float`, *optional*, defaults to 0.0): threshold used by `object_score_suppression`.

    Returns:
        [`TavisSam2DecoderOutput`] with `(B, T, P, ...)` fields.
    """
    sparse_prompts = _check_prompts(sparse_prompts, dense_prompts, top, high_res)
    batch_size, num_frames = top.shape[:2]
    pix = top.flatten(0, 1) + sam2.no_memory_embedding.view(1, -1, 1, 1)
    decoded, _ = _decode(
        sam2,
        pix,
        [feature.flatten(0, 1) for feature in high_res],
        sparse_prompts.flatten(0, 1),
        dense_prompts.flatten(0, 1),
        multimask_best_iou=multimask_best_iou,
        object_score_suppression=object_score_suppression,
        object_score_threshold=object_score_threshold,
    )
    return decoded.map(lambda value: value.view(batch_size, num_frames, *value.shape[1:]))


@dataclass
class _TrackingMemory:
    """What the frames tracked so far left for the next ones, per object (`B*P`, window-major): the spatial memory
    features `(h*w, B*P, 64)` (in the driver's `memory_dtype`) and their positions of every frame but the last, and
    the object pointers `(B*P, C)` of every frame."""

    features: list[torch.Tensor] = field(default_factory=list)
    positions: list[torch.Tensor] = field(default_factory=list)
    pointers: list[torch.Tensor] = field(default_factory=list)


def _per_object(frame_tensor: torch.Tensor, num_prompts: int) -> torch.Tensor:
    """(B, ...) frame tensor -> (B*P, ...) object tensor (objects ordered window-major)."""
    return frame_tensor.repeat_interleave(num_prompts, dim=0)


class TavisSam2TrackingDriver:
    """Differentiable SAM2 video tracking of `P` prompted objects per window over `T` frames (TAViS MS3 training,
    `temporal="tracking"`).

    Per window and prompt (one "object"), following SAM2's tracking step as implemented in transformers'
    `Sam2VideoModel` (and the SAM 2.0 code TAViS forks):

    1. Frame 0 is the initial conditioning frame: `pix = top + no_memory_embedding`.
    2. Frame `t > 0`: `pix = memory_attention(top, memory)` over the frame-0 memory (temporal encoding index
       `num_maskmem - 1`), the memories of the previous non-conditioning frames `t - k` (`k = 1 .. num_maskmem - 1`,
       `t - k >= 1`, encoding index `k - 1`) and the object pointers of frame 0 and of frames `t - 1, t - 2, ...`
       (at most `min(T, max_object_pointers_in_encoder)`), each pointer split into `C / 64` tokens. Pointer temporal
       encoding: zero for SAM 2.0 (TAViS); a projected 1-D sine encoding of the normalised frame distance when
       `sam2.config.enable_temporal_pos_encoding_for_object_pointers` (SAM 2.1).
    3. Decode with the frame's own sparse/dense prompts (`sam2.mask_decoder`), select the best-IoU multimask output.
    4. Object pointer `a * object_pointer_proj(token) + (1 - a) * no_object_pointer` with the hard gate
       `a = [object score logit > object_pointer_threshold]`.
    5. Memory: the selected low-res mask, bilinearly upsampled to `image_size`, through a sigmoid (or binarised on
       the conditioning frame in eval mode), times `sigmoid_scale_for_mem_enc` plus `sigmoid_bias_for_mem_enc`
       (20 and -10), into `memory_encoder` with the raw (not memory-conditioned) `top` features. SAM 2.1 configs
       (`enable_occlusion_spatial_embedding`) add `occlusion_spatial_embedding_parameter` where the object is judged
       absent (same gate as the pointer).

    Nothing is detached: gradients flow across frames through memories and pointers. Memory-attention dropout
    follows `sam2.training`.

    Args:
        sam2 (`Sam2VideoModel`): the model whose submodules are used (not copied: training updates `sam2`).
        multimask_best_iou (`bool`, *optional*, defaults to `True`): see [`decode_frames_independently`].
        object_pointer_threshold (`float`, *optional*, defaults to -2.0): object-score logit above which the object
            counts as present, for the pointer gate, the optional suppression and the 2.1 occlusion embedding
            (TAViS: -2.0; stock SAM2: 0.0).
        object_score_suppression (`bool`, *optional*, defaults to `False`): overwrite the masks of absent objects with
            -1024 (stock SAM2: `True`; TAViS: `False`).
        binarize_conditioning_memory_in_eval (`bool`, *optional*, defaults to `True`): in eval mode, encode the
            conditioning frame's memory from the binarised mask (`logit > 0`) instead of its sigmoid (stock SAM2
            video inference for prompted frames; training always uses the sigmoid).
        memory_dtype (`torch.dtype`, *optional*): storage dtype of the memory features between frames; `None` keeps
            the feature dtype (fp32). `torch.bfloat16` reproduces the released code's (and transformers') bf16
            storage; stored memories are cast back to the feature dtype when read.
    """

    def __init__(
        self,
        sam2,
        *,
        multimask_best_iou: bool = True,
        object_pointer_threshold: float = -2.0,
        object_score_suppression: bool = False,
        binarize_conditioning_memory_in_eval: bool = True,
        memory_dtype: torch.dtype | None = None,
    ):
        for name in (
            "memory_attention",
            "memory_encoder",
            "object_pointer_proj",
            "memory_temporal_positional_encoding",
        ):
            if not hasattr(sam2, name):
                raise TypeError(f"`sam2` must be a transformers Sam2VideoModel (missing `{name}`), got {type(sam2)}.")
        if memory_dtype is not None and not isinstance(memory_dtype, torch.dtype):
            raise TypeError(f"`memory_dtype` must be a torch.dtype or None, got {memory_dtype!r}.")
        self.sam2 = sam2
        self.multimask_best_iou = multimask_best_iou
        self.object_pointer_threshold = object_pointer_threshold
        self.object_score_suppression = object_score_suppression
        self.binarize_conditioning_memory_in_eval = binarize_conditioning_memory_in_eval
        self.memory_dtype = memory_dtype

    def __call__(
        self,
        *,
        vision_features: TavisSam2WindowFeatures | Sequence,
        sparse_prompts: torch.Tensor,
        dense_prompts: torch.Tensor,
        image_size: int,
    ) -> TavisSam2DecoderOutput:
        """Track the prompts of every window through its frames.

        Args:
            vision_features ([`TavisSam2WindowFeatures`] or a 3-tuple `(top, top_position, (s0, s1))`): the window's
                image features, see [`TavisSam2WindowFeatures`] and [`window_features_from_image_outputs`].
            sparse_prompts (`torch.Tensor` of shape `(B, T, P, C)` or `(B, T, P, K, C)`): per-frame sparse prompts.
            dense_prompts (`torch.Tensor` of shape `(B, T, C, h, w)`): per-frame dense prompts (shared by the
                frame's prompts).
            image_size (`int`): input image size in pixels; masks are upsampled to it for the memory encoder and it
                must equal `h * mask_downsampler_total_stride` (16).

        Returns:
            [`TavisSam2DecoderOutput`] with `(B, T, P, ...)` fields.
        """
        features = TavisSam2WindowFeatures(*vision_features)
        sparse_prompts = self._check_window(features, sparse_prompts, dense_prompts, image_size)
        memory = _TrackingMemory()
        frames = [
            self._track_frame(frame, features, sparse_prompts, dense_prompts, image_size, memory)
            for frame in range(features.top.shape[1])
        ]
        batch_size, num_frames, num_prompts = sparse_prompts.shape[:3]

        def window_layout(name: str) -> torch.Tensor:
            stacked = torch.stack([getattr(frame, name) for frame in frames], dim=1)  # (B*P, T, ...)
            stacked = stacked.view(batch_size, num_prompts, num_frames, *stacked.shape[2:]).transpose(1, 2)
            return stacked.contiguous()

        return TavisSam2DecoderOutput(**{name: window_layout(name) for name in frames[0].keys()})

    def _check_window(self, features: TavisSam2WindowFeatures, sparse_prompts, dense_prompts, image_size):
        """Validate the window's inputs; return the sparse prompts as `(B, T, P, K, C)`."""
        top, top_position, high_res = features
        sparse_prompts = _check_prompts(sparse_prompts, dense_prompts, top, high_res)
        if top_position.shape != top.shape:
            raise ValueError(
                f"`top_position` must have the shape of `top` {tuple(top.shape)}, got {tuple(top_position.shape)}."
            )
        height, width = top.shape[-2:]
        stride = self.sam2.config.mask_downsampler_total_stride
        if image_size != height * stride or height != width:
            raise ValueError(
                f"`image_size` {image_size} is inconsistent with the {height}x{width} image embedding (expected a "
                f"square grid and image_size = {stride} * {height})."
            )
        return sparse_prompts

    def _track_frame(
        self, frame, features: TavisSam2WindowFeatures, sparse_prompts, dense_prompts, image_size, memory
    ) -> TavisSam2DecoderOutput:
        """Decode frame `frame` of every object (`(B*P, ...)` fields) and leave its pointer (and, but on the last
        frame, its memory) in `memory`."""
        sam2 = self.sam2
        top, top_position, high_res = features
        batch_size, num_frames, num_prompts, num_tokens, channels = sparse_prompts.shape
        top_frame = _per_object(top[:, frame], num_prompts)
        if frame == 0:
            pix = top_frame + sam2.no_memory_embedding.view(1, -1, 1, 1)
        else:
            position = _per_object(top_position[:, frame], num_prompts)
            pix = self._attend_to_memory(frame, num_frames, top_frame, position, memory)
        decoded, tokens = _decode(
            sam2,
            pix,
            [_per_object(feature[:, frame], num_prompts) for feature in high_res],
            sparse_prompts[:, frame].reshape(batch_size * num_prompts, 1, num_tokens, channels),
            _per_object(dense_prompts[:, frame], num_prompts),
            multimask_best_iou=self.multimask_best_iou,
            object_score_suppression=self.object_score_suppression,
            object_score_threshold=self.object_pointer_threshold,
        )
        decoded = decoded.map(lambda value: value.squeeze(1))  # drop the point-batch axis of size 1
        appearing = (decoded.object_score_logits > self.object_pointer_threshold).to(top.dtype)[:, None]
        pointer = sam2.object_pointer_proj(tokens.squeeze(1))
        memory.pointers.append(appearing * pointer + (1 - appearing) * sam2.no_object_pointer)
        if frame < num_frames - 1:  # the last frame's memory would never be read
            encoded, positions = self._encode_memory(frame, top_frame, decoded.low_res_masks, appearing, image_size)
            memory.features.append(encoded)
            memory.positions.append(positions)
        return decoded

    def _encode_memory(self, frame, top_frame, low_res_masks, appearing, image_size):
        """Memory of one frame for all objects: `(h*w, B*P, 64)` features (in `memory_dtype`) and positions."""
        sam2, config = self.sam2, self.sam2.config
        masks = F.interpolate(
            low_res_masks.unsqueeze(1).float(), size=(image_size, image_size), mode="bilinear", align_corners=False
        ).to(low_res_masks.dtype)
        if frame == 0 and self.binarize_conditioning_memory_in_eval and not sam2.training:
            masks = (masks > 0).to(masks.dtype)
        else:
            masks = masks.sigmoid()
        masks = masks * config.sigmoid_scale_for_mem_enc + config.sigmoid_bias_for_mem_enc
        features, positions = sam2.memory_encoder(top_frame, masks)
        if sam2.occlusion_spatial_embedding_parameter is not None:
            features = (
                features
                + (1 - appearing)[..., None, None] * sam2.occlusion_spatial_embedding_parameter[..., None, None]
            )
        features = features.flatten(2).permute(2, 0, 1)
        if self.memory_dtype is not None:
            features = features.to(self.memory_dtype)
        return features, positions.flatten(2).permute(2, 0, 1).to(top_frame.dtype)

    def _attend_to_memory(self, frame, num_frames, top_frame, top_position_frame, memory: _TrackingMemory):
        """Memory-conditioned image embedding `(B*P, C, h, w)` of frame `frame > 0`."""
        sam2 = self.sam2
        num_objects, channels, height, width = top_frame.shape
        dtype = top_frame.dtype
        temporal_encoding = sam2.memory_temporal_positional_encoding  # (num_maskmem, 1, 1, 64)
        num_maskmem = temporal_encoding.shape[0]

        # spatial memories: the conditioning frame 0, then frames t-(num_maskmem-1) .. t-1 (oldest first, >= 1)
        selected = [(0, num_maskmem - 1)]
        selected += [(frame - k, k - 1) for k in range(num_maskmem - 1, 0, -1) if frame - k >= 1]
        spatial = [memory.features[source].to(dtype) for source, _ in selected]
        spatial_position = [memory.positions[source] + temporal_encoding[index] for source, index in selected]
        pointer_tokens, pointer_position = self._pointer_tokens(frame, num_frames, top_frame, memory, spatial[0])

        conditioned = sam2.memory_attention(
            current_vision_features=top_frame.flatten(2).permute(2, 0, 1),
            current_vision_position_embeddings=top_position_frame.flatten(2).permute(2, 0, 1),
            memory=torch.cat(spatial + [pointer_tokens], dim=0),
            memory_posision_embeddings=torch.cat(spatial_position + [pointer_position], dim=0),  # sic (transformers)
            num_object_pointer_tokens=pointer_tokens.shape[0],
        )  # (1, B*P, h*w, C)
        return conditioned.squeeze(0).transpose(1, 2).reshape(num_objects, channels, height, width)

    def _pointer_tokens(self, frame, num_frames, top_frame, memory: _TrackingMemory, spatial_memory):
        """Object-pointer memory tokens of frame `frame > 0` and their positions, `(n, B*P, 64)` each: the pointers
        of frame 0, then of frames t-1, t-2, ... (at most min(T, max_object_pointers_in_encoder)), each split into
        `C / 64` tokens."""
        sam2, config = self.sam2, self.sam2.config
        num_objects, channels = top_frame.shape[:2]
        max_pointers = min(num_frames, config.max_object_pointers_in_encoder)
        offsets = [frame] + [d for d in range(1, max_pointers) if frame - d >= 1]
        pointers = memory.pointers
        pointer_tokens = torch.stack([pointers[0]] + [pointers[frame - d] for d in offsets[1:]], dim=0)
        memory_channels = spatial_memory.shape[-1]
        if config.enable_temporal_pos_encoding_for_object_pointers:
            normalized = torch.tensor(offsets, device=top_frame.device, dtype=torch.float32) / (max_pointers - 1)
            sine = get_1d_sine_pe(normalized, dim=channels).to(top_frame.dtype)
            pointer_position = sam2.temporal_positional_encoding_projection_layer(sine)
            pointer_position = pointer_position.unsqueeze(1).expand(-1, num_objects, memory_channels)
        else:
            pointer_position = pointer_tokens.new_zeros(len(offsets), num_objects, memory_channels)
        if memory_channels < channels:
            splits = channels // memory_channels
            pointer_tokens = pointer_tokens.reshape(len(offsets), num_objects, splits, memory_channels)
            pointer_tokens = pointer_tokens.permute(0, 2, 1, 3).flatten(0, 1)
            pointer_position = pointer_position.repeat_interleave(splits, dim=0)
        return pointer_tokens, pointer_position
