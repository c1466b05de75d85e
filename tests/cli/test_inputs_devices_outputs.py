"""`tavis-hf segment` on a URL, `--device` resolved by the one helper (the best available by default), output paths
checked before the work. Malformed inputs of every command are in tests/test_user_errors.py."""

import json
import shutil

import pytest

from tavis_hf import devices

from ..helpers import serve_folder


def test_segment_accepts_a_url_like_the_pipeline(run_cli, media, tiny_model_dir, tmp_path):
    """The URL is downloaded once (duration check, frames and overlay) and named in the summary."""
    served = tmp_path / "served"
    served.mkdir()
    shutil.copy(media["with_sound"], served / "clip.mp4")
    requests = []
    with serve_folder(served, requests) as base:
        url = f"{base}/clip.mp4"
        status, out, err = run_cli("segment", url, "--model", tiny_model_dir, "--output-dir", tmp_path / "out",
                                   "--no-progress")  # fmt: skip
    assert status == 0, err
    summary = json.loads(out)
    assert summary["video"] == url and summary["num_frames"] == 2  # 2 s at 1 fps
    assert requests == ["/clip.mp4"]
    assert (tmp_path / "out" / "overlay.mp4").is_file() and len(list((tmp_path / "out" / "masks").iterdir())) == 2


@pytest.mark.parametrize("command", ["segment", "evaluate"])
def test_device_is_resolved_by_the_one_helper(run_cli, monkeypatch, media, tiny_model_dir, tmp_path, command):
    """No `--device`: `resolve_device(None)`, the best available; the handler stops right after (the stand-in fails)."""
    asked = []

    def recording(device):
        asked.append(device)
        raise ValueError("stand-in device check")

    monkeypatch.setattr(devices, "resolve_device", recording)
    args = ["segment", media["with_sound"]] if command == "segment" else ["evaluate", "--dataset", tmp_path]
    status, _, err = run_cli(*args, "--model", tiny_model_dir)
    assert status == 2 and "stand-in device check" in err
    status, _, _ = run_cli(*args, "--model", tiny_model_dir, "--device", "cpu")
    assert asked == [None, "cpu"]


def test_best_available_device(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert devices.best_available_device() == "cpu" and devices.resolve_device(None) == torch.device("cpu")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert devices.best_available_device() == "mps" and devices.resolve_device("auto") == torch.device("mps")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert devices.best_available_device() == "cuda"


def test_device_names_and_indices(monkeypatch):
    import torch

    assert devices.resolve_device("cpu") == devices.resolve_device(-1) == devices.resolve_device(torch.device("cpu"))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert devices.resolve_device(1) == devices.resolve_device("cuda:1") == torch.device("cuda", 1)
    with pytest.raises(ValueError, match=r"no CUDA device 2: this machine has 2 \(cuda:0 to cuda:1\)"):
        devices.resolve_device("cuda:2")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    with pytest.raises(ValueError, match="MPS .* is not available"):
        devices.resolve_device("mps")


def test_evaluate_output_in_a_missing_folder_is_created_not_refused(run_cli, tmp_path):
    """`--output` may name folders that do not exist yet (created when the record is written); checked before the
    model loads: a folder in the way is refused at once."""
    status, _, err = run_cli("evaluate", "--model", tmp_path / "no_model", "--dataset", tmp_path,
                             "--output", tmp_path / "new" / "deeper" / "record.json")  # fmt: skip
    assert status == 2 and "no such model folder" in err  # the output path passed its check
