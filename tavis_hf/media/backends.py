"""Decoding backends: torchcodec (seeking, decode-time resize) and the PyAV fallback (sequential), one contract.

Both readers give frames played at given times, mono 16-kHz audio of a time range, every frame at the stream's own
rate, and the sizes, durations and rates of the streams. The audio of both is one decoder, :class:`_SequentialAudio`
(FFmpeg through PyAV, read forward from the stream's first packet): torchcodec's range decoding mis-times the audio of
some containers (AVI: its first packet dropped and the rest shifted), so one file gives the same samples whatever its
container and backend. :func:`open_reader` probes the file first and turns every failure into a
:class:`~tavis_hf.media.MediaError` naming the file and the problem; :func:`decoding_errors` does the same for a
decoding failure further in (a damaged or cut-short file).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
from collections.abc import Iterator, Sequence

import numpy as np

from .sampling import SAMPLING_RATE
from .types import MediaError

logger = logging.getLogger(__name__)

PYAV_ONLY_FORMATS = frozenset({"avi"})
"""Containers decoded with PyAV even when torchcodec is available: AVI stores no presentation timestamps, and
torchcodec's frame times for it drift from FFmpeg's (the last frames of a 10-fps AVI 0.05 s late)."""


def _fit_size(width: int, height: int, max_frame_size: int | None) -> tuple[int, int]:
    """Frame size after the decode-time downscale (long side <= max_frame_size, aspect kept, even sizes)."""
    if max_frame_size is None or max(width, height) <= max_frame_size:
        return width, height
    scale = max_frame_size / max(width, height)
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


@functools.cache
def torchcodec_decoders():
    """torchcodec's ``(VideoDecoder, Resize)``, or ``None`` when torchcodec is not installed or cannot load FFmpeg's
    libraries (it needs the system FFmpeg); checked once per process, and said in one warning line."""
    try:
        from torchcodec.decoders import VideoDecoder
        from torchcodec.transforms import Resize
    except (ImportError, OSError, RuntimeError) as error:
        logger.warning(
            "torchcodec is unavailable (%s); decoding videos with PyAV instead: install FFmpeg "
            "(e.g. apt-get install ffmpeg) for faster seeking",
            _first_line(error),
        )
        return None
    return VideoDecoder, Resize


# ---------------------------------------------------------------------------------------------------- audio
class _SequentialAudio:
    """The first audio stream of a file as mono 16-kHz float32, decoded forward (going back decodes from the start);
    sample 0 is time 0, and a range past the end of the stream comes back short."""

    def __init__(self, path: str):
        import av

        self._av = av
        self.path = path
        with av.open(path) as container:
            stream = container.streams.audio[0]
            self.sample_rate = int(stream.codec_context.sample_rate)
            self.channels = int(stream.codec_context.channels)
            self.duration = _stream_seconds(stream, container)
        self._chunks = self._decode()
        self._buffer = np.zeros(0, dtype=np.float32)
        self._offset = 0  # sample index of _buffer[0]

    def _decode(self) -> Iterator[np.ndarray]:
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

    def read(self, start: float, end: float) -> np.ndarray:
        """The samples played from ``start`` to ``end`` seconds (``math.inf``: to the end of the stream)."""
        first = round(start * SAMPLING_RATE)
        last = math.inf if math.isinf(end) else round(end * SAMPLING_RATE)
        if first < self._offset:  # going back: decode again from the start
            self._chunks.close()
            self._chunks = self._decode()
            self._buffer, self._offset = np.zeros(0, dtype=np.float32), 0
        while self._offset + len(self._buffer) < last:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer = np.concatenate([self._buffer, chunk.astype(np.float32)])
        lo = max(0, first - self._offset)
        hi = len(self._buffer) if math.isinf(last) else max(lo, last - self._offset)
        out = self._buffer[lo:hi].copy()
        # Ranges are read in order: drop what no later range needs.
        self._buffer = self._buffer[lo:]
        self._offset += lo
        return out

    def close(self):
        self._chunks.close()


def _stream_seconds(stream, container) -> float:
    """A stream's duration as the container states it (the container's duration when the stream has none)."""
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    return float(container.duration or 0) / 1e6


# ---------------------------------------------------------------------------------------------------- backends
class _TorchcodecReader:
    backend = "torchcodec"

    def __init__(self, path: str, max_frame_size: int | None):
        decoders = torchcodec_decoders()
        if decoders is None:
            raise ImportError("torchcodec cannot be loaded (see the warning above)")
        video_decoder, resize = decoders
        probe = video_decoder(path, dimension_order="NHWC", seek_mode="approximate")
        meta = probe.metadata
        self.source_size = (meta.width, meta.height)
        width, height = _fit_size(meta.width, meta.height, max_frame_size)
        transforms = [resize(size=(height, width))] if (width, height) != self.source_size else None
        self.video = video_decoder(path, dimension_order="NHWC", transforms=transforms)
        self.size = (width, height)
        vmeta = self.video.metadata
        self.duration = float(vmeta.duration_seconds or 0.0)
        self.num_frames = int(vmeta.num_frames or 0)
        self.video_fps = float(vmeta.average_fps or 0.0)
        self.audio = _SequentialAudio(path)
        self.last_frame_time = max(0.0, self.duration - 1.0 / max(self.video_fps, 1e-6))

    def frames_at(self, timestamps: Sequence[float]) -> np.ndarray:
        return self.video.get_frames_played_at(seconds=list(timestamps)).data.numpy()

    def iter_all_frames(self) -> Iterator[tuple[float, np.ndarray]]:
        for index in range(self.num_frames):
            frame = self.video.get_frame_at(index)
            yield float(frame.pts_seconds), frame.data.numpy()

    def close(self):
        self.audio.close()


class _PyAVReader:
    """PyAV fallback: sequential decoding (frames are read forward; going back decodes from the start)."""

    backend = "pyav"

    def __init__(self, path: str, max_frame_size: int | None):
        import av

        self._av = av
        self.path = path
        with av.open(path) as container:
            vstream = container.streams.video[0]
            self.source_size = (vstream.codec_context.width, vstream.codec_context.height)
            self.video_fps = float(vstream.average_rate or 0.0)
            self.duration = _stream_seconds(vstream, container)
            self.num_frames = int(vstream.frames or round(self.duration * self.video_fps))
        self.size = _fit_size(*self.source_size, max_frame_size)
        self.last_frame_time = max(0.0, self.duration - 1.0 / max(self.video_fps, 1e-6))
        self.audio = _SequentialAudio(path)
        self._frames = self.iter_all_frames()
        self._current: tuple[float, np.ndarray] | None = None  # last frame shown at or before the last request
        self._next = next(self._frames, None)

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
                self._frames.close()
                self._frames = self.iter_all_frames()
                self._current, self._next = None, next(self._frames, None)
            while self._next is not None and (self._current is None or self._next[0] <= t + 1e-6):
                self._current, self._next = self._next, next(self._frames, None)
            if self._current is None:
                raise MediaError(f"{self.path!r}: no video frame could be decoded")
            out.append(self._current[1])
        return np.stack(out)

    def close(self):
        self._frames.close()  # the generator holds a container of its own
        self.audio.close()


def open_reader(path: str, max_frame_size: int | None, backend: str | None):
    """Open ``path`` with torchcodec, falling back to PyAV; translate failures into :class:`MediaError`."""
    container_format = _check_streams(path)
    if backend not in (None, "torchcodec", "pyav"):
        raise ValueError(f"unknown decoding backend {backend!r}; use 'torchcodec' or 'pyav'")
    if backend is not None:
        names = [backend]
    elif container_format in PYAV_ONLY_FORMATS or torchcodec_decoders() is None:
        names = ["pyav"]
    else:
        names = ["torchcodec", "pyav"]
    errors = []
    for name in names:
        reader_cls = {"torchcodec": _TorchcodecReader, "pyav": _PyAVReader}[name]
        try:
            return reader_cls(path, max_frame_size)
        except (ImportError, OSError, RuntimeError, ValueError) as error:
            reason = _first_line(error)
            errors.append(f"{name}: {reason}")
            logger.warning("%s could not open %s (%s)", name, path, reason)
    raise MediaError(f"could not decode {path!r}: " + " | ".join(errors))


@contextlib.contextmanager
def decoding_errors(path: str, start: float, end: float) -> Iterator[None]:
    """Turn a decoder's failure while decoding ``start``..``end`` seconds of ``path`` into a one-line
    :class:`MediaError` (a file that opens but is damaged or cut short further in)."""
    import av

    try:
        yield
    except (RuntimeError, av.FFmpegError) as error:
        raise MediaError(
            f"{path!r} could not be decoded at {start:.2f}-{end:.2f} s ({_first_line(error)}): the file is damaged "
            "or cut short; download it again, or re-encode what can be read (ffmpeg -i in.mp4 -c:v libx264 "
            "-c:a aac fixed.mp4)"
        ) from error


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _is_still_image(container) -> bool:
    """Whether FFmpeg opened ``container`` as a picture (its image demuxers: ``image2``, ``png_pipe``, ...)."""
    name = container.format.name
    return name == "image2" or name.endswith("_pipe")


def _check_streams(path: str) -> str:
    """Probe the container with PyAV (FFmpeg) and raise a precise :class:`MediaError` for unusable files; return the
    container's format name."""
    try:
        import av
    except ImportError as error:
        raise ImportError("decoding videos needs PyAV: pip install 'tavis-hf[video]'") from error

    try:
        with av.open(path) as container:
            has_video = bool(container.streams.video)
            has_audio = bool(container.streams.audio)
            still = has_video and _is_still_image(container)
            container_format = container.format.name
            codec = container.streams.video[0].codec_context.name if has_video else None
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
    if still:
        raise MediaError(
            f"{path!r} is a still image ({codec}), not a video: audio-visual segmentation needs a video with its "
            "sound (e.g. an .mp4 with an audio track)"
        )
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
    return container_format


__all__ = ["PYAV_ONLY_FORMATS", "decoding_errors", "open_reader", "torchcodec_decoders"]
