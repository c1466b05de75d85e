"""Frames and audio already in memory (:class:`VideoArrays`), and the conversions of user-given arrays."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from PIL import Image

from .sampling import AVSBENCH_FRAME_OFFSET, DEFAULT_FPS, SAMPLING_RATE, WINDOW_SECONDS, FrameSampling
from .types import MediaError, MediaInfo, VideoWindow


class VideoArrays:
    """Frames and audio already in memory (the pipeline's dict input), with the same window interface as
    :class:`VideoFile`.

    Args:
        frames: the frames to segment, taken as sampled at ``fps`` (a ``(T, H, W, 3)`` uint8 array/tensor or a list
            of PIL images / ``(H, W, 3)`` arrays).
        audio (array-like of shape `(N,)` or `(channels, N)`): the soundtrack from time 0, see
            :func:`prepare_audio_array`.
        sampling_rate (`int`): rate of ``audio`` in Hz.
        fps, window_seconds, frame_offset: as for :class:`VideoFile`.
    """

    def __init__(
        self,
        frames,
        audio,
        sampling_rate: int,
        fps: float = DEFAULT_FPS,
        window_seconds: float = WINDOW_SECONDS,
        frame_offset: float = AVSBENCH_FRAME_OFFSET,
    ):
        self.sampling = FrameSampling(fps=fps, window_seconds=window_seconds, frame_offset=frame_offset)
        self.frames = frames_from_array(frames)
        self.waveform, self.waveform_rate = waveform_array(audio), sampling_rate  # as given, for the overlay
        self.audio = prepare_audio_array(self.waveform, sampling_rate)
        if len(self.audio) == 0:
            raise MediaError("the audio array is empty")
        num_frames, height, width = self.frames.shape[:3]
        duration = num_frames / self.sampling.fps
        self.info = MediaInfo(
            duration=duration,
            video_fps=self.sampling.fps,
            width=width,
            height=height,
            source_width=width,
            source_height=height,
            audio_duration=len(self.audio) / SAMPLING_RATE,
            audio_sample_rate=int(sampling_rate),
            audio_channels=1 if self.waveform.ndim == 1 else self.waveform.shape[0],
            backend="arrays",
        )
        self.timestamps = [(k + self.sampling.frame_offset) / self.sampling.fps for k in range(num_frames)]

    @property
    def num_frames(self) -> int:
        return len(self.timestamps)

    def windows(self) -> Iterator[VideoWindow]:
        for indices, start, end in self.sampling.windows(self.num_frames):
            audio = self.audio[round(start * SAMPLING_RATE) : round(end * SAMPLING_RATE)]
            frames = self.frames[indices[0] : indices[-1] + 1]
            has_audio = self.sampling.frames_with_sound(indices, start, len(audio))
            yield VideoWindow(frames, [self.timestamps[i] for i in indices], indices, audio, has_audio, start, end)

    def iter_frames(self) -> Iterator[tuple[float, np.ndarray]]:
        """The given frames, each at the start of its interval (``k / fps``)."""
        return ((k / self.sampling.fps, frame) for k, frame in enumerate(self.frames))

    def soundtrack(self) -> np.ndarray:
        """The whole audio as float32 mono at 16 kHz."""
        return self.audio

    def original_sound(self) -> dict:
        """The keyword arguments of :func:`~tavis_hf.media.write_video` that give a written video the waveform as it
        was given: its channels at its rate."""
        return {"audio": self.waveform, "sampling_rate": self.waveform_rate}

    def close(self):
        pass

    def __enter__(self) -> VideoArrays:
        return self

    def __exit__(self, *exc):
        self.close()


def waveform_array(audio) -> np.ndarray:
    """A user-given waveform (array-like or tensor of shape `(N,)` or `(channels, N)`, in [-1, 1]) -> float32 array of
    the same shape; `ValueError` for another shape, channels last, or NaN/infinite values."""
    if hasattr(audio, "detach"):
        audio = audio.detach().cpu().numpy()
    array = np.asarray(audio, dtype=np.float32)
    if array.ndim == 2 and array.shape[0] > array.shape[1]:
        raise ValueError(f"audio must be shaped (channels, samples); got {array.shape} (transpose it)")
    if array.ndim not in (1, 2):
        raise ValueError(f"audio must be 1-D (samples,) or 2-D (channels, samples); got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError("audio contains NaN or infinite values")
    return array


def prepare_audio_array(audio, sampling_rate: int) -> np.ndarray:
    """Raw audio -> float32 mono at 16 kHz.

    Args:
        audio (array-like of shape `(N,)` or `(channels, N)`): the waveform in [-1, 1] (see :func:`waveform_array`).
        sampling_rate (`int`): its rate in Hz; other rates than 16 kHz are resampled with soxr (high quality).

    Multi-channel audio is mixed down by the mean over channels.
    """
    array = waveform_array(audio)
    if array.ndim == 2:
        array = array.mean(axis=0)
    if not isinstance(sampling_rate, (int, np.integer)) or sampling_rate <= 0:
        raise ValueError(f"sampling_rate must be a positive integer in Hz, got {sampling_rate!r}")
    if sampling_rate != SAMPLING_RATE:
        import soxr

        array = soxr.resample(array, sampling_rate, SAMPLING_RATE, quality="HQ").astype(np.float32)
    return array


def frames_from_array(frames) -> np.ndarray:
    """Frames given by a user (list of PIL images, (T,H,W,3) uint8 array or tensor) -> (T, H, W, 3) uint8."""
    if hasattr(frames, "detach"):
        frames = frames.detach().cpu().numpy()
    if isinstance(frames, np.ndarray):
        array = frames
    elif isinstance(frames, (list, tuple)) and frames:
        array = np.stack(
            [np.asarray(f.convert("RGB")) if isinstance(f, Image.Image) else np.asarray(f) for f in frames]
        )
    else:
        raise ValueError(
            f"frames must be a non-empty list of images or a (T, H, W, 3) array, got {type(frames).__name__}"
        )
    if array.ndim != 4 or array.shape[-1] != 3 or array.shape[0] == 0:
        raise ValueError(f"frames must be shaped (T, H, W, 3) with T >= 1, got {array.shape}")
    if array.dtype != np.uint8:
        raise ValueError(f"frames must be uint8 RGB (0-255), got dtype {array.dtype}")
    return array


__all__ = ["VideoArrays", "frames_from_array", "prepare_audio_array", "waveform_array"]
