"""tavis_hf.training.recipe: defaults per subset, precedence, files, command-line options, moved model settings,
resume compatibility."""

import argparse
import json

import pytest

from tavis_hf.training import (
    MOVED_SETTINGS,
    SUBSET_DEFAULTS,
    TrainingRecipe,
    add_recipe_arguments,
    check_resume_compatible,
    given_recipe_values,
    load_recipe_file,
    option_strings,
    recorded_recipe,
    resolve_recipe,
)


def _parse(argv):
    parser = argparse.ArgumentParser()
    add_recipe_arguments(parser)
    return given_recipe_values(parser.parse_args(argv))


def test_subset_defaults_are_the_authors_recipe():
    s4, ms3, v2 = (resolve_recipe(cli_values={"subset": s}) for s in ("s4", "ms3", "v2"))
    for recipe in (s4, ms3, v2):
        assert (recipe.learning_rate, recipe.weight_decay, recipe.min_learning_rate) == (3e-5, 0.01, 1e-7)
        assert not hasattr(recipe, "image_size") and not hasattr(recipe, "imagebind_train_mode")  # model settings
    assert (s4.num_train_epochs, s4.per_device_train_batch_size, s4.train_frames) == (80, 10, "annotated")
    assert (ms3.num_train_epochs, ms3.per_device_train_batch_size, ms3.train_frames) == (80, 4, "all")
    assert (v2.num_train_epochs, v2.per_device_train_batch_size, v2.eval_protocol) == (40, 4, "avss")
    assert v2.metric_for_best_model == "miou"


def test_precedence_file_then_command_line(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("subset: ms3\nlearning_rate: 1.0e-4\nnum_train_epochs: 5\ncheckpointing_steps: 10\n")
    cli = _parse(["--num-train-epochs", "7", "--activation_checkpointing", "--max_train_steps", "none"])
    recipe = resolve_recipe(load_recipe_file(path), cli)
    assert (recipe.subset, recipe.learning_rate, recipe.num_train_epochs) == ("ms3", 1e-4, 7)
    assert recipe.activation_checkpointing is True and recipe.max_train_steps is None
    assert recipe.checkpointing_steps == "10"
    assert recipe.per_device_train_batch_size == SUBSET_DEFAULTS["ms3"]["per_device_train_batch_size"]
    assert _parse([]) == {}
    semantic = resolve_recipe(
        cli_values={
            "subset": "s4",
            **_parse(["--eval-protocol", "avss", "--metric_for_best_model", "miou", "--eval-videos-per-batch", "none"]),
        }
    )
    assert semantic.eval_videos_per_batch is None


def test_shipped_recipe_files_are_valid():
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "examples" / "configs"
    files = sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.json"))
    assert files, "no recipes in examples/configs"
    for path in files:
        resolve_recipe(load_recipe_file(path))


def test_recipe_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown subset 'avs'"):
        resolve_recipe(cli_values={"subset": "avs"})
    with pytest.raises(ValueError, match="no subset given"):
        resolve_recipe(cli_values={})
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"subset": "s4", "lr": 1e-3}))
    with pytest.raises(ValueError, match=r"unknown recipe fields \['lr'\]"):
        load_recipe_file(bad)
    with pytest.raises(ValueError, match="per_device_train_batch_size must be >= 1"):
        TrainingRecipe(subset="s4", per_device_train_batch_size=0)
    with pytest.raises(ValueError, match="not produced by eval_protocol"):
        TrainingRecipe(subset="s4", metric_for_best_model="miou")
    with pytest.raises(ValueError, match="set eval_videos_per_batch to none"):
        TrainingRecipe(subset="s4", eval_protocol="avss", metric_for_best_model="miou")
    with pytest.raises(ValueError, match="not with train_imagebind_audio"):
        TrainingRecipe(subset="s4", cache_audio_features=True, train_imagebind_audio=True)
    with pytest.raises(ValueError, match=r"mismatched_audio_probability must be in \[0, 1\]"):
        TrainingRecipe(subset="s4", mismatched_audio_probability=1.5)
    with pytest.raises(SystemExit):
        _parse(["--learning_rate", "fast"])


