"""End-to-end subcommands on tiny data: segment, synth -> evaluate -> push card, synth tree -> build-dataset."""

import json
import shlex

import pytest
import torch
from datasets import load_from_disk
from huggingface_hub import ModelCard

from tavis_hf.hub import weights_fingerprint
from tavis_hf.pipelines import DEFAULT_MODEL_DIR

from ..hub.mock_hub import MockHub


@pytest.fixture(scope="module")
def synth_dir(tmp_path_factory):
    """A SynthAVS DatasetDict (2 test clips, 64 px) saved by `tavis-hf synth`."""
    from tavis_hf.cli import main

    folder = tmp_path_factory.mktemp("synth") / "ds"
    args = ["synth", "--output-dir", folder, "--train", "0", "--val", "0", "--test", "2", "--image-size", "64"]
    assert main([str(a) for a in [*args, "--no-progress"]]) == 0
    return folder


def test_segment_writes_masks_overlay_and_summary(run_cli, media, tiny_model_dir, tmp_path):
    out = tmp_path / "out"
    status, stdout, err = run_cli(
        "segment", media["with_sound"], "--model", tiny_model_dir, "--output-dir", out, "--no-progress",
        "--labels", "chime, drum", "--mode", "semantic",
    )  # fmt: skip
    assert status == 0, err
    summary = json.loads(stdout)
    assert summary["num_frames"] == 2  # a 2-s video at 1 frame per second
    assert summary["labels"] == ["background", "chime", "drum"]
    assert (out / "overlay.mp4").stat().st_size > 0
    written = json.loads((out / "summary.json").read_text())
    assert [frame["frame_index"] for frame in written["frames"]] == [0, 1]
    assert all((out / frame["mask"]).is_file() for frame in written["frames"])


def test_segment_example_clip(run_cli, tiny_model_dir, tmp_path):
    """`--example` writes the package's SynthAVS example clip (5 s with sound) and segments it."""
    out = tmp_path / "out"
    status, stdout, err = run_cli(
        "segment", "--example", "--model", tiny_model_dir, "--output-dir", out, "--no-progress"
    )
    assert status == 0, err
    assert (out / "example.mp4").is_file() and (out / "overlay.mp4").stat().st_size > 0
    assert json.loads(stdout)["num_frames"] == 5


def test_segment_tracking_and_its_former_name(run_cli, media, tiny_model_dir, tmp_path):
    """`--temporal tracking` (SAM2 memory over windows); `clip`, its former name, is accepted and recorded as it."""
    for name in ("tracking", "clip"):
        status, stdout, err = run_cli(
            "segment", media["with_sound"], "--model", tiny_model_dir, "--output-dir", tmp_path / name,
            "--temporal", name, "--no-progress",
        )  # fmt: skip
        assert status == 0, err
        assert json.loads(stdout)["temporal"] == "tracking"


def test_main_command_segments_the_example_with_the_default_model(run_cli, tmp_path):
    """The README's main command: masks, a summary and an overlay video with both streams (checked with ffprobe)."""
    import shutil
    import subprocess

    out = tmp_path / "tavis_output"
    status, stdout, err = run_cli("segment", "--example", "--output-dir", out, "--no-progress")
    assert status == 0, err
    summary = json.loads((out / "summary.json").read_text())
    assert len(summary["frames"]) == 5 and all((out / frame["mask"]).is_file() for frame in summary["frames"])
    assert json.loads(stdout)["model"] == str(DEFAULT_MODEL_DIR)
    ffprobe = shutil.which("ffprobe")
    if ffprobe is None:
        pytest.skip("ffprobe (ffmpeg) is not installed")
    streams = subprocess.run(
        [ffprobe, "-v", "error", "-show_entries", "stream=codec_type", "-of", "csv=p=0", str(out / "overlay.mp4")],
        check=True, capture_output=True, text=True,
    ).stdout.split()  # fmt: skip
    assert sorted(streams) == ["audio", "video"]


def test_segment_without_model_when_none_is_shipped(run_cli, media, tmp_path, monkeypatch):
    monkeypatch.setattr("tavis_hf.segmentation.DEFAULT_MODEL_DIR", tmp_path / "absent")
    status, _, err = run_cli("segment", media["with_sound"], "--output-dir", tmp_path, "--no-progress")
    assert status == 2 and len(err.strip().splitlines()) == 1
    assert "no default model is shipped" in err


def test_synth_writes_a_loadable_dataset(synth_dir):
    from tavis_hf.data import avsbench_build_info

    dataset = load_from_disk(str(synth_dir))
    assert list(dataset) == ["test"] and dataset["test"].num_rows == 2
    assert avsbench_build_info(dataset["test"])["subset"] == "synth-s4"


