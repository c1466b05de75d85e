"""The zero-shot protocol: the class-scoring rule (TavisConfig.avss_class_source = "sum"), the metric
(tavis_hf.zero_shot), and `tavis-hf build-dataset --open-vocabulary` / training on the seen classes / `evaluate
--protocol zero-shot` / the model card, end to end on SynthAVS."""

import json
from types import SimpleNamespace

import pytest
import torch

from tavis_hf import cli
from tavis_hf.data import SYNTHAVS_OV_UNSEEN_CLASSES, make_open_vocabulary, make_synthavs
from tavis_hf.pipelines.audio_visual_segmentation import DEFAULT_MODEL_DIR
from tavis_hf.zero_shot import ZeroShotMetric, harmonic_mean

from .training.conftest import tiny_argv


def test_metric_by_hand():
    # C = 4, seen {1}, unseen {2, 3}. Frame 1: target [[0,1],[2,3]], prediction [[0,1],[3,3]]. Frame 2 is not
    # annotated (skipped). IoU: class 1 1/1, class 2 0/1, class 3 1/2 -> seen 1, unseen 0.25, harmonic 0.4.
    # F (beta^2 0.3): class 1 1, class 2 0 (never predicted), class 3 P 1/2 R 1 -> 0.65/1.15 -> unseen 0.282609.
    names = ["background", "a", "b", "c"]
    split = {"name": "toy", "seen_classes": ["a"], "unseen_classes": ["b", "c"], "vocabulary": "all"}
    metric = ZeroShotMetric(names, split, split="test")
    target = torch.tensor([[[[0, 1], [2, 3]], [[1, 1], [1, 1]]]])
    prediction = torch.tensor([[[[0, 1], [3, 3]], [[0, 0], [0, 0]]]])
    metric.update(prediction, target, torch.tensor([[True, False]]))
    result = metric.compute()
    assert result["miou_seen"] == pytest.approx(1.0) and result["miou_unseen"] == pytest.approx(0.25)
    assert result["miou_harmonic"] == pytest.approx(0.4)
    assert result["fscore_unseen"] == pytest.approx((0 + 0.65 / 1.15) / 2, abs=1e-6)
    assert (result["protocol"], result["class_scoring"], result["num_frames"]) == ("zero-shot", "sum", 1)
    assert [(row["name"], row["group"]) for row in metric.per_class_report()] == [("a", "seen"), ("b", "unseen"),
                                                                                   ("c", "unseen")]  # fmt: skip
    assert harmonic_mean(0.0, 0.5) == 0.0
    with pytest.raises(ValueError, match="seen classes only"):
        ZeroShotMetric(names, {**split, "vocabulary": "seen"}, split="train")


def test_sum_rule_is_the_softmax_of_the_summed_logits():
    from huggingface_hub.errors import StrictDataclassClassValidationError

    from tavis_hf.models.tavis import TavisConfig, TavisModel

    audio, image = torch.tensor([[5.0, 0.0, 0.0]]), torch.tensor([[-10.0, 1.0, 0.0]])
    host = SimpleNamespace(config=SimpleNamespace(avss_class_source="sum"))
    probs = TavisModel.class_probabilities(host, audio, image)
    torch.testing.assert_close(probs, (audio + image).softmax(-1))
    host.config.avss_class_source = "mean"  # the mean of softmaxes picks another class here
    assert TavisModel.class_probabilities(host, audio, image).argmax().item() != probs.argmax().item()
    with pytest.raises(StrictDataclassClassValidationError, match="avss_class_source"):
        TavisConfig.tiny(avss_class_source="max")


def test_evaluate_zero_shot_needs_the_split(tmp_path, capsys):
    dataset = make_synthavs({"train": 2, "val": 1, "test": 1}, image_size=16, mode="multi", cache_dir=tmp_path / "c")
    open_vocabulary = make_open_vocabulary(dataset, "synthavs-ov")
    dataset.save_to_disk(tmp_path / "plain")
    open_vocabulary.save_to_disk(tmp_path / "ov")
    capsys.readouterr()
    for folder, split, message in (("plain", "test", "no open-vocabulary split"), ("ov", "train", "seen classes")):
        argv = ["evaluate", "--model", str(DEFAULT_MODEL_DIR),
                "--dataset", str(tmp_path / folder), "--split", split, "--protocol", "zero-shot", "--no-progress"]  # fmt: skip
        status = cli.main(argv)
        err = capsys.readouterr().err
        assert status == 2 and message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_build_train_evaluate_card(tmp_path, capsys):
    """SynthAVS tree -> build-dataset --open-vocabulary -> 2 training steps on the seen classes -> evaluate
    --protocol zero-shot -> card. The scores are what they are; the test checks the protocol."""
    from transformers import AutoConfig

    from tavis_hf.hub import model_card_from_folder
    from tavis_hf.training import main as train

    assert cli.main(["synth", "--output-dir", str(tmp_path / "tree"), "--train", "4", "--val", "1", "--test", "3",
                     "--mode", "single", "--image-size", "32", "--layout", "semantic", "--no-progress"]) == 0  # fmt: skip
    built = tmp_path / "ov"
    assert cli.main(["build-dataset", "--subset", "v1s", "--semantic-root", str(tmp_path / "tree"), "--classes",
                     "synthavs", "--open-vocabulary", "--output-dir", str(built), "--no-progress"]) == 0  # fmt: skip
    capsys.readouterr()
    train(tiny_argv(built, tmp_path / "run", "--subset", "v1s", "--max-train-steps", "1", "--eval-protocol", "avss",
                     "--eval-videos-per-batch", "none", "--metric-for-best-model", "miou"))  # fmt: skip
    test_scores = json.loads((tmp_path / "run" / "metrics.json").read_text())["test"]
    assert test_scores["num_frames"] > 0  # the test split is scored with its own (full) vocabulary
    model_dir = tmp_path / "run" / "final"
    trained = AutoConfig.from_pretrained(model_dir)
    assert not set(trained.id2label.values()) & set(SYNTHAVS_OV_UNSEEN_CLASSES)  # the vocabulary trained on
    record_path = tmp_path / "zero_shot.json"
    assert cli.main(["evaluate", "--model", str(model_dir), "--dataset", str(built), "--protocol", "zero-shot",
                     "--output", str(record_path), "--no-progress"]) == 0  # fmt: skip
    record = json.loads(record_path.read_text())
    assert record["protocol"] == {"name": "zero-shot", "score_space": "argmax", "gt_source": "semantic",
                                  "class_scoring": "sum", "open_vocabulary": "synthavs-ov"}  # fmt: skip
    assert record["open_vocabulary"]["unseen_classes"] == list(SYNTHAVS_OV_UNSEEN_CLASSES)
    assert list(record["metrics"])[0] == "miou_unseen"
    assert all(0.0 <= value <= 1.0 for value in record["metrics"].values())
    assert {row["group"] for row in record["per_class"] if row["name"] in SYNTHAVS_OV_UNSEEN_CLASSES} <= {"unseen"}
    card = model_card_from_folder(model_dir, eval_records=[record]).content
    assert "### Zero-shot (open-vocabulary split)" in card and "Unseen classes (3): drum, whistle, organ" in card
