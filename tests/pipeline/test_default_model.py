"""The embedded default model (tavis_hf/checkpoints/tavis-tiny) segments SynthAVS and really listens."""

import json

import pytest

from tavis_hf.pipelines import DEFAULT_MODEL_DIR

pytestmark = pytest.mark.skipif(
    not (DEFAULT_MODEL_DIR / "config.json").is_file(), reason=f"no embedded default model at {DEFAULT_MODEL_DIR}"
)


def test_default_model_listens():
    """On S4-like SynthAVS test clips (one sounding object among look-alike silent ones), the default model scores
    well with each clip's own soundtrack and clearly worse when every clip hears another clip's soundtrack (the
    figures recorded with the model: 0.529 -> 0.357 on 100 clips; a model that ignores the audio loses nothing)."""
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


def test_recorded_evaluation_is_consistent():
    """evaluation.json beside the weights records both runs of the control and their difference."""
    record = json.loads((DEFAULT_MODEL_DIR / "evaluation.json").read_text())
    normal, shuffled = record["normal"]["jaccard"], record["audio_shuffled_across_clips"]["jaccard"]
    assert record["jaccard_drop_with_shuffled_audio"] == pytest.approx(normal - shuffled)
    assert "--shuffle-audio" in record["command"] and "pretrain_imagebind_audio.py" in record["training_command"]
