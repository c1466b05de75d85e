"""`tavis-hf push`: the dry run prints the exact files and card; the real run (mock Hub) uploads exactly those."""

import json
import re
import shutil
from pathlib import Path

from huggingface_hub import ModelCard

from ..hub.fixtures import S4_RECORD
from ..hub.mock_hub import MockHub


def _planned(out: str) -> tuple[dict[str, int], str]:
    """Parse `PublishPlan.describe()` output: {path: size} and the card text."""
    files_part, card = out.split("Card (README.md):\n", 1)
    files = {m[1]: int(m[2].replace(",", "")) for m in re.finditer(r"^  (\S+)  \(([\d,]+) bytes\)$", files_part, re.M)}
    return files, card


def test_push_dry_run_then_upload_from_a_saved_model(run_cli, tiny_model_dir, tmp_path):
    (tmp_path / "s4.json").write_text(json.dumps(S4_RECORD))
    release = tmp_path / "release"
    common = ["push", tiny_model_dir, "--repo-id", "me/tavis-tiny", "--eval-results", tmp_path / "s4.json"]

    with MockHub() as mock:
        status, out, err = run_cli(*common, "--release-dir", release, "--max-shard-size", "5MB", "--dry-run")
    assert status == 0, err
    assert mock.requests == []
    assert out.startswith("Dry run: nothing was uploaded.\nTarget: model repo me/tavis-tiny (private)\n")
    files, card_text = _planned(out)
    assert {"config.json", "model.safetensors.index.json", "README.md"} <= set(files)
    assert len([f for f in files if f.endswith(".safetensors")]) >= 2
    assert files == {p.relative_to(release).as_posix(): p.stat().st_size for p in release.rglob("*") if p.is_file()}
    assert card_text.rstrip("\n") == (release / "README.md").read_text().rstrip("\n")
    card = ModelCard(card_text)
    assert card.data.license == "cc-by-nc-sa-4.0"
    assert {(r.metric_type, r.metric_value) for r in card.data.eval_results} == {
        ("jaccard", 0.8125),
        ("fmeasure", 0.90625),
    }

    with MockHub() as mock:
        status, out, err = run_cli("push", release, "--repo-id", "me/tavis-tiny", "--token", "hf_test", "--create-pr")
    assert status == 0, err
    (commit,) = mock.commits
    assert {path: len(data) for path, data in commit["files"].items()} == files
    assert commit["files"]["README.md"].decode() == (release / "README.md").read_text()
    assert mock.pull_requests and commit["revision"] == "refs/pr/1"
    assert out.startswith("Uploaded") and "me/tavis-tiny" in out


def test_push_without_release_dir_uses_a_temporary_folder(run_cli, tiny_model_dir):
    args = ["push", tiny_model_dir, "--repo-id", "me/tavis-tiny", "--token", "hf_test"]
    status, out, err = run_cli(*args, "--dry-run")
    assert status == 0, err
    files, card_text = _planned(out)
    with MockHub() as mock:
        status, out, err = run_cli(*args)
    assert status == 0, err
    (commit,) = mock.commits
    assert {path: len(data) for path, data in commit["files"].items()} == files  # the build is deterministic
    assert commit["files"]["README.md"].decode().rstrip("\n") == card_text.rstrip("\n")
    assert {"config.json", "model.safetensors", "processor_config.json", "README.md"} <= set(files)
    assert "has not been evaluated yet" in card_text


def test_push_dataset_folder_with_card(run_cli, tmp_path):
    folder = tmp_path / "synthavs"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "test-00000-of-00001.parquet").write_bytes(b"PAR1 not really parquet PAR1")
    (folder / "README.md").write_text(
        "---\nlicense: cc-by-4.0\ntask_categories:\n- image-segmentation\n---\n# SynthAVS\n"
    )
    with MockHub() as mock:
        status, out, err = run_cli("push", folder, "--repo-id", "me/synthavs", "--repo-type", "dataset", "--token", "t")
    assert status == 0, err
    assert mock.repos == [{"name": "synthavs", "organization": "me", "visibility": "private", "type": "dataset"}]
    (commit,) = mock.commits
    assert sorted(commit["files"]) == ["README.md", "data/test-00000-of-00001.parquet"]
    assert ("POST", "/api/datasets/me/synthavs/commit/main") in mock.requests


def test_push_bad_input_is_one_line(run_cli, tiny_model_dir, tmp_path):
    cases = [
        (["push", tmp_path / "missing", "--repo-id", "me/x", "--dry-run"], "no such folder to push"),
        (["push", tiny_model_dir, "--repo-id", "not a repo id", "--dry-run"], "Repo id must"),
        (["push", tmp_path, "--repo-id", "me/x", "--repo-type", "dataset", "--dry-run"], "neither a saved DatasetDict"),
        (["push", tmp_path, "--repo-id", "me/x", "--dry-run"], "no config.json"),
    ]
    for args, fragment in cases:
        status, _, err = run_cli(*args)
        assert status == 2, (args, err)
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
        assert fragment in err, (args, err)


# ------------------------------------------------------------------------------- cards rendered from the folder
TINY = Path(__file__).resolve().parents[2] / "tavis_hf" / "checkpoints" / "tavis-tiny"


