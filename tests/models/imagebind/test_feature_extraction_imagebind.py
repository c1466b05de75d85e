"""ImageBindAudioFeatureExtractor against independent references: a float64 kaldi fbank written from the Kaldi /
torchaudio definition, the authors' clip sampler semantics, and torchaudio's default resampler (restated in numpy)."""

import importlib.util
import math
import os
from fractions import Fraction

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_info, threadpool_limits
from transformers import AutoFeatureExtractor

import tavis_hf  # noqa: F401  (registers the Auto classes)
from tavis_hf.models.imagebind import ImageBindAudioFeatureExtractor, imagebind_clip_timepoints

SR = 16000


def kaldi_fbank_float64(waveform: np.ndarray, num_mel_bins: int = 128) -> np.ndarray:
    """torchaudio.compliance.kaldi.fbank(waveform, htk_compat=True, sample_frequency=16000, use_energy=False,
    window_type="hanning", num_mel_bins=num_mel_bins, dither=0.0, frame_length=25, frame_shift=10) in float64:
    snip edges, per-frame DC removal, pre-emphasis 0.97 (first sample against itself), symmetric Hann window,
    512-point power spectrum, kaldi mel triangles 20 Hz - 8 kHz, log floored at float32 eps. -> (frames, bins)."""
    x = np.asarray(waveform, dtype=np.float64)
    num_frames = 1 + (len(x) - 400) // 160
    frames = np.stack([x[i * 160 : i * 160 + 400] for i in range(num_frames)])
    frames = frames - frames.mean(axis=1, keepdims=True)
    previous = np.concatenate([frames[:, :1], frames[:, :-1]], axis=1)
    frames = frames - 0.97 * previous
    frames = frames * (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(400) / 399))
    power = np.abs(np.fft.rfft(frames, n=512, axis=1)) ** 2

    def mel(freq):
        return 1127.0 * np.log(1.0 + freq / 700.0)

    low, high = mel(20.0), mel(8000.0)
    delta = (high - low) / (num_mel_bins + 1)
    bin_mels = mel(np.arange(256) * SR / 512)
    weights = np.zeros((num_mel_bins, 257))
    for b in range(num_mel_bins):
        left, center, right = low + b * delta, low + (b + 1) * delta, low + (b + 2) * delta
        up = (bin_mels - left) / (center - left)
        down = (right - bin_mels) / (right - center)
        weights[b, :256] = np.maximum(0.0, np.minimum(up, down))
    return np.log(np.maximum(power @ weights.T, np.finfo(np.float32).eps))


def torchaudio_default_resample(x: np.ndarray, orig: int, new: int) -> np.ndarray:
    """torchaudio.functional.resample's default (sinc_interp_hann, lowpass width 6, rolloff 0.99), in numpy."""
    g = math.gcd(orig, new)
    orig, new = orig // g, new // g
    base = min(orig, new) * 0.99
    width = math.ceil(6 * orig / base)
    idx = np.arange(-width, width + orig, dtype=np.float64) / orig
    t = (np.arange(0, -new, -1, dtype=np.float64)[:, None] / new + idx[None]) * base
    t = np.clip(t, -6, 6)
    window = np.cos(t * np.pi / 6 / 2) ** 2
    t = t * np.pi
    kernels = np.where(t == 0, 1.0, np.sin(t) / np.where(t == 0, 1.0, t)) * window * base / orig
    padded = np.pad(x.astype(np.float64), (width, width + orig))
    steps = (len(padded) - kernels.shape[1]) // orig + 1
    windows = np.stack([padded[k * orig : k * orig + kernels.shape[1]] for k in range(steps)])
    return (windows @ kernels.T).reshape(-1)[: math.ceil(new * len(x) / orig)]


@pytest.fixture(scope="module")
def extractor():
    return ImageBindAudioFeatureExtractor()


def _signals():
    rng = np.random.default_rng(0)
    t = np.arange(2 * SR) / SR
    return {
        "white noise 0.1": 0.1 * rng.standard_normal(2 * SR),
        "440 Hz sine + DC": 0.5 * np.sin(2 * np.pi * 440 * t) + 0.2,
        "quiet noise 1e-3": 1e-3 * rng.standard_normal(2 * SR),
    }


@pytest.mark.parametrize("name", list(_signals()))
def test_log_mel_matches_float64_kaldi_reference(extractor, parity_record, name):
    signal = _signals()[name].astype(np.float32)
    ours = extractor.log_mel(signal - signal.mean())
    reference = kaldi_fbank_float64(signal.astype(np.float64) - signal.astype(np.float64).mean()).T
    assert ours.shape == reference.shape == (128, 198)
    parity_record.add("imagebind/log_mel_vs_float64_kaldi", np.abs(ours - reference).max())
    assert np.abs(ours - reference).max() <= 2e-3


