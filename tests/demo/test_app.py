"""The Gradio demo (`tavis_hf.demo`, the Space's `demo/app.py`): the handler called directly, bad input, examples,
the launched app through `gradio_client`. The headless-Chromium screenshot is in test_screenshot.py."""

import importlib.util
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from tavis_hf.media import VideoFile

from .conftest import free_port


def _streams(path) -> tuple[int, int]:
    import av

    with av.open(str(path)) as container:
        return len(container.streams.video), len(container.streams.audio)


@pytest.fixture(scope="module")
def handler(app, tiny_model_dir, tmp_path_factory):
    return app.DemoHandler(str(tiny_model_dir), output_root=tmp_path_factory.mktemp("handler_outputs"))


# ------------------------------------------------------------------------------------------------ handler, direct
@pytest.mark.parametrize("mode", ["semantic", "instances", "binary"])
def test_handler_outputs(app, handler, tiny_model_dir, video_mp4, mode):
    overlay, gallery, table, plot, status = handler.segment(str(video_mp4), str(tiny_model_dir), mode, "dog, guitar")
    assert _streams(overlay) == (1, 1), "the overlay video must keep the original sound"
    with VideoFile(overlay) as written, VideoFile(video_mp4) as source:
        assert abs(written.info.duration - source.info.duration) < 0.2
    assert len(gallery) == 3  # one picture per sampled frame (3 s at 1 fps)
    for picture, caption in gallery:
        assert picture.shape == (64, 96, 3) and picture.dtype == np.uint8
        assert caption.startswith("t = ") and "score" in caption
    assert list(table.columns) == app.TABLE_COLUMNS
    allowed = {app.NO_OBJECT} if mode == "binary" else {"dog", "guitar"}
    assert set(table["object"]) <= allowed
    assert (table["frames"].between(1, 3)).all() and (table["max score"] >= table["mean score"]).all()
    assert plot.axes[0].get_xlabel() == "time (s)"
    assert len(plot.axes[0].lines) == len(table)  # one score curve per detected object
    assert "3 frames" in status and f"`{mode}`" in status


def test_handler_sampling_rate_and_threshold(handler, tiny_model_dir, video_mp4):
    _, gallery, _, plot, status = handler.segment(str(video_mp4), str(tiny_model_dir), "binary", "", 0.5, 2.0)
    assert len(gallery) == 6 and "6 frames" in status  # 3 s at 2 fps
    with warnings.catch_warnings(record=True) as record:  # gr.Warning outside a Gradio event is a UserWarning
        warnings.simplefilter("always")
        _, _, table, _, _ = handler.segment(str(video_mp4), str(tiny_model_dir), "binary", "", 0.95)
    assert table.empty == any("No sounding object found above the threshold 0.95" in str(w.message) for w in record)
    _, _, low, _, _ = handler.segment(str(video_mp4), str(tiny_model_dir), "binary", "", 0.05)
    assert low["frames"].sum() >= table["frames"].sum()  # a lower threshold never removes detections


def test_result_folders_are_pruned(app, handler, tiny_model_dir, video_mp4):
    for _ in range(app.KEPT_RESULTS + 2):
        handler._new_output_dir()
    assert len(list(handler.output_root.iterdir())) == app.KEPT_RESULTS


# ------------------------------------------------------------------------------------------------------ bad input
def _error(app, call) -> str:
    import gradio as gr

    with pytest.raises(gr.Error) as info:
        call()
    message = info.value.message
    assert "Traceback" not in message and 'File "' not in message
    return message


def test_no_file(app, handler, tiny_model_dir, tmp_path):
    assert "No video given" in _error(app, lambda: handler.segment(None, str(tiny_model_dir), "semantic", "dog"))
    gone = str(tmp_path / "gone.mp4")
    assert "cannot be found" in _error(app, lambda: handler.segment(gone, str(tiny_model_dir), "semantic", "dog"))


def test_file_without_sound(app, handler, tiny_model_dir, silent_mp4):
    message = _error(app, lambda: handler.segment(str(silent_mp4), str(tiny_model_dir), "semantic", "dog"))
    assert "no audio stream" in message and silent_mp4.name in message
    assert str(silent_mp4.parent) not in message  # the server's folders are not shown


def test_over_long_video(app, tiny_model_dir, video_mp4, tmp_path):
    short = app.DemoHandler(str(tiny_model_dir), max_duration=2.0, output_root=tmp_path)
    message = _error(app, lambda: short.segment(str(video_mp4), str(tiny_model_dir), "semantic", "dog"))
    assert "3.0 s long" in message and "up to 2 s" in message


