"""Launching training: ``python -m tavis_hf.training`` (what ``tavis-hf train`` runs under ``accelerate launch``),
the Accelerate configs, and the wheel path (a regular, non-editable install has the training module and every
``tavis_hf`` module, and ``tavis-hf train`` runs from it)."""

import os
import shutil
import subprocess
import sys
import time
import venv
import zipfile
from pathlib import Path

import pytest

from .conftest import REPO

PACKAGE = REPO / "tavis_hf"


def test_training_module_runs_with_python_m(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-m", "tavis_hf.training", "--help"], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("usage: python -m tavis_hf.training")
    for option in ("--model-name-or-path", "--num-train-epochs", "--config-overrides", "--no-select-best-model"):
        assert option in done.stdout, option
    assert "--image-size" not in done.stdout and "--imagebind-train-mode" not in done.stdout


def test_parse_args_defaults_synthavs_to_its_subset():
    from tavis_hf.training import RunArguments, parse_args

    args, recipe = parse_args(["--synthavs", "4,2,2", "--model-preset", "tiny", "--output-dir", "x"])
    assert isinstance(args, RunArguments) and recipe.subset == "synth-s4"
    assert (args.synthavs, args.output_dir, args.synthavs_image_size) == ("4,2,2", "x", 224)
    _, recipe = parse_args(
        ["--synthavs", "4,2,2", "--model_preset", "tiny", "--output_dir", "x", "--subset", "synth-ms3"]
    )
    assert recipe.subset == "synth-ms3" and recipe.train_temporal == "tracking"
    with pytest.raises(SystemExit):
        parse_args(["--subset", "s4", "--model-preset", "tiny", "--output-dir", "x"])  # no data


def test_accelerate_configs_load():
    from pathlib import Path

    from accelerate.commands.config.config_args import load_config_from_file

    folder = Path(__file__).resolve().parents[2] / "examples" / "accelerate_configs"
    kinds = {path.stem: str(load_config_from_file(str(path)).distributed_type) for path in folder.glob("*.yaml")}
    assert kinds == {
        "single_gpu": "DistributedType.NO",
        "multi_gpu": "DistributedType.MULTI_GPU",
        "fsdp": "DistributedType.FSDP",
        "deepspeed_zero2": "DistributedType.DEEPSPEED",
    }


# ---------------------------------------------------------------------------------------------------- the wheel
def _source_copy(tmp_path: Path) -> Path:
    """What `pip wheel .` reads, copied (a build writes build/ and *.egg-info into its source folder)."""
    source = tmp_path / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", "dist")
    for name in ("tavis_hf", "hub_card"):
        shutil.copytree(REPO / name, source / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    return source


def _expected_modules(source: Path) -> set[str]:
    modules = {
        f"tavis_hf/{path.relative_to(source / 'tavis_hf').as_posix()}" for path in (source / "tavis_hf").rglob("*.py")
    }
    modules |= {f"tavis_hf/hub_card/{path.relative_to(source / 'hub_card').as_posix()}"
                for path in (source / "hub_card").rglob("*.py")}  # fmt: skip
    return modules


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    tmp_path = tmp_path_factory.mktemp("wheel")
    source = _source_copy(tmp_path)
    command = [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation", "-q",
               "-w", str(tmp_path / "dist")]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    (path,) = (tmp_path / "dist").glob("tavis_hf-*.whl")
    path.with_name("expected_modules.txt").write_text("\n".join(sorted(_expected_modules(source))))
    return path


def test_wheel_ships_every_module_and_the_training_entry_point(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "tavis_hf/training/__main__.py" in names and "tavis_hf/training/loop.py" in names
    expected = set(wheel.with_name("expected_modules.txt").read_text().split())
    missing = sorted(expected - names)
    assert not missing, f"modules missing from the wheel (add their packages to pyproject.toml): {missing}"
    assert not any(name.startswith(("examples/", "tests/", "demo/")) for name in names)


@pytest.mark.slow
def test_tavis_hf_train_from_a_regular_install(wheel, tmp_path):
    """A fresh venv (system site-packages for torch & co.), `pip install <wheel>` (not editable), then `tavis-hf train`
    from a folder outside the repository trains and writes final/, with tavis_hf imported from the venv."""
    started = time.perf_counter()
    env_dir = tmp_path / "venv"
    venv.create(env_dir, system_site_packages=True, with_pip=True)
    python, tavis_hf_command = env_dir / "bin" / "python", env_dir / "bin" / "tavis-hf"
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(OMP_NUM_THREADS="2", HF_HUB_OFFLINE="1", HF_DATASETS_CACHE=str(tmp_path / "datasets-cache"))
    # --force-reinstall: the checkout's editable install is visible through the system site-packages
    install = [str(python), "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--force-reinstall", "-q",
               str(wheel)]  # fmt: skip
    done = subprocess.run(install, capture_output=True, text=True, env=env, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    work = tmp_path / "elsewhere"
    work.mkdir()
    where = subprocess.run([str(python), "-c", "import tavis_hf.training.loop as m; print(m.__file__)"], cwd=work,
                           env=env, capture_output=True, text=True, timeout=300, check=True).stdout.strip()  # fmt: skip
    assert Path(where).is_relative_to(env_dir) and not Path(where).is_relative_to(REPO), where
    train = [str(tavis_hf_command), "train", "--cpu", "--", "--synthavs", "4,2,2", "--synthavs-image-size", "64",
             "--model-preset", "tiny", "--num-train-epochs", "1", "--output-dir", "runs/x"]  # fmt: skip
    done = subprocess.run(train, cwd=work, env=env, capture_output=True, text=True, timeout=1200, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    final = work / "runs" / "x" / "final"
    for name in ("config.json", "model.safetensors", "processor_config.json", "README.md", "training_recipe.json",
                 "training_run.json", "training_metrics.json"):  # fmt: skip
        assert (final / name).is_file(), name
    print(f"wheel install + tavis-hf train: {time.perf_counter() - started:.1f} s")