def test_push_of_the_embedded_tiny_model_shows_a_card_of_that_model(run_cli):
    """tavis-tiny carries a card generated for no repository: push renders it again, from the folder's files."""
    from tavis_hf.models.tavis import TavisModel

    embedded = (TINY / "README.md").read_bytes()
    status, out, err = run_cli("push", TINY, "--repo-id", "x/y", "--dry-run")
    assert status == 0, err
    assert (TINY / "README.md").read_bytes() == embedded  # the embedded card is not touched
    files, card_text = _planned(out)
    records = {"training_recipe.json", "pretraining.json", "training_metrics.json", "evaluation-synth-ms3.json"}
    assert {"README.md", "config.json", *records} <= set(files)  # the evidence the card cites ships with it
    assert re.search(r"\{[a-z_]+\}", card_text) is None
    assert "ImageBind-huge" not in card_text and "Hiera-L" not in card_text and "Trained on AVSBench" not in card_text
    assert "`TavisConfig.tiny()`" in card_text and "(repo_id: x/y)" in card_text
    assert f"| Parameters | {TavisModel.from_pretrained(TINY).num_parameters():,} |" in card_text
    assert "| Base models | none: trained from a random initialisation" in card_text
    training_data = re.search(r"^\| Training data \| (.*) \|$", card_text, re.M)[1]
    assert "SynthAVS" in training_data and "AVSBench" not in training_data
    usage = card_text.split("## How to use", 1)[1].split("## Intended use", 1)[0]
    assert set(re.findall(r'model="([^"]+)"', usage)) == {"x/y"} and "--model x/y " in usage
    card = ModelCard(card_text)
    assert card.data.base_model is None and card.data.license == "cc-by-nc-sa-4.0"


def test_push_renders_again_a_card_generated_for_another_repo_only(run_cli, tiny_model_dir, tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(tiny_model_dir, folder)
    status, _, err = run_cli("card", folder, "--repo-id", "me/old", "--output", folder / "README.md")
    assert status == 0, err
    status, out, err = run_cli("push", folder, "--repo-id", "me/new", "--dry-run")
    assert status == 0, err
    files, card_text = _planned(out)
    assert 'model="me/new"' in card_text and "me/old" not in card_text
    assert "model.safetensors" in files
    # rendered for this very repository: a release folder, uploaded as it is
    status, out, err = run_cli("push", folder, "--repo-id", "me/old", "--dry-run")
    assert status == 0, err
    assert _planned(out)[1].rstrip("\n") == (folder / "README.md").read_text().rstrip("\n")
    status, _, err = run_cli("push", folder, "--repo-id", "me/old", "--eval-results", folder / "x.json", "--dry-run")
    assert status == 2 and "already a release folder" in err and len(err.strip().splitlines()) == 1
    # a hand-written card is never replaced
    (folder / "README.md").write_text("---\nlicense: cc-by-nc-sa-4.0\n---\n# My own card\n")
    status, out, err = run_cli("push", folder, "--repo-id", "me/new", "--dry-run")
    assert status == 0, err
    assert _planned(out)[1].startswith("---\nlicense: cc-by-nc-sa-4.0\n---\n# My own card")


def test_push_refuses_a_record_made_on_another_model(run_cli, tiny_model_dir, tmp_path):
    record = {**S4_RECORD, "model": {"name_or_path": "other", "fingerprint": "sha256:" + "0" * 64}}
    (tmp_path / "s4.json").write_text(json.dumps(record))
    status, _, err = run_cli("push", tiny_model_dir, "--repo-id", "me/x", "--eval-results", tmp_path / "s4.json",
                             "--dry-run")  # fmt: skip
    assert status == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "was made on another model" in err


# ------------------------------------------------------------------------------------------------------- card
def test_card_command_prints_or_writes_the_card(run_cli, tiny_model_dir, tmp_path):
    from tavis_hf import hub

    record = {**S4_RECORD, "command": "tavis-hf evaluate --model m --dataset d --output s4.json",
              "model": {"name_or_path": "m", "fingerprint": hub.weights_fingerprint(tiny_model_dir)}}  # fmt: skip
    (tmp_path / "s4.json").write_text(json.dumps(record))
    status, out, err = run_cli("card", tiny_model_dir, "--repo-id", "me/tiny", "--eval-results", tmp_path / "s4.json")
    assert status == 0, err
    card = ModelCard(out)
    assert {(r.metric_type, r.metric_value) for r in card.data.eval_results} == {("jaccard", 0.8125),
                                                                                ("fmeasure", 0.90625)}  # fmt: skip
    assert f"`{record['command']}`" in out and 'model="me/tiny"' in out
    output = tmp_path / "cards" / "README.md"
    status, out, err = run_cli("card", tiny_model_dir, "--eval-results", tmp_path / "s4.json", "--output", output)
    assert status == 0, err
    assert out.strip() == f"Wrote the model card of {tiny_model_dir} to {output}"
    assert f'model="{tiny_model_dir}"' in output.read_text()  # no repo id: the folder itself
    output.write_text("an older card")  # regenerating a card overwrites the existing file
    status, out, err = run_cli("card", tiny_model_dir, "--eval-results", tmp_path / "s4.json", "--output", output)
    assert status == 0, err
    assert f'model="{tiny_model_dir}"' in output.read_text()


def test_card_bad_input_is_one_line(run_cli, tiny_model_dir, tmp_path):
    cases = [
        (["card", tmp_path / "missing"], "no such model folder"),
        (["card", tmp_path], "no config.json"),
        (["card", tiny_model_dir, "--repo-id", "not a repo id"], "Repo id must"),
        (["card", tiny_model_dir, "--eval-results", tmp_path / "none.json"], "no such evaluation results file"),
    ]
    for args, fragment in cases:
        status, _, err = run_cli(*args)
        assert status == 2, (args, err)
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
        assert err.startswith("tavis-hf card: error: ") and fragment in err, (args, err)
