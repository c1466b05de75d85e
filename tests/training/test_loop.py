"""End-to-end runs of the training loop (tavis_hf.training.loop, through the thin examples/train_tavis.py) on tiny
SynthAVS (single CPU process, in-process)."""

import json

import pytest
import torch
from safetensors.torch import load_file

from tavis_hf.training import list_checkpoints

from .conftest import tiny_argv


def _losses(run_dir) -> dict[int, float]:
    lines = (run_dir / "logs" / "tavis" / "metrics.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    return {r["step"]: r["train/loss"] for r in records if "train/loss" in r}


def test_resume_is_exact(train_script, synth_s4_dir, tmp_path):
    """N steps, stop, resume to 2N (across an epoch boundary) == an uninterrupted 2N-step run: losses and weights.

    The interrupted run also caches the ImageBind audio features and checkpoints activations: neither may change
    a single bit. Both runs draw audio-mismatch negatives, which must be drawn identically after the resume."""
    common = ["--num_train_epochs", "3", "--checkpoints_total_limit", "5", "--mismatched_audio_probability", "0.5"]
    full, split = tmp_path / "full", tmp_path / "split"
    train_script.main(tiny_argv(synth_s4_dir, full, *common, "--max_train_steps", "4", "--checkpointing_steps", "4"))
    speedups = ["--cache_audio_features", "--activation_checkpointing"]
    train_script.main(
        tiny_argv(synth_s4_dir, split, *common, *speedups, "--max_train_steps", "1", "--checkpointing_steps", "1")
    )
    assert [p.name for p in list_checkpoints(split / "checkpoints")] == ["step_1"]
    train_script.main(tiny_argv(synth_s4_dir, split, *common, *speedups, "--max_train_steps", "4",
                                "--checkpointing_steps", "4", "--resume_from_checkpoint", "latest"))  # fmt: skip

    assert [p.name for p in list_checkpoints(split / "checkpoints")] == ["step_1", "step_4"]
    full_losses, split_losses = _losses(full), _losses(split)
    assert sorted(full_losses) == [1, 2, 3, 4]
    assert split_losses == full_losses
    weights_full = load_file(full / "checkpoints" / "step_4" / "model.safetensors")
    weights_split = load_file(split / "checkpoints" / "step_4" / "model.safetensors")
    assert weights_full.keys() == weights_split.keys()
    for key, value in weights_full.items():
        assert torch.equal(value, weights_split[key]), key
    # and training did move the weights
    weights_start = load_file(split / "checkpoints" / "step_1" / "model.safetensors")
    assert any(not torch.equal(weights_start[k], v) for k, v in weights_full.items())
    state = json.loads((split / "checkpoints" / "step_4" / "trainer_state.json").read_text())
    # saved after the last batch of epoch 1, before that epoch's evaluation
    assert (state["epoch"], state["global_step"], state["batches_in_epoch"]) == (1, 4, 2)
    assert [entry["epoch"] for entry in state["val_history"]] == [0]


def test_outputs_of_a_run(train_script, synth_s4_dir, tmp_path, capfd):
    """Two epochs: val metrics with the shuffled-audio control, best model, final Hub folder with card, rotated
    checkpoints, JSONL tracking, config overrides of a preset kept in the saved config; --no_progress silences the
    libraries' bars too, for the run only."""
    import datasets
    from transformers.utils import logging as transformers_logging

    data = datasets.load_from_disk(str(synth_s4_dir))  # 2 val and 2 test clips for the shuffled-audio control
    data = datasets.DatasetDict({"train": data["train"], "val": data["train"].select([0, 1]),
                                 "test": data["train"].select([2, 3])})  # fmt: skip
    data.save_to_disk(tmp_path / "data")
    out = tmp_path / "run"
    overrides = ["--config_overrides", "ce_double_normalization=false,loss_weight_a2t=2.0,imagebind_train_mode=true"]
    bars_before = (datasets.is_progress_bar_enabled(), transformers_logging.is_progress_bar_enabled())
    train_script.main(tiny_argv(tmp_path / "data", out, "--num_train_epochs", "2", "--checkpoints_total_limit", "1",
                                "--eval_shuffled_audio_seed", "0", *overrides))  # fmt: skip
    printed = capfd.readouterr().err
    assert "Writing model shards" not in printed and "Loading weights" not in printed and "it/s]" not in printed
    assert (datasets.is_progress_bar_enabled(), transformers_logging.is_progress_bar_enabled()) == bars_before
    metrics = json.loads((out / "metrics.json").read_text())
    assert [entry["epoch"] for entry in metrics["val"]] == [0, 1]
    assert all(entry["split"] == "val" for entry in metrics["val"])
    assert metrics["test"]["split"] == "test" and metrics["selected_weights"] == "best_model"
    for entry in [*metrics["val"], metrics["test"]]:  # the listening control: same clips, borrowed soundtracks
        control = entry["shuffled_audio"]
        assert control["audio_shuffled_across_clips_seed"] == 0 and control["num_frames"] == entry["num_frames"]
        assert entry["jaccard_drop_with_shuffled_audio"] == pytest.approx(entry["jaccard"] - control["jaccard"])
    logged = [json.loads(line) for line in (out / "logs" / "tavis" / "metrics.jsonl").read_text().splitlines()]
    assert sum("val/jaccard_drop_with_shuffled_audio" in record for record in logged) == 2
    best = max(metrics["val"], key=lambda entry: entry["jaccard"])
    assert metrics["best"]["value"] == best["jaccard"] and metrics["best"]["epoch"] == best["epoch"]
    assert [p.name for p in list_checkpoints(out / "checkpoints")] == ["step_4"]
    assert not list((out / "checkpoints").glob("*.tmp"))
    final = out / "final"
    for name in ("config.json", "model.safetensors", "processor_config.json", "README.md", "training_metrics.json"):
        assert (final / name).is_file(), name
    config = json.loads((final / "config.json").read_text())
    assert config["id2label"]["1"] == "chime"  # the dataset's vocabulary
    assert (config["ce_double_normalization"], config["loss_weight_a2t"]) == (False, 2.0)  # --config_overrides
    assert config["imagebind_train_mode"] is True  # the model's setting, not overwritten by the recipe any more
    for recipe in (
        json.loads((out / "recipe.json").read_text())["recipe"],
        json.loads((final / "training_recipe.json").read_text()),
    ):
        assert not {"image_size", "imagebind_train_mode"} & set(recipe)  # model settings: the config's
    # final weights are the best val epoch's
    assert torch.equal(
        load_file(final / "model.safetensors")["ibqd.queries.weight"],
        load_file(out / "best_model" / "model.safetensors")["ibqd.queries.weight"],
    )
    assert "jaccard" in (final / "README.md").read_text().lower()
    from tavis_hf import TavisModel
    from tavis_hf.evaluation import evaluate_dataset
    from tavis_hf.metrics import AVSBenchMetric
    from tavis_hf.models.tavis import TavisProcessor

    # the test metrics are those of the final (selected) weights on the test clips: the same weights file, inputs from
    # the same processor, one clip per forward, so the same numbers bit for bit
    metric = AVSBenchMetric("avsbench", videos_per_batch=1)  # the synth-s4 recipe's protocol
    rescored = evaluate_dataset(TavisModel.from_pretrained(final), TavisProcessor.from_pretrained(final), data["test"],
                                metric, progress=False)  # fmt: skip
    for key in ("jaccard", "fmeasure", "num_frames"):
        assert metrics["test"][key] == rescored[key], key


def test_no_selection_keeps_the_last_epoch(train_script, synth_s4_dir, tmp_path):
    out = tmp_path / "run"
    train_script.main(tiny_argv(synth_s4_dir, out, "--num_train_epochs", "2", "--no-select_best_model"))
    metrics = json.loads((out / "metrics.json").read_text())
    assert (metrics["best"]["epoch"], metrics["best"]["selection"]) == (1, "last epoch")
    assert metrics["best"]["value"] == metrics["val"][-1]["jaccard"]
    last = load_file(out / "checkpoints" / "step_4" / "model.safetensors")
    final = load_file(out / "final" / "model.safetensors")
    assert all(torch.equal(final[key], last[key]) for key in final)


def test_nonempty_output_dir_is_not_overwritten(train_script, synth_s4_dir, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    with pytest.raises(FileExistsError, match="not empty"):
        train_script.main(tiny_argv(synth_s4_dir, out, "--max_train_steps", "1"))
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
