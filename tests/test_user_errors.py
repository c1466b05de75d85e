"""Malformed input, table by table: every user error is one line naming the input and the fix, never a traceback.

The `tavis-hf` command is called in-process (`tavis_hf.cli.main`) for most rows, and through a real interpreter for a
few, to show that nothing reaches stderr but the one line. The Python entry points (`load_segmenter`, the pipeline,
`evaluate_model`, `TavisProcessor`, `from_pretrained`, the converters, the demo's handler) raise typed exceptions whose
message holds the row's phrase. Inputs are made here (tiny files, a local HTTP server on 127.0.0.1); the model is the
tiny random one of `tests/conftest.py`.
"""

import gzip
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from tavis_hf import cli
from tavis_hf.devices import resolve_device
from tavis_hf.evaluation import evaluate_model
from tavis_hf.media import MediaError
from tavis_hf.model_sources import check_model_source
from tavis_hf.models.imagebind.convert_imagebind import load_checkpoint_state_dict
from tavis_hf.models.imagebind.convert_imagebind import main as convert_imagebind
from tavis_hf.models.tavis import TavisConfig, TavisModel
from tavis_hf.models.tavis.convert_tavis import convert_tavis_checkpoint
from tavis_hf.segmentation import load_segmenter, segment_video

from .helpers import make_video, serve_folder

CUDA = torch.cuda.is_available()
ROOT = os.geteuid() == 0 if hasattr(os, "geteuid") else False
IMAGEBIND_MERGES = 49408 - 2 * 256 - 2
"""Merges in ImageBind's BPE vocabulary (what the converters check a `--bpe-path` file holds)."""


# --------------------------------------------------------------------------------------------------------- inputs
def _write_inputs(folder: Path, video: Path) -> dict[str, Path]:
    """Malformed (and a few well-formed) inputs of every kind, written into `folder`."""
    paths = {"video": video, "dir": folder / "empty_dir", "file": folder / "file.txt", "missing": folder / "nowhere"}
    paths["dir"].mkdir()
    paths["file"].write_text("a plain file\n")
    paths["notes"] = folder / "notes.mp4"
    paths["notes"].write_text("this is not a video")
    paths["silent"] = make_video(folder / "silent.mp4", duration=2.0, audio=None)
    for name, config in {"bert": {"model_type": "bert"}, "badjson": None}.items():
        paths[name] = folder / name
        paths[name].mkdir()
        (paths[name] / "config.json").write_text("{not json" if config is None else json.dumps(config))
    paths.update(_write_checkpoints(folder))
    return {name: Path(path) for name, path in paths.items()}


def _write_checkpoints(folder: Path) -> dict[str, Path]:
    import argparse

    paths = {name: folder / f"{name}.pth" for name in ("pickle", "random", "text", "truncated", "nested", "wrong_keys")}
    torch.save({"weight": torch.zeros(2), "args": argparse.Namespace(lr=1)}, paths["pickle"])
    paths["random"].write_bytes(np.random.default_rng(0).bytes(4096))
    paths["text"].write_text("model weights: see the README\n")
    torch.save({"weight": torch.zeros(1000)}, paths["wrong_keys"])
    paths["truncated"].write_bytes(paths["wrong_keys"].read_bytes()[:-300])
    torch.save({"model": {"weight": torch.zeros(2)}}, paths["nested"])
    paths["safetensors"] = folder / "broken.safetensors"
    paths["safetensors"].write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not a header}")
    paths["bpe"] = folder / "bpe_simple_vocab_16e6.txt.gz"
    with gzip.open(paths["bpe"], "wt", encoding="utf-8") as handle:
        handle.write("#version: 0.2\n" + "a b\n" * IMAGEBIND_MERGES)
    paths["not_gzip"] = folder / "bpe.txt"
    paths["not_gzip"].write_text("a b\n")
    return paths


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, short_mp4, tiny_model_dir):
    """Paths (`Path`) and URLs (`str`) of the rows, served by an HTTP server on 127.0.0.1 for the URL rows."""
    folder = tmp_path_factory.mktemp("user_errors")
    paths = _write_inputs(folder, short_mp4)
    served = folder / "served"
    served.mkdir()
    (served / "notes.txt").write_text("not a video")
    with serve_folder(served) as base:
        urls = {"url_404": f"{base}/absent.mp4", "url_text": f"{base}/notes.txt", "url_refused": _unused_port_url()}
        yield {**paths, **urls, "model": tiny_model_dir, "out": folder / "out"}


