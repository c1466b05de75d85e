"""The `tavis-hf` command: help, clear one-line errors (exit 2), train/demo command lines, push."""

import builtins
import json
import shlex
import subprocess
import sys

import pytest

import tavis_hf
from tavis_hf import cli

COMMANDS = ["segment", "evaluate", "build-dataset", "synth", "convert", "train", "demo", "push", "card"]


def _assert_one_line_error(status, err, command, *fragments):
    assert status == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"tavis-hf {command}: error: "), err
    for fragment in fragments:
        assert fragment in lines[0], err


# --------------------------------------------------------------------------------------------------------- help
def test_main_help_lists_every_command(run_cli):
    status, out, _ = run_cli("--help")
    assert status == 0
    for command in COMMANDS:
        assert command in out


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(run_cli, command):
    status, out, err = run_cli(command, "--help")
    assert status == 0, err
    assert out.startswith(f"usage: tavis-hf {command}")


def test_no_command_prints_help_and_fails(run_cli):
    status, _, err = run_cli()
    assert status == 2
    assert "usage: tavis-hf" in err


HEAVY = ("torch", "transformers", "datasets", "accelerate", "gradio", "av", "torchcodec", "numpy", "huggingface_hub")


def test_help_imports_nothing_heavy(monkeypatch, run_cli):
    """No `--help` runs an import of a heavy module or of another tavis_hf module (every import statement is seen,
    even of a module already loaded)."""
    imported = []
    real_import = builtins.__import__

    def recording_import(name, globals=None, locals=None, fromlist=(), level=0):
        package = (globals or {}).get("__package__") or ""
        module = f"{package}.{name}".rstrip(".") if level else name
        imported.extend([module, *(f"{module}.{item}" for item in fromlist or ())])
        return real_import(name, globals, locals, fromlist, level)

    monkeypatch.setattr(builtins, "__import__", recording_import)
    monkeypatch.setattr(cli, "_load", lambda module, *_: imported.append(module))
    for args in [["--help"], *[[command, "--help"] for command in COMMANDS]]:
        assert run_cli(*args)[0] == 0
    allowed = {"tavis_hf.cli", "tavis_hf.__version__"}
    heavy = [n for n in imported if n.split(".")[0] in HEAVY or (n.startswith("tavis_hf.") and n not in allowed)]
    assert heavy == []


def test_version_option(run_cli):
    status, out, _ = run_cli("--version")
    assert status == 0
    assert out.strip() == f"tavis-hf {tavis_hf.__version__}"


def test_unknown_option_is_one_line(run_cli):
    status, _, err = run_cli("synth", "--output-dir", "x", "--bogus")
    assert status == 2
    assert err.strip() == "tavis-hf synth: error: unrecognized arguments: --bogus (see `tavis-hf synth --help`)"


# ------------------------------------------------------------------------------------------ segment: bad input
def test_segment_missing_file(run_cli, tmp_path):
    status, _, err = run_cli("segment", tmp_path / "nope.mp4", "--model", "m")
    _assert_one_line_error(status, err, "segment", "no such video file", "nope.mp4")


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--fps", "0", "--fps must be in (0, 60]"),
        ("--fps", "-1", "--fps must be in (0, 60]"),
        ("--fps", "nan", "--fps must be in (0, 60]"),
        ("--fps", "1000", "--fps must be in (0, 60]"),
        ("--threshold", "0", "--threshold must be a probability in (0, 1)"),
        ("--threshold", "1", "--threshold must be a probability in (0, 1)"),
        ("--max-duration", "0", "--max-duration must be positive"),
        ("--max-duration", "inf", "--max-duration must be positive"),
        ("--output-dir", "FILE", "is a file, not a folder"),
    ],
)
def test_segment_options_checked_before_the_video(run_cli, tmp_path, option, value, message):
    """Checked before the video file (missing here) and before any heavy import."""
    if value == "FILE":
        value = tmp_path / "a_file"
        value.write_text("")
    status, _, err = run_cli("segment", tmp_path / "missing.mp4", option, value)
    _assert_one_line_error(status, err, "segment", message)


