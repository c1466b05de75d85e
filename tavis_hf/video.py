"""Video and audio I/O for audio-visual segmentation: decode, sample frames window by window, write overlays.

Decoding uses torchcodec (0.13 with the system FFmpeg on CPU torch) and falls back to PyAV when torchcodec cannot be
imported or cannot open the file. Both backends give the same contract:

* **Frames** are sampled at ``fps`` frames per second (1 by default, as AVSBench does). Frame ``k`` is the frame
  displayed at ``(k + frame_offset) / fps`` seconds, clamped to the last frame of the stream. The default offset
  ``15/16`` reproduces AVSBench's extraction (it keeps frame 15 of every 16-fps second, i.e. near the end of each
  second). A video of duration ``D`` gives ``ceil(D * fps)`` frames: every started interval gets one frame, so a
  0.4-s video still gives one frame.
* **Windows**: frames are grouped into windows of ``round(window_seconds * fps)`` frames (5 at the defaults, the
  AVSBench clip). Window ``w`` owns the audio from ``w * F / fps`` to ``(w + 1) * F / fps`` seconds (cut at the end
  of the audio stream). Per-frame audio clips are then taken inside the window exactly as the authors' clip sampler
  does (``num_clips`` evenly spaced 2-s clips, frame ``k`` <-> clip ``k``; shorter windows give shorter, padded
  clips), which is the job of ``ImageBindAudioFeatureExtractor``. Windows are decoded one at a time, so memory does
  not grow with the length of the video.
* **Audio** is decoded as float32 mono at 16 kHz: FFmpeg's resampler (swresample) converts other rates, then the
  channels are averaged (stereo -> (L + R) / 2). Raw arrays given in a dict are averaged over channels the same way
  and resampled with soxr (high quality).
* **Large frames** (long side above ``max_frame_size`` pixels, 1024 by default, e.g. 4K) are downscaled while
  decoding, so a window of a 4K video holds only ``F`` small frames.

Errors are :class:`MediaError` (a ``ValueError``) with a message naming the file and the problem: no audio stream,
no video stream, a corrupt/truncated or non-media file, no frames, a URL that cannot be fetched.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

logger = logging.getLogger(__name__)

SAMPLING_RATE = 16000
"""Audio sample rate (Hz) of every decoded waveform (ImageBind's audio front end)."""
DEFAULT_FPS = 1.0
"""Frames per second sampled by default (AVSBench: one frame per second)."""
WINDOW_SECONDS = 5.0
"""Length of a processing window (AVSBench clips are 5 s)."""
AVSBENCH_FRAME_OFFSET = 15 / 16
"""Position of a sampled frame inside its interval, in intervals (AVSBench keeps frame 15 of 16 in each second)."""
MAX_FRAME_SIZE = 1024
"""Frames whose long side exceeds this many pixels are downscaled while decoding."""


class MediaError(ValueError):
    """A media input cannot be used: missing stream, corrupt or non-media file, no frames, unreachable URL."""


@dataclass
class MediaInfo:
    """What a media file contains.

    Attributes:
        duration (`float`): video duration in seconds.
        video_fps (`float`): average frame rate of the video stream.
        width, height (`int`): frame size in pixels as decoded (after the ``max_frame_size`` downscale).
        source_width, source_height (`int`): frame size stored in the file.
        audio_duration (`float`): audio stream duration in seconds.
        audio_sample_rate (`int`), audio_channels (`int`): the audio stream as stored in the file.
        backend (`str`): ``"torchcodec"`` or ``"pyav"``.
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
        audio (`np.ndarray` of shape `(N,)`, float32): mono 16-kHz audio of the window.
        start, end (`float`): the window's audio span in seconds.
        sampling_rate (`int`): always :data:`SAMPLING_RATE`.
    """

    frames: np.ndarray
    timestamps: list[float]
    frame_indices: list[int]
    audio: np.ndarray
    start: float
    end: float
    sampling_rate: int = SAMPLING_RATE


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
        # A tolerance of 1 ms absorbs container rounding (a 5.0004-s file is a 5-s clip).
        return max(1, math.ceil(duration * self.fps - 1e-3))

    def timestamps(self, duration: float, last_frame_time: float) -> list[float]:
        """Display times (s) of all sampled frames, clamped to ``last_frame_time``."""
        return [min((k + self.frame_offset) / self.fps, last_frame_time) for k in range(self.num_frames(duration))]

    def window_span(self, window_index: int, audio_duration: float) -> tuple[float, float]:
        """Audio span (s) of window ``window_index``, cut at the end of the audio."""
        start = window_index * self.frames_per_window / self.fps
        end = (window_index + 1) * self.frames_per_window / self.fps
        return start, max(start, min(end, audio_duration))

    def windows(self, num_frames: int, audio_duration: float) -> Iterator[tuple[list[int], float, float]]:
        """The processing windows of ``num_frames`` sampled frames: ``(frame indices, audio start s, audio end s)``."""
        for w, first in enumerate(range(0, num_frames, self.frames_per_window)):
            indices = list(range(first, min(first + self.frames_per_window, num_frames)))
            yield (indices, *self.window_span(w, audio_duration))


# ----------------------------------------------------------------------------------------------------- sources
def _is_url(source) -> bool:
    return isinstance(source, str) and source.split("://", 1)[0].lower() in ("http", "https")


@contextlib.contextmanager
def local_media_path(source: str | os.PathLike | bytes, timeout: float = 30.0) -> Iterator[str]:
    """Yield a local file path for a path, an ``http(s)`` URL (downloaded to a temporary file) or raw bytes."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        if len(source) == 0:
            raise MediaError("empty bytes given as a media file")
        with tempfile.TemporaryDirectory(prefix="tavis_media_") as tmp:
            path = os.path.join(tmp, "input")
            with open(path, "wb") as f:
                f.write(source)
            yield path
        return
    if _is_url(source):
        with tempfile.TemporaryDirectory(prefix="tavis_media_") as tmp:
            path = os.path.join(tmp, "download")
            try:
                with urllib.request.urlopen(source, timeout=timeout) as response, open(path, "wb") as f:
                    while chunk := response.read(1 << 20):
                        f.write(chunk)
            except (urllib.error.URLError, OSError, ValueError) as error:
                raise MediaError(f"could not fetch {source!r}: {error}") from error
            yield path
        return
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"a media source must be a path, an http(s) URL or bytes, got {type(source).__name__}")
    path = os.fspath(source)
    if not os.path.isfile(path):
        raise MediaError(f"no such media file: {path!r}")
    if os.path.getsize(path) == 0:
        raise MediaError(f"{path!r} is an empty file (zero bytes)")
    yield path


def _fit_size(width: int, height: int, max_frame_size: int | None) -> tuple[int, int]:
    """Frame size after the decode-time downscale (long side <= max_frame_size, aspect kept, even sizes)."""
    if max_frame_size is None or max(width, height) <= max_frame_size:
        return width, height
    scale = max_frame_size / max(width, height)
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


# ---------------------------------------------------------------------------------------------------- backends
class _TorchcodecReader:
    backend = "torchcodec"

    def __init__(self, path: str, max_frame_size: int | None):
        from torchcodec.decoders import AudioDecoder, VideoDecoder
        from torchcodec.transforms import Resize

        probe = VideoDecoder(path, dimension_order="NHWC", seek_mode="approximate")
        meta = probe.metadata
        self.source_size = (meta.width, meta.height)
        width, height = _fit_size(meta.width, meta.height, max_frame_size)
        transforms = [Resize(size=(height, width))] if (width, height) != self.source_size else None
        self.video = VideoDecoder(path, dimension_order="NHWC", transforms=transforms)
        self.size = (width, height)
        vmeta = self.video.metadata
        self.duration = float(vmeta.duration_seconds or 0.0)
        self.num_frames = int(vmeta.num_frames or 0)
        self.video_fps = float(vmeta.average_fps or 0.0)
        self.audio = AudioDecoder(path, sample_rate=SAMPLING_RATE)
        ameta = self.audio.metadata
        self.audio_duration = float(ameta.duration_seconds or 0.0)
        self.audio_sample_rate, self.audio_channels = int(ameta.sample_rate), int(ameta.num_channels)
        self.last_frame_time = max(0.0, self.duration - 1.0 / max(self.video_fps, 1e-6))

    def frames_at(self, timestamps: Sequence[float]) -> np.ndarray:
        return self.video.get_frames_played_at(seconds=list(timestamps)).data.numpy()

    def audio_range(self, start: float, end: float) -> np.ndarray:
        if end <= start:
            return np.zeros(0, dtype=np.float32)
        samples = self.audio.get_samples_played_in_range(start_seconds=start, stop_seconds=end)
        return samples.data.numpy().mean(axis=0, dtype=np.float32)

    def iter_all_frames(self) -> Iterator[tuple[float, np.ndarray]]:
        for index in range(self.num_frames):
            frame = self.video.get_frame_at(index)
            yield float(frame.pts_seconds), frame.data.numpy()

    def close(self):
        pass


class _PyAVReader:
    """PyAV fallback: sequential decoding (frames and audio are read forward; going back decodes from the start)."""

    backend = "pyav"

    def __init__(self, path: str, max_frame_size: int | None):
        import av

        self._av = av
        self.path = path
        self.container = av.open(path)
        if not self.container.streams.video:
            raise ValueError("no video stream")
        if not self.container.streams.audio:
            raise ValueError("no audio stream")
        vstream = self.container.streams.video[0]
        astream = self.container.streams.audio[0]
        self.source_size = (vstream.codec_context.width, vstream.codec_context.height)
        self.size = _fit_size(*self.source_size, max_frame_size)
        self.video_fps = float(vstream.average_rate or 0.0)

        def _seconds(stream) -> float:
            if stream.duration is not None and stream.time_base is not None:
                return float(stream.duration * stream.time_base)
            return float(self.container.duration or 0) / 1e6

        self.duration = _seconds(vstream)
        self.num_frames = int(vstream.frames or round(self.duration * self.video_fps))
        self.audio_duration = _seconds(astream)
        self.audio_sample_rate = int(astream.codec_context.sample_rate)
        self.audio_channels = int(astream.codec_context.channels)
        self.last_frame_time = max(0.0, self.duration - 1.0 / max(self.video_fps, 1e-6))
        self._frames = self.iter_all_frames()
        self._current: tuple[float, np.ndarray] | None = None  # last frame shown at or before the last request
        self._next = next(self._frames, None)
        self._audio = self._iter_audio()
        self._audio_buffer = np.zeros(0, dtype=np.float32)
        self._audio_offset = 0  # sample index of _audio_buffer[0]

    def _to_rgb(self, frame) -> np.ndarray:
        width, height = self.size
        return frame.to_ndarray(format="rgb24", width=width, height=height)

    def iter_all_frames(self) -> Iterator[tuple[float, np.ndarray]]:
        container = self._av.open(self.path)
        try:
            for frame in container.decode(video=0):
                yield float(frame.time or 0.0), self._to_rgb(frame)
        finally:
            container.close()

    def frames_at(self, timestamps: Sequence[float]) -> np.ndarray:
        """Frames played at each (non-decreasing) timestamp: the last frame starting at or before it."""
        out = []
        for t in timestamps:
            if self._current is not None and t < self._current[0] - 1e-6:  # going back: decode again from the start
                self._frames = self.iter_all_frames()
                self._current, self._next = None, next(self._frames, None)
            while self._next is not None and (self._current is None or self._next[0] <= t + 1e-6):
                self._current, self._next = self._next, next(self._frames, None)
            if self._current is None:
                raise MediaError(f"{self.path!r}: no video frame could be decoded")
            out.append(self._current[1])
        return np.stack(out)

    def _iter_audio(self) -> Iterator[np.ndarray]:
        container = self._av.open(self.path)
        resampler = self._av.AudioResampler(format="fltp", rate=SAMPLING_RATE)
        try:
            for frame in container.decode(audio=0):
                for out in resampler.resample(frame):
                    yield out.to_ndarray().mean(axis=0, dtype=np.float32)
            for out in resampler.resample(None):
                yield out.to_ndarray().mean(axis=0, dtype=np.float32)
        finally:
            container.close()

    def audio_range(self, start: float, end: float) -> np.ndarray:
        first, last = round(start * SAMPLING_RATE), round(end * SAMPLING_RATE)
        if first < self._audio_offset:  # going back: decode again from the start
            self._audio = self._iter_audio()
            self._audio_buffer, self._audio_offset = np.zeros(0, dtype=np.float32), 0
        while self._audio_offset + len(self._audio_buffer) < last:
            chunk = next(self._audio, None)
            if chunk is None:
                break
            self._audio_buffer = np.concatenate([self._audio_buffer, chunk.astype(np.float32)])
        lo = max(0, first - self._audio_offset)
        out = self._audio_buffer[lo : max(lo, last - self._audio_offset)].copy()
        # Windows are read in order: drop what no later window needs.
        self._audio_buffer = self._audio_buffer[lo:]
        self._audio_offset += lo
        return out

    def close(self):
        self._frames.close()  # the generators hold containers of their own
        self._audio.close()
        self.container.close()


def _open_reader(path: str, max_frame_size: int | None, backend: str | None):
    """Open ``path`` with torchcodec, falling back to PyAV; translate failures into :class:`MediaError`."""
    _check_streams(path)
    errors = []
    for name in [backend] if backend else ["torchcodec", "pyav"]:
        reader_cls = {"torchcodec": _TorchcodecReader, "pyav": _PyAVReader}.get(name)
        if reader_cls is None:
            raise ValueError(f"unknown decoding backend {name!r}; use 'torchcodec' or 'pyav'")
        try:
            return reader_cls(path, max_frame_size)
        except (ImportError, OSError, RuntimeError, ValueError) as error:
            errors.append(f"{name}: {error}".strip())
            logger.warning("%s could not open %s (%s)", name, path, error)
    raise MediaError(f"could not decode {path!r}: " + " | ".join(errors))


def _check_streams(path: str) -> None:
    """Probe the container with PyAV (FFmpeg) and raise a precise :class:`MediaError` for unusable files."""
    try:
        import av
    except ImportError as error:
        raise ImportError("decoding videos needs PyAV: pip install 'tavis-hf[video]'") from error

    try:
        with av.open(path) as container:
            has_video = bool(container.streams.video)
            has_audio = bool(container.streams.audio)
            # A truncated or corrupt file often probes fine; decoding its first frame tells.
            try:
                first = next(container.decode(video=0), None) if has_video else None
            except av.EOFError:
                first = None
    except av.EOFError as error:
        raise MediaError(f"{path!r} ends before any media data (zero-length or truncated video): {error}") from error
    except (av.FFmpegError, OSError, ValueError, UnicodeDecodeError) as error:
        raise MediaError(
            f"{path!r} is not a readable media file (corrupt, truncated or not audio/video): {error}"
        ) from error
    if not has_video and has_audio:
        raise MediaError(f"{path!r} has no video stream (audio-only file); audio-visual segmentation needs both")
    if not has_video:
        raise MediaError(f"{path!r} has no video stream")
    if not has_audio:
        raise MediaError(
            f"{path!r} has no audio stream; audio-visual segmentation needs the soundtrack (add one, e.g. silence, "
            "with ffmpeg if you really want to run without sound)"
        )
    if first is None:
        raise MediaError(f"{path!r} contains no decodable video frames (zero-length or truncated video)")


# -------------------------------------------------------------------------------------------------- public API
class VideoFile:
    """A video file with sound, decoded window by window.

    Use as a context manager::

        with VideoFile("clip.mp4", fps=1.0) as video:
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
            self._reader = _open_reader(self.path, max_frame_size, backend)
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
            audio_duration=r.audio_duration,
            audio_sample_rate=r.audio_sample_rate,
            audio_channels=r.audio_channels,
            backend=r.backend,
        )
        self.timestamps = self.sampling.timestamps(r.duration, r.last_frame_time)

    @property
    def num_frames(self) -> int:
        """Number of sampled frames."""
        return len(self.timestamps)

    def windows(self) -> Iterator[VideoWindow]:
        """Decode the video window by window (frames and audio of one window at a time)."""
        for indices, start, end in self.sampling.windows(self.num_frames, self.info.audio_duration):
            times = [self.timestamps[i] for i in indices]
            frames = self._reader.frames_at(times)
            audio = self._reader.audio_range(start, end)
            yield VideoWindow(frames=frames, timestamps=times, frame_indices=indices, audio=audio, start=start, end=end)

    def iter_frames(self) -> Iterator[tuple[float, np.ndarray]]:
        """All frames of the video at its own rate as ``(time_s, (H, W, 3) uint8)``, decoded one at a time."""
        return self._reader.iter_all_frames()

    def soundtrack(self) -> np.ndarray:
        """The whole audio stream as float32 mono at 16 kHz (64 kB per second; used to mux overlays)."""
        return self._reader.audio_range(0.0, self.info.audio_duration)

    def close(self):
        self._stack.close()

    def __enter__(self) -> VideoFile:
        return self

    def __exit__(self, *exc):
        self.close()


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
        self.audio = prepare_audio_array(audio, sampling_rate)
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
            audio_channels=1 if np.ndim(audio) == 1 else int(np.shape(audio)[0]),
            backend="arrays",
        )
        self.timestamps = [(k + self.sampling.frame_offset) / self.sampling.fps for k in range(num_frames)]

    @property
    def num_frames(self) -> int:
        return len(self.timestamps)

    def windows(self) -> Iterator[VideoWindow]:
        for indices, start, end in self.sampling.windows(self.num_frames, self.info.audio_duration):
            audio = self.audio[round(start * SAMPLING_RATE) : round(end * SAMPLING_RATE)]
            yield VideoWindow(
                frames=self.frames[indices[0] : indices[-1] + 1],
                timestamps=[self.timestamps[i] for i in indices],
                frame_indices=indices,
                audio=audio,
                start=start,
                end=end,
            )

    def iter_frames(self) -> Iterator[tuple[float, np.ndarray]]:
        """The given frames, each at the start of its interval (``k / fps``)."""
        return ((k / self.sampling.fps, frame) for k, frame in enumerate(self.frames))

    def soundtrack(self) -> np.ndarray:
        """The whole audio as float32 mono at 16 kHz."""
        return self.audio

    def close(self):
        pass

    def __enter__(self) -> VideoArrays:
        return self

    def __exit__(self, *exc):
        self.close()


