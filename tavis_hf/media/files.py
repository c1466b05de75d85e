"""A video file with sound, decoded window by window (:class:`VideoFile`)."""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator

import numpy as np

from .backends import decoding_errors, open_reader
from .sampling import AVSBENCH_FRAME_OFFSET, DEFAULT_FPS, MAX_FRAME_SIZE, WINDOW_SECONDS, FrameSampling
from .sources import local_media_path
from .types import MediaError, MediaInfo, VideoWindow


class VideoFile:
    """A video file with sound, decoded window by window.

    Use as a context manager::

        with VideoFile("concert.mp4", fps=1.0) as video:
            print(video.info.duration, video.num_frames)
            for window in video.windows():
                ...  # window.frames (T,H,W,3) uint8, window.audio (N,) float32 at 16 kHz

    Args:
        source (`str`, `os.PathLike` or `bytes`): a file path, an ``http(s)`` URL or the file's bytes.
        fps (`float`, defaults to 1.0): sampled frames per second.
        window_seconds (`float`, defaults to 5.0): window length; windows hold ``round(window_seconds * fps)`` frames.
        frame_offset (`float`, defaults to 15/16): frame position inside its interval (AVSBench).
        max_frame_size (`int` or `None`, defaults to 1024): downscale frames whose long side is larger while decoding.
        backend (`str`, *optional*): ``"torchcodec"`` or ``"pyav"``; default: torchcodec, PyAV if it fails.

    Raises:
        MediaError: the file cannot be used (see :mod:`tavis_hf.media`); also from :meth:`windows` and
            :meth:`iter_frames` when a file that opens is damaged or cut short further in (the message names the file,
            the time reached and the fix).
    """

    def __init__(
        self,
        source: str | os.PathLike | bytes,
        fps: float = DEFAULT_FPS,
        window_seconds: float = WINDOW_SECONDS,
        frame_offset: float = AVSBENCH_FRAME_OFFSET,
        max_frame_size: int | None = MAX_FRAME_SIZE,
        backend: str | None = None,
    ):
        self.sampling = FrameSampling(fps=fps, window_seconds=window_seconds, frame_offset=frame_offset)
        self._stack = contextlib.ExitStack()
        try:
            self.path = self._stack.enter_context(local_media_path(source))
            self._reader = open_reader(self.path, max_frame_size, backend)
            self._stack.callback(self._reader.close)
        except BaseException:
            self._stack.close()
            raise
        r = self._reader
        if r.duration <= 0 or r.num_frames <= 0:
            self.close()
            raise MediaError(f"{self.path!r} has a zero-length video stream")
        self.info = MediaInfo(
            duration=r.duration,
            video_fps=r.video_fps,
            width=r.size[0],
            height=r.size[1],
            source_width=r.source_size[0],
            source_height=r.source_size[1],
            audio_duration=r.audio.duration,
            audio_sample_rate=r.audio.sample_rate,
            audio_channels=r.audio.channels,
            backend=r.backend,
        )
        self.timestamps = self.sampling.timestamps(r.duration, r.last_frame_time)

    @property
    def num_frames(self) -> int:
        """Number of sampled frames."""
        return len(self.timestamps)

    def windows(self) -> Iterator[VideoWindow]:
        """Decode the video window by window (frames and audio of one window at a time)."""
        for indices, start, end in self.sampling.windows(self.num_frames):
            times = [self.timestamps[i] for i in indices]
            with decoding_errors(self.path, start, end):
                frames = self._reader.frames_at(times)
                audio = self._reader.audio.read(start, end)
            has_audio = self.sampling.frames_with_sound(indices, start, len(audio))
            yield VideoWindow(frames, times, indices, audio, has_audio, start, end)

    def iter_frames(self) -> Iterator[tuple[float, np.ndarray]]:
        """All frames of the video at its own rate as ``(time_s, (H, W, 3) uint8)``, decoded one at a time."""
        frames, reached = self._reader.iter_all_frames(), 0.0
        while True:
            with decoding_errors(self.path, reached, self.info.duration):
                item = next(frames, None)
            if item is None:
                return
            reached = item[0]
            yield item

    def soundtrack(self) -> np.ndarray:
        """The whole audio stream, to where decoding ends, as float32 mono at 16 kHz (64 kB per second)."""
        with decoding_errors(self.path, 0.0, self.info.audio_duration):
            return self._reader.audio.read(0.0, math.inf)

    def original_sound(self) -> dict:
        """The keyword arguments of :func:`~tavis_hf.media.write_video` that give a written video this file's own
        audio stream (its codec, sample rate and channels; see ``audio_from``)."""
        return {"audio_from": self.path}

    def close(self):
        self._stack.close()

    def __enter__(self) -> VideoFile:
        return self

    def __exit__(self, *exc):
        self.close()


__all__ = ["VideoFile"]
