"""Shared fixtures: tiny SynthAVS DatasetDicts (64 px) saved to disk, and the training script (examples/train_tavis.py,
a thin script over tavis_hf.training) as a module."""

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TRAIN_SCRIPT = REPO / "examples" / "train_tavis.py"


@pytest.fixture(scope="session")
def train_script():
    spec = importlib.util.spec_from_file_location("train_tavis_example", TRAIN_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def synth_s4_dir(tmp_path_factory) -> Path:
    """SynthAVS single-source clips at 64 px: 4 train, 1 val, 1 test, saved with `save_to_disk`."""
    from tavis_hf.data import make_synthavs

    root = tmp_path_factory.mktemp("synth_s4")
    dataset = make_synthavs({"train": 4, "val": 1, "test": 1}, image_size=64, cache_dir=root / "cache")
    dataset.save_to_disk(root / "data")
    return root / "data"


def tiny_argv(dataset_dir, output_dir, *extra) -> list[str]:
    """Command line of a tiny CPU run on `dataset_dir` (4 train clips, batch 2: 2 steps per epoch; the tiny preset's
    config runs at 64 px). Hyphenated options; tests add underscore spellings (the aliases) in `extra`."""
    return [
        "--subset", "synth-s4", "--dataset-name-or-path", str(dataset_dir), "--model-preset", "tiny",
        "--per-device-train-batch-size", "2", "--output-dir", str(output_dir), "--no-progress", *extra,
    ]  # fmt: skip
