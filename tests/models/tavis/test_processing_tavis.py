"""TavisImageProcessorPil / TavisProcessor against the authors' preprocessing written out in plain torch/PIL.

Reference (docs/fidelity.md §5.1, §5.3): frame -> PIL bilinear resize (optionally via 1024x1024) -> /255
-> ImageNet normalisation (SAM2 view); the [0, 1] frame -> bilinear 112 px, align_corners=False, no antialias, no CLIP
normalisation (ImageBind view); T frames <-> T evenly spaced 2-s clips of the audio, each: minus its mean, kaldi fbank
(channel 0, 25/10 ms, Hann, pre-emphasis 0.97, DC removal, 512-point FFT, 128 kaldi mel bins 20 Hz-8 kHz, log),
zero-padded to 204 frames, (x + 4.268) / 9.138.
"""

import math
from fractions import Fraction

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from tavis_hf.models.imagebind import ImageBindAudioFeatureExtractor, build_imagebind_tokenizer
from tavis_hf.models.tavis.configuration_tavis import TavisConfig
from tavis_hf.models.tavis.image_processing_tavis import TavisImageProcessorPil
from tavis_hf.models.tavis.processing_tavis import TavisProcessor

IMAGENET_MEAN = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1)
IMAGENET_STD = torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1)


def reference_frame(frame: np.ndarray, size=224, roundtrip=False):
    image = Image.fromarray(frame)
    if roundtrip:
        image = image.resize((1024, 1024), Image.BILINEAR)
    image = image.resize((size, size), Image.BILINEAR)
    raw = torch.from_numpy(np.array(image)).permute(2, 0, 1).float() / 255
    return (raw - IMAGENET_MEAN) / IMAGENET_STD, raw


def reference_imagebind_view(raw: torch.Tensor, size=112):
    return F.interpolate(raw[None], size=(size, size), mode="bilinear", align_corners=False)[0]