def test_hyphenated_options_and_their_underscore_aliases():
    hyphenated = _parse(["--num-train-epochs", "3", "--per-device-train-batch-size", "2", "--no-select-best-model",
                         "--max-grad-norm", "none", "--cache-audio-features"])  # fmt: skip
    underscored = _parse(["--num_train_epochs", "3", "--per_device_train_batch_size", "2", "--no-select_best_model",
                          "--max_grad_norm", "none", "--cache_audio_features"])  # fmt: skip
    assert hyphenated == underscored == {
        "num_train_epochs": 3, "per_device_train_batch_size": 2, "select_best_model": False, "max_grad_norm": None,
        "cache_audio_features": True,
    }  # fmt: skip
    assert option_strings("seed") == ["--seed"]
    assert option_strings("learning_rate") == ["--learning-rate", "--learning_rate"]


@pytest.mark.parametrize(
    ("argv", "where"),
    [
        (["--image-size", "64"], "frames are resized to the model's config.image_size"),
        (["--image_size", "64"], "frames are resized to the model's config.image_size"),
        (["--imagebind-train-mode"], "use --config-overrides imagebind_train_mode=true"),
        (["--no-imagebind_train_mode"], "use --config-overrides imagebind_train_mode=true"),
    ],
)
def test_moved_settings_on_the_command_line_fail_in_one_line(argv, where, capsys):
    with pytest.raises(SystemExit) as exit_:
        _parse(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.count("\n") == 1, err
    assert f"error: {argv[0]}: " in err and "is a model setting" in err and where in err


def test_moved_settings_in_a_recipe_file_or_keyword_fail(tmp_path):
    for name, value in (("image_size", 64), ("imagebind_train_mode", True)):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps({"subset": "s4", name: value}))
        with pytest.raises(ValueError, match=f"^{path}: {name} is a model setting") as error:
            load_recipe_file(path)
        assert "\n" not in str(error.value) and str(error.value).endswith(MOVED_SETTINGS[name])
        with pytest.raises(ValueError, match=f"^{name} is a model setting"):
            resolve_recipe(cli_values={"subset": "s4", name: value})
    with pytest.raises(TypeError):
        TrainingRecipe(subset="s4", imagebind_train_mode=True)


def test_recorded_recipes_are_read_tolerantly():
    """A model folder's training_recipe.json (the embedded tiny model's names the former fields) still reads, as a
    record: the former fields are dropped, the rest is a valid recipe; given as a user's recipe file it is refused."""
    from tavis_hf.pipelines import DEFAULT_MODEL_DIR

    path = DEFAULT_MODEL_DIR / "training_recipe.json"
    values = json.loads(path.read_text())
    assert {"image_size", "imagebind_train_mode"} <= set(values)
    recipe = resolve_recipe(recorded_recipe(values))
    assert recipe.to_dict() == recorded_recipe(values)
    with pytest.raises(ValueError, match="is a model setting"):
        load_recipe_file(path)


def test_resume_check_reads_the_saved_recipe_as_a_record():
    """A run started before the model settings left the recipe resumes (they are in the model config hash); any
    other difference is still refused."""
    recipe = resolve_recipe(cli_values={"subset": "s4"})
    saved = {**recipe.to_dict(), "image_size": 224, "imagebind_train_mode": False}
    context = {"model_config": "abc", "dataset": "def", "num_processes": 1}
    check_resume_compatible(saved, recipe, context, context)
    with pytest.raises(ValueError, match="seed: saved 1, now 42"):
        check_resume_compatible({**saved, "seed": 1}, recipe, context, context)
    with pytest.raises(ValueError, match="model_config: saved 'abc', now 'xyz'"):
        check_resume_compatible(saved, recipe, context, {**context, "model_config": "xyz"})
