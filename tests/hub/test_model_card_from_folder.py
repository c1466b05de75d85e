"""`hub.model_card_from_folder`: every claim of the card is checked against the model's own files."""

import hashlib
import importlib.util
import json
import re
import shlex
import shutil
from pathlib import Path

import pytest
import torch
import yaml
from huggingface_hub import ModelCard

from tavis_hf import hub
from tavis_hf.models.tavis import TavisConfig, TavisModel

from .fixtures import S4_RECORD

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "tavis_hf" / "checkpoints" / "tavis-tiny"
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def _meta(text: str) -> dict:
    return yaml.safe_load(text.split("---\n", 2)[1])


def _row(text: str, label: str) -> str:
    """The value of the details-table row `label` (fails if there is none)."""
    (match,) = re.findall(rf"^\| {re.escape(label)} \| (.*) \|$", text, re.M)
    return match


def _loaded_models(text: str) -> set[str]:
    """What the "How to use" section loads (evaluation commands may name the folder that was evaluated)."""
    usage = text.split("## How to use", 1)[1].split("## Intended use", 1)[0]
    return set(re.findall(r'model="([^"]+)"', usage)) | set(re.findall(r"--model (\S+)", usage))


def _copy_model(source: Path, target: Path) -> Path:
    """config.json and weights of `source` (no records)."""
    target.mkdir(parents=True)
    for name in ("config.json", "model.safetensors"):
        shutil.copyfile(source / name, target / name)
    return target


def _new_shape_record(folder: Path, **changes) -> dict:
    record = {
        "command": "tavis-hf evaluate --model tiny --dataset synth --shuffle-audio 0 --output eval.json",
        "tavis_hf_version": "0.1.0.dev0",
        "model": {"name_or_path": str(folder), "fingerprint": hub.weights_fingerprint(folder)},
        "dataset": {"name": "SynthAVS", "type": "synthavs", "config": "synth-ms3", "split": "test", "num_videos": 100,
                    "fingerprint": "174748a01b7472cc"},
        "protocol": {"name": "avsbench", "videos_per_batch": 1, "score_space": "sigmoid", "gt_source": "semantic"},
        "metrics": {"jaccard": 0.6884066648483278, "fmeasure": 0.8646408748626709},
        "num_videos": 100,
        "num_frames": 500,
        "shuffled_audio": {"seed": 0, "metrics": {"jaccard": 0.537318992972374, "fmeasure": 0.727009926661849},
                           "drop": {"jaccard": 0.15108767187595384, "fmeasure": 0.1376309482008219}},
    }  # fmt: skip
    record.update(changes)
    return record


# ------------------------------------------------------------------------------------------------- the tiny model
@pytest.fixture(scope="module")
def tiny_card() -> str:
    return str(hub.model_card_from_folder(TINY, repo_id="me/tiny-demo"))


def test_tiny_card_architecture_parameters_and_input_match_its_config(tiny_card):
    config = TavisConfig.from_pretrained(TINY)
    assert "ImageBind-huge" not in tiny_card and "Hiera-L" not in tiny_card
    architecture = _row(tiny_card, "Architecture")
    assert "custom-size ImageBind" in architecture and "`TavisConfig.tiny()`" in architecture
    vision = config.imagebind_config.vision_config
    assert f"vision {vision.hidden_size} wide, {vision.num_hidden_layers} blocks" in _row(tiny_card, "ImageBind towers")
    trunk = config.sam2_config.vision_config.backbone_config
    widths = "/".join(map(str, trunk.embed_dim_per_stage))
    assert f"stage widths {widths}" in _row(tiny_card, "SAM 2 image encoder")
    model = TavisModel.from_pretrained(TINY)  # built for real: the card's count is that of the real model
    assert _row(tiny_card, "Parameters") == f"{sum(p.numel() for p in model.parameters()):,}"
    size, imagebind_size = config.image_size, config.imagebind_image_size
    assert _row(tiny_card, "Input").startswith(
        f"video frames at {size} × {size} px for SAM 2 and {imagebind_size} × {imagebind_size} px for ImageBind"
    )
    assert _row(tiny_card, "Temporal mode").startswith(f"`{config.temporal}`")
    classes = [config.id2label[i] for i in sorted(config.id2label) if i != 0]
    assert _row(tiny_card, "Classes").endswith(", ".join(classes))


