"""tavis_hf.training.checkpointing: checkpoint listing, trainer progress, the run folder checks."""

import json

import pytest

from tavis_hf.training import TrainerProgress, list_checkpoints, prepare_output_dir, resolve_recipe, write_json_atomic


def test_checkpoint_listing_and_progress(tmp_path):
    for name in ("step_10", "step_2", "step_3.tmp", "other"):
        (tmp_path / name).mkdir()
    assert [p.name for p in list_checkpoints(tmp_path)] == ["step_2", "step_10"]
    progress = TrainerProgress(epoch=1, global_step=3, micro_step=6, batches_in_epoch=2)
    path = tmp_path / "state.json"
    path.write_text(json.dumps(progress.to_dict()))
    assert TrainerProgress.load(path) == progress
    path.write_text(json.dumps({"epoch": 1}))
    with pytest.raises(ValueError, match="not a trainer state"):
        TrainerProgress.load(path)


def test_write_json_atomic_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "sub" / "a.json"
    write_json_atomic(path, {"b": 1, "a": [1, 2]})
    assert json.loads(path.read_text()) == {"a": [1, 2], "b": 1}
    assert path.read_text().endswith("\n") and [p.name for p in path.parent.iterdir()] == ["a.json"]


def test_prepare_output_dir(tmp_path):
    recipe = resolve_recipe(cli_values={"subset": "s4"})
    context = {"model_config": "m", "dataset": "d", "num_processes": 1}
    assert prepare_output_dir(tmp_path / "new", recipe, context) is None
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "keep.txt").write_text("x")
    with pytest.raises(FileExistsError, match="--resume-from-checkpoint latest"):
        prepare_output_dir(tmp_path / "run", recipe, context)
    assert prepare_output_dir(tmp_path / "run", recipe, context, overwrite_output_dir=True) is None
    write_json_atomic(tmp_path / "run" / "recipe.json", {"recipe": recipe.to_dict(), "context": context})
    with pytest.raises(FileNotFoundError, match="no checkpoint under"):
        prepare_output_dir(tmp_path / "run", recipe, context, "latest")
    for step in (3, 12):
        (tmp_path / "run" / "checkpoints" / f"step_{step}").mkdir(parents=True)
    assert prepare_output_dir(tmp_path / "run", recipe, context, "latest").name == "step_12"
    step_3 = tmp_path / "run" / "checkpoints" / "step_3"
    assert prepare_output_dir(tmp_path / "run", recipe, context, str(step_3)) == step_3