def prepare_audio_array(audio, sampling_rate: int) -> np.ndarray:
    """Raw audio -> float32 mono at 16 kHz.

    Args:
        audio (array-like of shape `(N,)` or `(channels, N)`): the waveform in [-1, 1].
        sampling_rate (`int`): its rate in Hz; other rates than 16 kHz are resampled with soxr (high quality).

    Multi-channel audio is mixed down by the mean over channels.
    """
    if hasattr(audio, "detach"):
        audio = audio.detach().cpu().numpy()
    array = np.asarray(audio, dtype=np.float32)
    if array.ndim == 2:
        if array.shape[0] > array.shape[1]:
            raise ValueError(f"audio must be shaped (channels, samples); got {array.shape} (transpose it)")
        array = array.mean(axis=0)
    if array.ndim != 1:
        raise ValueError(f"audio must be 1-D (samples,) or 2-D (channels, samples); got shape {array.shape}")
    if not isinstance(sampling_rate, (int, np.integer)) or sampling_rate <= 0:
        raise ValueError(f"sampling_rate must be a positive integer in Hz, got {sampling_rate!r}")
    if not np.all(np.isfinite(array)):
        raise ValueError("audio contains NaN or infinite values")
    if sampling_rate != SAMPLING_RATE:
        import soxr

        array = soxr.resample(array, sampling_rate, SAMPLING_RATE, quality="HQ").astype(np.float32)
    return array


