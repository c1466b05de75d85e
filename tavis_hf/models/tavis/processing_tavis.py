"""Processor for TAViS: frames (two views), one ImageBind audio clip per frame, and tokenised class prompts."""

import math

import numpy as np
import torch
import torch.nn.functional as F
from transformers.feature_extraction_utils import BatchFeature
from transformers.processing_utils import ProcessorMixin

from ..imagebind.tokenization_imagebind import tokenize_imagebind

__all__ = ["TavisProcessor"]


def _is_video(value) -> bool:
    """One video = a (T, H, W, 3) array/tensor or a list of frames (PIL images or (H, W, 3) arrays)."""
    if isinstance(value, (np.ndarray, torch.Tensor)):
        return value.ndim == 4
    return isinstance(value, (list, tuple)) and len(value) > 0 and not _is_video(value[0]) and not _is_batch(value[0])


def _is_batch(value) -> bool:
    if isinstance(value, (np.ndarray, torch.Tensor)):
        return value.ndim == 5
    return isinstance(value, (list, tuple)) and len(value) > 0 and all(_is_video(v) for v in value)


class TavisProcessor(ProcessorMixin):
    r"""Builds every input of [`TavisModel`] from video frames, their soundtrack and class names.

    Composes [`TavisImageProcessorPil`] (SAM2 and ImageBind views of each frame), [`ImageBindAudioFeatureExtractor`]
    (one 2-s log-mel clip per frame: `T` frames get `T` evenly spaced clips, frame `k` <-> clip `k`, the authors'
    sampler) and ImageBind's `CLIPTokenizer` (class prompts `prompt_template.format(label)`, ids as ImageBind's
    tokenizer: cleaned text, zero padding to 77).

    Args:
        image_processor ([`TavisImageProcessorPil`]): frame views.
        feature_extractor ([`ImageBindAudioFeatureExtractor`]): audio clips.
        tokenizer (`CLIPTokenizer`): ImageBind's BPE tokenizer.
        prompt_template (`str`, defaults to `"A {}"`): class prompt (`TavisConfig.prompt_template`).
    """

    def __init__(self, image_processor, feature_extractor, tokenizer, prompt_template: str = "A {}", **kwargs):
        if "{}" not in prompt_template:
            raise ValueError(f"prompt_template must contain '{{}}', got {prompt_template!r}")
        self.prompt_template = prompt_template
        super().__init__(image_processor, feature_extractor, tokenizer, **kwargs)

    @classmethod
    def from_tavis_config(cls, config, bpe_merges=(), **image_kwargs) -> "TavisProcessor":
        """The processor a [`TavisConfig`] expects: [`TavisImageProcessorPil.from_tavis_config`] (`image_kwargs`
        override), the ImageBind audio feature extractor, the ImageBind tokenizer built from `bpe_merges`
        ([`load_bpe_merges`]; none gives a byte-level tokenizer, enough for prompt ids in tests and timing) and
        `config.prompt_template`."""
        from ..imagebind import ImageBindAudioFeatureExtractor, build_imagebind_tokenizer
        from .image_processing_tavis import TavisImageProcessorPil

        return cls(
            TavisImageProcessorPil.from_tavis_config(config, **image_kwargs),
            ImageBindAudioFeatureExtractor(),
            build_imagebind_tokenizer(list(bpe_merges)),
            prompt_template=config.prompt_template,
        )

    def __call__(
        self,
        videos=None,
        audio=None,
        sampling_rate: int | None = None,
        text: list[str] | None = None,
        segmentation_maps=None,
        return_tensors: str | None = "pt",
    ) -> BatchFeature:
        r"""Prepare a video (or a batch of videos of equal length) for [`TavisModel`].

        Args:
            videos: one video — a `(T, H, W, 3)` uint8 array/tensor or a list of `T` frames (PIL images or `(H, W, 3)`
                uint8 arrays) — or a list of `B` such videos with the same `T`.
            audio: the soundtrack of each video: float waveform `(samples,)` or `(channels, samples)` in [-1, 1)
                covering the frames (a list of `B` waveforms for a batch). Frame `k` of `T` gets audio clip `k` of
                `T` evenly spaced 2-s clips. Only channel 0 is analysed (the authors' rule; mix down beforehand to use
                all channels).
            sampling_rate (`int`): rate of `audio` in Hz; rates other than 16 kHz are resampled with soxr.
            text (`list[str]`, *optional*): the class vocabulary, class 0 first (background), e.g.
                `list(config.id2label.values())`.
            segmentation_maps (*optional*): class-index maps `(H, W)` per frame, same nesting as `videos`.
            return_tensors (`str`, defaults to `"pt"`).

        Returns:
            [`BatchFeature`] with `pixel_values` `(B, T, 3, S, S)`, `imagebind_pixel_values` `(B, T, 3, s, s)`,
            `input_features` `(B, T, 1, 128, 204)`, and `class_input_ids` `(C, 77)` with `text`, `labels`
            `(B, T, S, S)` with segmentation maps.
        """
        data = {}
        if videos is not None:
            if _is_video(videos):
                videos, audio = [videos], None if audio is None else [audio]
                segmentation_maps = None if segmentation_maps is None else [segmentation_maps]
            elif not _is_batch(videos):
                shape = getattr(videos, "shape", None)
                got = type(videos).__name__ if shape is None else f"an array of shape {tuple(shape)}"
                raise TypeError(
                    f"videos must be a (T, H, W, 3) array, a list of frames, or a list of such videos; got {got}"
                )
            lengths = {len(video) for video in videos}
            if len(lengths) != 1:
                raise ValueError(f"all videos of a batch must have the same number of frames; got {sorted(lengths)}")
            num_frames = lengths.pop()
            frames = [frame for video in videos for frame in video]
            maps = None if segmentation_maps is None else [m for video_maps in segmentation_maps for m in video_maps]
            views = self.image_processor(frames, segmentation_maps=maps, return_tensors="pt")
            for key, value in views.items():
                data[key] = value.reshape(len(videos), num_frames, *value.shape[1:])
            if audio is None:
                raise ValueError("audio is required with videos: TAViS segments what sounds (one clip per frame)")
            if len(audio) != len(videos):
                raise ValueError(f"{len(audio)} audio waveforms for {len(videos)} videos")
            if sampling_rate is None:
                raise ValueError("pass sampling_rate, the rate of the audio in Hz")
            features = self.feature_extractor(
                list(audio), sampling_rate=sampling_rate, num_clips=num_frames, resample=True, return_tensors="pt"
            )
            data["input_features"] = features["input_features"]
        elif audio is not None or segmentation_maps is not None:
            raise ValueError("audio and segmentation_maps need the videos they belong to")
        if text is not None:
            data["class_input_ids"] = self.encode_labels(text)
        if not data:
            raise ValueError("nothing to process: pass videos (with audio) and/or text")
        return BatchFeature(data, tensor_type=return_tensors)

    def encode_labels(self, labels: list[str]) -> torch.LongTensor:
        """Class names -> `(C, 77)` token ids of `prompt_template.format(label)`."""
        if isinstance(labels, str) or not isinstance(labels, (list, tuple)) or not labels:
            raise TypeError(f"labels must be a non-empty list of class names; got {labels!r}")
        if not all(isinstance(label, str) and label.strip() for label in labels):
            raise TypeError(f"every label must be a non-empty string; got {labels!r}")
        return tokenize_imagebind(self.tokenizer, [self.prompt_template.format(label) for label in labels])

    @staticmethod
    def post_process_masks(
        mask_logits: torch.Tensor, original_size: tuple[int, int], threshold: float | None = 0.5
    ) -> torch.Tensor:
        """Mask logits `(..., S, S)` -> masks at the original frame size `(..., H, W)`.

        Logits are upsampled bilinearly (as SAM's post-processing does). With a `threshold` (a probability; the
        authors binarise at 0.5) the result is the boolean `sigmoid(logit) > threshold`, computed exactly as
        `logit > log(threshold / (1 - threshold))`; with `threshold=None` the upsampled logits are returned.
        """
        shape = mask_logits.shape
        flat = mask_logits.reshape(-1, 1, *shape[-2:]).float()
        upsampled = F.interpolate(flat, size=tuple(original_size), mode="bilinear", align_corners=False)
        upsampled = upsampled.reshape(*shape[:-2], *original_size)
        if threshold is None:
            return upsampled
        if not 0 < threshold < 1:
            raise ValueError(f"threshold must be a probability in (0, 1); got {threshold}")
        return upsampled > math.log(threshold / (1 - threshold))

    @staticmethod
    def post_process_semantic_masks(semantic_masks: torch.Tensor, original_size: tuple[int, int]) -> torch.Tensor:
        """Class-index maps `(..., S, S)` -> `(..., H, W)` with NEAREST resizing."""
        shape = semantic_masks.shape
        flat = semantic_masks.reshape(-1, 1, *shape[-2:]).float()
        resized = F.interpolate(flat, size=tuple(original_size), mode="nearest")
        return resized.reshape(*shape[:-2], *original_size).long()
