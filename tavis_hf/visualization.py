"""Drawing segmentation results: a colour per label, masks and labels blended onto frames, overlay videos with sound.

The writers end the data flow (media -> processor -> model -> post-processing -> writers): they read decoded frames
(:mod:`tavis_hf.media`) and the pipeline's per-frame results, and write pictures or an mp4 through
:func:`tavis_hf.media.write_video`. An overlay video carries its source's own sound (the file's audio stream, copied
or re-encoded at its rate and channel layout; a dict input's waveform at its rate), and its labels are drawn in a
font that grows with the frame height (:func:`label_font_size`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Iterator, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .media import SAMPLING_RATE, write_video

Layer = tuple[str | None, float, np.ndarray]
"""One mask to draw: ``(label, score, mask)``; ``label`` None is the unlabelled sounding-object mask."""

PALETTE = np.array(
    [[230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200], [245, 130, 48], [145, 30, 180], [70, 240, 240],
     [240, 50, 230], [210, 245, 60], [250, 190, 212], [0, 128, 128], [220, 190, 255]],
    dtype=np.float32,
)  # fmt: skip
"""Overlay colours (RGB), cycled by label."""


def color_for(label: str | None, labels: Sequence[str | None]) -> np.ndarray:
    """Stable colour of ``label`` given the ordered label list of a video."""
    return PALETTE[list(labels).index(label) % len(PALETTE)] if label in labels else PALETTE[0]


LABEL_FONT_SIZE = 10
"""Size (px) of the label font on frames up to :data:`LABEL_SCALE_HEIGHT` pixels high."""
LABEL_SCALE_HEIGHT = 360
"""Frame height (px) above which the labels (font, swatch, line spacing) grow in proportion to the frame height."""


def label_font_size(height: int) -> int:
    """Font size (px) of the labels on a frame ``height`` pixels high: :data:`LABEL_FONT_SIZE` up to
    :data:`LABEL_SCALE_HEIGHT`, in proportion above (30 px on 1080p)."""
    return max(LABEL_FONT_SIZE, round(LABEL_FONT_SIZE * height / LABEL_SCALE_HEIGHT))


def draw_overlay(frame: np.ndarray, layers: Sequence[Layer], labels: Sequence[str | None], alpha=0.5) -> np.ndarray:
    """Blend coloured masks and their labels onto an RGB frame.

    Args:
        frame (`np.ndarray` of shape `(H, W, 3)`, uint8): the frame.
        layers: ``(label, score, mask)`` triples; ``mask`` is a bool/uint8 array of any size (NEAREST-resized).
        labels: all labels of the video, fixing each label's colour.
        alpha (`float`): mask opacity.
    """
    height, width = frame.shape[:2]
    out = frame.astype(np.float32)
    image_layers = []
    for label, score, mask in layers:
        mask = np.asarray(mask)
        if mask.shape != (height, width):
            mask = np.asarray(Image.fromarray(mask.astype(np.uint8) * 255).resize((width, height), Image.NEAREST))
        mask = mask > 0
        color = color_for(label, labels)
        out[mask] = (1 - alpha) * out[mask] + alpha * color
        image_layers.append((label, score, mask, color))
    image = Image.fromarray(out.clip(0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    size = label_font_size(height)
    font = ImageFont.load_default(size=size)
    unit = size / LABEL_FONT_SIZE  # the legend's layout at 10 px, scaled
    margin, swatch, line = round(4 * unit), round(8 * unit), round(12 * unit)
    y = margin
    for label, score, mask, color in image_layers:
        if not mask.any():
            continue
        text = f"{label if label is not None else 'sounding'} {score:.2f}"
        draw.rectangle([margin, y, margin + swatch, y + swatch], fill=tuple(int(c) for c in color))
        draw.text((2 * margin + swatch, y - round(2 * unit)), text, fill=(255, 255, 255), font=font)
        y += line
    return np.asarray(image)


def write_overlay_video(
    path: str | os.PathLike,
    frames: Iterable[tuple[float, np.ndarray]],
    layers_at: Callable[[float], Sequence[Layer]],
    labels: Sequence[str | None],
    fps: float,
    audio: np.ndarray | None = None,
    sampling_rate: int = SAMPLING_RATE,
    audio_from: str | os.PathLike | None = None,
) -> str:
    """Write an H.264/AAC mp4 of frames with coloured masks and labels, the audio muxed back.

    Args:
        path: output ``.mp4`` path.
        frames: ``(time_s, (H, W, 3) uint8)`` pairs in display order (e.g. :meth:`VideoFile.iter_frames`), consumed
            one at a time.
        layers_at (callable): ``layers_at(time_s) -> [(label, score, mask), ...]`` for the frame at ``time_s``.
        labels: all labels, fixing the colours.
        fps (`float`): output frame rate.
        audio, sampling_rate, audio_from: the soundtrack, as :func:`~tavis_hf.media.write_video` takes it: a waveform
            (`(N,)` or `(channels, N)`) at ``sampling_rate``, or a media file whose audio stream is copied (e.g. a
            source's ``original_sound()``).
    """
    drawn = (draw_overlay(frame, layers_at(t), labels) for t, frame in frames)
    return write_video(path, drawn, fps, audio=audio, sampling_rate=sampling_rate, audio_from=audio_from)


def result_labels(results: Sequence[dict]) -> list[str | None]:
    """The labels of the segments in a video's per-frame results, sorted (None first): the colour order."""
    return sorted({s["label"] for f in results for s in f["segments"]}, key=str)


def result_layers(result: dict) -> list[Layer]:
    """The layers to draw for one per-frame result (its segments)."""
    return [(s["label"], s["score"], np.asarray(s["mask"]) > 0) for s in result["segments"]]


def write_results_overlay(path: str | os.PathLike, video, results: Sequence[dict], sample_fps: float) -> str:
    """Write the per-frame results of a video over the whole video at its own frame rate and frame size, with its own
    sound (:meth:`~tavis_hf.media.VideoFile.original_sound`).

    Args:
        path: output ``.mp4`` path.
        video: the opened source (:class:`~tavis_hf.media.VideoFile` or :class:`~tavis_hf.media.VideoArrays`); masks of
            another size than its frames are resized (NEAREST).
        results: the pipeline's results for it (one dict per sampled frame, in order).
        sample_fps (`float`): the rate the results were sampled at; each frame of the video shows the result of the
            sampling interval it falls in.
    """
    labels = result_labels(results)
    layers = [result_layers(result) for result in results]

    def layers_at(t: float) -> list[Layer]:
        return layers[min(max(int(math.floor(t * sample_fps)), 0), len(layers) - 1)]

    frames: Iterator[tuple[float, np.ndarray]] = video.iter_frames()
    return write_overlay_video(path, frames, layers_at, labels, video.info.video_fps, **video.original_sound())


__all__ = [
    "LABEL_FONT_SIZE",
    "LABEL_SCALE_HEIGHT",
    "PALETTE",
    "color_for",
    "draw_overlay",
    "label_font_size",
    "result_labels",
    "result_layers",
    "write_overlay_video",
    "write_results_overlay",
]