def test_file_too_large(app, tiny_model_dir, video_mp4, tmp_path):
    small = app.DemoHandler(str(tiny_model_dir), max_file_mb=0.001, output_root=tmp_path)
    assert "up to 0.001 MiB" in _error(app, lambda: small.segment(str(video_mp4), str(tiny_model_dir), "binary", ""))


@pytest.mark.parametrize("mode", ["semantic", "instances"])
@pytest.mark.parametrize("labels", ["", "   ", None])
def test_empty_label_list(app, handler, tiny_model_dir, video_mp4, labels, mode):
    message = _error(app, lambda: handler.segment(str(video_mp4), str(tiny_model_dir), mode, labels))
    assert "class list is empty" in message and "binary mode" in message


def test_binary_mode_ignores_the_class_list(app, handler, tiny_model_dir, video_mp4):
    _, _, table, _, _ = handler.segment(str(video_mp4), str(tiny_model_dir), "binary", "a, a")  # not even parsed
    assert set(table["object"]) <= {app.NO_OBJECT}


def test_bad_label_list_and_mode(app, handler, tiny_model_dir, video_mp4):
    assert "duplicates" in _error(app, lambda: handler.segment(str(video_mp4), str(tiny_model_dir), "semantic", "a, a"))
    message = _error(app, lambda: handler.segment(str(video_mp4), str(tiny_model_dir), "semantic", "dog, , cat"))
    assert "Bad class list" in message and "non-empty" in message
    assert "Unknown mode" in _error(app, lambda: handler.segment(str(video_mp4), str(tiny_model_dir), "panoptic", "a"))


def test_missing_default_and_bad_model(app, handler, video_mp4, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "DEFAULT_MODEL_DIR", tmp_path / "absent")
    message = _error(app, lambda: handler.segment(str(video_mp4), app.DEFAULT_CHOICE, "semantic", "dog"))
    assert "default model is not available yet" in message
    message = _error(app, lambda: handler.segment(str(video_mp4), str(tmp_path / "nowhere"), "semantic", "dog"))
    assert "Could not load the model" in message


# ------------------------------------------------------------------------------------------------ examples, build
def test_examples_are_synthavs_clips_with_sound(app, examples_dir):
    paths = app.prepare_examples(examples_dir)
    assert len(paths) == len(app.EXAMPLES)
    for path in paths:
        assert _streams(path) == (1, 1)
        with VideoFile(path) as video:
            assert abs(video.info.duration - 5.0) < 0.1 and (video.info.width, video.info.height) == (224, 224)
            assert np.abs(video.soundtrack()).max() > 0.01  # the SynthAVS soundtrack, not silence
    stamps = [p.stat().st_mtime_ns for p in paths]
    assert [p.stat().st_mtime_ns for p in app.prepare_examples(examples_dir)] == stamps  # written once, reused


def test_build_demo_without_default_model(app, examples_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "DEFAULT_MODEL_DIR", tmp_path / "absent")
    demo = app.build_demo(examples_dir=examples_dir, output_root=tmp_path / "out")
    assert demo.handler.model_choice == app.DEFAULT_CHOICE
    assert demo.handler.model_choices == [("tavis-tiny (embedded default, not available yet)", app.DEFAULT_CHOICE)]
    dropdowns = [c for c in demo.config["components"] if c["type"] == "dropdown"]
    assert dropdowns[0]["props"]["value"] == app.DEFAULT_CHOICE and dropdowns[0]["props"]["allow_custom_value"]
    samples = [c for c in demo.config["components"] if c["type"] == "dataset"][0]["props"]["samples"]
    assert len(samples) == len(app.EXAMPLES) and all(mode in app.MODES for _, mode, _ in samples)
    texts = " ".join(str(c["props"].get("value")) for c in demo.config["components"] if c["type"] == "markdown")
    assert "default model is not shipped yet" in texts


def test_build_demo_with_given_pipeline(app, handler, tiny_model_dir, examples_dir, tmp_path):
    segmenter = handler.load(str(tiny_model_dir))
    demo = app.build_demo(segmenter, concurrency_limit=2, examples_dir=examples_dir, output_root=tmp_path)
    (segment,) = [fn for fn in demo.fns.values() if fn.api_name == "segment"]
    assert segment.concurrency_limit == 2 and demo._queue.max_size == app.QUEUE_SIZE  # a bounded queue
    assert demo.handler.model_choice == str(tiny_model_dir)
    assert demo.handler.load(str(tiny_model_dir)) is segmenter  # reused, not reloaded
    assert demo.handler.model_choices[1] == (str(tiny_model_dir), str(tiny_model_dir))


