"""Fixtures for the demo tests: the app module (`tavis_hf.demo`), a tiny random model, test videos made with ffmpeg."""

import socket
from pathlib import Path

import pytest

from ..helpers import make_video


@pytest.fixture(scope="session")
def app():
    """The `tavis_hf.demo` module (skips without the `demo` extra); Gradio analytics and Hub access off."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
        patch.setenv("HF_HUB_OFFLINE", "1")
        pytest.importorskip("gradio", reason="gradio (the `demo` extra) is not installed")
        pytest.importorskip("matplotlib", reason="matplotlib (the `demo` extra) is not installed")
        from tavis_hf import demo

        yield demo


@pytest.fixture(scope="session")
def examples_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("demo_examples")


@pytest.fixture(scope="session")
def video_mp4(media_dir) -> Path:
    """3 s, 10 fps, 96x64 test pattern with a 440-Hz tone: three sampled frames."""
    return make_video(media_dir / "demo_video.mp4", duration=3.0)


@pytest.fixture(scope="session")
def silent_mp4(media_dir) -> Path:
    """2 s test pattern without an audio stream."""
    return make_video(media_dir / "demo_silent.mp4", duration=2.0, audio=None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def launched(app, tiny_model_dir, examples_dir, tmp_path_factory):
    """The demo (tiny model preselected) launched in-process on 127.0.0.1; yields `(demo, url)`, closed after."""
    demo = app.build_demo(
        str(tiny_model_dir), examples_dir=examples_dir, output_root=tmp_path_factory.mktemp("demo_outputs")
    )
    port = free_port()
    app.launch(demo, server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        yield demo, f"http://127.0.0.1:{port}/"
    finally:
        demo.close()
