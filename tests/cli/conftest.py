"""Fixtures for the CLI tests: an in-process runner and tiny generated media files."""

import numpy as np
import pytest

from tavis_hf.cli import main


def _progress_switches():
    """(is_disabled, enable) of the progress bars of datasets, transformers and huggingface_hub."""
    import datasets.utils.logging as datasets_logging
    import huggingface_hub.utils as hub_utils
    import transformers.utils.logging as transformers_logging

    return [
        (lambda: not datasets_logging.is_progress_bar_enabled(), datasets_logging.enable_progress_bar),
        (lambda: not transformers_logging.is_progress_bar_enabled(), transformers_logging.enable_progress_bar),
        (hub_utils.are_progress_bars_disabled, hub_utils.enable_progress_bars),
    ]


@pytest.fixture
def run_cli(capsys):
    """Run `tavis-hf ARGS` in-process; return `(exit status, stdout, stderr)` (argparse exits are caught)."""

    switches = _progress_switches()

    def run(*args):
        disabled_before = [is_disabled() for is_disabled, _ in switches]
        try:
            status = main([str(a) for a in args])
        except SystemExit as exit_:
            status = exit_.code if isinstance(exit_.code, int) else 1
        finally:  # `--no-progress` switches the libraries' bars off process-wide: restore them for other tests
            for (is_disabled, enable), was_disabled in zip(switches, disabled_before):
                if not was_disabled and is_disabled():
                    enable()
        out, err = capsys.readouterr()
        return status, out, err

    return run


def write_video(path, seconds: float, fps: int = 4, size: int = 32, audio: bool = True):
    """Write an H.264 mp4 (`size`² px, `fps`) of `seconds`, with a 440-Hz AAC mono track when `audio`."""
    av = pytest.importorskip("av")
    with av.open(str(path), mode="w") as container:
        video = container.add_stream("libx264", rate=fps)
        video.width = video.height = size
        video.pix_fmt = "yuv420p"
        sound = container.add_stream("aac", rate=16000, layout="mono") if audio else None
        for i in range(int(seconds * fps)):
            image = np.full((size, size, 3), 20 * i % 255, dtype=np.uint8)
            for packet in video.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        if sound is not None:
            samples = (0.1 * np.sin(2 * np.pi * 440 * np.arange(int(seconds * 16000)) / 16000)).astype(np.float32)
            for start in range(0, len(samples), 1024):
                frame = av.AudioFrame.from_ndarray(samples[None, start : start + 1024], format="flt", layout="mono")
                frame.sample_rate, frame.pts = 16000, start
                for packet in sound.encode(frame):
                    container.mux(packet)
            for packet in sound.encode():
                container.mux(packet)
    return path


@pytest.fixture(scope="session")
def media(tmp_path_factory):
    """Tiny test media: `with_sound` (2 s), `silent_track_missing` (2 s, no audio stream), `not_media` (text)."""
    folder = tmp_path_factory.mktemp("media")
    not_media = folder / "notes.mp4"
    not_media.write_text("this is not a video")
    return {
        "with_sound": write_video(folder / "with_sound.mp4", seconds=2.0),
        "without_sound": write_video(folder / "without_sound.mp4", seconds=2.0, audio=False),
        "not_media": not_media,
    }
