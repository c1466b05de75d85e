"""examples/train_tavis_trainer.py: the short transformers.Trainer alternative trains and scores the test split."""

import importlib.util
import json

from .conftest import REPO


def test_trainer_example(synth_s4_dir, tiny_model_dir, tmp_path):
    spec = importlib.util.spec_from_file_location("train_tavis_trainer", REPO / "examples" / "train_tavis_trainer.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "trainer"
    module.main(["--subset", "synth-s4", "--dataset_name_or_path", str(synth_s4_dir), "--model_name_or_path",
                 str(tiny_model_dir), "--output_dir", str(out), "--image_size", "64",
                 "--per_device_train_batch_size", "2", "--num_train_epochs", "1"])  # fmt: skip
    test = json.loads((out / "test_metrics.json").read_text())
    assert test["split"] == "test" and test["num_videos"] == 1 and 0.0 <= test["jaccard"] <= 1.0
    assert (out / "final" / "model.safetensors").is_file()
    config = json.loads((out / "final" / "config.json").read_text())
    assert config["id2label"]["10"] == "buzzer"
