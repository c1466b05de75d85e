"""tavis_hf.segmentation (the application layer): one video -> mask PNGs, summary.json and overlay.mp4, equal to the
pipeline's own per-frame results; the pipeline reached through public interfaces only."""

import ast
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tavis_hf import visualization
from tavis_hf.pipelines import DEFAULT_MODEL_DIR
from tavis_hf.segmentation import load_segmenter, mask_file_name, segment_frames, segment_video

from ..helpers import ffmpeg, gradio_media, requires_ffmpeg

pytestmark = requires_ffmpeg

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "params",
    [
        {"mode": "binary"},
        {"mode": "semantic", "labels": ["dog", "guitar"]},
        {"mode": "instances", "threshold": 0.3},
        {"mode": "semantic", "temporal": "tracking", "fps": 2.0},
    ],
)
def test_files_equal_the_pipeline_results(segmenter, clip_mp4, tmp_path, monkeypatch, params):
    """Every written mask is the pipeline's mask bit for bit, the summary carries its scores and labels, and the
    overlay holds the pictures and sound the pipeline's own `output_video` draws (compared before encoding: libx264
    does not always give the same bytes for the same pictures)."""
    drawn = []
    write_video = visualization.write_video

    def record(path, frames, fps, **sound):
        drawn.append(([np.array(frame) for frame in frames], fps, sound))
        return write_video(path, iter(drawn[-1][0]), fps, **sound)

    monkeypatch.setattr(visualization, "write_video", record)
    out = tmp_path / "out"
    summary = segment_video(str(clip_mp4), model=segmenter, output_dir=out, progress=False, **params)
    expected = segmenter(str(clip_mp4), output_video=str(tmp_path / "pipeline.mp4"), **params)
    assert summary["num_frames"] == len(summary["frames"]) == len(expected) == (14 if params.get("fps") else 7)
    assert summary["labels"] == segmenter.vocabulary(params.get("labels"))
    assert summary["temporal"] == params.get("temporal", "per-frame") and summary["mode"] == params["mode"]
    for record, result in zip(summary["frames"], expected):
        assert (record["frame_index"], record["timestamp"], record["score"], record["has_audio"]) == (
            result["frame_index"], result["timestamp"], result["score"], result["has_audio"]
        )  # fmt: skip
        assert np.array_equal(np.asarray(Image.open(out / record["mask"])), np.asarray(result["mask"]))
        assert [(s["label"], s["score"]) for s in record["segments"]] == [
            (s["label"], s["score"]) for s in result["segments"]
        ]
        for written, segment in zip(record["segments"], result["segments"]):
            mask = np.asarray(segment["mask"])
            assert np.array_equal(np.asarray(Image.open(out / written["mask"])), mask)
            assert written["area"] == int((mask > 0).sum())
    (app_frames, app_fps, app_sound), (frames, fps, sound) = drawn
    assert len(app_frames) == len(frames) == 70 and app_fps == fps
    assert app_sound == sound and sound["audio_from"] == str(clip_mp4)  # the file's own audio stream
    assert all(np.array_equal(a, b) for a, b in zip(app_frames, frames))
    assert (out / "overlay.mp4").stat().st_size > 0
    assert json.loads((out / "summary.json").read_text()) == json.loads(json.dumps(summary))


def test_segment_frames_is_the_call(segmenter, short_mp4):
    results = segment_frames(segmenter, str(short_mp4), progress=False, mode="instances")
    expected = segmenter(str(short_mp4), mode="instances")
    assert [r["score"] for r in results] == [r["score"] for r in expected]
    assert all(np.array_equal(np.asarray(a["mask"]), np.asarray(b["mask"])) for a, b in zip(results, expected))


def test_former_temporal_name_is_recorded_as_tracking(segmenter, short_mp4, tmp_path):
    summary = segment_video(str(short_mp4), model=segmenter, output_dir=tmp_path, temporal="clip", progress=False)
    assert summary["temporal"] == "tracking"
    with pytest.raises(ValueError, match="temporal"):
        segment_video(str(short_mp4), model=segmenter, output_dir=tmp_path, temporal="memory", progress=False)


