"""How a video is sampled: frames per second, the frame's place in its interval, processing windows.

The rules (see :mod:`tavis_hf.media`): frame ``k`` is the frame displayed at ``(k + frame_offset) / fps`` seconds,
clamped to the last frame of the stream; a video of ``D`` seconds gives ``ceil(D * fps)`` frames; frames are grouped
into windows of ``round(window_seconds * fps)`` frames, window ``w`` owning the audio from ``w * F / fps`` to
``(w + 1) * F / fps`` seconds (cut where the decoded audio stream ends); frame ``k`` has sound when the decoded audio
reaches at least :data:`MIN_SOUND_SAMPLES` past the start of its interval, ``k / fps``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

SAMPLING_RATE = 16000
"""Audio sample rate (Hz) of every decoded waveform (ImageBind's audio front end)."""
DEFAULT_FPS = 1.0
"""Frames per second sampled by default (AVSBench: one frame per second)."""
WINDOW_SECONDS = 5.0
"""Length of a processing window (AVSBench videos are 5 s long)."""
AVSBENCH_FRAME_OFFSET = 15 / 16
"""Position of a sampled frame inside its interval, in intervals (AVSBench keeps frame 15 of 16 in each second)."""
MIN_SOUND_SAMPLES = 400
"""One 25-ms fbank frame at 16 kHz: the shortest clip ImageBind's audio front end accepts, and the least audio a sampled
frame needs past the start of its interval to count as having sound (less is container rounding, not sound)."""
MAX_FRAME_SIZE = 1024
"""Frames whose long side exceeds this many pixels are downscaled while decoding."""


@dataclass
class FrameSampling:
    """Frame sampling plan of a video (see the module docstring for the rules)."""

    fps: float = DEFAULT_FPS
    window_seconds: float = WINDOW_SECONDS
    frame_offset: float = AVSBENCH_FRAME_OFFSET
    frames_per_window: int = field(init=False)

    def __post_init__(self):
        if not (isinstance(self.fps, (int, float)) and self.fps > 0 and math.isfinite(self.fps)):
            raise ValueError(f"fps must be a positive number, got {self.fps!r}")
        if not self.window_seconds > 0:
            raise ValueError(f"window_seconds must be positive, got {self.window_seconds!r}")
        if not 0 <= self.frame_offset <= 1:
            raise ValueError(
                f"frame_offset must be in [0, 1] (a fraction of the frame interval), got {self.frame_offset}"
            )
        self.frames_per_window = max(1, round(self.window_seconds * self.fps))

    def num_frames(self, duration: float) -> int:
        """Number of sampled frames of a video of ``duration`` seconds: one per started interval."""
        # A tolerance of 1 ms absorbs container rounding (a 5.0004-s file is a 5-s video).
        return max(1, math.ceil(duration * self.fps - 1e-3))

    def timestamps(self, duration: float, last_frame_time: float) -> list[float]:
        """Display times (s) of all sampled frames, clamped to ``last_frame_time``."""
        return [min((k + self.frame_offset) / self.fps, last_frame_time) for k in range(self.num_frames(duration))]

    def window_span(self, window_index: int) -> tuple[float, float]:
        """Audio span (s) of window ``window_index``; the decoder cuts it where the audio stream ends."""
        start = window_index * self.frames_per_window / self.fps
        return start, (window_index + 1) * self.frames_per_window / self.fps

    def windows(self, num_frames: int) -> Iterator[tuple[list[int], float, float]]:
        """The processing windows of ``num_frames`` sampled frames: ``(frame indices, audio start s, audio end s)``."""
        for w, first in enumerate(range(0, num_frames, self.frames_per_window)):
            indices = list(range(first, min(first + self.frames_per_window, num_frames)))
            yield (indices, *self.window_span(w))

    def frames_with_sound(self, frame_indices: list[int], start: float, num_samples: int) -> list[bool]:
        """Whether each of ``frame_indices`` has sound, given the ``num_samples`` 16-kHz samples decoded from ``start``
        seconds (a window's audio): frame ``k`` has sound when they reach at least :data:`MIN_SOUND_SAMPLES` past
        ``k / fps``, the start of its interval."""
        end = round(start * SAMPLING_RATE) + num_samples
        return [end - round(k / self.fps * SAMPLING_RATE) >= MIN_SOUND_SAMPLES for k in frame_indices]
