"""Helpers shared by the test areas: media made with ffmpeg at test time, the location of the committed fixtures and
a local HTTP server (`serve_folder`, for URL inputs)."""

import contextlib
import functools
import http.server
import importlib.util
import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"
"""Committed test data (checkpoint key/shape lists of the released files): `tests/fixtures/`, see its README.md."""

FFMPEG = shutil.which("ffmpeg")
requires_ffmpeg = pytest.mark.skipif(FFMPEG is None, reason="ffmpeg is not installed (apt-get install ffmpeg)")


def ffmpeg(*args: str) -> None:
    if FFMPEG is None:
        pytest.skip("ffmpeg is not installed (apt-get install ffmpeg)")
    subprocess.run([FFMPEG, "-v", "error", "-y", *args], check=True)


def ffprobe_streams(path) -> dict[str, dict]:
    """The first stream of each type (`"video"`, `"audio"`) of a media file as ffprobe reports it (codec, size, sample
    rate, channels), or skip when ffprobe is absent."""
    ffprobe = shutil.which("ffprobe")
    if ffprobe is None:
        pytest.skip("ffprobe is not installed (apt-get install ffmpeg)")
    entries = "stream=codec_type,codec_name,width,height,sample_rate,channels"
    out = subprocess.run([ffprobe, "-v", "error", "-show_entries", entries, "-of", "json", str(path)],
                         check=True, capture_output=True, text=True).stdout  # fmt: skip
    streams = {}
    for stream in json.loads(out)["streams"]:
        streams.setdefault(stream["codec_type"], stream)
    return streams


def make_video(
    path: Path,
    duration: float = 3.0,
    size: str = "96x64",
    rate: int = 10,
    audio: str | None = "sine=frequency=440:sample_rate=16000",
    channels: int = 1,
    vcodec: str = "libx264",
    acodec: str = "aac",
) -> Path:
    """A test-pattern video (`testsrc`) with an optional lavfi audio source, encoded with ffmpeg."""
    args = ["-f", "lavfi", "-i", f"testsrc=size={size}:rate={rate}"]
    if audio is not None:
        args += ["-f", "lavfi", "-i", audio, "-ac", str(channels), "-c:a", acodec]
    args += ["-t", str(duration), "-c:v", vcodec, "-pix_fmt", "yuv420p", str(path)]
    ffmpeg(*args)
    return path


def gradio_media(relative: str) -> Path:
    """A media file shipped inside the gradio wheel (Apache-2.0; `dev` extra via `demo`), or skip."""
    spec = importlib.util.find_spec("gradio")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("gradio (the `demo`/`dev` extra) is not installed: it ships the real test media")
    path = Path(spec.submodule_search_locations[0]) / "media_assets" / relative
    if not path.is_file():
        pytest.skip(f"gradio does not ship {relative}")
    return path


@contextlib.contextmanager
def serve_folder(folder: Path, requests: list | None = None) -> Iterator[str]:
    """Serve the files of `folder` over HTTP on 127.0.0.1 (a free port) while inside; yields the base URL. The path
    of every GET request is appended to `requests` when given."""

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            if requests is not None:
                requests.append(self.path)
            super().do_GET()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
