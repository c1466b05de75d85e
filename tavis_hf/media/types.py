"""What media objects are: the error of unusable inputs, what a file contains, one processing window."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .sampling import SAMPLING_RATE


class MediaError(ValueError):
    """A media input cannot be used: missing stream, corrupt or non-media file, no frames, unreachable URL."""


def check_duration(name: str, duration: float, max_duration: float | None) -> None:
    """Raise a one-line :class:`MediaError` when a video of `duration` seconds (`name`, as the user gave it) is longer
    than `max_duration` (None: no limit)."""
    if max_duration is not None and duration > max_duration:
        raise MediaError(
            f"{name} is {duration:.1f} s long, over the limit of {max_duration:g} s; trim it (e.g. `ffmpeg -i in.mp4 "
            "-t 60 -c copy out.mp4`) or raise the limit (max_duration, --max-duration)"
        )


@dataclass
class MediaInfo:
    """What a media file contains.

    Attributes:
        duration (`float`): video duration in seconds.
        video_fps (`float`): average frame rate of the video stream.
        width, height (`int`): frame size in pixels as decoded (after the ``max_frame_size`` downscale).
        source_width, source_height (`int`): frame size stored in the file.
        audio_duration (`float`): audio stream duration in seconds as the container states it (AVI often states the
            container's instead); the windows and their ``has_audio`` flags go by the decoded audio, not by this.
        audio_sample_rate (`int`), audio_channels (`int`): the audio stream as stored in the file.
        backend (`str`): ``"torchcodec"``, ``"pyav"`` or ``"arrays"`` (:class:`~tavis_hf.media.VideoArrays`).
    """

    duration: float
    video_fps: float
    width: int
    height: int
    source_width: int
    source_height: int
    audio_duration: float
    audio_sample_rate: int
    audio_channels: int
    backend: str


@dataclass
class VideoWindow:
    """One processing window of a video.

    Attributes:
        frames (`np.ndarray` of shape `(T, H, W, 3)`, uint8): the sampled RGB frames.
        timestamps (`list[float]`): display time of each frame in seconds (after clamping to the stream).
        frame_indices (`list[int]`): index of each frame among all sampled frames of the video (0-based).
        audio (`np.ndarray` of shape `(N,)`, float32): mono 16-kHz audio of the window (shorter than its span where
            the audio stream ends).
        has_audio (`list[bool]`): whether each frame has sound: the audio reaches at least
            :data:`~tavis_hf.media.sampling.MIN_SOUND_SAMPLES` past the start of its interval ``k / fps``.
        start, end (`float`): the window's audio span in seconds.
        sampling_rate (`int`): always :data:`SAMPLING_RATE`.
    """

    frames: np.ndarray
    timestamps: list[float]
    frame_indices: list[int]
    audio: np.ndarray
    has_audio: list[bool]
    start: float
    end: float
    sampling_rate: int = SAMPLING_RATE


__all__ = ["MediaError", "MediaInfo", "VideoWindow", "check_duration"]
