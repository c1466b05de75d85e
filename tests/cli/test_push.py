"""`tavis-hf push`: the dry run prints the exact files and card; the real run (mock Hub) uploads exactly those."""

import json
import re

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
