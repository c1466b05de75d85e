"""The embedded default model (tavis_hf/checkpoints/tavis-tiny): the task's default model, segments SynthAVS and
really listens."""

import logging
import socket

import numpy as np
import pytest
import torch

from tavis_hf.pipelines import DEFAULT_MODEL_DIR, AudioVisualSegmentationPipeline

from ..helpers import requires_ffmpeg

TASK = "audio-visual-segmentation"


@pytest.fixture
def offline(monkeypatch):
    """No Hub and no network: `HF_HUB_OFFLINE=1` (also in huggingface_hub's constant, read once at import) and any
    outgoing socket connection is an error."""
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)

    def no_network(self, address):
        raise AssertionError(f"network access to {address!r}")

    monkeypatch.setattr(socket.socket, "connect", no_network)


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"device": "cpu"}, {"model": None, "dtype": torch.bfloat16}],
    ids=["no-arguments", "device", "model-None-dtype"],
)
def test_pipeline_without_model_loads_the_embedded_default(offline, kwargs, caplog):
    """`pipeline(task)` without a model: the registered task default is the embedded folder, loaded (with its
    processor) from disk; transformers' "No model was supplied" warning names that folder."""
    from transformers import pipeline

    library_logger = logging.getLogger("transformers")  # does not propagate to the root logger: listen on it
    library_logger.addHandler(caplog.handler)
    try:
        segmenter = pipeline(TASK, **kwargs)
    finally:
        library_logger.removeHandler(caplog.handler)
    assert f"No model was supplied, defaulted to {DEFAULT_MODEL_DIR} " in caplog.text
    assert isinstance(segmenter, AudioVisualSegmentationPipeline)
    assert segmenter.model.name_or_path == str(DEFAULT_MODEL_DIR)
    assert type(segmenter.processor).__name__ == "TavisProcessor"
    assert segmenter.device.type == "cpu"
    assert segmenter.model.dtype == kwargs.get("dtype", torch.float32)


@requires_ffmpeg
def test_default_pipeline_segments_like_the_explicit_model(offline, short_mp4):
    from transformers import pipeline

    default = pipeline(TASK)(str(short_mp4), labels=["dog", "guitar"], mode="semantic")
    explicit = pipeline(TASK, model=str(DEFAULT_MODEL_DIR))(str(short_mp4), labels=["dog", "guitar"], mode="semantic")
    assert [f["frame_index"] for f in default] == [0, 1, 2]
    for a, b in zip(default, explicit, strict=True):
        assert (a["frame_index"], a["timestamp"], a["score"]) == (b["frame_index"], b["timestamp"], b["score"])
        assert np.array_equal(np.asarray(a["mask"]), np.asarray(b["mask"]))
        assert [(s["label"], s["score"]) for s in a["segments"]] == [(s["label"], s["score"]) for s in b["segments"]]


def test_default_model_listens():
    """On S4-like SynthAVS test clips (one sounding object among look-alike silent ones), the default model scores
    well with each clip's own soundtrack and clearly worse when every clip hears another clip's soundtrack (on 100
    clips: `evaluation-synth-s4.json` beside the weights; a model that ignores the audio loses nothing)."""
    from transformers import AutoProcessor

    from tavis_hf.data import make_synthavs
    from tavis_hf.evaluation import evaluate_dataset
    from tavis_hf.metrics import AVSBenchMetric
    from tavis_hf.models.tavis import TavisModel

    model = TavisModel.from_pretrained(DEFAULT_MODEL_DIR)
    processor = AutoProcessor.from_pretrained(DEFAULT_MODEL_DIR)
    dataset = make_synthavs({"test": 16}, mode="single", image_size=model.config.image_size)["test"]
    scores = {}
    for seed in (None, 0):
        metric = AVSBenchMetric(protocol="avsbench", videos_per_batch=1)
        scores[seed] = evaluate_dataset(model, processor, dataset, metric, progress=False, shuffle_audio_seed=seed)
    assert scores[None]["jaccard"] > 0.45
    assert scores[None]["jaccard"] - scores[0]["jaccard"] > 0.05, scores
