"""examples/pretrain_imagebind_audio.py on tiny SynthAVS: what it trains, what it writes, its errors."""

import importlib.util
import json

import pytest
import torch
from safetensors.torch import load_file

from .conftest import REPO


@pytest.fixture(scope="module")
def pretrain_script():
    spec = importlib.util.spec_from_file_location(
        "pretrain_imagebind_audio", REPO / "examples" / "pretrain_imagebind_audio.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_trains_exactly_the_audio_tower_and_projection(pretrain_script, synth_s4_dir, tmp_path):
    out = tmp_path / "ib"
    argv = ["--dataset_name_or_path", str(synth_s4_dir), "--output_dir", str(out), "--steps", "15", "--batch_size", "4",
            "--heldout", "0.25", "--config_overrides", "ce_double_normalization=false"]  # fmt: skip
    report = pretrain_script.main(argv)
    assert json.loads((out / "pretraining.json").read_text()) == json.loads(json.dumps(report))
    assert report["heldout_audio_clips"] == 5 and report["train_audio_clips"] == 15  # 4 videos x 5 s, one held out
    assert 0.0 <= report["heldout_top1_is_a_sounding_class"] <= 1.0
    assert report["loss_last_100_steps"] < report["loss_first_100_steps"] or report["arguments"]["steps"] < 100

    from tavis_hf.models.tavis import TavisModel, TavisProcessor

    model = TavisModel.from_pretrained(out)
    TavisProcessor.from_pretrained(out)
    assert model.config.ce_double_normalization is False
    assert model.config.id2label[1] == "chime"
    # the same seed without training: only the audio tower and its projection moved
    torch.manual_seed(0)
    untrained = TavisModel(model.config).state_dict()
    trained = load_file(out / "model.safetensors")
    moved = {key for key, value in trained.items() if not torch.equal(value, untrained[key])}
    assert {key.split(".")[1] for key in moved} == {"audio_model", "audio_projection"}
    assert not any(p.requires_grad for p in model.imagebind.parameters())  # frozen again for TAViS


def test_bad_input(pretrain_script, synth_s4_dir, tmp_path):
    import datasets

    for column in ("class_ids", "annotated"):
        broken = datasets.load_from_disk(str(synth_s4_dir))
        for split in broken:
            broken[split] = broken[split].remove_columns(column)
        broken.save_to_disk(tmp_path / f"no_{column}")
        with pytest.raises(ValueError, match=rf"lacks columns \['{column}'\]"):
            pretrain_script.main(
                ["--dataset_name_or_path", str(tmp_path / f"no_{column}"), "--output_dir", str(tmp_path / "a")]
            )
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("x")
    with pytest.raises(FileExistsError, match="not empty"):
        pretrain_script.main(["--dataset_name_or_path", str(synth_s4_dir), "--output_dir", str(tmp_path / "full")])
    with pytest.raises(ValueError, match="--steps >= 1"):
        pretrain_script.main(["--dataset_name_or_path", str(synth_s4_dir), "--output_dir", str(tmp_path / "b"),
                              "--steps", "0"])  # fmt: skip
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
    assert [p.name for p in (tmp_path / "full").iterdir()] == ["keep.txt"]
