"""Decoding backends: torchcodec (seeking, decode-time resize) and the PyAV fallback (sequential), one contract.

Both readers give frames played at given times, mono 16-kHz audio of a time range, every frame at the stream's own
rate, and the sizes, durations and rates of the streams. :func:`open_reader` probes the file first and turns every
failure into a :class:`~tavis_hf.media.MediaError` naming the file and the problem.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

import numpy as np

from .sampling import SAMPLING_RATE
from .types import MediaError

logger = logging.getLogger(__name__)


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


def open_reader(path: str, max_frame_size: int | None, backend: str | None):
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


__all__ = ["open_reader"]
