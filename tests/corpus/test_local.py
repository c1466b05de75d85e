"""The local engine (`segment_corpus`): the single-video path's masks through batched forwards over worker
processes, an error row per unusable video, resuming, and a run's identity."""

import pytest
import torch

from tavis_hf.corpus import FRAMES_DIR, VIDEOS_DIR, read_table, segment_corpus
from tavis_hf.pipelines.audio_visual_segmentation import DEFAULT_MODEL_DIR

from ..helpers import requires_ffmpeg
from .conftest import GOOD_CLIPS, assert_rows_match_single_video, sorted_rows

pytestmark = requires_ffmpeg

EXPECTED_ERRORS = {
    "truncated.mp4": "is not a readable media file",
    "image.mp4": "MediaError: ",
    "silent.mp4": "has no audio stream",
}


@pytest.mark.parametrize(
    "params", [{}, {"temporal": "tracking", "mode": "semantic", "labels": ["dog", "guitar"], "threshold": 0.4}]
)
def test_rows_are_the_single_video_results(segmenter, corpus_dir, tmp_path, params):
    """Frames of different videos share forwards (batch of 2 frames, or of 2 tracking windows; 2 decode workers),
    yet every mask is the pipeline's (up to pixels within 1e-3 of the threshold) and every score within 1e-4."""
    summary = segment_corpus(corpus_dir, tmp_path, segmenter, batch_size=2, num_workers=2, progress=False, **params)
    assert (summary["videos"], summary["ok"], summary["failed"], summary["skipped"]) == (7, 4, 3, 0)
    videos = {row["video"]: row for row in read_table(tmp_path, VIDEOS_DIR).to_pylist()}
    frames = sorted_rows(read_table(tmp_path, FRAMES_DIR))
    assert summary["frames"] == len(frames) == 3 * 3 + 1
    for name in [*GOOD_CLIPS, "short.mp4"]:  # a 0.5-s clip is a usable video: one sampled frame
        video = str(corpus_dir / name)
        assert videos[video]["status"] == "ok" and videos[video]["error"] is None
        rows = [row for row in frames if row["video"] == video]
        assert videos[video]["num_frames"] == len(rows) == (1 if name == "short.mp4" else 3)
        assert_rows_match_single_video(segmenter, video, rows, **params)
    for name, message in EXPECTED_ERRORS.items():
        row = videos[str(corpus_dir / name)]
        assert row["status"] == "error" and message in row["error"] and name in row["error"]
        assert "\n" not in row["error"] and not [frame for frame in frames if frame["video"] == row["video"]]


def test_rerun_skips_done_videos_and_refuses_other_options(segmenter, corpus_dir, tmp_path):
    good = [str(corpus_dir / name) for name in GOOD_CLIPS]
    fresh = tmp_path / "fresh"
    segment_corpus(good, fresh, segmenter, progress=False)
    resumed = tmp_path / "resumed"
    first = segment_corpus(good[:1], resumed, segmenter, progress=False, videos_per_shard=1)
    second = segment_corpus(good, resumed, segmenter, progress=False, videos_per_shard=1)
    assert (first["segmented"], second["skipped"], second["segmented"], second["ok"]) == (1, 1, 2, 3)
    for folder in (FRAMES_DIR, VIDEOS_DIR):
        assert sorted_rows(read_table(resumed, folder)) == sorted_rows(read_table(fresh, folder))
    with pytest.raises(ValueError, match=r"another run \(threshold 0.5 -> 0.7\); pass --overwrite"):
        segment_corpus(good, resumed, segmenter, threshold=0.7, progress=False)
    replaced = segment_corpus(good[:1], resumed, segmenter, threshold=0.7, overwrite=True, progress=False)
    assert replaced["skipped"] == 0 and read_table(resumed, VIDEOS_DIR).num_rows == 1


def test_optional_per_video_files(segmenter, corpus_dir, tmp_path):
    summary = segment_corpus(
        [corpus_dir / "a.mp4"], tmp_path, segmenter, save_masks=True, save_overlays=True, progress=False
    )
    assert summary["ok"] == 1
    (folder,) = (tmp_path / "files").iterdir()
    assert folder.name.startswith("a-") and (folder / "overlay.mp4").stat().st_size > 0
    assert sorted(p.name for p in (folder / "masks").iterdir()) == [f"frame_{k:05d}.png" for k in range(3)]


def test_worker_processes_give_the_in_process_rows(segmenter, corpus_dir, tmp_path):
    """Decode workers send float32 arrays that the replica casts to the model's dtype: with a bfloat16 model, rows
    from 2 worker processes equal the rows decoded in the replica's own process (`num_workers=0`)."""
    good = [str(corpus_dir / name) for name in GOOD_CLIPS]
    with pytest.raises(ValueError, match="a ready pipeline is used as it is: leave out dtype and compile"):
        segment_corpus(good, tmp_path, segmenter, dtype="bfloat16", progress=False)
    assert segmenter.model.dtype == torch.float32
    tables = {}
    for workers in (0, 2):
        out = tmp_path / str(workers)
        summary = segment_corpus(good, out, DEFAULT_MODEL_DIR, dtype="bfloat16", num_workers=workers, progress=False)
        assert summary["ok"] == 3
        tables[workers] = [sorted_rows(read_table(out, folder)) for folder in (FRAMES_DIR, VIDEOS_DIR)]
    assert tables[0] == tables[2]
