"""examples/train_tavis_trainer.py: the short transformers.Trainer alternative trains and scores the test split."""

import importlib.util
import json

import torch
from datasets import load_from_disk
from safetensors.torch import load_file

from .conftest import REPO

FROZEN = ("imagebind.", "sam2.vision_encoder.", "pseudo_text.")  # TavisModel's frozen backbones


def test_trainer_example(synth_s4_dir, tiny_model_dir, tmp_path):
    spec = importlib.util.spec_from_file_location("train_tavis_trainer", REPO / "examples" / "train_tavis_trainer.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    scored = []  # what the script scores: the model's weights, the clips and the result

    def evaluate_dataset(model, processor, dataset, metric, **kwargs):
        result = module_evaluate_dataset(model, processor, dataset, metric, **kwargs)
        weights = {key: value.detach().clone() for key, value in model.state_dict().items()}
        scored.append((weights, dataset["uid"], result))
        return result

    module_evaluate_dataset, module.evaluate_dataset = module.evaluate_dataset, evaluate_dataset
    out = tmp_path / "trainer"
    module.main(["--subset", "synth-s4", "--dataset-name-or-path", str(synth_s4_dir), "--model_name_or_path",
                 str(tiny_model_dir), "--output-dir", str(out), "--per-device-train-batch-size", "2",
                 "--num_train_epochs", "1"])  # fmt: skip
    test = json.loads((out / "test_metrics.json").read_text())
    assert test["split"] == "test" and test["num_videos"] == 1
    # the test metrics are those of the saved final model on the test clips, and training moved only trainable weights
    ((weights, uids, result),) = scored
    assert json.loads(json.dumps(result)) == test and uids == load_from_disk(str(synth_s4_dir))["test"]["uid"]
    final, start = load_file(out / "final" / "model.safetensors"), load_file(tiny_model_dir / "model.safetensors")
    assert final.keys() == start.keys() and all(torch.equal(weights[key], final[key]) for key in final)
    moved = {key for key in final if not torch.equal(final[key], start[key])}
    assert "ibqd.queries.weight" in moved and not any(key.startswith(FROZEN) for key in moved), sorted(moved)
    config = json.loads((out / "final" / "config.json").read_text())
    assert config["id2label"]["10"] == "buzzer"