@pytest.mark.parametrize(
    ("args", "message", "allowed"),
    [
        (("x.mp4", "--fps", "0"), "--fps must be in (0, 60]", []),
        # telling a corpus from one video reads tavis_hf.media's file rules (numpy), not the model stack
        (("missing.mp4",), "no such video file", ["numpy"]),
    ],
)
def test_segment_bad_input_imports_nothing_heavy(args, message, allowed):
    """`tavis-hf segment ...` in a fresh interpreter: one-line error, exit 2, no torch-heavy import."""
    code = (
        "import sys\nfrom tavis_hf.cli import main\nstatus = main(sys.argv[1:])\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules if m.split('.')[0] in {HEAVY!r}}}))\nsys.exit(status)"
    )
    result = subprocess.run([sys.executable, "-c", code, "segment", *args], capture_output=True, text=True, timeout=120)
    _assert_one_line_error(result.returncode, result.stderr, "segment", message)
    assert result.stdout.strip() == repr(allowed)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("synth", "--train", "-1"), "--train must be >= 0"),
        (("synth", "--image-size", "0"), "--image-size must be >= 1"),
        (("build-dataset", "--subset", "s4", "--num-proc", "0"), "--num-proc must be >= 1"),
    ],
)
def test_integer_options_checked_before_imports(run_cli, tmp_path, args, message):
    status, _, err = run_cli(*args, "--output-dir", tmp_path / "out")
    _assert_one_line_error(status, err, args[0], message)


def test_evaluate_videos_per_batch_checked_before_imports(run_cli, tmp_path):
    status, _, err = run_cli("evaluate", "--model", "m", "--dataset", tmp_path, "--videos-per-batch", "0")
    _assert_one_line_error(status, err, "evaluate", "--videos-per-batch must be >= 1")


@pytest.mark.parametrize("args", [(), ("video.mp4", "--example")])
def test_segment_needs_exactly_one_video(run_cli, args):
    status, _, err = run_cli("segment", *args, "--model", "m")
    _assert_one_line_error(status, err, "segment", "give a video file or --example")


def test_segment_folder_without_videos(run_cli, tmp_path):
    """A folder is a corpus: one without videos is a one-line error naming it."""
    (tmp_path / "videos").mkdir()
    status, _, err = run_cli("segment", tmp_path / "videos", "--output-dir", tmp_path / "out")
    _assert_one_line_error(status, err, "segment", "holds no existing video file", "videos")


def test_segment_file_without_sound(run_cli, media, tiny_model_dir):
    status, _, err = run_cli("segment", media["without_sound"], "--model", tiny_model_dir)
    _assert_one_line_error(status, err, "segment", "no audio stream", "without_sound.mp4")


def test_segment_not_a_media_file(run_cli, media, tiny_model_dir):
    status, _, err = run_cli("segment", media["not_media"], "--model", tiny_model_dir)
    _assert_one_line_error(status, err, "segment", "not a readable media file")


def test_segment_overlong_video(run_cli, media, tiny_model_dir):
    status, _, err = run_cli("segment", media["with_sound"], "--model", tiny_model_dir, "--max-duration", "1.5")
    _assert_one_line_error(status, err, "segment", "s long, over the limit of 1.5 s", "--max-duration")


@pytest.mark.parametrize("labels", [[""], [" , "], [",", ""]])
def test_segment_empty_label_list(run_cli, media, labels):
    args = [a for label in labels for a in ("--labels", label)]
    status, _, err = run_cli("segment", media["with_sound"], "--model", "m", *args)
    _assert_one_line_error(status, err, "segment", "label list is empty")


def test_segment_label_list_with_a_hole(run_cli, media):
    status, _, err = run_cli("segment", media["with_sound"], "--model", "m", "--labels", "dog,,guitar")
    _assert_one_line_error(status, err, "segment", "empty entry")


def test_labels_are_split_and_stripped():
    assert cli._parse_labels(["dog, guitar", "man"]) == ["dog", "guitar", "man"]
    assert cli._parse_labels(None) is None


