"""Fixtures shared by every test area: one tiny random TAViS model, its processor and their saved folder; the pipeline
on it and short test videos (pipelines, segmentation, media, visualization); the record of parity measurements."""

from pathlib import Path

import pytest
import torch

from tavis_hf.models.tavis import TavisConfig, TavisModel, TavisProcessor

from .helpers import make_video
from .parity import ParityRecord, record_path


@pytest.fixture(scope="session")
def tiny_model() -> TavisModel:
    """A randomly initialised `TavisModel` with the tiny test configuration (seed 0, eval mode)."""
    torch.manual_seed(0)
    return TavisModel(TavisConfig.tiny()).eval()


@pytest.fixture(scope="session")
def tiny_processor(tiny_model):
    """The `TavisProcessor` of `tiny_model` (byte-level ImageBind tokenizer: no vocabulary file needed)."""
    return TavisProcessor.from_tavis_config(tiny_model.config)


@pytest.fixture(scope="session")
def tiny_model_dir(tiny_model, tiny_processor, tmp_path_factory) -> Path:
    """`tiny_model` and `tiny_processor` saved with `save_pretrained` (one safetensors file)."""
    folder = tmp_path_factory.mktemp("tiny_tavis")
    tiny_model.save_pretrained(folder)
    tiny_processor.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def segmenter(tiny_model_dir):
    """`pipeline("audio-visual-segmentation")` on `tiny_model_dir`."""
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


@pytest.fixture(scope="session")
def parity_record(request) -> ParityRecord:
    """Where parity tests put what they measure (`record.add(name, max_abs_diff)`); written to
    `$TAVIS_HF_PARITY_RECORD` at the end of the session when that is set (see `tests/parity.py`)."""
    record = ParityRecord()
    yield record
    path = record_path()
    if path and record.max_abs_diff:
        record.write(path, list(request.config.invocation_params.args))
