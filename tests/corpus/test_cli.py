"""`tavis-hf segment CORPUS`: tables written, exit status 1 with a one-line summary when videos failed, one-line
errors for unusable corpora and Ray set-ups."""

import json
import re
import socket
import sys

import pytest

from tavis_hf.cli import main

from ..helpers import requires_ffmpeg

pytestmark = requires_ffmpeg


def _run(capsys, *argv) -> tuple[int, str, str]:
    code = main(["segment", *map(str, argv), "--no-progress"])
    out, err = capsys.readouterr()
    return code, out, err


def test_corpus_with_bad_videos_exits_1_with_a_summary_line(corpus_dir, tiny_model_dir, tmp_path, capsys):
    out_dir = tmp_path / "out"
    code, out, err = _run(capsys, corpus_dir, "--output-dir", out_dir, "--model", tiny_model_dir, "--batch-size", 4)
    summary = json.loads(out)
    assert code == 1 and (summary["ok"], summary["failed"]) == (4, 3)
    assert err.strip().splitlines()[-1] == (
        f"tavis-hf segment: 3 of 7 videos failed; see the status=error rows of {out_dir}/videos/*.parquet"
    )
    assert list((out_dir / "frames").glob("*.parquet")) and list((out_dir / "videos").glob("*.parquet"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    "case, message",
    [
        ("empty", "holds no existing video file"),
        ("list", "the list file .* holds no existing video file"),
        ("no_ray", "--engine ray: the Ray engine needs Ray Data, which is not installed: pip install"),
        ("unreachable", "cannot reach a Ray cluster at '127.0.0.1:"),
    ],
)
def test_bad_corpus_or_ray_setup_is_one_line(corpus_dir, tiny_model_dir, tmp_path, capsys, monkeypatch, case, message):
    source, extra = corpus_dir, []
    if case == "empty":
        source = tmp_path / "empty"
        source.mkdir()
    elif case == "list":
        source = tmp_path / "videos.txt"
        source.write_text("missing.mp4\n")
    elif case == "no_ray":
        monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails as when Ray is not installed
        extra = ["--engine", "ray"]
    else:
        extra = ["--engine", "ray", "--ray-address", f"127.0.0.1:{_free_port()}"]
    code, _, err = _run(capsys, source, "--output-dir", tmp_path / "out", "--model", tiny_model_dir, *extra)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert re.search(message, err), err
