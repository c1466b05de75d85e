"""Writing videos: RGB frames and a mono soundtrack into an H.264/AAC mp4 (PyAV, the ``video`` extra)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import numpy as np

from .sampling import SAMPLING_RATE
from .types import MediaError

_AUDIO_BLOCK = 1024 * 16
"""Samples per encoded audio frame handed to the AAC encoder."""


def write_video(
    path: str | os.PathLike,
    frames: Iterable[np.ndarray],
    fps: float,
    audio: np.ndarray | None = None,
    sampling_rate: int = SAMPLING_RATE,
) -> str:
    """Write an H.264 (yuv420p) mp4 of ``frames`` at ``fps``, with ``audio`` as an AAC mono track.

    Args:
        path: output ``.mp4`` path (parent folders are created).
        frames: ``(H, W, 3)`` uint8 RGB frames in display order, consumed one at a time; an odd width or height is
            cropped by one pixel (yuv420p needs even sizes).
        fps (`float`): frame rate.
        audio (`np.ndarray` of shape `(N,)`, float32, *optional*): mono soundtrack from time 0.
        sampling_rate (`int`): rate of ``audio`` in Hz.

    Returns:
        `str`: ``path``.

    Raises:
        MediaError: ``frames`` is empty.
    """
    import av

    path = os.fspath(path)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with av.open(path, mode="w") as container:
        astream = None
        if audio is not None and len(audio):
            astream = container.add_stream("aac", rate=sampling_rate, layout="mono")
        vstream = _encode_frames(container, frames, Fraction(fps).limit_denominator(1001))
        if vstream is None:
            raise MediaError(f"no frames to write to the video {path!r}")
        if astream is not None:
            _encode_audio(container, astream, audio, sampling_rate)
    return path


def _encode_frames(container, frames: Iterable[np.ndarray], rate: Fraction):
    """Encode and mux every frame (the video stream is added at the first frame, sized by it); the stream or None."""
    import av

    vstream = None
    for image in frames:
        if vstream is None:
            height, width = image.shape[:2]
            vstream = container.add_stream("libx264", rate=rate)
            vstream.width, vstream.height = width - width % 2, height - height % 2
            vstream.pix_fmt = "yuv420p"
        image = image[: vstream.height, : vstream.width]
        for packet in vstream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")):
            container.mux(packet)
    if vstream is not None:
        for packet in vstream.encode():
            container.mux(packet)
    return vstream


def _encode_audio(container, astream, audio: np.ndarray, sampling_rate: int) -> None:
    import av

    samples = np.asarray(audio, dtype=np.float32)
    for start in range(0, len(samples), _AUDIO_BLOCK):
        block = samples[start : start + _AUDIO_BLOCK][None]
        aframe = av.AudioFrame.from_ndarray(np.ascontiguousarray(block), format="flt", layout="mono")
        aframe.sample_rate = sampling_rate
        aframe.pts = start
        for packet in astream.encode(aframe):
            container.mux(packet)
    for packet in astream.encode():
        container.mux(packet)


__all__ = ["write_video"]