def test_tiny_card_provenance_matches_its_training_records(tiny_card):
    recipe = json.loads((TINY / "training_recipe.json").read_text())
    pretraining = json.loads((TINY / "pretraining.json").read_text())
    assert "base_model" not in _meta(tiny_card)
    assert _row(tiny_card, "Base models").startswith("none: trained from a random initialisation")
    assert f"`TavisConfig.{pretraining['arguments']['model_preset']}()`" in _row(tiny_card, "Origin")
    data = _row(tiny_card, "Training data")
    assert "SynthAVS" in data and f"subset `{recipe['subset']}`" in data and "AVSBench" not in data
    assert f"{pretraining['arguments']['synthavs']} SynthAVS" in data
    assert "Trained on AVSBench" not in tiny_card and "frozen ImageBind" not in tiny_card.lower()
    assert "also trained (TAViS freezes them): ImageBind's audio tower, the SAM 2 image encoder" in tiny_card
    assert "Trained on synthetic SynthAVS clips only" in tiny_card
    assert "holds no ImageBind weights" in tiny_card and "CC BY-NC-SA 4.0" in tiny_card
    assert _meta(tiny_card)["license"] == "cc-by-nc-sa-4.0"


def test_tiny_card_pretraining_command_reproduces_the_recorded_arguments(tiny_card):
    arguments = json.loads((TINY / "pretraining.json").read_text())["arguments"]
    (command,) = [line for line in tiny_card.splitlines() if line.startswith("python examples/pretrain_imagebind")]
    spec = importlib.util.spec_from_file_location("pretrain_script", REPO / "examples/pretrain_imagebind_audio.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert vars(script.parse_args(shlex.split(command)[2:])) == arguments
    assert "training_recipe.json" in tiny_card  # the TAViS step: its recipe, and no invented command


def test_tiny_card_has_no_placeholder_and_loads_the_given_repo(tiny_card):
    assert PLACEHOLDER.search(tiny_card) is None
    assert _loaded_models(tiny_card) == {"me/tiny-demo"}
    assert "(repo_id: me/tiny-demo)" in tiny_card
    assert hub.generated_card_repo_id(tiny_card) == (True, "me/tiny-demo")
    local = str(hub.model_card_from_folder(TINY))  # no repo id: the folder itself
    assert _loaded_models(local) == {str(TINY)}
    assert hub.generated_card_repo_id(local) == (True, None)


# ---------------------------------------------------------------------------------------------- the paper preset
@pytest.fixture(scope="module")
def paper_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("paper")
    TavisConfig.paper().save_pretrained(folder)
    return folder


def test_paper_config_card_names_the_released_components_without_weights(paper_dir):
    card = str(hub.model_card_from_folder(paper_dir, repo_id="me/tavis-paper"))
    assert _row(card, "Architecture").startswith("TAViS: ImageBind-huge + SAM 2.0 Hiera-L")
    assert "`TavisConfig.paper()`" in _row(card, "Architecture")
    assert _row(card, "Input").startswith("video frames at 224 × 224 px for SAM 2 and 224 × 224 px for ImageBind")
    config = TavisConfig.from_pretrained(paper_dir)
    with torch.device("meta"):  # no memory for the 1.3B weights
        model = TavisModel(config)
    shapes = {name: tuple(p.shape) for name, p in model.named_parameters()}
    expected = sum(torch.Size(shape).numel() for shape in shapes.values())
    assert expected > 10**9 and _row(card, "Parameters") == f"{expected:,}" == f"{hub.count_parameters(config):,}"
    # no training record: no data, initialisation or base-model claim
    assert "base_model" not in _meta(card) and "| Base models |" not in card and "| Training data |" not in card
    assert "makes no claim about the training data" in card
    assert PLACEHOLDER.search(card) is None and _loaded_models(card) == {"me/tavis-paper"}


def test_count_parameters_equals_the_real_model():
    config = TavisConfig.tiny()
    assert hub.count_parameters(config) == TavisModel(config).num_parameters()


def test_release_configuration_with_weights_is_the_converted_release(tmp_path):
    TavisConfig.release().save_pretrained(tmp_path)
    card = str(hub.model_card_from_folder(tmp_path))
    assert "base_model" not in _meta(card)  # a config alone is no converted checkpoint
    (tmp_path / "model.safetensors").write_bytes(b"")
    card = str(hub.model_card_from_folder(tmp_path))
    assert _meta(card)["base_model"] == [hub.BASE_MODEL]
    assert "ImageBind-huge" in _row(card, "Base models") and "converted" in _row(card, "Origin")
    assert "The weights embed ImageBind-huge" in card
    TavisConfig.release(temporal="clip").save_pretrained(tmp_path)  # not what the converter writes
    assert "base_model" not in _meta(str(hub.model_card_from_folder(tmp_path)))


# ------------------------------------------------------------------------------------------- evaluation records
def test_shuffled_audio_record_renders_both_tables_and_the_command(tmp_path):
    folder = _copy_model(TINY, tmp_path / "model")
    record = _new_shape_record(folder)
    card = hub.model_card_from_folder(folder, repo_id="me/x", eval_records=[record, S4_RECORD])
    text = str(card)
    assert "| SynthAVS | synth-ms3 | test | M_J (mIoU) | 0.688 | `avsbench`" in text
    assert "### Listening control (shuffled audio)" in text
    assert "every clip given another clip's soundtrack" in text and "without listening drops little" in text
    assert "| SynthAVS | synth-ms3 | test | M_J (mIoU) | 0.688 | 0.537 | 0.151 |" in text
    assert "| SynthAVS | synth-ms3 | test | M_F (F-measure, beta^2 = 0.3) | 0.865 | 0.727 | 0.138 |" in text
    assert f"- SynthAVS synth-ms3 test (100 videos, 500 frames), tavis_hf 0.1.0.dev0: `{record['command']}`" in text
    assert "- AVSBench-object s4 test: command not recorded" in text  # the minimal shape stays valid
    assert text.count("| AVSBench-object | s4 |") == 2  # in the results table only: it has no control
    values = {(r.dataset_config, r.metric_type): r.metric_value for r in ModelCard(text).data.eval_results}
    assert values[("synth-ms3", "jaccard")] == 0.6884066648483278  # full precision in model-index
    assert len(values) == 4  # the shuffled-audio scores are a control, not results


def test_shuffled_audio_drop_defaults_to_the_difference(tmp_path):
    folder = _copy_model(TINY, tmp_path / "model")
    record = _new_shape_record(folder, shuffled_audio={"seed": 3, "metrics": {"jaccard": 0.5}})
    text = str(hub.model_card_from_folder(folder, eval_records=[record]))
    assert "| SynthAVS | synth-ms3 | test | M_J (mIoU) | 0.688 | 0.500 | 0.188 |" in text
    assert "| M_F (F-measure, beta^2 = 0.3) | 0.865 | 0." not in text  # no shuffled F: no control row
    with pytest.raises(ValueError, match="shuffled_audio"):
        hub.model_card_from_folder(folder, eval_records=[_new_shape_record(folder, shuffled_audio={"seed": 0})])


def test_a_record_made_on_another_model_is_refused(tmp_path):
    folder = _copy_model(TINY, tmp_path / "model")
    other = _copy_model(TINY, tmp_path / "other")
    config = json.loads((other / "config.json").read_text())
    (other / "config.json").write_text(json.dumps({**config, "temporal": "clip"}))
    record = _new_shape_record(other)
    with pytest.raises(ValueError, match="was made on another model") as error:
        hub.model_card_from_folder(folder, eval_records=[record])
    assert "\n" not in str(error.value)
    hub.model_card_from_folder(other, eval_records=[record])  # its own model
    unsigned = _new_shape_record(other, model={"name_or_path": "somewhere"})  # no fingerprint: nothing to check
    hub.model_card_from_folder(folder, eval_records=[unsigned])


def test_weights_fingerprint_is_config_then_sorted_safetensors(tmp_path):
    (tmp_path / "config.json").write_bytes(b'{"a": 1}')
    (tmp_path / "model-2.safetensors").write_bytes(b"second")
    (tmp_path / "model-1.safetensors").write_bytes(b"first")
    (tmp_path / "notes.txt").write_bytes(b"ignored")
    expected = "sha256:" + hashlib.sha256(b'{"a": 1}firstsecond').hexdigest()
    assert hub.weights_fingerprint(tmp_path) == expected
    (tmp_path / "model-1.safetensors").write_bytes(b"changed")
    assert hub.weights_fingerprint(tmp_path) != expected
    with pytest.raises(FileNotFoundError, match="no config.json"):
        hub.weights_fingerprint(tmp_path / "missing")


def test_folder_records_are_read_and_free_form_files_ignored(tmp_path):
    folder = _copy_model(TINY, tmp_path / "model")
    (folder / "evaluation.json").write_text(json.dumps({"split": "notes", "normal": {"jaccard": 0.5}}))
    record = _new_shape_record(folder)
    (folder / "evaluation-ms3.json").write_text(json.dumps(record))
    text = str(hub.model_card_from_folder(folder, eval_records=[record]))  # the same record once
    assert text.count("| SynthAVS | synth-ms3 | test | M_J (mIoU) | 0.688 | `avsbench`") == 1
    (folder / "evaluation-bad.json").write_text(json.dumps({**record, "protocol": {"name": "mine"}}))
    with pytest.raises(ValueError, match="Unknown metric protocol 'mine'"):
        hub.model_card_from_folder(folder)


# -------------------------------------------------------------------------------- a training run's final folder
def _training_folder(tmp_path, run: dict | None) -> Path:
    folder = _copy_model(TINY, tmp_path / "final")
    recipe = {"subset": "synth-s4", "num_train_epochs": 2, "learning_rate": 0.001, "per_device_train_batch_size": 2,
              "train_frames": "annotated", "train_temporal": "per-frame", "train_imagebind_audio": False,
              "train_sam2_image_encoder": False, "mismatched_audio_probability": 0.0}  # fmt: skip
    test = {"jaccard": 0.25, "fmeasure": 0.5, "protocol": "avsbench", "videos_per_batch": 1, "split": "test",
            "score_space": "sigmoid", "num_videos": 1, "num_frames": 5,
            "shuffled_audio": {"jaccard": 0.125, "fmeasure": 0.25, "audio_shuffled_across_clips_seed": 0}}  # fmt: skip
    metrics = {"best": {"epoch": 1, "metric": "jaccard", "selection": "best val", "value": 0.3}, "test": test}
    (folder / "training_recipe.json").write_text(json.dumps(recipe))
    (folder / "training_metrics.json").write_text(json.dumps(metrics))
    if run is not None:
        (folder / "training_run.json").write_text(json.dumps(run))
    return folder


def test_training_run_folder_card(tmp_path):
    command = "python examples/train_tavis.py --config training_recipe.json --synthavs 4,1,1 --model_preset tiny"
    run = {"command": command, "model_preset": "tiny", "model_name_or_path": None, "num_clips": {"train": 4}}
    folder = _training_folder(tmp_path, run)
    text = str(hub.model_card_from_folder(folder, repo_id="me/run"))
    assert f"```bash\n{command}\n```" in text
    assert "subset `synth-s4`, 4 training clips" in _row(text, "Training data")
    assert "per `training_run.json`" in _row(text, "Origin") and "base_model" not in _meta(text)
    assert "frozen: ImageBind's vision and text towers, ImageBind's audio tower, the SAM 2 image encoder" in text
    assert "Kept weights: epoch 1 (best val; val jaccard 0.300)." in text
    # the end-of-training test scores are a result, with their listening control
    assert "| SynthAVS | synth-s4 | test | M_J (mIoU) | 0.250 | 0.125 | 0.125 |" in text
    assert "scored by `examples/train_tavis.py` on the test split at the end of training" in text
    # a record covering the same dataset, split and protocol replaces them
    record = {**S4_RECORD, "dataset": {"name": "SynthAVS", "type": "synthavs", "config": "synth-s4", "split": "test"},
              "protocol": {"name": "avsbench", "videos_per_batch": 1}}  # fmt: skip
    text = str(hub.model_card_from_folder(folder, eval_records=[record]))
    assert "end of training" not in text and "| M_J (mIoU) | 0.812 |" in text


def test_fine_tuned_models_name_their_start(tmp_path):
    hub_start = {"model_name_or_path": "someone/tavis-s4", "model_preset": None, "model_is_local_folder": False}
    text = str(hub.model_card_from_folder(_training_folder(tmp_path / "a", hub_start)))
    assert _meta(text)["base_model"] == ["someone/tavis-s4"] and "fine-tuned from `someone/tavis-s4`" in text
    local = _copy_model(TINY, tmp_path / "pretrained")  # a local start folder: its records tell its origin
    shutil.copyfile(TINY / "pretraining.json", local / "pretraining.json")
    start = {"model_name_or_path": str(local), "model_preset": None, "model_is_local_folder": True}
    text = str(hub.model_card_from_folder(_training_folder(tmp_path / "b", start)))
    assert "base_model" not in _meta(text) and "that model: trained from a random initialisation" in text
    gone = {**start, "model_name_or_path": str(tmp_path / "deleted")}
    text = str(hub.model_card_from_folder(_training_folder(tmp_path / "c", gone)))
    assert "base_model" not in _meta(text) and "its provenance is unknown" in text
    text = str(hub.model_card_from_folder(_training_folder(tmp_path / "d", None)))  # no run record
    assert "starting weights are not recorded" in text and "base_model" not in _meta(text)
    assert "The command line of the TAViS training step is not recorded" in text


def test_generated_cards_are_recognised():
    older = (  # the comment of cards made before cards named their repository (the first embedded tavis-tiny card)
        "---\nlicense: cc-by-nc-sa-4.0\n---\n\n<!-- Generated by tavis_hf.hub.make_model_card from "
        "hub_card/model_card_template.md. Edit the template, not this file. -->\n\n# tavis-tiny\n"
    )
    assert hub.generated_card_repo_id(older) == (True, None)  # rendered for no repository: push renders it again
    assert hub.generated_card_repo_id("---\nlicense: mit\n---\n# Mine\n") == (False, None)