@pytest.mark.parametrize("threads", [2, 4])
def test_log_mel_does_not_depend_on_blas_threads(extractor, threads):
    """The mel product runs on one BLAS thread whatever the caller's limit: the same bits on any core count."""
    signal = _signals()["white noise 0.1"]
    with threadpool_limits(1, user_api="blas"):
        one = extractor.log_mel(signal)
    with threadpool_limits(threads, user_api="blas"):
        assert np.array_equal(extractor.log_mel(signal), one)
        assert all(pool["num_threads"] == threads for pool in threadpool_info() if pool["user_api"] == "blas")


def test_features_padding_normalisation_and_empty_mel_bin(extractor):
    signal = _signals()["white noise 0.1"].astype(np.float32)
    features = extractor(signal, sampling_rate=SR, num_clips=1)["input_features"]
    assert features.shape == (1, 1, 1, 128, 204) and features.dtype == torch.float32
    reference = kaldi_fbank_float64(signal - signal.mean()).T
    expected = (np.pad(reference, ((0, 0), (0, 6))) + 4.268) / 9.138
    assert np.abs(features[0, 0, 0].numpy() - expected).max() <= 2e-3 / 9.138
    # the padding is normalised too, and the empty kaldi mel bin 3 sits at log(eps)
    torch.testing.assert_close(features[0, 0, 0, :, 198:], torch.full((128, 6), 4.268 / 9.138))
    log_eps = math.log(np.finfo(np.float32).eps)
    torch.testing.assert_close(features[0, 0, 0, 3, :198], torch.full((198,), (log_eps + 4.268) / 9.138))


@pytest.mark.parametrize(
    ("duration", "expected"),
    [
        (2.0, [(0, 2)] * 3),
        (5.0, [(0, 2), (1.5, 3.5), (3, 5)]),
        (10.0, [(0, 2), (4, 6), (8, 10)]),
        (1.3, [(0, 2)] * 3),
    ],
)
def test_clip_timepoints(duration, expected):
    assert imagebind_clip_timepoints(duration) == [(Fraction(a), Fraction(b)) for a, b in expected]


def test_clip_timepoints_one_clip_per_frame_and_odd_lengths():
    assert imagebind_clip_timepoints(5.0, clips_per_video=5) == [
        (Fraction(a), Fraction(a) + 2) for a in ("0", "0.75", "1.5", "2.25", "3")
    ]
    starts = [start for start, _ in imagebind_clip_timepoints(2.61)]
    assert starts[0] == 0 and starts[2] == Fraction(2.61 - 2) and starts[1] == starts[2] / 2
    assert imagebind_clip_timepoints(7.0, clips_per_video=1) == [(0, 2)]
    with pytest.raises(ValueError, match="positive"):
        imagebind_clip_timepoints(0.0)