# ------------------------------------------------------------------------------------------------- train, demo
def test_train_dry_run_prints_the_accelerate_command(run_cli, tmp_path):
    script = tmp_path / "train_tavis.py"
    script.write_text("print('training')\n")
    status, out, err = run_cli(
        "train", "--script", script, "--num-processes", "2", "--mixed-precision", "bf16", "--dry-run",
        "--", "--config", "configs/s4.yaml", "--learning-rate", "1e-4",
    )  # fmt: skip
    assert status == 0, err
    assert shlex.split(out.strip()) == [
        sys.executable, "-m", "accelerate.commands.launch", "--num_processes", "2", "--mixed_precision", "bf16",
        str(script), "--config", "configs/s4.yaml", "--learning-rate", "1e-4",
    ]  # fmt: skip


def test_train_command_line_is_accepted_by_accelerate_launch(tmp_path):
    from accelerate.commands.launch import launch_command_parser

    args = cli.build_parser().parse_args(["train", "--script", str(tmp_path / "t.py"), "--cpu", "--num-processes", "2"])
    command = cli.train_command(args, ["--epochs", "1"])
    assert command[:3] == [sys.executable, "-m", "accelerate.commands.launch"]
    launch = launch_command_parser().parse_args(command[3:])  # what `accelerate launch` will see
    assert (launch.training_script, launch.training_script_args) == (str(tmp_path / "t.py"), ["--epochs", "1"])
    assert (launch.cpu, launch.num_processes, launch.mixed_precision) == (True, 2, None)


def test_train_without_script(run_cli, tmp_path):
    status, _, err = run_cli("train", "--script", tmp_path / "train_tavis.py", "--dry-run")
    _assert_one_line_error(status, err, "train", "no such training script")


def test_train_runs_the_packaged_training_module(run_cli):
    """No script from the repository: `accelerate launch -m tavis_hf.training` (what a wheel ships)."""
    from accelerate.commands.launch import launch_command_parser

    status, out, err = run_cli("train", "--cpu", "--dry-run", "--", "--subset", "s4")
    assert status == 0, err
    command = shlex.split(out)
    assert command == [
        sys.executable, "-m", "accelerate.commands.launch", "--cpu", "-m", "tavis_hf.training", "--subset", "s4"
    ]  # fmt: skip
    launch = launch_command_parser().parse_args(command[3:])
    assert (launch.module, launch.training_script, launch.training_script_args) == (
        True, "tavis_hf.training", ["--subset", "s4"]
    )  # fmt: skip


def test_demo_default_app_and_passthrough(run_cli):
    """No script from the repository: the app ships in the package (`python -m tavis_hf.demo`, what a wheel has)."""
    status, out, err = run_cli("demo", "--dry-run", "--port", "7861", "--model", "m")
    assert status == 0, err
    assert shlex.split(out) == [sys.executable, "-m", "tavis_hf.demo", "--port", "7861", "--model", "m"]


@pytest.mark.slow
def test_demo_runs_the_app(capfd):
    pytest.importorskip("gradio", reason="gradio (the `demo` extra) is not installed")
    assert cli.main(["demo", "--", "--help"]) == 0  # the app's own argument parser answers
    assert capfd.readouterr().out.startswith("usage: tavis-hf demo [-h] [--model MODEL]")


def test_demo_dry_run_and_missing_app(run_cli, tmp_path):
    app = tmp_path / "app.py"
    status, _, err = run_cli("demo", "--app", app, "--dry-run")
    _assert_one_line_error(status, err, "demo", "no such demo app")
    app.write_text("print('demo')\n")
    status, out, err = run_cli("demo", "--app", app, "--dry-run", "--", "--port", "7861")
    assert status == 0, err
    assert shlex.split(out.strip()) == [sys.executable, str(app), "--port", "7861"]


# ------------------------------------------------------------------------------------------------------ convert
def test_convert_rejects_unknown_kind(run_cli):
    status, _, err = run_cli("convert", "--kind", "vggish")
    assert status == 2
    assert "invalid choice: 'vggish'" in err and len(err.strip().splitlines()) == 1


