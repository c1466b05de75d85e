"""The Ray Data engine on a local Ray instance (2 CPUs): the same rows as the local engine (scores to 1e-4, masks
equal except pixels within 1e-3 of the threshold), error rows included."""

import numpy as np
import pytest

from tavis_hf.corpus import FRAMES_DIR, VIDEOS_DIR, decode_rle, read_table, segment_corpus

from ..helpers import requires_ffmpeg
from .conftest import GOOD_CLIPS, single_video_probabilities, sorted_rows

ray = pytest.importorskip("ray", reason="Ray (the `distributed` extra) is not installed")
pytestmark = requires_ffmpeg


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    yield
    ray.shutdown()


def test_ray_rows_equal_local_rows(local_ray, corpus_dir, tiny_model_dir, segmenter, tmp_path):
    videos = [corpus_dir / name for name in [*GOOD_CLIPS, "truncated.mp4"]]
    local = segment_corpus(videos, tmp_path / "local", str(tiny_model_dir), num_workers=0, progress=False)
    distributed = segment_corpus(videos, tmp_path / "ray", str(tiny_model_dir), engine="ray", progress=False)
    assert (distributed["ok"], distributed["failed"], distributed["frames"]) == (3, 1, local["frames"])
    local_videos, ray_videos = (sorted_rows(read_table(tmp_path / d, VIDEOS_DIR)) for d in ("local", "ray"))
    assert [{**row, "duration": round(row["duration"] or 0, 6)} for row in ray_videos] == [
        {**row, "duration": round(row["duration"] or 0, 6)} for row in local_videos
    ]
    local_frames, ray_frames = (sorted_rows(read_table(tmp_path / d, FRAMES_DIR)) for d in ("local", "ray"))
    assert [(r["video"], r["frame_index"]) for r in ray_frames] == [
        (r["video"], r["frame_index"]) for r in local_frames
    ]
    for video in videos[:3]:
        probabilities = single_video_probabilities(segmenter, str(video))
        pairs = [(a, b) for a, b in zip(ray_frames, local_frames) if a["video"] == str(video)]
        for (ray_row, local_row), probability in zip(pairs, probabilities):
            assert abs(ray_row["score"] - local_row["score"]) <= 1e-4
            differing = decode_rle(ray_row["mask"]) != decode_rle(local_row["mask"])
            assert np.all(np.abs(probability[differing] - 0.5) <= 1e-3)
