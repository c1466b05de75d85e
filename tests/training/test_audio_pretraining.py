"""examples/pretrain_imagebind_audio.py on tiny SynthAVS: what it trains, what it writes, its errors."""

import importlib.util
import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from torch.nn import functional as F

from .conftest import REPO


@pytest.fixture(scope="module")
def pretrain_script():
    spec = importlib.util.spec_from_file_location(
        "pretrain_imagebind_audio", REPO / "examples" / "pretrain_imagebind_audio.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _audio_to_text(model, processor, features, class_names) -> torch.Tensor:
    """ImageBind's audio-to-text logits `(M, C)` of `model` (eval mode) on log-mel clips `features`."""
    imagebind = model.imagebind.eval()
    with torch.no_grad():
        class_embeds = imagebind.get_text_features(input_ids=processor.encode_labels(class_names))
        return imagebind.get_audio_features(features) @ class_embeds.T


def test_trains_exactly_the_audio_tower_and_projection(pretrain_script, synth_s4_dir, tmp_path):
    import datasets

    out = tmp_path / "ib"
    argv = ["--dataset_name_or_path", str(synth_s4_dir), "--output_dir", str(out), "--steps", "60", "--batch_size", "4",
            "--heldout", "0.25", "--config_overrides", "ce_double_normalization=false"]  # fmt: skip
    report = pretrain_script.main(argv)
    assert json.loads((out / "pretraining.json").read_text()) == json.loads(json.dumps(report))
    assert report["heldout_audio_clips"] == 5 and report["train_audio_clips"] == 15  # 4 videos x 5 s, one held out

    from tavis_hf.models.tavis import TavisModel, TavisProcessor

    model = TavisModel.from_pretrained(out)
    processor = TavisProcessor.from_pretrained(out)
    torch.manual_seed(0)  # the same seed without training
    untrained_model = TavisModel(model.config)

    # the script's clips, targets and held-out video (seed 0)
    split = datasets.load_from_disk(str(synth_s4_dir))["train"]
    class_names = split.features["class_ids"].feature.names
    features, owners = pretrain_script.audio_clips(split, processor.feature_extractor)
    targets = torch.zeros(len(split), len(class_names))
    for index, ids in enumerate(split["class_ids"]):
        targets[index, [i for i in ids if i != 0]] = 1
    assert (targets.sum(1) == 1).all()  # single-source videos: one sounding class each
    heldout_video = int(np.random.default_rng(0).permutation(np.arange(len(split)))[0])
    train = owners != heldout_video
    train_targets = targets[owners[train]]
    # A clip-blind predictor gives every clip the same distribution q: its mean cross-entropy is at least the entropy
    # H(p) of the training clips' class frequencies p (log 3 here: three videos of five clips), its top-1 accuracy at
    # most max(p) (1/3). Beating both needs an audio tower that tells the training clips apart.
    frequencies = train_targets.mean(0)[train_targets.mean(0) > 0]
    blind_loss = float(-(frequencies * frequencies.log()).sum())
    losses = {}
    for name, candidate in (("untrained", untrained_model), ("trained", model)):
        logits = _audio_to_text(candidate, processor, features[train], class_names)
        losses[name] = float(F.cross_entropy(logits, train_targets))
    accuracy = float(train_targets[torch.arange(len(logits)), logits.argmax(1)].mean())  # the trained model's
    assert losses["trained"] < blind_loss < losses["untrained"], (losses, blind_loss)
    assert accuracy > float(frequencies.max()), accuracy
    # the report's held-out accuracy is that of the saved model on the held-out video's clips
    heldout_logits = _audio_to_text(model, processor, features[~train], class_names)
    heldout_accuracy = float(targets[heldout_video, heldout_logits.argmax(1)].mean())
    assert report["heldout_top1_is_a_sounding_class"] == heldout_accuracy

    assert model.config.ce_double_normalization is False
    assert model.config.id2label[1] == "chime"
    # only the audio tower and its projection moved
    untrained = untrained_model.state_dict()
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
