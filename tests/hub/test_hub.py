"""tavis_hf.hub: model cards, release folders and publishing (offline, through a mock Hub transport)."""

import json

import pytest
import torch
import yaml
from huggingface_hub import ModelCard
from safetensors import safe_open

from tavis_hf import hub

from .fixtures import MS3_RECORD, S4_RECORD
from .mock_hub import MockHub


@pytest.fixture(scope="module")
def facts():
    """The card facts of the tiny test configuration (architecture only: no training record, no base model)."""
    from tavis_hf.models.tavis import TavisConfig

    return hub.config_facts(TavisConfig.tiny())


def _front_matter(text: str) -> dict:
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n", 2)[1])


# ------------------------------------------------------------------------------------------------------ cards
def test_model_card_front_matter_is_valid_hub_metadata(facts):
    card = hub.make_model_card(
        model_name="tavis-s4", facts=facts, repo_id="me/tavis-s4", eval_records=[S4_RECORD, MS3_RECORD]
    )
    meta = _front_matter(str(card))
    assert meta["license"] == "cc-by-nc-sa-4.0"
    assert meta["pipeline_tag"] == "image-segmentation"
    assert meta["library_name"] == "tavis_hf"
    assert "base_model" not in meta  # the tiny configuration has no base model
    assert "audio-visual-segmentation" in meta["tags"]
    assert meta["metrics"] == ["fmeasure", "jaccard"]
    (entry,) = meta["model-index"]
    assert entry["name"] == "tavis-s4"
    results = {(r["dataset"]["config"], m["type"]): (r, m) for r in entry["results"] for m in r["metrics"]}
    assert set(results) == {("s4", "jaccard"), ("s4", "fmeasure"), ("ms3", "jaccard"), ("ms3", "fmeasure")}
    result, metric = results[("ms3", "fmeasure")]
    assert result["task"]["type"] == "image-segmentation"
    assert result["dataset"] == {"name": "AVSBench-object", "type": "avsbench", "config": "ms3", "split": "test"}
    assert metric["value"] == 0.75
    assert metric["config"] == "avsbench"
    assert metric["args"] == {"score_space": "sigmoid", "videos_per_batch": 4}


def test_model_card_round_trips_through_huggingface_hub(facts):
    card = hub.make_model_card(model_name="tavis-s4", facts=facts, eval_records=[S4_RECORD])
    reloaded = ModelCard(str(card))
    values = {(r.dataset_config, r.metric_type): r.metric_value for r in reloaded.data.eval_results}
    assert values == {("s4", "jaccard"): 0.8125, ("s4", "fmeasure"): 0.90625}
    assert {r.metric_config for r in reloaded.data.eval_results} == {"tavis_release"}


def test_model_card_body_has_results_protocol_use_limitations_citation(facts):
    card = hub.make_model_card(
        model_name="tavis-ms3", facts=facts, repo_id="me/tavis-ms3", eval_records=[S4_RECORD, MS3_RECORD]
    )
    body = card.text
    assert (  # 3 decimals in the prose, full values in model-index
        "| AVSBench-object | s4 | test | M_J (mIoU) | 0.812 | `tavis_release` (score_space=logits, videos_per_batch=1) |"
        in body
    )
    assert "| AVSBench-object | ms3 | test | M_F (F-measure, beta^2 = 0.3) | 0.750 | `avsbench`" in body
    assert "- AVSBench-object s4 test: command not recorded" in body  # a minimal record is still valid
    assert "Listening control" not in body  # no record has shuffled_audio
    protocols = json.loads(hub.METRIC_PROTOCOLS_FILE.read_text())
    assert protocols["tavis_release"]["description"] in body
    assert protocols["avsbench"]["description"] in body
    assert protocols["avss"]["description"] not in body  # only the protocols used are described
    for heading in ("## Intended use", "## Limitations", "## Licence", "## Citation", "## How to use", "## Training"):
        assert heading in body
    assert hub.load_citation() in body
    assert "TAViS: Text-bridged Audio-Visual Segmentation with Foundation Models" in hub.load_citation()
    assert 'pipeline("audio-visual-segmentation", model="me/tavis-ms3")' in body


def test_unevaluated_model_card_says_so(facts):
    card = hub.make_model_card(model_name="tavis-new", facts=facts, local_path="runs/new/final")
    assert "model-index" not in card.data.to_dict()
    assert "has not been evaluated yet" in card.text
    assert "tavis-hf evaluate --model runs/new/final" in card.text
    assert 'model="runs/new/final"' in card.text  # no repo id: the local folder


