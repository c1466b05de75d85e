"""Shared by tests/hub and tests/cli: a tiny TAViS model + processor (and their saved folder), evaluation records."""

import pytest
import torch

S4_RECORD = {
    "dataset": {"name": "AVSBench-object", "type": "avsbench", "config": "s4", "split": "test"},
    "protocol": {"name": "tavis_release", "score_space": "logits", "videos_per_batch": 1},
    "metrics": {"jaccard": 0.8125, "fmeasure": 0.90625},
}
MS3_RECORD = {
    "dataset": {"name": "AVSBench-object", "type": "avsbench", "config": "ms3", "split": "test"},
    "protocol": {"name": "avsbench", "score_space": "sigmoid", "videos_per_batch": 4},
    "metrics": {"jaccard": 0.625, "fmeasure": 0.75},
}


@pytest.fixture(scope="session")
def tiny_model():
    """A randomly initialised `TavisModel` with the tiny test configuration (about 3 M parameters, 12 MB)."""
    try:
        from tavis_hf.models.tavis import TavisConfig, TavisModel
    except ImportError as error:
        pytest.skip(f"TavisModel is not available: {error}")
    torch.manual_seed(0)
    return TavisModel(TavisConfig.tiny()).eval()


@pytest.fixture(scope="session")
def tiny_processor(tiny_model):
    """The `TavisProcessor` of `tiny_model` (byte-level tokenizer: no vocabulary file needed)."""
    from ..pipeline.conftest import tiny_processor

    return tiny_processor(tiny_model.config)


@pytest.fixture(scope="session")
def saved_model_dir(tiny_model, tiny_processor, tmp_path_factory):
    """`tiny_model` and `tiny_processor` saved with `save_pretrained` (one safetensors file)."""
    folder = tmp_path_factory.mktemp("saved_model")
    tiny_model.save_pretrained(folder)
    tiny_processor.save_pretrained(folder)
    return folder
