"""Shared fixtures: media made with ffmpeg at test time, a tiny random TAViS model + processor saved to tmp."""

import importlib.util
import shutil
import subprocess
from pathlib import Path

import pytest
import torch

from tavis_hf.models.imagebind import ImageBindAudioFeatureExtractor, build_imagebind_tokenizer
from tavis_hf.models.tavis.configuration_tavis import TavisConfig
from tavis_hf.models.tavis.image_processing_tavis import TavisImageProcessorPil
from tavis_hf.models.tavis.modeling_tavis import TavisModel
from tavis_hf.models.tavis.processing_tavis import TavisProcessor

FFMPEG = shutil.which("ffmpeg")
requires_ffmpeg = pytest.mark.skipif(FFMPEG is None, reason="ffmpeg is not installed (apt-get install ffmpeg)")


def ffmpeg(*args: str) -> None:
    if FFMPEG is None:
        pytest.skip("ffmpeg is not installed (apt-get install ffmpeg)")
    subprocess.run([FFMPEG, "-v", "error", "-y", *args], check=True)


def make_video(
    path: Path,
    duration: float = 3.0,
    size: str = "96x64",
    rate: int = 10,
    audio: str | None = "sine=frequency=440:sample_rate=16000",
    channels: int = 1,
    vcodec: str = "libx264",
    acodec: str = "aac",
) -> Path:
    """A test-pattern video (`testsrc`) with an optional lavfi audio source, encoded with ffmpeg."""
    args = ["-f", "lavfi", "-i", f"testsrc=size={size}:rate={rate}"]
    if audio is not None:
        args += ["-f", "lavfi", "-i", audio, "-ac", str(channels), "-c:a", acodec]
    args += ["-t", str(duration), "-c:v", vcodec, "-pix_fmt", "yuv420p", str(path)]
    ffmpeg(*args)
    return path


def tiny_processor(config: TavisConfig) -> TavisProcessor:
    """Processor for `config` with a byte-level (merge-free) ImageBind tokenizer: no vocabulary file needed."""
    return TavisProcessor(
        TavisImageProcessorPil.from_tavis_config(config),
        ImageBindAudioFeatureExtractor(),
        build_imagebind_tokenizer([]),
        prompt_template=config.prompt_template,
    )


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    config = TavisConfig.tiny()
    model = TavisModel(config).eval()
    path = tmp_path_factory.mktemp("tiny_tavis")
    model.save_pretrained(path)
    tiny_processor(config).save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def segmenter(tiny_model_dir):
    from transformers import pipeline

    import tavis_hf  # noqa: F401  (registers the task and the Auto classes)

    return pipeline("audio-visual-segmentation", model=str(tiny_model_dir))


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def short_mp4(media_dir) -> Path:
    """3 s, 10 fps, 96x64, 440-Hz tone at 16 kHz: three sampled frames (keeps the tiny model's runs short)."""
    return make_video(media_dir / "short.mp4", duration=3.0)


@pytest.fixture(scope="session")
def clip_mp4(media_dir) -> Path:
    """7 s, 10 fps, 96x64, 440-Hz tone at 16 kHz: two windows (5 + 2 frames)."""
    return make_video(media_dir / "clip.mp4", duration=7.0)


def gradio_media(relative: str) -> Path:
    """A media file shipped inside the gradio wheel (Apache-2.0; `dev` extra via `demo`), or skip."""
    spec = importlib.util.find_spec("gradio")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("gradio (the `demo`/`dev` extra) is not installed: it ships the real test media")
    path = Path(spec.submodule_search_locations[0]) / "media_assets" / relative
    if not path.is_file():
        pytest.skip(f"gradio does not ship {relative}")
    return path