def test_convert_passes_arguments_to_the_converter(monkeypatch, run_cli):
    seen = {}

    def fake_loader(module, attribute, command):
        seen["target"] = (module, attribute, command)
        return lambda argv: seen.setdefault("argv", argv) and None

    monkeypatch.setattr(cli, "_load", fake_loader)
    status, _, err = run_cli(
        "convert", "--kind", "tavis", "--checkpoint", "s4.pth", "--output-dir", "out", "--bpe-path", "bpe.txt.gz",
        "--", "--preset", "official_reduced",
    )  # fmt: skip
    assert status == 0, err
    assert seen == {
        "target": ("tavis_hf.models.tavis.convert_tavis", "main", "convert"),
        "argv": "--checkpoint s4.pth --output-dir out --bpe-path bpe.txt.gz --preset official_reduced".split(),
    }


@pytest.mark.parametrize("kind", sorted(cli.CONVERTERS))
def test_convert_missing_checkpoint_is_a_clear_error(run_cli, tmp_path, kind):
    status, _, err = run_cli(
        "convert", "--kind", kind, "--checkpoint", tmp_path / "missing.pth", "--bpe-path", tmp_path / "bpe.txt.gz",
        "--output-dir", tmp_path / "out",
    )  # fmt: skip
    _assert_one_line_error(status, err, "convert", "no such checkpoint file", "missing.pth")  # checked first


def test_missing_backing_module_or_dependency_is_a_clear_error(monkeypatch, tmp_path):
    with pytest.raises(cli.CLIError, match="needs tavis_hf.nonexistent, which this installation does not have"):
        cli._load("tavis_hf.nonexistent", "main", "convert")
    with pytest.raises(cli.CLIError, match="needs tavis_hf.cli.no_such_function"):
        cli._load("tavis_hf.cli", "no_such_function", "evaluate")
    (tmp_path / "needs_missing_dependency.py").write_text("import no_such_package_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(cli.CLIError, match="needs the Python package 'no_such_package_xyz', which is not installed"):
        cli._load("needs_missing_dependency", "main", "demo")


def test_eval_results_file_must_be_json(run_cli, tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "results.json").write_text("not json")
    status, _, err = run_cli(
        "push", tmp_path / "model", "--repo-id", "me/x", "--eval-results", tmp_path / "results.json", "--dry-run"
    )
    _assert_one_line_error(status, err, "push", "is not valid JSON")


def test_records_from_json_files(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps({"metrics": {}}))
    (tmp_path / "b.json").write_text(json.dumps([{"metrics": {"x": 1}}, {"metrics": {"y": 2}}]))
    records = cli._read_eval_records([str(tmp_path / "a.json"), str(tmp_path / "b.json")])
    assert records == [{"metrics": {}}, {"metrics": {"x": 1}}, {"metrics": {"y": 2}}]


def test_train_refuses_a_fake_distributed_cpu_run(run_cli):
    status, _, err = run_cli("train", "--cpu", "--num-processes", "2", "--dry-run", "--", "--output_dir", "x")
    _assert_one_line_error(status, err, "train", "would start a single process", "torchrun")


def test_synth_modes_are_the_dataset_modes():
    """The CLI (which imports no data code) offers exactly the modes make_synthavs takes."""
    from tavis_hf.data.synthetic import DATASET_MODES

    synth = cli.build_parser()._subparsers._group_actions[0].choices["synth"]
    (mode,) = [action for action in synth._actions if action.dest == "mode"]
    assert tuple(mode.choices) == tuple(DATASET_MODES)


def _subcommand_parsers():
    return cli.build_parser()._subparsers._group_actions[0].choices


def test_every_option_is_hyphenated():
    """One flag style: `--output-dir`, never `--output_dir` (the options passed through to scripts are theirs)."""
    underscored = [
        f"{name} {option}"
        for name, parser in _subcommand_parsers().items()
        for action in parser._actions
        for option in action.option_strings
        if "_" in option
    ]
    assert underscored == []