def test_mask_file_names():
    assert mask_file_name(7) == "masks/frame_00007.png"
    assert mask_file_name(7, 2, "acoustic guitar/electric") == "masks/frame_00007_2_acoustic_guitar_electric.png"


def test_segment_video_writes_masks_summary_overlay(segmenter, short_mp4, tmp_path):
    summary = segment_video(str(short_mp4), model=segmenter, labels="dog, guitar", output_dir=tmp_path / "out",
                            mode="instances", progress=False)  # fmt: skip
    saved = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert saved == json.loads(json.dumps(summary))
    assert saved["num_frames"] == 3 and saved["labels"] == ["background", "dog", "guitar"]
    for frame in saved["frames"]:
        assert (tmp_path / "out" / frame["mask"]).is_file()
        for segment in frame["segments"]:
            assert (tmp_path / "out" / segment["mask"]).is_file()
    assert (tmp_path / "out" / "overlay.mp4").stat().st_size > 0


def test_default_model_missing_is_a_clear_error(short_mp4, tmp_path, monkeypatch):
    monkeypatch.setattr("tavis_hf.segmentation.DEFAULT_MODEL_DIR", tmp_path / "no_default_model_here")
    with pytest.raises(FileNotFoundError, match="no default model"):
        segment_video(str(short_mp4), output_dir=tmp_path, progress=False)


def test_load_segmenter_passes_a_pipeline_through(segmenter):
    assert load_segmenter(segmenter) is segmenter


@pytest.mark.parametrize("which", ["tiny", "default"])
def test_real_recorded_media_end_to_end(which, segmenter, tmp_path):
    """Real footage and a real recording shipped in the gradio wheel (Apache-2.0): gradio's videos have silent audio
    tracks, so the video of `b.mp4` (480x270, first 3 s) is muxed at test time with the first 3 s of `sax.wav` (48 kHz).
    Run with the tiny random model and with the package's embedded default model."""
    video, audio = gradio_media("videos/b.mp4"), gradio_media("audio/sax.wav")
    muxed = tmp_path / "b_sax.mp4"
    ffmpeg("-i", str(video), "-i", str(audio), "-map", "0:v", "-map", "1:a", "-t", "3", "-c:v", "copy", "-c:a", "aac",
           str(muxed))  # fmt: skip
    model = segmenter if which == "tiny" else None
    summary = segment_video(str(muxed), model=model, output_dir=tmp_path / "out", progress=False)
    assert summary["model"] == (str(DEFAULT_MODEL_DIR) if which == "default" else segmenter.model.name_or_path)
    assert summary["num_frames"] == 3 and summary["frames"][0]["timestamp"] == pytest.approx(0.9375)
    assert Image.open(tmp_path / "out" / summary["frames"][0]["mask"]).size == (480, 270)


PIPELINE_STAGES = {"_sanitize_parameters", "_forward"}
"""The pipeline's private stage methods: transformers calls them; other code uses `__call__`, `iter_frame_results`
or the public stages with their documented chunk dicts (`stage_parameters`, `preprocess`, `forward`/`forward_batch`,
`postprocess`: the corpus engine batches frames across videos with them)."""


def test_no_code_calls_the_pipeline_stages():
    """Outside the pipeline's own module nothing calls a private stage method on another object (`self.` and `super().` calls
    are a class's own business: the image processor's `super().preprocess`, the audio cache's `self._forward`)."""
    files = [p for folder in ("tavis_hf", "demo", "examples", "benchmarks") for p in (REPO / folder).rglob("*.py")]
    pipeline_module = REPO / "tavis_hf" / "pipelines" / "audio_visual_segmentation.py"
    offenders = []
    for path in files:
        if path == pipeline_module:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            owner = node.func.value
            own = (isinstance(owner, ast.Name) and owner.id == "self") or (
                isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name) and owner.func.id == "super"
            )
            if node.func.attr in PIPELINE_STAGES and not own:
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno}: .{node.func.attr}(...)")
    assert not offenders, offenders
