"""The embedded default model (tavis_hf/checkpoints/tavis-tiny) segments SynthAVS and really listens."""

from tavis_hf.pipelines import DEFAULT_MODEL_DIR


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
