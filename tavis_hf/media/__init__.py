"""Media I/O for audio-visual segmentation: decode video and audio, sample frames window by window, write videos.

Decoding uses torchcodec (0.13 with the system FFmpeg on CPU torch) for the frames and falls back to PyAV when torchcodec
cannot be imported or cannot open the file, and for AVI files (no presentation timestamps: torchcodec misreads their
frame times); torchcodec's unavailability (e.g. no system FFmpeg for it to load) is
checked once per process and said in one warning line. Both backends give the same contract:

* **Frames** are sampled at ``fps`` frames per second (1 by default, as AVSBench does). Frame ``k`` is the frame
  displayed at ``(k + frame_offset) / fps`` seconds, clamped to the last frame of the stream. The default offset
  ``15/16`` reproduces AVSBench's extraction (it keeps frame 15 of every 16-fps second, i.e. near the end of each
  second). A video of duration ``D`` gives ``ceil(D * fps)`` frames: every started interval gets one frame, so a
  0.4-s video still gives one frame.
* **Windows**: frames are grouped into windows of ``round(window_seconds * fps)`` frames (5 at the defaults, the
  length of an AVSBench video). Window ``w`` owns the audio from ``w * F / fps`` to ``(w + 1) * F / fps`` seconds
  (cut where the decoded audio stream ends). Per-frame audio clips are then taken inside the window exactly as the
  authors' clip sampler does (``num_clips`` evenly spaced 2-s clips, frame ``k`` <-> clip ``k``; shorter windows give
  shorter, padded clips), which is the job of ``ImageBindAudioFeatureExtractor``. Windows are decoded one at a time,
  so memory does not grow with the length of the video.
* **Audio** is decoded as float32 mono at 16 kHz: FFmpeg's resampler (swresample) converts other rates, then the
  channels are averaged (stereo -> (L + R) / 2). Raw arrays given in a dict are averaged over channels the same way
  and resampled with soxr (high quality). Whatever the backend, the audio is read forward from the stream's first
  packet by one decoder (FFmpeg through PyAV), sample 0 at time 0, so the same streams give the same samples in
  every container (torchcodec's range decoding drops and shifts AVI audio).
* **Audio shorter than the video** (one rule for every container): sampled frame ``k`` *has sound* when the decoded
  audio reaches at least :data:`~tavis_hf.media.sampling.MIN_SOUND_SAMPLES` (25 ms) past the start of its interval,
  ``k / fps``; a frame whose interval starts at or after the end of the audio has none
  (``VideoWindow.has_audio``). The end is where decoding the audio stream ends, not the duration the container
  states (AVI often states the video's). The pipeline returns such frames empty, flagged ``has_audio: False``.
* **Large frames** (long side above ``max_frame_size`` pixels, 1024 by default, e.g. 4K) are downscaled while
  decoding, so a window of a 4K video holds only ``F`` small frames.

Errors are :class:`MediaError` (a ``ValueError``) with a message naming the file and the problem: no audio stream,
no video stream, a still image given as a video, a corrupt/truncated or non-media file, no frames, a URL that cannot
be fetched, and a file that opens but fails to decode further in (damaged or cut short: raised by
``VideoFile.windows()`` with the time reached and the fix, never the decoder's own error; ``iter_frames()`` stops after
the frames that decode, or raises the same error).

Modules: :mod:`~tavis_hf.media.sampling` (the sampling plan and its constants), :mod:`~tavis_hf.media.types`
(:class:`MediaError`, :class:`MediaInfo`, :class:`VideoWindow`), :mod:`~tavis_hf.media.sources` (paths, URLs, bytes),
:mod:`~tavis_hf.media.backends` (torchcodec and PyAV readers), :mod:`~tavis_hf.media.files` (:class:`VideoFile`),
:mod:`~tavis_hf.media.arrays` (:class:`VideoArrays`, array conversions) and :mod:`~tavis_hf.media.writing`
(:func:`write_video`, a plain H.264/AAC writer that can carry another file's audio stream as it is). Drawing masks over frames is :mod:`tavis_hf.visualization`.
"""

from .arrays import VideoArrays, frames_from_array, prepare_audio_array
from .files import VideoFile
from .sampling import (
    AVSBENCH_FRAME_OFFSET,
    DEFAULT_FPS,
    MAX_FRAME_SIZE,
    MIN_SOUND_SAMPLES,
    SAMPLING_RATE,
    WINDOW_SECONDS,
    FrameSampling,
)
from .sources import local_media_path
from .types import MediaError, MediaInfo, VideoWindow, check_duration
from .writing import write_video

__all__ = [
    "AVSBENCH_FRAME_OFFSET",
    "DEFAULT_FPS",
    "MAX_FRAME_SIZE",
    "MIN_SOUND_SAMPLES",
    "SAMPLING_RATE",
    "WINDOW_SECONDS",
    "FrameSampling",
    "MediaError",
    "MediaInfo",
    "VideoArrays",
    "VideoFile",
    "VideoWindow",
    "check_duration",
    "frames_from_array",
    "local_media_path",
    "prepare_audio_array",
    "write_video",
]