def test_model_card_base_models_come_from_the_facts(facts):
    card = hub.make_model_card(model_name="tavis-tiny", facts=facts)
    assert "base_model" not in _front_matter(str(card))
    assert "| Base models |" not in card.text
    assert "The weights embed ImageBind-huge" not in card.text
    converted = hub.ModelFacts(**{**facts.__dict__, "base_models": [hub.BASE_MODEL],
                                  "base_model_names": ["SAM 2.0 Hiera-L", "ImageBind-huge"]})  # fmt: skip
    card = hub.make_model_card(model_name="tavis-s4", facts=converted)
    assert _front_matter(str(card))["base_model"] == ["facebook/sam2-hiera-large"]
    assert "| Base models | SAM 2.0 Hiera-L, ImageBind-huge |" in card.text
    assert "The weights embed ImageBind-huge" in card.text


@pytest.mark.parametrize(
    ("record", "error", "match"),
    [
        ({"dataset": S4_RECORD["dataset"], "protocol": S4_RECORD["protocol"]}, ValueError, "metrics"),
        ({**S4_RECORD, "metrics": {}}, ValueError, "non-empty"),
        ({**S4_RECORD, "metrics": {"jaccard": "high"}}, TypeError, "jaccard"),
        ({**S4_RECORD, "dataset": {"name": "AVSBench-object"}}, ValueError, "dataset.type"),
        ({**S4_RECORD, "protocol": {"name": "my_protocol"}}, ValueError, "Unknown metric protocol 'my_protocol'"),
    ],
)
def test_bad_evaluation_records_are_rejected(record, error, match, facts):
    with pytest.raises(error, match=match):
        hub.make_model_card(model_name="x", facts=facts, eval_records=[record])


def test_eval_record_from_metric_keeps_headline_metrics_and_protocol(facts):
    computed = {
        "jaccard": 0.5, "fmeasure": 0.6, "num_batches": 3, "score_space": "logits", "protocol": "tavis_release",
        "videos_per_batch": 1, "gt_source": "semantic", "split": "test", "num_videos": 3, "num_frames": 15,
    }  # fmt: skip
    record = hub.eval_record_from_metric(computed, dataset_name="AVSBench-object", dataset_config="s4")
    assert record == {
        "dataset": {"name": "AVSBench-object", "type": "avsbench", "config": "s4", "split": "test"},
        "protocol": {"name": "tavis_release", "score_space": "logits", "videos_per_batch": 1, "gt_source": "semantic"},
        "metrics": {"jaccard": 0.5, "fmeasure": 0.6},
        "num_videos": 3,
        "num_frames": 15,
    }
    hub.make_model_card(model_name="x", facts=facts, eval_records=[record])  # a valid record


def test_render_card_renders_dataset_cards(tmp_path):
    from huggingface_hub import DatasetCard, DatasetCardData

    template = tmp_path / "dataset_card.md"
    template.write_text("---\n{{ card_data }}\n---\n\n# {{ pretty_name }}\n\n{{ clips }} clips.\n")
    data = DatasetCardData(license="cc-by-4.0", pretty_name="SynthAVS", task_categories=["image-segmentation"])
    card = hub.render_card(data, template, clips=12)
    assert isinstance(card, DatasetCard)
    assert _front_matter(str(card)) == {
        "license": "cc-by-4.0", "pretty_name": "SynthAVS", "task_categories": ["image-segmentation"]
    }  # fmt: skip
    assert card.text.strip() == "# SynthAVS\n\n12 clips."


def test_render_card_rejects_other_card_data(tmp_path, facts):
    with pytest.raises(TypeError, match="ModelCardData or DatasetCardData"):
        hub.render_card({"license": "mit"}, hub.MODEL_CARD_TEMPLATE)
    with pytest.raises(FileNotFoundError, match="Card template"):
        hub.make_model_card(model_name="x", facts=facts, template_path=tmp_path / "missing.md")


