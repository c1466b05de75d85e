"""Fixtures of the corpus tests: a small corpus of generated clips (three good ones and the bad kinds a real corpus
has) and a helper comparing corpus rows with the single-video pipeline."""

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from tavis_hf.corpus import decode_rle

from ..helpers import ffmpeg, make_video

GOOD_CLIPS = {"a.mp4": 330, "b.mp4": 550, "sub/c.mp4": 880}
"""The clips with sound of `corpus_dir` (3 s each, a tone of their own), relative path -> tone (Hz)."""


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory) -> Path:
    """A folder of three good clips (one in a subfolder), a truncated file, a PNG image renamed ``.mp4``, a video
    without audio and a 0.5-s clip."""
    folder = tmp_path_factory.mktemp("corpus")
    (folder / "sub").mkdir()
    for name, tone in GOOD_CLIPS.items():
        make_video(folder / name, duration=3.0, audio=f"sine=frequency={tone}:sample_rate=16000")
    make_video(folder / "short.mp4", duration=0.5)
    make_video(folder / "silent.mp4", duration=2.0, audio=None)
    data = (folder / "a.mp4").read_bytes()
    (folder / "truncated.mp4").write_bytes(data[: len(data) // 3])
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=96x64", "-frames:v", "1", str(folder / "image.png"))
    shutil.move(folder / "image.png", folder / "image.mp4")
    return folder


def sorted_rows(table) -> list[dict]:
    """Rows of a pyarrow table sorted by video (and frame), without the timing column."""
    rows = [{k: v for k, v in row.items() if k != "seconds"} for row in table.to_pylist()]
    return sorted(rows, key=lambda row: (row["video"], row.get("frame_index", 0)))


def single_video_probabilities(segmenter, video: str, **params) -> list[np.ndarray]:
    """Per sampled frame, the sounding-object probabilities at mask size of the single-video path (the pipeline's
    public stages, one chunk at a time)."""
    preprocess_params, forward_params, _ = segmenter.stage_parameters(**params)
    probabilities = []
    for chunk in segmenter.preprocess(video, **preprocess_params):
        size, num = chunk["original_size"], chunk["num_valid"]
        logits = segmenter.forward(chunk, **forward_params)["pred_masks"][0]
        for i in range(num):
            probabilities.append(
                torch.sigmoid(segmenter.processor.post_process_masks(logits[i], size, threshold=None)).numpy()
            )
    return probabilities


def assert_rows_match_single_video(segmenter, video: str, rows: list[dict], threshold=0.5, **params) -> None:
    """`rows` (one video's frame rows) are the single-video path's results: same frames, scores to 1e-4, and masks
    equal except pixels whose probability is within 1e-3 of the threshold."""
    expected = segmenter(video, threshold=threshold, **params)
    probabilities = single_video_probabilities(segmenter, video, **params)
    assert [row["frame_index"] for row in rows] == [result["frame_index"] for result in expected]
    for row, result, probability in zip(rows, expected, probabilities):
        assert row["timestamp"] == result["timestamp"]
        assert abs(row["score"] - result["score"]) <= 1e-4
        mask = decode_rle(row["mask"])
        assert mask.shape == probability.shape == np.asarray(result["mask"]).shape
        differing = mask != (np.asarray(result["mask"]) > 0)
        assert np.all(np.abs(probability[differing] - threshold) <= 1e-3)