# ---------------------------------------------------------------------------------------------------- overlays
PALETTE = np.array(
    [[230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200], [245, 130, 48], [145, 30, 180], [70, 240, 240],
     [240, 50, 230], [210, 245, 60], [250, 190, 212], [0, 128, 128], [220, 190, 255]],
    dtype=np.float32,
)  # fmt: skip
"""Overlay colours (RGB), cycled by label."""


def color_for(label: str | None, labels: Sequence[str | None]) -> np.ndarray:
    """Stable colour of ``label`` given the ordered label list of a video."""
    return PALETTE[list(labels).index(label) % len(PALETTE)] if label in labels else PALETTE[0]


def draw_overlay(
    frame: np.ndarray, layers: Sequence[tuple[str | None, float, np.ndarray]], labels: Sequence[str | None], alpha=0.5
) -> np.ndarray:
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
    font = ImageFont.load_default()
    y = 4
    for label, score, mask, color in image_layers:
        if not mask.any():
            continue
        text = f"{label if label is not None else 'sounding'} {score:.2f}"
        draw.rectangle([4, y, 12, y + 8], fill=tuple(int(c) for c in color))
        draw.text((16, y - 2), text, fill=(255, 255, 255), font=font)
        y += 12
    return np.asarray(image)


def write_overlay_video(
    path: str | os.PathLike,
    frames: Iterator[tuple[float, np.ndarray]],
    layers_at,
    labels: Sequence[str | None],
    fps: float,
    audio: np.ndarray | None = None,
    sampling_rate: int = SAMPLING_RATE,
) -> str:
    """Write an H.264/AAC mp4 of frames with coloured masks and labels, the audio muxed back.

    Args:
        path: output ``.mp4`` path.
        frames: ``(time_s, (H, W, 3) uint8)`` pairs in display order (e.g. :meth:`VideoFile.iter_frames`), consumed
            one at a time.
        layers_at (callable): ``layers_at(time_s) -> [(label, score, mask), ...]`` for the frame at ``time_s``.
        labels: all labels, fixing the colours.
        fps (`float`): output frame rate.
        audio (`np.ndarray` of shape `(N,)`, float32, *optional*): mono soundtrack to mux.
        sampling_rate (`int`): rate of ``audio``.
    """
    import av

    path = os.fspath(path)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    rate = Fraction(fps).limit_denominator(1001)
    with av.open(path, mode="w") as container:
        vstream = None
        astream = None
        if audio is not None and len(audio):
            astream = container.add_stream("aac", rate=sampling_rate, layout="mono")
        for t, frame in frames:
            image = draw_overlay(frame, layers_at(t), labels)
            if vstream is None:
                height, width = image.shape[:2]
                vstream = container.add_stream("libx264", rate=rate)
                vstream.width, vstream.height = width - width % 2, height - height % 2
                vstream.pix_fmt = "yuv420p"
            image = image[: vstream.height, : vstream.width]
            for packet in vstream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")):
                container.mux(packet)
        if vstream is None:
            raise MediaError("no frames to write to the overlay video")
        for packet in vstream.encode():
            container.mux(packet)
        if astream is not None:
            chunk = 1024
            samples = np.asarray(audio, dtype=np.float32)
            for start in range(0, len(samples), chunk * 16):
                block = samples[start : start + chunk * 16][None]
                aframe = av.AudioFrame.from_ndarray(np.ascontiguousarray(block), format="flt", layout="mono")
                aframe.sample_rate = sampling_rate
                aframe.pts = start
                for packet in astream.encode(aframe):
                    container.mux(packet)
            for packet in astream.encode():
                container.mux(packet)
    return path


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


__all__ = [
    "AVSBENCH_FRAME_OFFSET",
    "DEFAULT_FPS",
    "MAX_FRAME_SIZE",
    "SAMPLING_RATE",
    "WINDOW_SECONDS",
    "FrameSampling",
    "MediaError",
    "MediaInfo",
    "VideoArrays",
    "VideoFile",
    "VideoWindow",
    "draw_overlay",
    "frames_from_array",
    "local_media_path",
    "prepare_audio_array",
    "write_overlay_video",
]
