"""Bad input to examples/train_tavis.py: clear errors, nothing written or overwritten."""

import hashlib

import pytest

from .conftest import tiny_argv


def _snapshot(folder) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_dataset_missing_a_column(train_script, synth_s4_dir, tmp_path):
    import datasets

    broken = datasets.load_from_disk(str(synth_s4_dir))
    for split in broken:
        broken[split] = broken[split].remove_columns("audio")
    broken.save_to_disk(tmp_path / "broken")
    out = tmp_path / "run"
    with pytest.raises(ValueError, match=r"lacks columns \['audio'\]"):
        train_script.main(tiny_argv(tmp_path / "broken", out, "--max_train_steps", "1"))
    assert not out.exists()


def test_dataset_of_another_subset(train_script, synth_s4_dir, tmp_path):
    argv = tiny_argv(synth_s4_dir, tmp_path / "run", "--max_train_steps", "1")
    argv[argv.index("synth-s4")] = "synth-ms3"
    with pytest.raises(ValueError, match="holds subset 'synth-s4', but the recipe is for subset 'synth-ms3'"):
        train_script.main(argv)
    assert not (tmp_path / "run").exists()


def test_shuffled_audio_control_needs_two_clips(train_script, synth_s4_dir, tmp_path):
    argv = tiny_argv(synth_s4_dir, tmp_path / "run", "--eval_shuffled_audio_seed", "0")
    with pytest.raises(ValueError, match=r"at least 2 clips in val and test .* \{'val': 1, 'test': 1\}"):
        train_script.main(argv)
    assert not (tmp_path / "run").exists()


def test_unknown_subset(train_script, synth_s4_dir, tmp_path):
    argv = tiny_argv(synth_s4_dir, tmp_path / "run")
    argv[argv.index("synth-s4")] = "s5"
    with pytest.raises(ValueError, match="unknown subset 's5'"):
        train_script.main(argv)
    assert not (tmp_path / "run").exists()


def test_resume_from_another_configuration(train_script, synth_s4_dir, tmp_path):
    out = tmp_path / "run"
    train_script.main(tiny_argv(synth_s4_dir, out, "--max_train_steps", "1", "--checkpointing_steps", "1"))
    before = _snapshot(out)
    with pytest.raises(ValueError, match=r"another training configuration(.|\n)*learning_rate: saved 3e-05, now 0.001"):
        train_script.main(tiny_argv(synth_s4_dir, out, "--max_train_steps", "2", "--learning_rate", "1e-3",
                                    "--resume_from_checkpoint", "latest"))  # fmt: skip
    with pytest.raises(ValueError, match="seed: saved 42, now 7"):
        train_script.main(tiny_argv(synth_s4_dir, out, "--seed", "7", "--resume_from_checkpoint", "latest"))
    with pytest.raises(ValueError, match="must be 'latest' or a step_<n> folder"):
        train_script.main(tiny_argv(synth_s4_dir, out, "--resume_from_checkpoint", str(tmp_path)))
    assert _snapshot(out) == before


def test_resume_without_a_run(train_script, synth_s4_dir, tmp_path):
    with pytest.raises(FileNotFoundError, match="recipe.json does not exist"):
        train_script.main(tiny_argv(synth_s4_dir, tmp_path / "run", "--resume_from_checkpoint", "latest"))


def test_tracker_that_is_not_installed(train_script, synth_s4_dir, tmp_path):
    from accelerate.tracking import get_available_trackers

    if "tensorboard" in get_available_trackers():
        pytest.skip("tensorboard is installed")
    with pytest.raises(ValueError, match=r"trackers \['tensorboard'\] are not installed"):
        train_script.main(tiny_argv(synth_s4_dir, tmp_path / "run", "--report_to", "jsonl,tensorboard"))
    assert not (tmp_path / "run").exists()


def test_config_overrides(train_script, synth_s4_dir, tiny_model_dir, tmp_path):
    out = tmp_path / "run"
    with pytest.raises(ValueError, match="key no_such_field isn't in the original config"):
        train_script.main(tiny_argv(synth_s4_dir, out, "--config_overrides", "no_such_field=1"))
    with pytest.raises(ValueError, match="temporal must be one of"):
        train_script.main(tiny_argv(synth_s4_dir, out, "--config_overrides", "temporal=sometimes"))
    # a pretrained model takes overrides too, but must still load every weight: one that changes the architecture fails
    argv = tiny_argv(synth_s4_dir, out, "--config-overrides", "num_object_queries=5")
    argv[argv.index("--model-preset") : argv.index("--model-preset") + 2] = [
        "--model-name-or-path",
        str(tiny_model_dir),
    ]
    with pytest.raises(ValueError, match="does not load cleanly"):
        train_script.main(argv)
    assert not out.exists()


def test_moved_model_settings(train_script, synth_s4_dir, tmp_path, capsys):
    """image_size and imagebind_train_mode are the model's config: naming them fails with one line saying so."""
    out = tmp_path / "run"
    for option in ("--image-size", "--image_size", "--imagebind-train-mode", "--no-imagebind_train_mode"):
        argv = tiny_argv(synth_s4_dir, out, option, *(["64"] if "size" in option else []))
        with pytest.raises(SystemExit) as exit_:
            train_script.main(argv)
        err = capsys.readouterr().err
        assert exit_.value.code == 2 and err.count("\n") == 1 and "is a model setting" in err, err
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("subset: synth-s4\nimagebind_train_mode: true\n")
    with pytest.raises(ValueError, match="imagebind_train_mode is a model setting: use --config-overrides"):
        train_script.main(tiny_argv(synth_s4_dir, out, "--config", str(recipe)))
    assert not out.exists()