def _unused_port_url() -> str:
    """A URL on 127.0.0.1 that nothing listens on (its port bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/clip.mp4"


def _filled(args, inputs) -> list[str]:
    """`args` with `{name}` replaced by the input `name`."""
    return [arg.format(**{k: str(v) for k, v in inputs.items()}) for arg in args]


# ------------------------------------------------------------------------------------------------------- the CLI
CLI_ROWS = [
    # (row id, arguments, exit status, phrase of the message)
    ("segment-missing-video", ["segment", "{missing}.mp4"], 2, "no such video file"),
    ("segment-not-media", ["segment", "{notes}"], 2, "not a readable media file"),
    ("segment-no-sound", ["segment", "{silent}"], 2, "no audio stream"),
    ("segment-no-video", ["segment"], 2, "give a video file or --example"),
    ("segment-video-and-example", ["segment", "{video}", "--example"], 2, "give a video file or --example"),
    ("segment-fps-0", ["segment", "{video}", "--fps", "0"], 2, "--fps must be in (0, 60]"),
    ("segment-fps-nan", ["segment", "{video}", "--fps", "nan"], 2, "--fps must be in (0, 60]"),
    ("segment-fps-text", ["segment", "{video}", "--fps", "one"], 2, "invalid float value: 'one'"),
    ("segment-threshold", ["segment", "{video}", "--threshold", "1.5"], 2, "--threshold must be a probability"),
    ("segment-max-duration", ["segment", "{video}", "--max-duration", "1"], 2, "over the limit of 1 s"),
    ("segment-empty-labels", ["segment", "{video}", "--labels", " , "], 2, "label list is empty"),
    ("segment-label-hole", ["segment", "{video}", "--labels", "dog,,cat"], 2, "has an empty entry"),
    ("segment-mode", ["segment", "{video}", "--mode", "panoptic"], 2, "invalid choice: 'panoptic'"),
    ("segment-temporal", ["segment", "{video}", "--temporal", "sometimes"], 2, "invalid choice: 'sometimes'"),
    ("segment-unknown-option", ["segment", "{video}", "--colour", "red"], 2, "unrecognized arguments: --colour"),
    ("segment-model-missing", ["segment", "{video}", "--model", "{missing}"], 2, "no such model folder"),
    ("segment-model-typo", ["segment", "{video}", "--model", "tavis-tiny"], 2, "a Hub id has the form owner/name"),
    ("segment-model-no-config", ["segment", "{video}", "--model", "{dir}"], 2, "has no config.json"),
    ("segment-model-file", ["segment", "{video}", "--model", "{file}"], 2, "is a file; give the model folder"),
    ("segment-model-other-type", ["segment", "{video}", "--model", "{bert}"], 2, "type 'bert'"),
    ("segment-model-bad-json", ["segment", "{video}", "--model", "{badjson}"], 2, "is not a JSON object"),
    ("segment-device-name", ["segment", "{video}", "--model", "{model}", "--device", "gpu0"], 2, "invalid device"),
    ("segment-device-index", ["segment", "{video}", "--model", "{model}", "--device", "cuda:x"], 2, "invalid device"),
    ("segment-output-is-file", ["segment", "{video}", "--output-dir", "{file}"], 2, "is a file, not a folder"),
    ("segment-output-under-file", ["segment", "{video}", "--output-dir", "{file}/out"], 2, "cannot be made"),
    ("segment-url-404", ["segment", "{url_404}"], 2, "404"),
    ("segment-url-refused", ["segment", "{url_refused}"], 2, "could not fetch"),
    ("segment-url-not-media", ["segment", "{url_text}"], 2, "not a readable media file"),
    ("evaluate-no-dataset", ["evaluate", "--model", "{model}", "--dataset", "{missing}"], 2, "no such dataset"),
    ("evaluate-model-missing", ["evaluate", "--model", "{missing}", "--dataset", "{dir}"], 2, "no such model folder"),
    ("evaluate-output-dir", ["evaluate", "--model", "{model}", "--dataset", "{dir}", "--output", "{dir}"], 2,
     "is a folder; give a file name"),
    ("evaluate-output-under-file", ["evaluate", "--model", "{model}", "--dataset", "{dir}", "--output",
                                    "{file}/record.json"], 2, "cannot be made"),
    ("evaluate-device", ["evaluate", "--model", "{model}", "--dataset", "{dir}", "--device", "tpu"], 2, "invalid device"),
    ("evaluate-limit", ["evaluate", "--model", "{model}", "--dataset", "{dir}", "--limit", "0"], 2, "--limit must be"),
    ("synth-output-under-file", ["synth", "--output-dir", "{file}/synth"], 2, "cannot be made"),
    ("synth-output-not-empty", ["synth", "--output-dir", "{bert}"], 2, "is not empty"),
    ("synth-negative-count", ["synth", "--output-dir", "{out}", "--train", "-1"], 2, "--train must be >= 0"),
    ("build-dataset-output-under-file", ["build-dataset", "--subset", "s4", "--output-dir", "{file}/built"], 2,
     "cannot be made"),
    ("build-dataset-no-root", ["build-dataset", "--subset", "s4", "--object-root", "{missing}", "--output-dir",
                               "{out}"], 2, "no such AVSBench root"),
    ("card-no-folder", ["card", "{missing}"], 2, "no such model folder"),
    ("card-no-config", ["card", "{dir}"], 2, "no config.json"),
    ("card-output-under-file", ["card", "{model}", "--output", "{file}/README.md"], 2, "cannot be made"),
    ("convert-missing", ["convert", "--kind", "tavis", "--checkpoint", "{missing}.pth", "--bpe-path", "{bpe}",
                         "--output-dir", "{out}"], 2, "no such checkpoint file"),
    ("convert-folder", ["convert", "--kind", "imagebind", "--checkpoint", "{dir}", "--bpe-path", "{bpe}",
                        "--output-dir", "{out}"], 2, "is a folder; give the checkpoint file"),
    ("convert-random-bytes", ["convert", "--kind", "tavis", "--checkpoint", "{random}", "--bpe-path", "{bpe}",
                              "--output-dir", "{out}"], 2, "is not a PyTorch checkpoint"),
    ("convert-text", ["convert", "--kind", "imagebind", "--checkpoint", "{text}", "--bpe-path", "{bpe}",
                      "--output-dir", "{out}"], 2, "is not a PyTorch checkpoint"),
    ("convert-truncated", ["convert", "--kind", "tavis", "--checkpoint", "{truncated}", "--bpe-path", "{bpe}",
                           "--output-dir", "{out}"], 2, "is not a PyTorch checkpoint"),
    ("convert-pickle", ["convert", "--kind", "tavis", "--checkpoint", "{pickle}", "--bpe-path", "{bpe}",
                        "--output-dir", "{out}"], 2, "loading a pickle can run arbitrary code"),
    ("convert-broken-safetensors", ["convert", "--kind", "tavis", "--checkpoint", "{safetensors}", "--bpe-path",
                                    "{bpe}", "--output-dir", "{out}"], 2, "is not a readable safetensors file"),
    ("convert-nested", ["convert", "--kind", "imagebind", "--checkpoint", "{nested}", "--bpe-path", "{bpe}",
                        "--output-dir", "{out}"], 2, "is not a flat state dict"),
    ("convert-tavis-wrong-keys", ["convert", "--kind", "tavis", "--checkpoint", "{wrong_keys}", "--bpe-path", "{bpe}",
                                  "--output-dir", "{out}", "--", "--preset", "official_reduced"], 2,
     "does not match the configuration"),
    ("convert-imagebind-wrong-keys", ["convert", "--kind", "imagebind", "--checkpoint", "{wrong_keys}", "--bpe-path",
                                      "{bpe}", "--output-dir", "{out}"], 2, "Not an ImageBind state dict"),
    ("convert-bpe-missing", ["convert", "--kind", "imagebind", "--checkpoint", "{wrong_keys}", "--bpe-path",
                             "{missing}.gz", "--output-dir", "{out}"], 2, "no such BPE vocabulary file"),
    ("convert-bpe-not-gzip", ["convert", "--kind", "imagebind", "--checkpoint", "{wrong_keys}", "--bpe-path",
                              "{not_gzip}", "--output-dir", "{out}"], 2, "is not a gzipped BPE vocabulary"),
    ("train-config-missing", ["train", "--config-file", "{missing}.yaml", "--dry-run"], 2, "no such accelerate config"),
    ("demo-app-missing", ["demo", "--app", "{missing}.py", "--dry-run"], 2, "no such demo app"),
    ("push-folder-missing", ["push", "{missing}", "--repo-id", "me/model", "--dry-run"], 2, "no such folder to push"),
]  # fmt: skip


def _run_main(capsys, args) -> tuple[int, str, str]:
    try:
        status = cli.main(args)
    except SystemExit as exit_:
        status = exit_.code if isinstance(exit_.code, int) else 1
    out, err = capsys.readouterr()
    return status, out, err


def assert_one_line(err: str, *phrases: str) -> str:
    """`err` is one line (no traceback) holding every phrase; returns it."""
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for phrase in phrases:
        assert phrase in lines[0], err
    return lines[0]


@pytest.mark.parametrize(("args", "status", "phrase"), [pytest.param(*row[1:], id=row[0]) for row in CLI_ROWS])
def test_cli_bad_input_is_one_line(capsys, monkeypatch, inputs, args, status, phrase):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("TAVIS_HF_TRACEBACK", raising=False)
    got, out, err = _run_main(capsys, _filled(args, inputs))
    assert got == status, err
    line = assert_one_line(err, phrase)
    assert line.startswith(f"tavis-hf {args[0]}: error: "), line


@pytest.mark.skipif(CUDA, reason="this machine has CUDA")
@pytest.mark.parametrize("command", ["segment", "evaluate"])
def test_cli_cuda_without_cuda(capsys, inputs, command):
    args = ["segment", "{video}"] if command == "segment" else ["evaluate", "--dataset", "{dir}"]
    status, _, err = _run_main(capsys, _filled([*args, "--model", "{model}", "--device", "cuda:0"], inputs))
    assert status == 2
    assert_one_line(err, "CUDA is not available in this torch build/machine; use --device cpu")


@pytest.mark.skipif(ROOT, reason="root may write into a read-only folder")
def test_cli_read_only_output_folder(capsys, inputs, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        for args in (["segment", "{video}", "--output-dir", f"{locked}/out"], ["synth", "--output-dir", str(locked)]):
            status, _, err = _run_main(capsys, _filled(args, inputs))
            assert status == 2
            assert_one_line(err, "cannot be written", "permission denied")
    finally:
        locked.chmod(0o700)


def test_cli_internal_error_is_one_line_unless_traceback_asked(capsys, monkeypatch):
    """A bug (not a user error): one line saying so, exit status 1; `TAVIS_HF_TRACEBACK=1` lets it propagate."""

    def broken(args, extra):
        raise RuntimeError("shapes do not line up\nin some kernel")

    monkeypatch.setattr(cli, "_card", broken)  # registered by build_parser when main runs
    monkeypatch.delenv("TAVIS_HF_TRACEBACK", raising=False)
    status, _, err = _run_main(capsys, ["card", "x"])
    assert status == 1
    assert_one_line(err, "tavis-hf card: internal error: RuntimeError: shapes do not line up in some kernel",
                    "TAVIS_HF_TRACEBACK=1")  # fmt: skip
    monkeypatch.setenv("TAVIS_HF_TRACEBACK", "1")
    with pytest.raises(RuntimeError, match="shapes do not line up"):
        cli.main(["card", "x"])


def test_library_input_errors_are_user_errors():
    """Errors of the libraries that mean a malformed input file are reported as bad input, others as bugs."""
    import pickle

    from huggingface_hub.errors import StrictDataclassClassValidationError
    from safetensors import SafetensorError

    for error in (
        pickle.UnpicklingError("x"),
        SafetensorError("x"),
        StrictDataclassClassValidationError("v", ValueError()),
    ):
        assert cli._is_user_error(error)
    assert cli._is_user_error(MediaError("x")) and cli._is_user_error(FileNotFoundError("x"))
    assert not cli._is_user_error(RuntimeError("x")) and not cli._is_user_error(AssertionError())


# ------------------------------------------------------------------------------------------- a real interpreter
SUBPROCESS_ROWS = [
    ("cli-model-typo", ["-m", "tavis_hf.cli", "evaluate", "--model", "tavis-tiny", "--dataset", "{dir}"],
     "no such model folder: tavis-tiny"),
    ("cli-url-404", ["-m", "tavis_hf.cli", "segment", "{url_404}"], "404"),
    ("python-m-convert-tavis-pickle", ["-m", "tavis_hf.models.tavis.convert_tavis", "--checkpoint", "{pickle}",
                                       "--bpe-path", "{bpe}", "--output-dir", "{out}"], "can run arbitrary code"),
]  # fmt: skip


@pytest.fixture(scope="module")
def interpreter_runs(inputs) -> dict[str, tuple[int, str]]:
    """`(exit status, stderr)` of each row of `SUBPROCESS_ROWS`, run in fresh interpreters at the same time."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    env.pop("TAVIS_HF_TRACEBACK", None)
    runs = {
        row_id: subprocess.Popen(
            [sys.executable, *_filled(args, inputs)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )  # fmt: skip
        for row_id, args, _ in SUBPROCESS_ROWS
    }
    stderr = {row_id: run.communicate(timeout=300)[1] for row_id, run in runs.items()}
    return {row_id: (run.returncode, stderr[row_id]) for row_id, run in runs.items()}


@pytest.mark.parametrize(("row_id", "phrase"), [pytest.param(row[0], row[2], id=row[0]) for row in SUBPROCESS_ROWS])
def test_no_traceback_reaches_stderr(interpreter_runs, row_id, phrase):
    status, stderr = interpreter_runs[row_id]
    assert status == 2, stderr
    assert_one_line(stderr, phrase)


# ------------------------------------------------------------------------------------------------- Python API
API_ROWS = [
    # (row id, call(inputs), exception type, phrase)
    ("load-segmenter-missing", lambda i: load_segmenter(i["missing"]), FileNotFoundError, "no such model folder"),
    ("load-segmenter-typo", lambda i: load_segmenter("tavis-tiny"), FileNotFoundError, "form owner/name"),
    ("load-segmenter-no-config", lambda i: load_segmenter(i["dir"]), FileNotFoundError, "has no config.json"),
    ("load-segmenter-file", lambda i: load_segmenter(i["file"]), NotADirectoryError, "is a file"),
    ("load-segmenter-other-type", lambda i: load_segmenter(i["bert"]), ValueError, "not a TAViS model"),
    ("load-segmenter-device", lambda i: load_segmenter(i["model"], device="gpu"), ValueError, "invalid device"),
    ("load-segmenter-number", lambda i: load_segmenter(42), TypeError, "model folder or a Hub id"),
    ("segment-video-over-max-duration", lambda i: segment_video(i["video"], i["missing"], output_dir=i["out"],
     max_duration=0.5), MediaError, "s long, over the limit of 0.5 s; trim it"),  # before the (missing) model loads
    ("evaluate-model-missing", lambda i: evaluate_model(i["missing"], None, protocol="avsbench"),
     FileNotFoundError, "no such model folder"),
    ("evaluate-model-other-type", lambda i: evaluate_model(i["bert"], None, protocol="avsbench"), ValueError,
     "type 'bert'"),
    ("model-from-pretrained-other-type", lambda i: TavisModel.from_pretrained(i["bert"]), ValueError,
     "holds a 'bert' model (config.json model_type), not a TAViS model"),
    ("config-from-pretrained-other-type", lambda i: TavisConfig.from_pretrained(i["bert"]), ValueError,
     "holds a 'bert' model"),
    ("model-from-pretrained-missing", lambda i: TavisModel.from_pretrained(i["missing"]), FileNotFoundError,
     "no such model folder"),
    ("config-from-pretrained-missing", lambda i: TavisConfig.from_pretrained(i["missing"]), FileNotFoundError,
     "(a Hub id has the form owner/name)"),
    ("check-model-source-bad-json", lambda i: check_model_source(i["badjson"]), ValueError, "not a JSON object"),
    ("resolve-device-name", lambda i: resolve_device("gpu"), ValueError, "use cpu, cuda, cuda:N or mps"),
    ("resolve-device-bool", lambda i: resolve_device(True), TypeError, "device must be a name"),
    ("resolve-device-meta", lambda i: resolve_device("meta"), ValueError, "not supported here"),
    ("convert-tavis-missing", lambda i: convert_tavis_checkpoint(i["missing"], i["out"]), FileNotFoundError,
     "no such checkpoint file"),
    ("convert-tavis-pickle", lambda i: convert_tavis_checkpoint(i["pickle"], i["out"]), ValueError,
     "only safetensors or weights-only (tensor-only) checkpoints are accepted"),
    ("load-checkpoint-folder", lambda i: load_checkpoint_state_dict(i["dir"]), IsADirectoryError, "is a folder"),
    ("load-checkpoint-nested", lambda i: load_checkpoint_state_dict(i["nested"]), ValueError,
     "entry 'model' is a dict"),
    ("convert-imagebind-main-keys", lambda i: convert_imagebind(
        ["--checkpoint", str(i["wrong_keys"]), "--bpe-path", str(i["bpe"]), "--output-dir", str(i["out"])]),
     ValueError, "is it the authors' imagebind_huge.pth?"),
]  # fmt: skip


@pytest.mark.parametrize(("call", "error_type", "phrase"), [pytest.param(*row[1:], id=row[0]) for row in API_ROWS])
def test_python_entry_points_raise_typed_one_line_errors(inputs, monkeypatch, call, error_type, phrase):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(error_type) as raised:
        call(inputs)
    assert phrase in str(raised.value) and "\n" not in str(raised.value)
    assert "weights_only=False" not in str(raised.value)  # a refusal never suggests the unsafe way round it


@pytest.mark.skipif(CUDA, reason="this machine has CUDA")
def test_python_cuda_without_cuda(inputs):
    from tavis_hf.segmentation import load_segmenter

    with pytest.raises(ValueError, match="CUDA is not available in this torch build/machine"):
        load_segmenter(inputs["model"], device="cuda")


# --------------------------------------------------------------------------------------------------- pipeline
PIPELINE_ROWS = [
    # (row id, input, call parameters, exception type, phrase)
    ("missing-file", "{missing}.mp4", {}, MediaError, "no such media file"),
    ("not-media", "{notes}", {}, MediaError, "not a readable media file"),
    ("no-sound", "{silent}", {}, MediaError, "no audio stream"),
    ("empty-bytes", b"", {}, MediaError, "empty bytes"),
    ("url-404", "{url_404}", {}, MediaError, "could not fetch"),
    ("number", 3.5, {}, TypeError, "got float"),
    ("labels-empty", "{video}", {"labels": []}, ValueError, "labels is empty"),
    ("labels-dict", "{video}", {"labels": {"dog": 1}}, TypeError, "labels must be a list of class names"),
    ("labels-duplicates", "{video}", {"labels": "dog, dog"}, ValueError, "labels contain duplicates"),
    ("mode", "{video}", {"mode": "panoptic"}, ValueError, "mode must be one of"),
    ("threshold", "{video}", {"threshold": 1.5}, ValueError, "threshold must be a probability"),
    ("fps", "{video}", {"fps": 0}, ValueError, "fps"),
    ("unknown-parameter", "{video}", {"colour": "red"}, TypeError, "unknown parameters"),
    ("temporal", "{video}", {"temporal": "sometimes"}, ValueError, "sometimes"),
]


@pytest.mark.parametrize(
    ("source", "params", "error_type", "phrase"), [pytest.param(*row[1:], id=row[0]) for row in PIPELINE_ROWS]
)
def test_pipeline_bad_input(segmenter, inputs, source, params, error_type, phrase):
    if isinstance(source, str):
        source = source.format(**{k: str(v) for k, v in inputs.items()})
    with pytest.raises(error_type) as raised:
        segmenter(source, **params)
    assert phrase in str(raised.value) and "\n" not in str(raised.value).strip()


# -------------------------------------------------------------------------------------------------- processor
_FRAMES = np.zeros((2, 32, 32, 3), np.uint8)
_AUDIO = np.zeros(32000, np.float32)
PROCESSOR_ROWS = [
    ("videos-text", {"videos": "clip.mp4", "audio": _AUDIO, "sampling_rate": 16000}, TypeError, "got str"),
    ("videos-gray", {"videos": _FRAMES[..., 0], "audio": _AUDIO, "sampling_rate": 16000}, TypeError,
     "got an array of shape (2, 32, 32)"),
    ("frames-float", {"videos": _FRAMES.astype(np.float32), "audio": _AUDIO, "sampling_rate": 16000}, ValueError,
     "uint8"),
    ("no-audio", {"videos": _FRAMES}, ValueError, "audio is required"),
    ("no-rate", {"videos": _FRAMES, "audio": _AUDIO}, ValueError, "pass sampling_rate"),
    ("rate-zero", {"videos": _FRAMES, "audio": _AUDIO, "sampling_rate": 0}, ValueError, "sampling_rate must be"),
    ("rate-text", {"videos": _FRAMES, "audio": _AUDIO, "sampling_rate": "16k"}, TypeError, "sampling_rate must be"),
    ("audio-int", {"videos": _FRAMES, "audio": _AUDIO.astype(np.int16), "sampling_rate": 16000}, TypeError,
     "float array"),
    ("audio-nan", {"videos": _FRAMES, "audio": _AUDIO + np.nan, "sampling_rate": 16000}, ValueError, "NaN"),
    ("audio-3d", {"videos": _FRAMES, "audio": _AUDIO.reshape(1, 2, -1), "sampling_rate": 16000}, ValueError,
     "(channels, samples)"),
    ("audio-too-short", {"videos": _FRAMES, "audio": _AUDIO[:10], "sampling_rate": 16000}, ValueError, "400 samples"),
    ("batch-lengths", {"videos": [_FRAMES, _FRAMES[:1]], "audio": [_AUDIO, _AUDIO], "sampling_rate": 16000},
     ValueError, "same number of frames"),
    ("audio-count", {"videos": [_FRAMES], "audio": [_AUDIO, _AUDIO], "sampling_rate": 16000}, ValueError,
     "2 audio waveforms for 1 videos"),
    ("nothing", {}, ValueError, "nothing to process"),
    ("text-string", {"text": "dog"}, TypeError, "non-empty list of class names"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("kwargs", "error_type", "phrase"), [pytest.param(*row[1:], id=row[0]) for row in PROCESSOR_ROWS]
)
def test_processor_bad_input(tiny_processor, kwargs, error_type, phrase):
    with pytest.raises(error_type) as raised:
        tiny_processor(**kwargs)
    assert phrase in str(raised.value) and "\n" not in str(raised.value)


# ------------------------------------------------------------------------------------------------------- demo
@pytest.fixture(scope="module")
def demo_module():
    pytest.importorskip("gradio", reason="gradio (the `demo` extra) is not installed")
    from tavis_hf import demo

    return demo


DEMO_ROWS = [
    # (row id, call(handler, inputs), phrase)
    ("load-missing", lambda h, i: h.load(str(i["missing"])), "no such model folder"),
    ("load-no-config", lambda h, i: h.load(str(i["dir"])), "has no config.json"),
    ("load-other-type", lambda h, i: h.load(str(i["bert"])), "not a TAViS model"),
    ("no-video", lambda h, i: h.segment(None, str(i["model"]), "binary", ""), "No video given"),
    ("not-media", lambda h, i: h.segment(str(i["notes"]), str(i["model"]), "binary", ""), "cannot be used"),
    ("no-sound", lambda h, i: h.segment(str(i["silent"]), str(i["model"]), "binary", ""), "no audio stream"),
    ("empty-classes", lambda h, i: h.segment(str(i["video"]), str(i["model"]), "semantic", " "), "class list is empty"),
    ("mode", lambda h, i: h.segment(str(i["video"]), str(i["model"]), "panoptic", "dog"), "Unknown mode"),
]


@pytest.mark.parametrize(("call", "phrase"), [pytest.param(*row[1:], id=row[0]) for row in DEMO_ROWS])
def test_demo_handler_bad_input(demo_module, inputs, tmp_path, monkeypatch, call, phrase):
    import gradio as gr

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    handler = demo_module.DemoHandler(output_root=tmp_path)
    with pytest.raises(gr.Error) as raised:
        call(handler, inputs)
    assert phrase in raised.value.message and "Traceback" not in raised.value.message


@pytest.mark.parametrize(
    ("args", "phrase"),
    [(["--device", "gpu"], "invalid device"), (["--model", "tavis-tiny"], "a Hub id has the form owner/name")],
)
def test_demo_command_line_is_one_line(demo_module, capsys, args, phrase):
    with pytest.raises(SystemExit) as exit_:
        demo_module.main(args)
    assert exit_.value.code == 2
    assert_one_line(capsys.readouterr().err, "tavis-hf demo: error:", phrase)


def test_the_table_has_at_least_fifty_rows():
    rows = CLI_ROWS + SUBPROCESS_ROWS + API_ROWS + PIPELINE_ROWS + PROCESSOR_ROWS + DEMO_ROWS
    assert len(rows) >= 50