def test_evaluate_writes_a_record_the_card_accepts(
    run_cli, synth_dir, tiny_model_dir, tiny_model, tiny_processor, tmp_path
):
    from tavis_hf.evaluation import evaluate_dataset
    from tavis_hf.metrics import AVSBenchMetric

    record_path = tmp_path / "s4.json"
    common = ["evaluate", "--model", tiny_model_dir, "--dataset", synth_dir, "--no-progress"]
    status, stdout, err = run_cli(*common, "--output", record_path)
    assert status == 0, err
    record = json.loads(record_path.read_text())
    assert json.loads(stdout) == record
    assert record["command"] == shlex.join(["tavis-hf", *map(str, common), "--output", str(record_path)])
    assert record["model"] == {"name_or_path": str(tiny_model_dir), "fingerprint": weights_fingerprint(tiny_model_dir)}
    fingerprint = load_from_disk(str(synth_dir))["test"]._fingerprint
    assert record["dataset"] == {
        "name": "SynthAVS", "type": "synthavs", "config": "synth-s4", "split": "test", "num_videos": 2,
        "fingerprint": fingerprint,
    }  # fmt: skip
    assert record["protocol"] == {
        "name": "tavis_release", "score_space": "logits", "videos_per_batch": 1, "gt_source": "semantic"
    }  # fmt: skip
    direct = evaluate_dataset(
        tiny_model, tiny_processor, load_from_disk(str(synth_dir))["test"],
        AVSBenchMetric("tavis_release", videos_per_batch=1, gt_source="semantic"), progress=False,
    )  # fmt: skip
    assert record["metrics"] == {"jaccard": direct["jaccard"], "fmeasure": direct["fmeasure"]}  # the saved model's
    assert (record["num_videos"], record["num_frames"]) == (2, 10)

    # J is independent of the batch size for equal-size batches; F is computed on sigmoid scores instead.
    status, stdout, err = run_cli(*common, "--protocol", "avsbench", "--videos-per-batch", "2")
    assert status == 0, err
    batched = json.loads(stdout)
    assert batched["protocol"]["score_space"] == "sigmoid"
    assert batched["metrics"]["jaccard"] == pytest.approx(record["metrics"]["jaccard"], rel=1e-5)

    status, stdout, err = run_cli(*common, "--protocol", "avss", "--limit", "1")
    assert status == 0, err
    semantic = json.loads(stdout)
    assert set(semantic["metrics"]) == {"miou", "fscore"} and semantic["num_videos"] == 1

    status, stdout, err = run_cli(
        "push", tiny_model_dir, "--repo-id", "me/tiny", "--eval-results", record_path, "--dry-run"
    )
    assert status == 0, err
    card = ModelCard(stdout.split("Card (README.md):\n", 1)[1])
    assert {(r.dataset_name, r.metric_type) for r in card.data.eval_results} == {
        ("SynthAVS", "jaccard"), ("SynthAVS", "fmeasure")
    }  # fmt: skip


@pytest.mark.parametrize("num_clips", [2, 3, 10])
def test_audio_derangement_moves_every_soundtrack(num_clips):
    from tavis_hf.evaluation import audio_derangement

    source = audio_derangement(num_clips, seed=num_clips)
    assert sorted(source.tolist()) == list(range(num_clips))
    assert all(source[i] != i for i in range(num_clips))
    assert (audio_derangement(num_clips, seed=num_clips) == source).all()


def test_with_shuffled_audio_borrows_only_the_soundtrack():
    from tavis_hf.data import make_synthavs
    from tavis_hf.evaluation import audio_derangement, with_shuffled_audio

    dataset = make_synthavs({"test": 4}, mode="multi", image_size=32)["test"]
    shuffled = with_shuffled_audio(dataset, seed=1)
    source = audio_derangement(4, seed=1)
    assert shuffled.num_rows == 4 and set(shuffled.column_names) == set(dataset.column_names)
    for i in range(4):
        own, borrowed = dataset[i], shuffled[i]
        assert borrowed["uid"] == own["uid"] and borrowed["masks"] == own["masks"]
        donor = dataset[int(source[i])]["audio"].get_all_samples().data
        assert torch.equal(borrowed["audio"].get_all_samples().data, donor)
        assert not torch.equal(donor, own["audio"].get_all_samples().data)  # `dataset` keeps its own soundtracks
    with pytest.raises(ValueError, match="at least 2 clips"):
        with_shuffled_audio(dataset.select([0]), seed=0)


