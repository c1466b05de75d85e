"""`pipeline("audio-visual-segmentation")`: a video with sound -> per-frame masks of the sounding objects.

    >>> import tavis_hf
    >>> from transformers import pipeline
    >>> segmenter = pipeline("audio-visual-segmentation")  # the embedded default model; or model="path/to/tavis-model"
    >>> frames = segmenter("concert.mp4", labels=["man", "guitar", "piano"], mode="semantic")
    >>> frames[0]["timestamp"], frames[0]["score"], [s["label"] for s in frames[0]["segments"]]

Output: one dict per sampled frame (image-segmentation-like):
`{"frame_index": int, "timestamp": float (s), "mask": PIL.Image "L" (0/255, the sounding-object mask at the source
frame size), "score": float, "has_audio": bool, "segments": [{"label": str | None, "score": float, "mask":
PIL.Image "L"}, ...]}`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from transformers.pipelines.base import ChunkPipeline

from ..media import (
    AVSBENCH_FRAME_OFFSET,
    DEFAULT_FPS,
    MAX_FRAME_SIZE,
    MIN_SOUND_SAMPLES,
    SAMPLING_RATE,
    WINDOW_SECONDS,
    VideoArrays,
    VideoFile,
)
from ..models.tavis import canonical_temporal
from ..visualization import write_results_overlay

__all__ = ["CHUNK_METADATA_KEYS", "DEFAULT_MODEL_DIR", "AudioVisualSegmentationPipeline", "parse_labels"]

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent.parent / "checkpoints" / "tavis-tiny"
"""Where the package's default (trained tiny) model lives: ``tavis_hf/checkpoints/tavis-tiny`` (config,
safetensors weights and processor files). Used when no model is given to
:func:`tavis_hf.segmentation.segment_video` or to `pipeline("audio-visual-segmentation")` (the task's registered
default)."""

BACKGROUND = "background"
MODES = ("binary", "semantic", "instances")
CHUNK_METADATA_KEYS = ("frame_indices", "timestamps", "has_audio", "num_valid", "original_size", "is_last")
"""The keys of a `preprocess` chunk (and of its `forward` output) that are not tensors (see `preprocess`)."""


def parse_labels(labels) -> list[str] | None:
    """Candidate class names -> list of names (or `None` for the model's own vocabulary).

    Accepted: `None`, a list/tuple of non-empty strings, or one string of comma-separated names
    (`"dog, guitar"`). Anything else (a dict, numbers, an empty list, duplicates) is a `TypeError`/`ValueError`.
    """
    if labels is None:
        return None
    if isinstance(labels, str):
        labels = [part.strip() for part in labels.split(",")]
    if not isinstance(labels, (list, tuple)):
        raise TypeError(
            f"labels must be a list of class names or a comma-separated string; got {type(labels).__name__}"
        )
    if not labels:
        raise ValueError("labels is empty: give at least one class name")
    if not all(isinstance(label, str) and label.strip() for label in labels):
        raise TypeError(f"every label must be a non-empty string; got {list(labels)!r}")
    labels = [label.strip() for label in labels]
    if len(set(labels)) != len(labels):
        raise ValueError(f"labels contain duplicates: {labels}")
    return labels


class AudioVisualSegmentationPipeline(ChunkPipeline):
    r"""Audio-visual segmentation of videos with [`TavisModel`].

    Inputs (one or a list; a generator or `datasets.Dataset` is consumed lazily): a video file path, an `http(s)` URL,
    raw file bytes, or a dict `{"frames": (T, H, W, 3) uint8 or list of PIL images, "audio": (N,) or (channels, N)
    float waveform, "sampling_rate": int}` whose frames are taken as sampled at `fps`.

    Call parameters:
        labels (`list[str]` or comma-separated `str`, *optional*): candidate class names (open vocabulary); class 0
            "background" is prepended. Default: the model's `id2label`.
        mode (`str`, defaults to `"binary"`): `"binary"` (sounding-object mask, the S4/MS3 task; `segments` holds one
            unlabelled segment), `"semantic"` (class map from `TavisModel`'s AVSS assembly; one segment per class
            present) or `"instances"` (one segment per object query whose mask is not empty and whose best class is
            not background, restricted to the sounding-object mask).
        threshold (`float`, defaults to 0.5): probability threshold on the mask logits (the authors' 0.5).
        fps (`float`, defaults to 1.0): sampled frames per second (AVSBench: 1).
        temporal (`str`, defaults to `"per-frame"`): `"per-frame"` (frames independent, the authors' evaluation) or
            `"tracking"` (SAM2 memory over each window; a short last window is padded by repeating its last frame).
            `"clip"`, the former name of `"tracking"`, is accepted.
        window_seconds (`float`, defaults to 5.0), frame_offset (`float`, defaults to 15/16),
            max_frame_size (`int`, defaults to 1024): see [`tavis_hf.media.VideoFile`].
        output_video (`str` or list of `str`, *optional*): write an mp4 with coloured masks, labels and the audio
            (the video is decoded a second time at its own frame rate; a URL is fetched again).

    Scores: a mask's score is the mean foreground probability inside it (0 for an empty mask); a labelled segment's
    score multiplies it by the class probability (from `config.avss_class_source`: audio-to-text, image-to-text or
    their mean; the highest over the object queries for `"semantic"`).
    Masks are returned at the source frame size, the size stored in the file (a dict input: its frames' size), also
    when the frames were downscaled for the model while decoding (`max_frame_size`): the logits are upsampled
    bilinearly to it, then thresholded. An overlay (`output_video`) is drawn over the frames decoded at that size.
    Audio shorter than the video: a sampled frame whose interval `[k / fps, (k + 1) / fps)` starts at or after the
    end of the decoded audio (less than 25 ms of sound in it; see [`tavis_hf.media`]) has no sound. It is returned
    empty (an all-zero mask, score 0, no segments) with `"has_audio": False` (the model still runs on it, with the
    window's audio, so that chunks stay uniform, but its output is not used); every other frame has
    `"has_audio": True`. The rule reads the decoded audio, so every container of the same streams gives the same.
    Memory: windows are decoded and run one at a time; the model outputs kept until post-processing are the
    `S x S` logit maps of each sampled frame (~200 kB per frame at 224 px, times N+1 in `"instances"` mode).
    [`~AudioVisualSegmentationPipeline.iter_frame_results`] yields the results of one input window by window
    instead, keeping none of them.
    """

    _load_processor = True
    _load_image_processor = False
    _load_feature_extractor = False
    _load_tokenizer = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.processor is None:
            raise ValueError(
                "AudioVisualSegmentationPipeline needs a TavisProcessor: save it next to the model "
                "(processor.save_pretrained(model_dir)) or pass processor=..."
            )

    # --------------------------------------------------------------------------------------------- parameters
    def _sanitize_parameters(
        self,
        labels=None,
        mode=None,
        threshold=None,
        fps=None,
        temporal=None,
        window_seconds=None,
        frame_offset=None,
        max_frame_size=None,
        **kwargs,
    ):
        if kwargs:
            raise TypeError(f"unknown parameters for audio-visual-segmentation: {sorted(kwargs)}")
        preprocess, forward, postprocess = {}, {}, {}
        for name, value in (
            ("fps", fps),
            ("window_seconds", window_seconds),
            ("frame_offset", frame_offset),
            ("max_frame_size", max_frame_size),
        ):
            if value is not None:
                preprocess[name] = value
        if temporal is not None:
            preprocess["temporal"] = forward["temporal"] = canonical_temporal(temporal)
        if mode is not None:
            if mode not in MODES:
                raise ValueError(f"mode must be one of {MODES}; got {mode!r}")
            forward["mode"] = postprocess["mode"] = mode
        if threshold is not None:
            if not (isinstance(threshold, (int, float)) and 0 < threshold < 1):
                raise ValueError(f"threshold must be a probability in (0, 1); got {threshold!r}")
            postprocess["threshold"] = float(threshold)
        if labels is not None or mode is not None:
            vocabulary = self.vocabulary(labels)
            forward["class_input_ids"] = self.processor.encode_labels(vocabulary)
            postprocess["vocabulary"] = vocabulary
        return preprocess, forward, postprocess

    def vocabulary(self, labels=None) -> list[str]:
        """Class vocabulary for `labels` (see [`parse_labels`]): background first."""
        labels = parse_labels(labels)
        if labels is None:
            return [self.model.config.id2label[i] for i in range(len(self.model.config.id2label))]
        return labels if labels[0] == BACKGROUND else [BACKGROUND, *labels]

    def stage_parameters(self, **kwargs) -> tuple[dict, dict, dict]:
        """The keyword arguments of `preprocess`, `forward` (and [`forward_batch`]) and `postprocess` for the call
        parameters `kwargs` (see the class docstring), merged over the pipeline's own defaults: what a caller that
        drives the stages itself (e.g. [`tavis_hf.corpus`]) passes to each of them."""
        preprocess_params, forward_params, postprocess_params = self._sanitize_parameters(**kwargs)
        return (
            {**self._preprocess_params, **preprocess_params},
            {**self._forward_params, **forward_params},
            {**self._postprocess_params, **postprocess_params},
        )

    def forward_batch(self, chunks: list[dict], **forward_params) -> list[dict]:
        """Run the model once on several chunks from `preprocess` (of one or several inputs) and return one output
        per chunk, each as `forward` would return it for that chunk alone (within float rounding), for
        `postprocess`.

        The chunks' tensors are concatenated along the batch dimension, so they must have the same shape: the frames
        of per-frame chunks, or the windows of tracking chunks sampled with the same `fps` and `window_seconds`.
        """
        if not chunks:
            return []
        tensor_keys = [k for k, v in chunks[0].items() if isinstance(v, torch.Tensor)]
        batch = {**chunks[0], **{k: torch.cat([chunk[k] for chunk in chunks]) for k in tensor_keys}}
        outputs = self.forward(batch, **forward_params)
        sizes = [chunk[tensor_keys[0]].shape[0] for chunk in chunks]
        split = {k: v.split(sizes) for k, v in outputs.items() if isinstance(v, torch.Tensor)}
        return [
            {**{k: v for k, v in chunk.items() if k not in tensor_keys}, **{k: parts[i] for k, parts in split.items()}}
            for i, chunk in enumerate(chunks)
        ]

    def iter_frame_results(self, inputs, **kwargs) -> Iterator[dict]:
        """Segment one input and yield its per-frame results as they are produced, window by window.

        The same dicts, in the same order, as `self(inputs, **kwargs)` returns (see the class docstring for the
        inputs and the call parameters); each window is decoded, run and post-processed before the next one is read,
        so a caller can write or show results while the video is still being processed.
        """
        preprocess_params, forward_params, postprocess_params = self.stage_parameters(**kwargs)
        for model_inputs in self.preprocess(inputs, **preprocess_params):
            model_outputs = self.forward(model_inputs, **forward_params)
            yield from self.postprocess([model_outputs], **postprocess_params)

    def __call__(self, inputs, output_video=None, **kwargs):
        """Segment one input or a list of inputs (see the class docstring); `output_video` writes overlays."""
        results = super().__call__(inputs, **kwargs)
        if output_video is not None:
            if isinstance(inputs, list):
                if not isinstance(output_video, (list, tuple)) or len(output_video) != len(inputs):
                    raise ValueError("with a list of inputs, output_video must be a list of paths of the same length")
                for source, result, path in zip(inputs, results, output_video):
                    self.write_overlay(source, result, path, **kwargs)
            elif isinstance(inputs, (str, os.PathLike, bytes, bytearray, dict)):
                self.write_overlay(inputs, results, output_video, **kwargs)
            else:
                raise TypeError("output_video needs a single input or a list (not a generator or dataset)")
        return results

    def save_pretrained(self, save_directory, **kwargs):
        """Save the model and the [`TavisProcessor`] next to it, so that `pipeline("audio-visual-segmentation",
        model=save_directory)` reloads both after `import tavis_hf`. (`Pipeline.save_pretrained` skips a
        `ProcessorMixin`, and its remote-code export cannot copy this package's cross-folder imports.)"""
        os.makedirs(save_directory, exist_ok=True)
        self.model.save_pretrained(save_directory, **kwargs)
        self.processor.save_pretrained(save_directory)

    # ----------------------------------------------------------------------------------------------- stages
    def open_source(
        self,
        inputs,
        fps=DEFAULT_FPS,
        window_seconds=WINDOW_SECONDS,
        frame_offset=AVSBENCH_FRAME_OFFSET,
        max_frame_size=MAX_FRAME_SIZE,
    ):
        """A [`VideoFile`] (path, URL, bytes) or [`VideoArrays`] (dict) for one input."""
        if isinstance(inputs, dict):
            missing = {"frames", "audio", "sampling_rate"} - set(inputs)
            if missing:
                raise ValueError(
                    f"a dict input needs the keys 'frames', 'audio', 'sampling_rate'; missing {sorted(missing)}"
                )
            return VideoArrays(
                inputs["frames"], inputs["audio"], inputs["sampling_rate"], fps, window_seconds, frame_offset
            )
        if isinstance(inputs, (str, os.PathLike, bytes, bytearray)):
            return VideoFile(inputs, fps, window_seconds, frame_offset, max_frame_size)
        raise TypeError(
            "an input must be a video path, an http(s) URL, bytes, or a dict {'frames', 'audio', 'sampling_rate'}; "
            f"got {type(inputs).__name__}"
        )

    def preprocess(self, inputs, temporal="per-frame", **source_kwargs):
        """Decode `inputs` window by window and yield its chunks: one per frame (`"per-frame"`) or one per window
        (`"tracking"`), each a dict of

        - `pixel_values`, `imagebind_pixel_values`, `input_features`: the processor's tensors in the model's dtype,
          `(1, T, ...)` with `T` the chunk's frames (a tracking chunk of a short last window is padded to the window
          length by repeating its last frame);
        - `frame_indices`, `timestamps`, `has_audio` (`list`, one per valid frame): the frames' indices among all
          sampled frames, display times (s), and whether each has sound (see the class docstring);
        - `num_valid` (`int`): the chunk's frames that are not padding; `original_size` (`(height, width)`): the
          source frame size, the size of the post-processed masks; `is_last` (`bool`): the input's last chunk.

        `forward` returns the model's tensors with the same non-tensor keys ([`CHUNK_METADATA_KEYS`]); `postprocess`
        turns a list of them into per-frame results.
        """
        dtype = self.model.dtype
        with self.open_source(inputs, **source_kwargs) as video:
            size = (video.info.source_height, video.info.source_width)
            per_window = video.sampling.frames_per_window
            for window, last_window in _with_is_last(video.windows()):
                audio = window.audio
                if len(audio) < MIN_SOUND_SAMPLES:  # no frame of the window has sound: the model gets silence
                    audio = np.pad(audio, (0, MIN_SOUND_SAMPLES - len(audio)))
                features = self.processor(
                    videos=window.frames, audio=audio, sampling_rate=SAMPLING_RATE, return_tensors="pt"
                )
                tensors = {
                    k: features[k].to(dtype) for k in ("pixel_values", "imagebind_pixel_values", "input_features")
                }
                num = len(window.frame_indices)
                if temporal == "tracking":
                    pad = per_window - num  # repeat the last frame: SAM2 memory is causal, earlier frames unchanged
                    if pad:
                        tensors = {
                            k: torch.cat([v, v[:, -1:].expand(1, pad, *v.shape[2:])], 1) for k, v in tensors.items()
                        }
                    groups = [(slice(0, per_window), list(range(num)))]
                else:
                    groups = [(slice(i, i + 1), [i]) for i in range(num)]
                for g, (frames, kept) in enumerate(groups):
                    yield {
                        **{k: v[:, frames] for k, v in tensors.items()},
                        "frame_indices": [window.frame_indices[i] for i in kept],
                        "timestamps": [window.timestamps[i] for i in kept],
                        "has_audio": [window.has_audio[i] for i in kept],
                        "num_valid": len(kept),
                        "original_size": size,
                        "is_last": last_window and g == len(groups) - 1,
                    }

    def _forward(self, model_inputs, class_input_ids=None, temporal="per-frame", mode="binary"):
        meta = {k: model_inputs.pop(k) for k in CHUNK_METADATA_KEYS}
        outputs = self.model(
            **model_inputs, class_input_ids=class_input_ids if mode != "binary" else None, temporal=temporal
        )
        result = {"pred_masks": outputs.pred_masks}
        if mode != "binary":
            # per-query class distribution from the source the model's AVSS assembly uses (a2t, v2t or their mean)
            result["class_probs"] = outputs.class_probs
            key = "semantic_masks" if mode == "semantic" else "object_masks"
            result[key] = getattr(outputs, key)
        return {**result, **meta}

    def postprocess(self, all_outputs, mode="binary", threshold=0.5, vocabulary=None):
        """The per-frame results (see the module docstring) of a list of `forward` outputs, in order."""
        frames = []
        for chunk in all_outputs:
            size = tuple(chunk["original_size"])
            for i in range(chunk["num_valid"]):
                result = {
                    "frame_index": int(chunk["frame_indices"][i]),
                    "timestamp": float(chunk["timestamps"][i]),
                    "has_audio": bool(chunk["has_audio"][i]),
                }
                if result["has_audio"]:
                    out = {k: v[0, i] for k, v in chunk.items() if isinstance(v, torch.Tensor)}
                    result.update(self._frame_masks(out, size, mode, threshold, vocabulary))
                else:  # no sound: nothing sounds
                    result.update(mask=_to_pil(torch.zeros(size, dtype=torch.bool)), score=0.0, segments=[])
                frames.append(result)
        return frames

    def _frame_masks(self, out, size, mode, threshold, vocabulary) -> dict:
        """`mask`, `score` and `segments` of one frame from its model outputs `out`, at `size` (height, width)."""
        post = self.processor.post_process_masks
        logits = post(out["pred_masks"], size, threshold=None)
        mask, probs = logits > _logit(threshold), torch.sigmoid(logits)
        score = _mask_score(probs, mask)
        segments = []
        if mode == "binary":
            if mask.any():
                segments.append({"label": None, "score": score, "mask": _to_pil(mask)})
        elif mode == "semantic":
            semantic = self.processor.post_process_semantic_masks(out["semantic_masks"], size)
            class_probs = out["class_probs"]  # (N, C)
            for cls in semantic.unique().tolist():
                if cls == 0:
                    continue
                region = (semantic == cls) & mask  # the class map at frame size, inside the sounding mask
                segments.append(
                    {
                        "label": vocabulary[cls],
                        "score": float(class_probs[:, cls].max()) * _mask_score(probs, region),
                        "mask": _to_pil(region),
                    }
                )
        else:
            object_logits = post(out["object_masks"], size, threshold=None)  # (N, H, W)
            object_probs = torch.sigmoid(object_logits)
            class_probs = out["class_probs"]
            for q in range(object_probs.shape[0]):
                cls = int(class_probs[q].argmax())
                region = (object_logits[q] > _logit(threshold)) & mask
                if cls == 0 or not region.any():
                    continue
                segments.append(
                    {
                        "label": vocabulary[cls],
                        "score": float(class_probs[q, cls]) * _mask_score(object_probs[q], region),
                        "mask": _to_pil(region),
                    }
                )
        segments.sort(key=lambda s: -s["score"])
        return {"mask": _to_pil(mask), "score": score, "segments": segments}

    # ------------------------------------------------------------------------------------------------ overlay
    def write_overlay(self, source, frames: list[dict], path, fps=None, **_) -> str:
        """Write `frames` (this pipeline's output for `source`) over the video at its own frame rate and source frame
        size (decoded again without the `max_frame_size` downscale: the masks' size), with its own sound
        ([`tavis_hf.visualization.write_results_overlay`])."""
        sample_fps = DEFAULT_FPS if fps is None else fps
        with self.open_source(source, fps=sample_fps, max_frame_size=None) as video:
            return write_results_overlay(path, video, frames, sample_fps)


def _with_is_last(iterator):
    """Yield `(item, is_last)` pairs, reading one item ahead."""
    iterator = iter(iterator)
    previous = next(iterator, None)
    while previous is not None:
        current = next(iterator, None)
        yield previous, current is None
        previous = current


def _logit(probability: float) -> float:
    """Probability threshold -> logit threshold (exact comparison: sigmoid rounds to 0.5 near logit 0)."""
    return math.log(probability / (1 - probability))


def _mask_score(probs: torch.Tensor, mask: torch.Tensor) -> float:
    return float(probs[mask].mean()) if bool(mask.any()) else 0.0


def _to_pil(mask: torch.Tensor) -> Image.Image:
    return Image.fromarray(mask.numpy().astype(np.uint8) * 255, mode="L")
