"""Writing videos: RGB frames and a soundtrack into an H.264/AAC mp4 (PyAV, the ``video`` extra).

The soundtrack is either a waveform (mono or multi-channel, at its own rate) or the audio stream of another media file,
copied as it is when mp4 carries its codec and re-encoded to AAC at its own sample rate and channel layout otherwise:
what an overlay needs to keep the source's own sound.
"""

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
MP4_AUDIO_CODECS = frozenset({"aac", "mp3", "ac3", "eac3", "alac"})
"""Audio codecs an mp4 carries as they are (FFmpeg's mp4 muxer, without experimental flags): copied, not re-encoded."""
AAC_SAMPLE_RATES = frozenset({7350, 8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200, 96000})
"""The sample rates AAC can encode; a waveform at another rate is resampled to 48 kHz."""


def write_video(
    path: str | os.PathLike,
    frames: Iterable[np.ndarray],
    fps: float,
    audio: np.ndarray | None = None,
    sampling_rate: int = SAMPLING_RATE,
    audio_from: str | os.PathLike | None = None,
) -> str:
    """Write an H.264 (yuv420p) mp4 of ``frames`` at ``fps``, with a soundtrack from ``audio`` or ``audio_from``.

    Args:
        path: output ``.mp4`` path (parent folders are created).
        frames: ``(H, W, 3)`` uint8 RGB frames in display order, consumed one at a time; an odd width or height is
            cropped by one pixel (yuv420p needs even sizes).
        fps (`float`): frame rate.
        audio (`np.ndarray` of shape `(N,)` or `(channels, N)`, float32, *optional*): soundtrack from time 0, encoded
            as AAC with its channels at ``sampling_rate`` (a rate AAC cannot encode is resampled to 48 kHz).
        sampling_rate (`int`): rate of ``audio`` in Hz.
        audio_from (`str` or `os.PathLike`, *optional*): a media file whose first audio stream becomes the soundtrack,
            with its own timestamps: copied when its codec is one of :data:`MP4_AUDIO_CODECS`, else re-encoded to AAC
            at its sample rate and channel layout. Not with ``audio``.

    Returns:
        `str`: ``path``.

    Raises:
        MediaError: ``frames`` is empty.
        ValueError: both ``audio`` and ``audio_from`` are given.
    """
    import av

    if audio is not None and audio_from is not None:
        raise ValueError("give the soundtrack as `audio` or as `audio_from`, not both")
    path = os.fspath(path)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with av.open(path, mode="w") as container:
        source = av.open(os.fspath(audio_from)) if audio_from is not None else None
        try:
            add_audio = _source_audio_writer(container, source) if source is not None else None
            if audio is not None and np.size(audio):
                add_audio = _waveform_writer(container, audio, sampling_rate)
            vstream = _encode_frames(container, frames, Fraction(fps).limit_denominator(1001))
            if vstream is None:
                raise MediaError(f"no frames to write to the video {path!r}")
            if add_audio is not None:
                add_audio()
        finally:
            if source is not None:
                source.close()
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


def _layout_name(channels: int) -> str:
    """FFmpeg's usual channel layout of ``channels`` channels (what AAC encodes)."""
    return {1: "mono", 2: "stereo", 3: "3.0", 4: "quad", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}.get(
        channels, f"{channels} channels"
    )


def _waveform_writer(container, audio: np.ndarray, sampling_rate: int):
    """Add an AAC stream for the waveform ``audio`` (its channels, at ``sampling_rate``); return what encodes it."""
    import av

    samples = np.atleast_2d(np.asarray(audio, dtype=np.float32))
    if sampling_rate not in AAC_SAMPLE_RATES:
        import soxr

        samples = soxr.resample(samples.T, sampling_rate, 48000, quality="HQ").T.astype(np.float32)
        sampling_rate = 48000
    layout = _layout_name(samples.shape[0])
    astream = container.add_stream("aac", rate=sampling_rate, layout=layout)

    def encode():
        for start in range(0, samples.shape[1], _AUDIO_BLOCK):
            block = np.ascontiguousarray(samples[:, start : start + _AUDIO_BLOCK])
            aframe = av.AudioFrame.from_ndarray(block, format="fltp", layout=layout)
            aframe.sample_rate, aframe.pts = sampling_rate, start
            for packet in astream.encode(aframe):
                container.mux(packet)
        for packet in astream.encode():
            container.mux(packet)

    return encode


def _source_audio_writer(container, source):
    """Add a stream for the first audio stream of the open ``source`` container (a copy when mp4 carries its codec,
    else AAC at its rate and layout); return what muxes it, or None when ``source`` has no audio."""

    if not source.streams.audio:
        return None
    istream = source.streams.audio[0]
    if istream.codec_context.codec.canonical_name in MP4_AUDIO_CODECS:
        ostream = container.add_stream_from_template(istream)

        def copy():
            for packet in source.demux(istream):
                if packet.dts is not None:
                    packet.stream = ostream
                    container.mux(packet)

        return copy
    layout = istream.codec_context.layout.name
    if layout.endswith("channels"):  # channels in no stated order ("2 channels"): AAC needs a named layout
        layout = _layout_name(istream.codec_context.channels)
    ostream = container.add_stream("aac", rate=istream.codec_context.sample_rate, layout=layout)

    def reencode():
        for frame in source.decode(istream):
            frame.pts = None  # the encoder counts the samples from time 0
            for packet in ostream.encode(frame):
                container.mux(packet)
        for packet in ostream.encode():
            container.mux(packet)

    return reencode


__all__ = ["AAC_SAMPLE_RATES", "MP4_AUDIO_CODECS", "write_video"]