@pytest.mark.parametrize("duration", [2.0, 5.0, 10.0, 1.3, 2.61, 7.77, 0.5])
@pytest.mark.parametrize("clips", [1, 3, 5])
def test_clip_timepoints_match_pytorchvideo(duration, clips):
    """Against pytorchvideo's sampler (the revision ImageBind pins), read as the authors read it: needs
    PYTORCHVIDEO_SRC pointing at a pytorchvideo checkout (clip_sampling.py imports only the standard library)."""
    src = os.environ.get("PYTORCHVIDEO_SRC")
    path = os.path.join(src or "", "pytorchvideo", "data", "clip_sampling.py")
    if not src or not os.path.isfile(path):
        pytest.skip("PYTORCHVIDEO_SRC does not point at a pytorchvideo checkout")
    spec = importlib.util.spec_from_file_location("_pytorchvideo_clip_sampling", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sampler = module.ConstantClipsPerVideoSampler(clip_duration=2, clips_per_video=clips)
    expected, end, last = [], 0.0, False
    while not last:
        start, end, _, _, last = sampler(end, duration, annotation=None)
        expected.append((start, end))
    assert imagebind_clip_timepoints(duration, 2.0, clips) == expected


def test_clip_samples_and_short_audio(extractor):
    rng = np.random.default_rng(1)
    short = (0.1 * rng.standard_normal(int(1.3 * SR))).astype(np.float32)
    features = extractor(short, sampling_rate=SR)["input_features"]
    assert features.shape == (1, 3, 1, 128, 204)
    torch.testing.assert_close(features[0, 0], features[0, 2])  # three identical clips over the whole audio
    frames = 1 + (len(short) - 400) // 160
    torch.testing.assert_close(features[0, 0, 0, :, frames:], torch.full((128, 204 - frames), 4.268 / 9.138))
    with pytest.raises(ValueError, match="at least 400 samples"):
        extractor(short[:300], sampling_rate=SR)


def test_inplace_mean_quirk(extractor):
    rng = np.random.default_rng(2)
    audio = (0.1 * rng.standard_normal(5 * SR) + np.linspace(-0.3, 0.3, 5 * SR)).astype(np.float32)
    quirk = ImageBindAudioFeatureExtractor(inplace_mean_quirk=True)
    clean = extractor(audio, sampling_rate=SR)["input_features"][0]
    shifted = quirk(audio, sampling_rate=SR)["input_features"][0]
    torch.testing.assert_close(shifted[0], clean[0])  # the first clip sees the untouched waveform
    assert (shifted[1] - clean[1]).abs().max() > 1e-3  # clip 1 overlaps clip 0's already-shifted samples
    # explicit restatement for clip 1 = [1.5 s, 3.5 s): samples before 2 s were shifted by clip 0's mean
    work = audio.copy()
    work[: 2 * SR] -= work[: 2 * SR].mean()
    clip1 = work[int(1.5 * SR) : int(3.5 * SR)]
    expected = (np.pad(kaldi_fbank_float64(clip1 - clip1.mean()).T, ((0, 0), (0, 6))) + 4.268) / 9.138
    assert np.abs(shifted[1, 0].numpy() - expected).max() <= 2e-3 / 9.138
    # clips of 10-s audio do not overlap: both modes agree
    long = np.tile(audio, 2)
    torch.testing.assert_close(
        quirk(long, sampling_rate=SR)["input_features"], extractor(long, sampling_rate=SR)["input_features"]
    )


def test_channel_zero_batches_and_tensors(extractor):
    rng = np.random.default_rng(3)
    left = (0.1 * rng.standard_normal(3 * SR)).astype(np.float32)
    stereo = np.stack([left, rng.standard_normal(3 * SR).astype(np.float32)])
    mono = extractor(left, sampling_rate=SR)["input_features"]
    # only channel 0 is analysed; the all-channel mean is a constant that per-frame DC removal cancels
    torch.testing.assert_close(extractor(stereo, sampling_rate=SR)["input_features"], mono, atol=1e-4, rtol=0)
    batch = extractor([left, torch.from_numpy(left[: 2 * SR])], sampling_rate=SR, num_clips=4)["input_features"]
    assert batch.shape == (2, 4, 1, 128, 204)
    assert isinstance(extractor(left, sampling_rate=SR, return_tensors="np")["input_features"], np.ndarray)


def test_bad_audio(extractor):
    audio = np.zeros(SR * 2, dtype=np.float32)
    with pytest.raises(ValueError, match="44100 Hz but ImageBind expects 16000 Hz"):
        extractor(audio, sampling_rate=44100)
    with pytest.raises(ValueError, match="Pass sampling_rate"):
        extractor(audio)
    with pytest.raises(ValueError, match="Empty audio"):
        extractor(np.zeros(0, dtype=np.float32), sampling_rate=SR)
    with pytest.raises(ValueError, match="Empty batch"):
        extractor([], sampling_rate=SR)
    with pytest.raises(ValueError, match="NaN"):
        extractor(np.full(SR, np.nan, dtype=np.float32), sampling_rate=SR)
    with pytest.raises(TypeError, match="float"):
        extractor(np.zeros(SR, dtype=np.int16), sampling_rate=SR)
    with pytest.raises(ValueError, match="shape"):
        extractor(np.zeros((1, 2, SR), dtype=np.float32), sampling_rate=SR)
    with pytest.raises(ValueError, match="num_clips"):
        extractor(audio, sampling_rate=SR, num_clips=0)


def test_soxr_resampling_versus_torchaudio_default(extractor):
    """Documents the difference: soxr (used with resample=True) and torchaudio's default windowed-sinc resampler
    agree to ~1e-3 on a 1 kHz tone (different filters) and in length to one sample (round vs ceil)."""
    orig = 44100
    tone = (0.5 * np.sin(2 * np.pi * 1000 * np.arange(int(2.5 * orig) + 7) / orig)).astype(np.float32)
    import soxr

    ours = soxr.resample(tone, orig, SR)
    reference = torchaudio_default_resample(tone, orig, SR)
    assert abs(len(ours) - len(reference)) <= 1
    interior = slice(200, min(len(ours), len(reference)) - 200)
    difference = np.abs(ours[interior] - reference[interior]).max()
    assert 1e-6 < difference < 5e-3
    features = extractor(tone, sampling_rate=orig, resample=True)["input_features"]
    assert features.shape == (1, 3, 1, 128, 204)
    expected = extractor(ours, sampling_rate=SR)["input_features"]
    torch.testing.assert_close(features, expected)


def test_save_load_round_trip(tmp_path):
    extractor = ImageBindAudioFeatureExtractor(clips_per_video=5, inplace_mean_quirk=True)
    extractor.save_pretrained(tmp_path)
    reloaded = AutoFeatureExtractor.from_pretrained(tmp_path)
    assert isinstance(reloaded, ImageBindAudioFeatureExtractor)
    assert reloaded.clips_per_video == 5 and reloaded.inplace_mean_quirk
    audio = (0.1 * np.random.default_rng(4).standard_normal(3 * SR)).astype(np.float32)
    assert torch.equal(
        reloaded(audio, sampling_rate=SR)["input_features"], extractor(audio, sampling_rate=SR)["input_features"]
    )