def test_space_files():
    from huggingface_hub import SpaceCard

    demo_dir = Path(__file__).resolve().parents[2] / "demo"
    card = SpaceCard.load(demo_dir / "README.md")
    assert (card.data.sdk, card.data.app_file, card.data.license) == ("gradio", "app.py", "cc-by-nc-sa-4.0")
    assert card.data.sdk_version.startswith("6.")
    assert "ffmpeg" in (demo_dir / "packages.txt").read_text().split()
    requirements = (demo_dir / "requirements.txt").read_text()
    assert "tavis-hf" in requirements and "gradio" in requirements and "matplotlib" in requirements


def test_space_entry_is_the_packaged_app(app):
    """`demo/app.py` (the Space's `app_file`) only imports the package's app builder."""
    spec = importlib.util.spec_from_file_location("tavis_space_app", Path(app.__file__).parents[1] / "demo" / "app.py")
    if spec is None or not Path(spec.origin).is_file():
        pytest.skip("demo/app.py is not in this checkout")
    space = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(space)  # not as __main__: nothing is launched
    assert (space.main, space.build_demo, space.launch) == (app.main, app.build_demo, app.launch)


def test_importing_the_package_or_the_app_module_imports_no_gradio():
    """Gradio, pandas and matplotlib are imported when the app is built, not when `tavis_hf` or `tavis_hf.demo` is."""
    code = "import sys, tavis_hf, tavis_hf.demo; print(sorted({'gradio', 'matplotlib', 'pandas'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_tracking_choice(app, handler, tiny_model_dir, clip_mp4):
    """The temporal choices are the documented names; "clip" (the former name of "tracking") still works."""
    assert app.TEMPORAL_CHOICES == ("per-frame", "tracking")
    *_, tracked = handler.segment(str(clip_mp4), str(tiny_model_dir), "binary", "", 0.5, 1.0, "tracking")
    *_, former = handler.segment(str(clip_mp4), str(tiny_model_dir), "binary", "", 0.5, 1.0, "clip")
    assert "7 frames" in tracked and "7 frames" in former


def test_main_rejects_bad_limits(app, capsys):
    with pytest.raises(SystemExit) as exit_:
        app.main(["--concurrency", "0"])
    assert exit_.value.code == 2 and "--concurrency must be >= 1" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------- gradio_client, live
def test_client_api(app, launched, tiny_model_dir, video_mp4):
    from gradio_client import Client, handle_file

    demo, url = launched
    client = Client(url, verbose=False)
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert "/segment" in endpoints and len(endpoints["/segment"]["parameters"]) == 7
    overlay, gallery, table, plot, status = client.predict(
        handle_file(str(video_mp4)), str(tiny_model_dir), "semantic", "dog, guitar, man", 0.5, 1.0, "per-frame",
        api_name="/segment",
    )  # fmt: skip
    assert _streams(overlay) == (1, 1)
    assert len(gallery) == 3 and all(Path(item["image"]).is_file() for item in gallery)
    assert table["headers"] == app.TABLE_COLUMNS
    assert {row[0] for row in table["data"]} <= {"dog", "guitar", "man"}
    assert plot["type"] == "matplotlib" and plot["plot"].startswith("data:image/")
    assert "3 frames" in status


def test_client_errors_are_messages(launched, tiny_model_dir, video_mp4):
    from gradio_client import Client, handle_file

    _, url = launched
    client = Client(url, verbose=False)
    with pytest.raises(Exception, match="class list is empty") as info:
        client.predict(
            handle_file(str(video_mp4)), str(tiny_model_dir), "semantic", "", 0.5, 1.0, "per-frame",
            api_name="/segment",
        )  # fmt: skip
    assert "Traceback" not in str(info.value)
    with pytest.raises(Exception, match="No video given"):
        client.predict(None, str(tiny_model_dir), "semantic", "dog", 0.5, 1.0, "per-frame", api_name="/segment")


def test_client_upload_limit(app, tiny_model_dir, video_mp4, examples_dir, tmp_path):
    from gradio_client import Client, handle_file

    demo = app.build_demo(str(tiny_model_dir), max_file_mb=0.01, examples_dir=examples_dir, output_root=tmp_path)
    port = free_port()
    app.launch(demo, server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        with pytest.raises(ValueError, match="exceeds the maximum file size of 10485 bytes"):
            client.predict(
                handle_file(str(video_mp4)), str(tiny_model_dir), "binary", "", 0.5, 1.0, "per-frame",
                api_name="/segment",
            )  # fmt: skip
    finally:
        demo.close()