def kaldi_mel_banks(num_bins=128, fft=512, rate=16000, low=20.0, high=8000.0) -> torch.Tensor:
    def mel(f):
        return 1127.0 * torch.log(1.0 + torch.as_tensor(f, dtype=torch.float64) / 700.0)

    mel_low, mel_high = mel(low), mel(high)
    delta = (mel_high - mel_low) / (num_bins + 1)
    b = torch.arange(num_bins, dtype=torch.float64)[:, None]
    left, center, right = mel_low + b * delta, mel_low + (b + 1) * delta, mel_low + (b + 2) * delta
    freqs = mel(rate / fft * torch.arange(fft // 2, dtype=torch.float64))[None]
    up, down = (freqs - left) / (center - left), (right - freqs) / (right - center)
    banks = torch.clamp(torch.minimum(up, down), min=0.0)
    return F.pad(banks, (0, 1))  # zero Nyquist column -> (128, 257)


def reference_fbank(clip: torch.Tensor) -> torch.Tensor:
    frames = clip.double().unfold(0, 400, 160)  # snip edges
    frames = frames - frames.mean(dim=1, keepdim=True)
    previous = torch.cat([frames[:, :1], frames[:, :-1]], dim=1)
    frames = (frames - 0.97 * previous) * torch.hann_window(400, periodic=False, dtype=torch.float64)
    power = torch.fft.rfft(F.pad(frames, (0, 112))).abs() ** 2
    energies = power @ kaldi_mel_banks().T
    return torch.log(torch.clamp(energies, min=float(np.finfo(np.float32).eps))).T  # (128, frames)


def reference_audio_clips(waveform: np.ndarray, num_clips: int) -> torch.Tensor:
    samples = torch.from_numpy(waveform)
    duration = Fraction(len(waveform), 16000)
    max_start = max(duration - 2, 0)
    step = max_start / (num_clips - 1) if num_clips > 1 else 0
    clips = []
    for k in range(num_clips):
        start = k * step
        clip = samples[int(start * 16000) : int((start + 2) * 16000)]
        fbank = reference_fbank(clip - clip.mean())
        fbank = F.pad(fbank, (0, 204 - fbank.shape[1]))
        clips.append(((fbank + 4.268) / 9.138)[None])
    return torch.stack(clips).float()  # (T, 1, 128, 204)


def make_processor(config=None, **image_kwargs):
    image_processor = (
        TavisImageProcessorPil.from_tavis_config(config, **image_kwargs)
        if config is not None
        else TavisImageProcessorPil(**image_kwargs)
    )
    return TavisProcessor(image_processor, ImageBindAudioFeatureExtractor(), build_imagebind_tokenizer([]))


@pytest.fixture(scope="module")
def clip_data():
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, size=(5, 180, 320, 3), dtype=np.uint8)
    t = np.arange(5 * 16000) / 16000
    audio = (0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(t.shape) + 0.01).astype(np.float32)
    return frames, audio


@pytest.mark.parametrize("roundtrip", [False, True])
def test_processor_matches_authors_preprocessing(clip_data, roundtrip):
    frames, audio = clip_data
    processor = make_processor(frame_resize_roundtrip=roundtrip)
    out = processor(videos=frames, audio=audio, sampling_rate=16000)
    assert out["pixel_values"].shape == (1, 5, 3, 224, 224)
    assert out["imagebind_pixel_values"].shape == (1, 5, 3, 112, 112)
    assert out["input_features"].shape == (1, 5, 1, 128, 204)
    for k, frame in enumerate(frames):
        sam, raw = reference_frame(frame, roundtrip=roundtrip)
        torch.testing.assert_close(out["pixel_values"][0, k], sam, atol=1e-6, rtol=0)
        torch.testing.assert_close(
            out["imagebind_pixel_values"][0, k], reference_imagebind_view(raw), atol=1e-6, rtol=0
        )
    torch.testing.assert_close(out["input_features"][0], reference_audio_clips(audio, 5), atol=1e-6, rtol=0)


def test_audio_clip_k_belongs_to_frame_k(clip_data):
    """Frame k's clip spans k(D-2)/(T-1) .. +2 s: silence everywhere but in the last clip's own samples shows it."""
    frames, _ = clip_data
    audio = np.zeros(5 * 16000, dtype=np.float32)
    audio[int(4.5 * 16000) :] = np.sin(np.arange(8000) / 3.0)  # after 4.25 s: inside clip 4 (3-5 s) only
    out = make_processor()(videos=frames, audio=audio, sampling_rate=16000)["input_features"][0]
    silent = reference_audio_clips(np.zeros(32000, dtype=np.float32), 1)[0]
    for k in range(4):
        torch.testing.assert_close(out[k], silent, atol=1e-6, rtol=0)
    assert (out[4] - silent).abs().max() > 1.0


def test_processor_follows_config_views():
    """Tiny config: 64-px SAM2 view and 28-px ImageBind view; paper preset: 224-px CLIP-normalised ImageBind view."""
    frame = np.random.default_rng(1).integers(0, 256, size=(1, 50, 70, 3), dtype=np.uint8)
    audio = np.zeros(32000, dtype=np.float32)
    tiny = make_processor(TavisConfig.tiny())(videos=frame, audio=audio, sampling_rate=16000)
    assert tiny["pixel_values"].shape[-1] == 64 and tiny["imagebind_pixel_values"].shape[-1] == 28
    paper = TavisImageProcessorPil(imagebind_size={"height": 224, "width": 224}, do_imagebind_normalize=True)
    out = paper(list(frame), return_tensors="pt")
    _, raw = reference_frame(frame[0])
    mean = torch.tensor([0.48145466, 0.4578275, 0.40821073]).view(3, 1, 1)
    std = torch.tensor([0.26862954, 0.26130258, 0.27577711]).view(3, 1, 1)
    torch.testing.assert_close(out["imagebind_pixel_values"][0], (raw - mean) / std, atol=1e-6, rtol=0)


def test_segmentation_maps_nearest_only():
    rng = np.random.default_rng(2)
    frames = list(rng.integers(0, 256, size=(2, 37, 53, 3), dtype=np.uint8))
    maps = [rng.integers(0, 300, size=(37, 53)).astype(np.int32) for _ in range(2)]  # ids above 255 survive
    out = TavisImageProcessorPil()(frames, segmentation_maps=maps, return_tensors="pt")
    for k, m in enumerate(maps):
        expected = np.asarray(Image.fromarray(m).resize((224, 224), Image.NEAREST))
        assert torch.equal(out["labels"][k], torch.from_numpy(expected.astype(np.int64)))
        assert set(out["labels"][k].unique().tolist()) <= set(np.unique(m).tolist())


def test_processor_batch_labels_and_errors():
    processor = make_processor()
    rng = np.random.default_rng(3)
    videos = [rng.integers(0, 256, size=(3, 40, 40, 3), dtype=np.uint8) for _ in range(2)]
    audios = [np.zeros(48000, dtype=np.float32), 0.1 * np.ones(48000, dtype=np.float32)]
    out = processor(videos=videos, audio=audios, sampling_rate=16000, text=["background", "dog"])
    single = processor(videos=videos[1], audio=audios[1], sampling_rate=16000)
    assert out["pixel_values"].shape == (2, 3, 3, 224, 224)
    torch.testing.assert_close(out["input_features"][1:], single["input_features"], atol=0, rtol=0)
    assert out["class_input_ids"].shape == (2, 77)
    assert out["class_input_ids"][1, 0] == processor.tokenizer.convert_tokens_to_ids("<|startoftext|>")
    with pytest.raises(ValueError, match="audio is required"):
        processor(videos=videos[0])
    with pytest.raises(ValueError, match="same number of frames"):
        processor(videos=[videos[0], videos[1][:2]], audio=audios, sampling_rate=16000)
    with pytest.raises(TypeError, match="labels must be"):
        processor(text="dog")
    with pytest.raises(ValueError, match="uint8"):
        processor(videos=videos[0].astype(np.float32), audio=audios[0], sampling_rate=16000)


def test_resampled_audio_matches_16k(clip_data):
    """44.1 kHz input is resampled (soxr) to the same features as the 16-kHz signal, up to filter differences."""
    frames, _ = clip_data
    t16, t44 = np.arange(5 * 16000) / 16000, np.arange(5 * 44100) / 44100
    a16 = (0.3 * np.sin(2 * np.pi * 440 * t16)).astype(np.float32)
    a44 = (0.3 * np.sin(2 * np.pi * 440 * t44)).astype(np.float32)
    processor = make_processor()
    f16 = processor(videos=frames, audio=a16, sampling_rate=16000)["input_features"]
    f44 = processor(videos=frames, audio=a44, sampling_rate=44100)["input_features"]
    assert f16.shape == f44.shape
    assert math.isclose(float(f16.mean()), float(f44.mean()), abs_tol=0.05)


def test_processor_save_load_round_trip(tmp_path, tiny_model_dir):
    from transformers import AutoProcessor

    import tavis_hf  # noqa: F401  (registers AutoProcessor / AutoImageProcessor for "tavis")

    processor = make_processor(TavisConfig.tiny(), frame_resize_roundtrip=True)
    processor.save_pretrained(tmp_path)
    TavisConfig.tiny().save_pretrained(tmp_path)
    reloaded = AutoProcessor.from_pretrained(tmp_path)
    assert isinstance(reloaded, TavisProcessor)
    assert reloaded.image_processor.to_dict() == processor.image_processor.to_dict()
    assert reloaded.feature_extractor.to_dict() == processor.feature_extractor.to_dict()
    assert reloaded.prompt_template == processor.prompt_template
    frames = np.random.default_rng(4).integers(0, 256, size=(2, 30, 30, 3), dtype=np.uint8)
    audio = np.zeros(20000, dtype=np.float32)
    a = processor(videos=frames, audio=audio, sampling_rate=16000, text=["background", "guitar"])
    b = reloaded(videos=frames, audio=audio, sampling_rate=16000, text=["background", "guitar"])
    for key in a:
        assert torch.equal(a[key], b[key]), key
