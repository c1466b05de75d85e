"""Fixtures of the pipeline tests: the pipeline on the tiny model, short test videos, media shipped by gradio."""

import importlib.util
from pathlib import Path

import pytest

from ..helpers import make_video


@pytest.fixture(scope="session")
def segmenter(tiny_model_dir):
    from transformers import pipeline

    import tavis_hf  # noqa: F401  (registers the task and the Auto classes)

    return pipeline("audio-visual-segmentation", model=str(tiny_model_dir))


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