# ---------------------------------------------------------------------------------------------- release folder
def test_build_release_folder_shards_safetensors_and_reloads(tiny_model, tiny_processor, tmp_path, facts):
    from transformers import AutoProcessor

    from tavis_hf.models.tavis import TavisModel

    card = hub.make_model_card(model_name="tiny", facts=facts, eval_records=[S4_RECORD])
    files = hub.build_release_folder(
        tiny_model, tmp_path / "release", processor=tiny_processor, card=card, max_shard_size="4MB"
    )
    assert {"processor_config.json", "tokenizer.json", "tokenizer_config.json"} <= set(files)
    processor = AutoProcessor.from_pretrained(tmp_path / "release")
    assert processor.to_dict() == tiny_processor.to_dict()
    assert processor.encode_labels(["dog"]).tolist() == tiny_processor.encode_labels(["dog"]).tolist()
    shards = [f for f in files if f.endswith(".safetensors")]
    assert len(shards) >= 3, files
    assert all(f"-of-{len(shards):05d}.safetensors" in f for f in shards)
    assert {"config.json", "model.safetensors.index.json", "README.md"} <= set(files)
    assert not [f for f in files if f.endswith((".bin", ".pt", ".pth"))]
    for shard in shards:  # each shard respects the limit, unless it holds one tensor larger than it
        with safe_open(tmp_path / "release" / shard, "pt") as f:
            num_tensors = len(list(f.keys()))
        assert (tmp_path / "release" / shard).stat().st_size <= 4_000_000 + 100_000 or num_tensors == 1, shard
    index = json.loads((tmp_path / "release" / "model.safetensors.index.json").read_text())
    assert set(index["weight_map"].values()) == set(shards)
    reloaded = TavisModel.from_pretrained(tmp_path / "release")
    original = tiny_model.state_dict()
    for name, tensor in reloaded.state_dict().items():
        torch.testing.assert_close(tensor, original[name], rtol=0, atol=0, msg=name)
    assert (tmp_path / "release" / "README.md").read_text() == str(card)


def test_build_release_folder_from_saved_dir_writes_default_card(tiny_model_dir, tiny_model, tmp_path):
    files = hub.build_release_folder(tiny_model_dir, tmp_path / "release")
    assert files == sorted(files)
    assert {"model.safetensors", "config.json", "processor_config.json", "tokenizer.json"} <= set(files)
    card = ModelCard.load(tmp_path / "release" / "README.md")
    assert card.data.license == "cc-by-nc-sa-4.0"
    assert f"| Parameters | {tiny_model.num_parameters():,} |" in card.text
    assert f'model="{tmp_path / "release"}"' in card.text  # the release folder, not another repo


def test_build_release_folder_default_card_of_a_model_object(tiny_model, tmp_path):
    hub.build_release_folder(tiny_model, tmp_path / "release")
    text = (tmp_path / "release" / "README.md").read_text()
    assert f"| Parameters | {tiny_model.num_parameters():,} |" in text
    assert "`TavisConfig.tiny()`" in text and "ImageBind-huge" not in text


def test_build_release_folder_copies_the_training_records(tiny_model_dir, tmp_path):
    import shutil

    source = tmp_path / "run"
    shutil.copytree(tiny_model_dir, source)
    recipe = {"subset": "synth-s4", "num_train_epochs": 1, "train_imagebind_audio": False}
    (source / "training_recipe.json").write_text(json.dumps(recipe))
    (source / "notes.json").write_text("{}")
    files = hub.build_release_folder(source, tmp_path / "release")
    assert "training_recipe.json" in files and "notes.json" not in files
    assert json.loads((tmp_path / "release" / "training_recipe.json").read_text()) == recipe
    assert "subset `synth-s4`" in (tmp_path / "release" / "README.md").read_text()


def test_build_release_folder_keeps_remote_code(tiny_model_dir, tmp_path):
    import shutil

    from tavis_hf.models.tavis.convert_tavis import save_remote_code

    source = tmp_path / "remote"
    shutil.copytree(tiny_model_dir, source)
    save_remote_code(source)
    code = sorted(p.name for p in source.glob("*.py"))
    assert code
    files = hub.build_release_folder(source, tmp_path / "release")
    assert sorted(f for f in files if f.endswith(".py")) == code
    for name in code:
        assert (tmp_path / "release" / name).read_text() == (source / name).read_text()
    auto_map = json.loads((source / "config.json").read_text())["auto_map"]
    assert json.loads((tmp_path / "release" / "config.json").read_text())["auto_map"] == auto_map

    files = hub.build_release_folder(source, tmp_path / "plain", remote_code=False)
    assert not [f for f in files if f.endswith(".py")]
    assert "auto_map" not in json.loads((tmp_path / "plain" / "config.json").read_text())


