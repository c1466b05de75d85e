"""ImageBind's audio front end without torchaudio: clip sampling, kaldi fbank, padding and normalisation.

Reproduces the authors' `imagebind.data.load_and_transform_audio_data` (ImageBind by Meta AI, CC BY-NC-SA 4.0; no
code of theirs is included) after decoding:

1. float waveform in [-1, 1), shape `(channels, samples)` or `(samples,)`, at 16 kHz (other rates are rejected unless
   `resample=True`, which uses soxr: see [`ImageBindAudioFeatureExtractor.__call__`]);
2. `clips_per_video` clips of `clip_duration` seconds at evenly spaced starts ([`imagebind_clip_timepoints`], equal
   to pytorchvideo's `ConstantClipsPerVideoSampler` as ImageBind uses it);
3. per clip: subtract the clip mean (over all channels), kaldi fbank of channel 0 (`transformers.audio_utils` with the
   arguments that reproduce `torchaudio.compliance.kaldi.fbank(htk_compat=True, use_energy=False,
   window_type="hanning", num_mel_bins=128, dither=0, frame_length=25, frame_shift=10)`: Hann(400, symmetric), FFT
   512, power spectrum, pre-emphasis 0.97, per-frame DC removal, snip edges, kaldi mel scale 20 Hz-8 kHz, log with
   floor float32-eps) -> `(num_mel_bins, frames)`; zero-pad (or crop) to `target_length` frames **before**
   normalising with `(x - mean) / std`.

Output `input_features` of shape `(batch, num_clips, 1, num_mel_bins, target_length)`.
"""

import warnings
from fractions import Fraction

import numpy as np
import soxr
import torch
from threadpoolctl import threadpool_limits
from transformers.audio_utils import mel_filter_bank, spectrogram, window_function
from transformers.feature_extraction_sequence_utils import SequenceFeatureExtractor
from transformers.feature_extraction_utils import BatchFeature

__all__ = ["ImageBindAudioFeatureExtractor", "imagebind_clip_timepoints"]

_FRAME_LENGTH = 400  # 25 ms at 16 kHz
_HOP_LENGTH = 160  # 10 ms at 16 kHz
_FFT_LENGTH = 512
_LOG_FLOOR = float(np.finfo(np.float32).eps)  # 1.1920929e-07, kaldi's floor


def imagebind_clip_timepoints(
    duration: float, clip_duration: float = 2.0, clips_per_video: int = 3
) -> list[tuple[Fraction, Fraction]]:
    """Clip `(start, end)` times in seconds, exactly as pytorchvideo's `ConstantClipsPerVideoSampler` (the revision
    ImageBind pins) returns them when ImageBind reads out all clips of an audio file.

    With `max_start = max(duration - clip_duration, 0)` and `step = max_start / max(clips_per_video - 1, 1)`, clip `i`
    spans `[i * step, i * step + clip_duration]` (exact fractions). Audio shorter than `clip_duration` gives
    `clips_per_video` identical clips `(0, clip_duration)` (the sample slice then stops at the end of the audio).
    Examples (3 clips): 5 s -> (0, 2), (1.5, 3.5), (3, 5); 10 s -> (0, 2), (4, 6), (8, 10).

    Args:
        duration: audio length in seconds (`num_samples / sampling_rate`, as a float, like the authors).
        clip_duration: clip length in seconds.
        clips_per_video: number of clips.
    """
    if clips_per_video < 1:
        raise ValueError(f"clips_per_video must be >= 1; got {clips_per_video}.")
    if not duration > 0:
        raise ValueError(f"duration must be positive; got {duration}.")
    clip = Fraction(clip_duration)
    # `duration - clip` is float arithmetic in the authors' code (float minus Fraction gives a float).
    max_start = Fraction(max(duration - clip, 0))
    step = Fraction(max_start, max(clips_per_video - 1, 1))
    timepoints = []
    for index in range(clips_per_video):
        timepoints.append((step * index, step * index + clip))
        if step * (index + 1) > max_start:
            break
    return timepoints


