"""Kill a corpus run half-way (SIGINT or SIGTERM to the `tavis-hf segment` process), run it again: the videos
already written are not recomputed and the final tables equal those of a run never interrupted."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tavis_hf.corpus import FRAMES_DIR, VIDEOS_DIR, read_table, segment_corpus

from ..helpers import make_video, requires_ffmpeg
from .conftest import sorted_rows

pytestmark = requires_ffmpeg

REPO = Path(__file__).resolve().parents[2]
NUM_CLIPS = 6
OPTIONS = {"fps": 2.0, "batch_size": 1, "num_workers": 0, "videos_per_shard": 1, "max_duration": 300.0}
"""One video per shard and one frame per forward: a run takes long enough to be stopped between shards."""


@pytest.fixture(scope="module")
def clip_list(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("interrupt")
    for i in range(NUM_CLIPS):
        make_video(folder / f"clip{i}.mp4", duration=3.0, audio=f"sine=frequency={200 + 90 * i}:sample_rate=16000")
    listing = folder / "videos.txt"
    listing.write_text("".join(f"clip{i}.mp4\n" for i in range(NUM_CLIPS)))
    return listing


def _cli_command(clip_list: Path, output: Path, model: Path) -> list[str]:
    options = [f"--{name.replace('_', '-')}={value}" for name, value in OPTIONS.items()]
    return [sys.executable, "-m", "tavis_hf.cli", "segment", str(clip_list), "--output-dir", str(output),
            "--model", str(model), "--no-progress", *options]  # fmt: skip


@pytest.mark.parametrize(
    "signum",
    [signal.SIGTERM, pytest.param(signal.SIGINT, marks=pytest.mark.slow)],  # the same path, Ctrl-C
)
def test_rerun_after_a_kill_equals_an_uninterrupted_run(clip_list, tiny_model_dir, tmp_path, signum):
    reference = tmp_path / "reference"
    segment_corpus(clip_list, reference, str(tiny_model_dir), progress=False, **OPTIONS)
    output = tmp_path / "interrupted"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen(_cli_command(clip_list, output, tiny_model_dir), env=env, cwd=tmp_path,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + 180
    while not list((output / VIDEOS_DIR).glob("*.parquet")) and process.poll() is None:
        assert time.monotonic() < deadline, "the run wrote no shard in 180 s"
        time.sleep(0.02)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == (130 if signum == signal.SIGINT else -signal.SIGTERM), stderr
    done_before = read_table(output, VIDEOS_DIR).num_rows
    assert 1 <= done_before < NUM_CLIPS
    summary = segment_corpus(clip_list, output, str(tiny_model_dir), progress=False, **OPTIONS)
    assert (summary["skipped"], summary["segmented"], summary["ok"]) == (done_before, NUM_CLIPS - done_before,
                                                                          NUM_CLIPS)  # fmt: skip
    for folder in (FRAMES_DIR, VIDEOS_DIR):
        assert sorted_rows(read_table(output, folder)) == sorted_rows(read_table(reference, folder))
    assert not list(output.rglob("*.tmp-*"))