def test_build_release_folder_rejects_a_folder_with_missing_weights(tiny_model_dir, tmp_path):
    import shutil

    from safetensors.torch import load_file, save_file

    broken = tmp_path / "broken"
    shutil.copytree(tiny_model_dir, broken)
    weights = load_file(broken / "model.safetensors")
    dropped = sorted(weights)[0]
    del weights[dropped]
    save_file(weights, broken / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(ValueError, match=f"does not load cleanly.*missing_keys.*{dropped}"):
        hub.build_release_folder(broken, tmp_path / "release")
    with pytest.raises(ValueError, match="must differ from the source folder"):
        hub.build_release_folder(tiny_model_dir, tiny_model_dir, overwrite=True)
    assert (tiny_model_dir / "model.safetensors").is_file()


def test_build_release_folder_refuses_to_overwrite(tiny_model, tmp_path):
    (tmp_path / "release").mkdir()
    (tmp_path / "release" / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="not empty"):
        hub.build_release_folder(tiny_model, tmp_path / "release")
    with pytest.raises(FileNotFoundError, match="no config.json"):
        hub.build_release_folder(tmp_path, tmp_path / "other")
    with pytest.raises(TypeError, match="PreTrainedModel or a folder"):
        hub.build_release_folder(torch.nn.Linear(2, 2), tmp_path / "other")


# ------------------------------------------------------------------------------------------------------ publish
@pytest.fixture(scope="module")
def release_dir(tiny_model, tmp_path_factory, facts):
    folder = tmp_path_factory.mktemp("release") / "tiny"
    card = hub.make_model_card(model_name="tiny", facts=facts, repo_id="me/tiny", eval_records=[S4_RECORD])
    hub.build_release_folder(tiny_model, folder, card=card, max_shard_size="5MB")
    return folder


def test_publish_dry_run_makes_no_request(release_dir):
    with MockHub() as mock:
        plan = hub.publish(release_dir, "me/tiny", dry_run=True, token="hf_test")
    assert mock.requests == []
    local = sorted(p.relative_to(release_dir).as_posix() for p in release_dir.rglob("*") if p.is_file())
    assert [path for path, _ in plan.files] == local
    assert plan.card == (release_dir / "README.md").read_text()
    text = plan.describe()
    assert "Target: model repo me/tiny (private)" in text
    assert all(f"  {path}  ({size:,} bytes)" in text for path, size in plan.files)


def test_publish_uploads_the_planned_files(release_dir):
    plan = hub.publish(release_dir, "me/tiny", dry_run=True)
    with MockHub() as mock:
        result = hub.publish(release_dir, "me/tiny", token="hf_test", commit_message="Release tiny")
    assert mock.repos == [{"name": "tiny", "organization": "me", "visibility": "private", "type": "model"}]
    (commit,) = mock.commits
    assert commit["revision"] == "main"
    assert commit["summary"] == "Release tiny"
    assert sorted(commit["files"]) == [path for path, _ in plan.files]
    for path, data in commit["files"].items():
        assert data == (release_dir / path).read_bytes(), path
    assert result.commit_url.endswith("/me/tiny/commit/" + "c" * 40)
    assert result.pr_url is None
    assert not any("huggingface.co" in path for _, path in mock.requests)


def test_publish_as_pull_request(release_dir):
    with MockHub() as mock:
        result = hub.publish(release_dir, "me/tiny", create_pr=True, private=False, token="hf_test")
    assert mock.repos[0]["visibility"] == "public"
    assert mock.pull_requests == ["Upload with tavis_hf"]
    (commit,) = mock.commits
    assert commit["revision"] == "refs/pr/1"
    assert result.pr_url is not None


def test_publish_rejects_incomplete_folders(release_dir, tmp_path):
    with pytest.raises(FileNotFoundError, match="No such folder"):
        hub.publish(tmp_path / "missing", "me/tiny", dry_run=True)
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(FileNotFoundError, match="no README.md"):
        hub.publish(tmp_path, "me/tiny", dry_run=True)
    (tmp_path / "README.md").write_text("---\nlicense: cc-by-nc-sa-4.0\n---\n# x\n")
    with pytest.raises(ValueError, match="config.json and safetensors"):
        hub.publish(tmp_path, "me/tiny", dry_run=True)
    (tmp_path / "model.safetensors").write_bytes(b"")
    (tmp_path / "pytorch_model.bin").write_bytes(b"")
    with pytest.raises(ValueError, match=r"pickle weights \['pytorch_model.bin'\]"):
        hub.publish(tmp_path, "me/tiny", dry_run=True)
    (tmp_path / "README.md").write_text("# no front matter\n")
    with pytest.raises(ValueError, match="no licence"):
        hub.publish(tmp_path, "me/tiny", dry_run=True)
    with pytest.raises(ValueError, match="namespace/name"):
        hub.publish(release_dir, "tiny", dry_run=True)
    with pytest.raises(ValueError):
        hub.publish(release_dir, "me/bad name!", dry_run=True)
    with pytest.raises(ValueError, match="repo_type"):
        hub.publish(release_dir, "me/tiny", repo_type="space", dry_run=True)
