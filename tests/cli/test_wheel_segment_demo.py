"""`tavis-hf segment` and `tavis-hf demo` from a regular (non-editable) install of the wheel: nothing they need may live
outside the package (the demo app is `tavis_hf.demo`, the example clip and default model ship inside)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD_INPUTS = ("pyproject.toml", "README.md", "tavis_hf", "hub_card")
"""What setuptools reads to build the wheel (`hub_card/` ships as `tavis_hf.hub_card`)."""


def _run(*command, cwd, check=True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")
    return subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True, check=check)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A venv (sharing this interpreter's site-packages for the dependencies) with the wheel built from a copy of the
    sources installed into it, not editable; returns its `bin/` folder."""
    if not all((REPO / name).exists() for name in BUILD_INPUTS):
        pytest.skip("not a source checkout")
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"
    source.mkdir()
    for name in BUILD_INPUTS:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(REPO / name, source / name)
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", "dist", "./source",
         cwd=base)  # fmt: skip
    (wheel,) = (base / "dist").glob("tavis_hf-*.whl")
    _run(sys.executable, "-m", "venv", "--system-site-packages", "venv", cwd=base)
    bin_dir = base / "venv" / "bin"
    _run(bin_dir / "python", "-m", "pip", "install", "-q", "--no-deps", "--no-index", wheel, cwd=base)
    location = _run(bin_dir / "python", "-c", "import tavis_hf; print(tavis_hf.__file__)", cwd=base).stdout.strip()
    assert Path(location).is_relative_to(base / "venv"), location  # the wheel, not this checkout
    return bin_dir


def test_demo_resolves_the_packaged_app(installed, tmp_path):
    dry = _run(installed / "tavis-hf", "demo", "--dry-run", "--port", "7861", cwd=tmp_path)
    assert dry.stdout.split() == [str(installed / "python"), "-m", "tavis_hf.demo", "--port", "7861"]
    usage = _run(installed / "python", "-m", "tavis_hf.demo", "--help", cwd=tmp_path)  # what it launches answers
    assert usage.stdout.startswith("usage: tavis-hf demo [-h] [--model MODEL]")


def test_segment_example_with_the_embedded_model(installed, tmp_path):
    pytest.importorskip("av", reason="PyAV (the `video` extra) writes the example clip")
    out = tmp_path / "out"
    run = _run(installed / "tavis-hf", "segment", "--example", "--output-dir", out, "--no-progress", cwd=tmp_path)
    summary = json.loads(run.stdout)
    assert summary["num_frames"] == 5 and Path(summary["model"]).is_relative_to(installed.parent)
    assert (out / "overlay.mp4").stat().st_size > 0 and (out / "masks" / "frame_00000.png").is_file()