class ImageBindAudioFeatureExtractor(SequenceFeatureExtractor):
    r"""Audio feature extractor of ImageBind (normalised 128-bin kaldi log-mel clips).

    Args:
        feature_size (`int`): channels of the model input (1).
        sampling_rate (`int`): rate the features are computed at (16 kHz).
        num_mel_bins (`int`): mel bins (128).
        target_length (`int`): frames per clip after padding/cropping (204; a 2-s clip has 198).
        clip_duration (`float`): clip length in seconds (2).
        clips_per_video (`int`): clips per file when `num_clips` is not given (3 in stock ImageBind; TAViS samples
            one clip per video frame: `num_clips=num_frames`, frame k <-> clip k).
        mean, std (`float`): normalisation `(logmel - mean) / std` (-4.268, 9.138), applied after zero padding.
        inplace_mean_quirk (`bool`): reproduce the authors' in-place mean subtraction: their clips are views of one
            waveform and each clip's mean is subtracted *in place*, so a later overlapping clip sees the samples
            already shifted by earlier clips' means (clips processed in order 0, 1, ...). Needed for exact parity
            with the authors' features of overlapping clips (effect up to ~1.7e-2 after normalisation on real
            audio); `False` (default) subtracts each clip's own mean from an untouched waveform.
        padding_value (`float`): unused by this extractor's fixed-length output (kept for the base class).
    """

    model_input_names = ["input_features"]

    def __init__(
        self,
        feature_size: int = 1,
        sampling_rate: int = 16000,
        num_mel_bins: int = 128,
        target_length: int = 204,
        clip_duration: float = 2.0,
        clips_per_video: int = 3,
        mean: float = -4.268,
        std: float = 9.138,
        inplace_mean_quirk: bool = False,
        padding_value: float = 0.0,
        **kwargs,
    ):
        super().__init__(feature_size=feature_size, sampling_rate=sampling_rate, padding_value=padding_value, **kwargs)
        self.num_mel_bins = num_mel_bins
        self.target_length = target_length
        self.clip_duration = clip_duration
        self.clips_per_video = clips_per_video
        self.mean = mean
        self.std = std
        self.inplace_mean_quirk = inplace_mean_quirk
        with warnings.catch_warnings():
            # Mel bin 3 is empty at 128 bins / 512-point FFT; torchaudio's kaldi filter bank has the same empty bin.
            warnings.filterwarnings("ignore", message="At least one mel filter has all zero values")
            self.mel_filters = mel_filter_bank(
                num_frequency_bins=_FFT_LENGTH // 2 + 1,
                num_mel_filters=num_mel_bins,
                min_frequency=20.0,
                max_frequency=sampling_rate / 2,
                sampling_rate=sampling_rate,
                norm=None,
                mel_scale="kaldi",
                triangularize_in_mel_space=True,
            )
        self.window = window_function(_FRAME_LENGTH, "hann", periodic=False)

    def clip_timepoints(self, num_samples: int, num_clips: int | None = None) -> list[tuple[Fraction, Fraction]]:
        """Clip `(start, end)` seconds for audio of `num_samples` samples at `self.sampling_rate`
        (see [`imagebind_clip_timepoints`])."""
        return imagebind_clip_timepoints(
            num_samples / self.sampling_rate, self.clip_duration, num_clips or self.clips_per_video
        )

    def log_mel(self, clip: np.ndarray) -> np.ndarray:
        """Kaldi fbank of a 1-D 16-kHz clip (mean already removed): `(num_mel_bins, frames)` natural-log energies,
        un-normalised and un-padded (`frames = 1 + (len(clip) - 400) // 160`).

        The mel product runs on one BLAS thread: the features do not depend on the machine's core count, and NumPy's
        BLAS threads, which spin after each product, do not slow torch's threads down."""
        if clip.shape[-1] < _FRAME_LENGTH:
            raise ValueError(f"A clip needs at least {_FRAME_LENGTH} samples (25 ms); got {clip.shape[-1]}.")
        with threadpool_limits(1, user_api="blas"):
            return spectrogram(
                clip.astype(np.float64),
                self.window,
                frame_length=_FRAME_LENGTH,
                hop_length=_HOP_LENGTH,
                fft_length=_FFT_LENGTH,
                power=2.0,
                center=False,
                preemphasis=0.97,
                mel_filters=self.mel_filters,
                mel_floor=_LOG_FLOOR,
                log_mel="log",
                remove_dc_offset=True,
                dtype=np.float64,
            )

    def _validate(self, waveform, sampling_rate: int, resample: bool) -> np.ndarray:
        if isinstance(waveform, torch.Tensor):
            waveform = waveform.detach().cpu().numpy()
        waveform = np.asarray(waveform)
        if not np.issubdtype(waveform.dtype, np.floating):
            raise TypeError(f"Audio must be a float array in [-1, 1) (decode int PCM first); got {waveform.dtype}.")
        if waveform.ndim == 1:
            waveform = waveform[None]
        if waveform.ndim != 2:
            raise ValueError(f"Each audio must have shape (samples,) or (channels, samples); got {waveform.shape}.")
        if waveform.shape[1] == 0 or waveform.shape[0] == 0:
            raise ValueError(f"Empty audio (shape {waveform.shape}).")
        if not np.isfinite(waveform).all():
            raise ValueError("Audio contains NaN or infinite samples.")
        waveform = waveform.astype(np.float32)
        if sampling_rate != self.sampling_rate:
            if not resample:
                raise ValueError(
                    f"Audio is at {sampling_rate} Hz but ImageBind expects {self.sampling_rate} Hz; resample it or "
                    "pass resample=True."
                )
            waveform = np.ascontiguousarray(soxr.resample(waveform.T, sampling_rate, self.sampling_rate).T)
        return waveform

    def _extract(self, waveform: np.ndarray, num_clips: int) -> np.ndarray:
        waveform = waveform.copy()
        clips = []
        for start, end in self.clip_timepoints(waveform.shape[1], num_clips):
            segment = waveform[:, int(start * self.sampling_rate) : int(end * self.sampling_rate)]
            # The mean is taken with torch's float32 reduction, as the authors do (numpy's pairwise sum rounds
            # differently in the last bit).
            mean = torch.from_numpy(segment).mean().numpy()
            if self.inplace_mean_quirk:
                segment -= mean  # a view: later overlapping clips see the shift, as in the authors' code
                channel0 = segment[0]
            else:
                channel0 = segment[0] - mean
            fbank = self.log_mel(channel0)
            frames = fbank.shape[1]
            if frames < self.target_length:
                fbank = np.pad(fbank, ((0, 0), (0, self.target_length - frames)))
            fbank = fbank[:, : self.target_length]
            clips.append((fbank - self.mean) / self.std)
        if len(clips) != num_clips:
            raise ValueError(f"The clip sampler returned {len(clips)} clips instead of {num_clips}.")
        return np.stack(clips)[:, None].astype(np.float32)

    def __call__(
        self,
        raw_speech,
        sampling_rate: int | None = None,
        num_clips: int | None = None,
        resample: bool = False,
        return_tensors: str | None = "pt",
        **kwargs,
    ) -> BatchFeature:
        r"""Extract normalised log-mel clips.

        Args:
            raw_speech (`np.ndarray`, `torch.Tensor` or a list of them): one audio — shape `(samples,)` or
                `(channels, samples)` (only channel 0 is analysed, as the authors do; the clip mean is taken over all
                channels) — or a list of such audios (a batch). Float samples in [-1, 1).
            sampling_rate (`int`): rate of `raw_speech` in Hz (required).
            num_clips (`int`, *optional*): clips per audio (default `clips_per_video`).
            resample (`bool`): allow resampling to 16 kHz with soxr (`"HQ"` quality). soxr is a different filter
                than the default windowed-sinc resampler of torchaudio (Hann, width 6, rolloff 0.99): samples differ
                slightly (~1e-3 on a 1 kHz tone) and the output length is soxr's rounded `N * 16000 / sr` where
                torchaudio uses the ceiling (at most one sample apart); resample beforehand for bit-exact parity.
            return_tensors (`str`, *optional*): `"pt"` (default), `"np"` or `None`.

        Returns:
            [`BatchFeature`] with `input_features` of shape `(batch, num_clips, 1, num_mel_bins, target_length)`.
        """
        if kwargs:
            raise TypeError(f"Unexpected arguments: {sorted(kwargs)}.")
        if sampling_rate is None:
            raise ValueError(f"Pass sampling_rate (the rate of raw_speech; ImageBind uses {self.sampling_rate} Hz).")
        if isinstance(sampling_rate, bool) or not isinstance(sampling_rate, (int, float, np.number)):
            raise TypeError(f"sampling_rate must be a number of samples per second, e.g. 16000; got {sampling_rate!r}.")
        if not 0 < sampling_rate < float("inf"):
            raise ValueError(f"sampling_rate must be a positive number of samples per second; got {sampling_rate}.")
        num_clips = self.clips_per_video if num_clips is None else num_clips
        if num_clips < 1:
            raise ValueError(f"num_clips must be >= 1; got {num_clips}.")
        batch = raw_speech if isinstance(raw_speech, (list, tuple)) else [raw_speech]
        if len(batch) == 0:
            raise ValueError("Empty batch of audio.")
        features = [self._extract(self._validate(audio, sampling_rate, resample), num_clips) for audio in batch]
        return BatchFeature({"input_features": np.stack(features)}, tensor_type=return_tensors)