def test_evaluate_with_shuffled_audio(run_cli, synth_dir, tiny_model_dir, tiny_model, tiny_processor):
    from tavis_hf.evaluation import evaluate_dataset
    from tavis_hf.metrics import AVSBenchMetric

    common = ["evaluate", "--model", tiny_model_dir, "--dataset", synth_dir, "--no-progress"]
    status, stdout, err = run_cli(*common, "--shuffle-audio", "3")
    assert status == 0, err
    record = json.loads(stdout)
    status, stdout, err = run_cli(*common)
    assert status == 0, err
    assert json.loads(stdout)["metrics"] == record["metrics"]  # the control does not change the model's own scores
    control = evaluate_dataset(
        tiny_model, tiny_processor, load_from_disk(str(synth_dir))["test"],
        AVSBenchMetric("tavis_release", videos_per_batch=1, gt_source="semantic"), progress=False, shuffle_audio_seed=3,
    )  # fmt: skip
    shuffled = record["shuffled_audio"]
    assert shuffled["seed"] == 3 and set(shuffled["metrics"]) == set(record["metrics"]) == {"jaccard", "fmeasure"}
    for key in ("jaccard", "fmeasure"):
        assert shuffled["metrics"][key] == pytest.approx(control[key], abs=1e-7)
        assert shuffled["drop"][key] == record["metrics"][key] - shuffled["metrics"][key]
    status, _, err = run_cli(*common, "--shuffle-audio", "0", "--limit", "1")
    assert status == 2 and "at least 2 clips" in err


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--split", "train"], "has no split 'train'"),
        (["--protocol", "avsbench"], "needs videos_per_batch"),
        (["--protocol", "best"], "unknown protocol 'best'"),
        (["--limit", "0"], "--limit must be >= 1"),
    ],
)
def test_evaluate_bad_input(run_cli, synth_dir, tiny_model_dir, extra, fragment):
    status, _, err = run_cli("evaluate", "--model", tiny_model_dir, "--dataset", synth_dir, *extra)
    assert status == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert fragment in err


def test_synth_tree_then_build_dataset(run_cli, tmp_path):
    tree, built = tmp_path / "tree", tmp_path / "built"
    status, _, err = run_cli(
        "synth", "--layout", "object", "--output-dir", tree, "--train", "1", "--val", "1", "--test", "1",
        "--image-size", "64", "--no-progress",
    )  # fmt: skip
    assert status == 0, err
    args = ["build-dataset", "--subset", "s4", "--object-root", tree, "--classes", "synthavs", "--output-dir", built]
    status, stdout, err = run_cli(*args, "--image-size", "64", "--no-progress")
    assert status == 0, err
    assert json.loads(stdout)["splits"] == {"train": 1, "val": 1, "test": 1}
    status, _, err = run_cli(*args)  # the output folder is now taken
    assert status == 2 and "is not empty" in err


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--subset", "s5", "--object-root", "."], "subset must be one of"),
        (["--subset", "s4", "--object-root", "no/such/root"], "no such AVSBench root"),
        (["--subset", "s4"], "needs object_root"),
    ],
)
def test_build_dataset_bad_input(run_cli, tmp_path, args, fragment):
    status, _, err = run_cli("build-dataset", *args, "--output-dir", tmp_path / "out", "--no-progress")
    assert status == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert fragment in err


def test_push_dataset_dict_dry_run_and_push(run_cli, synth_dir, monkeypatch):
    import tavis_hf.data

    status, out, err = run_cli("push", synth_dir, "--repo-id", "me/synthavs", "--repo-type", "dataset", "--dry-run")
    assert status == 0, err
    assert (
        "Target: dataset repo me/synthavs (private), Parquet shards of at most 500MB per split:\n  test: 2 clips" in out
    )
    assert out.split("Card (README.md body):\n", 1)[1].startswith("# me/synthavs")

    calls = []  # DatasetDict.push_to_hub needs many Hub endpoints: check the call (docs/avsbench.md §7.6)
    monkeypatch.setattr(
        tavis_hf.data, "push_avsbench_to_hub", lambda dataset, repo_id, **kw: calls.append((dataset, repo_id, kw))
    )
    status, out, err = run_cli("push", synth_dir, "--repo-id", "me/synthavs", "--repo-type", "dataset", "--token", "t")
    assert status == 0, err
    ((dataset, repo_id, kwargs),) = calls
    assert repo_id == "me/synthavs" and dataset["test"].num_rows == 2
    assert kwargs == {"private": True, "token": "t", "max_shard_size": "500MB"}
    status, _, err = run_cli("push", synth_dir, "--repo-id", "me/synthavs", "--repo-type", "dataset", "--create-pr")
    assert status == 2 and "do not apply to a DatasetDict push" in err


@pytest.mark.slow
def test_train_then_push_the_final_folder(run_cli, tmp_path):
    """`tavis-hf train` really launches accelerate on the packaged training (tiny preset, 1 epoch on 4 SynthAVS clips);
    its `final/` folder is a release folder `tavis-hf push` accepts."""
    run = tmp_path / "run"
    status, _, err = run_cli(
        "train", "--cpu", "--num-processes", "1", "--", "--subset", "synth-s4", "--synthavs", "2,1,1",
        "--synthavs-image-size", "64", "--model-preset", "tiny", "--output-dir", run,
        "--num-train-epochs", "1", "--per-device-train-batch-size", "2", "--no-progress", "--report-to", "none",
    )  # fmt: skip
    assert status == 0, err
    with MockHub() as mock:
        status, out, err = run_cli("push", run / "final", "--repo-id", "me/tavis-synth", "--token", "t")
    assert status == 0, err
    (commit,) = mock.commits
    assert {"README.md", "config.json", "model.safetensors", "processor_config.json"} <= set(commit["files"])
    card = ModelCard(commit["files"]["README.md"].decode())
    assert {r.dataset_name for r in card.data.eval_results} == {"SynthAVS"}
