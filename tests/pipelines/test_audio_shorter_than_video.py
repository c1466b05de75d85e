"""Audio shorter than the video: one rule for every container. A sampled frame whose interval starts at or after the
end of the decoded audio has no sound: it comes back empty with `has_audio: False` (True for every other frame), in
the pipeline's results and in summary.json, and the same streams in an mp4 and an AVI give the same results."""

import numpy as np
import pytest

from tavis_hf.media import VideoFile
from tavis_hf.segmentation import segment_video

from ..helpers import ffmpeg, requires_ffmpeg

pytestmark = requires_ffmpeg

SOUND_UNTIL = 3.5
"""End of the audio (s) of the 6-s clips: frames 0-3 ([k, k + 1) s) have sound, frames 4 and 5 have none."""


@pytest.fixture(scope="module")
def same_streams_mp4_and_avi(tmp_path_factory):
    """6 s of MPEG-4 video with 3.5 s of FLAC audio, muxed as mp4 and copied as they are into an AVI (whose header
    states another audio duration, and whose FLAC torchcodec's range decoding drops and shifts)."""
    folder = tmp_path_factory.mktemp("short_audio")
    mp4, avi = folder / "clip.mp4", folder / "clip.avi"
    ffmpeg("-t", "6", "-f", "lavfi", "-i", "testsrc=size=96x64:rate=10", "-t", str(SOUND_UNTIL), "-f", "lavfi",
           "-i", "sine=frequency=440:sample_rate=16000", "-c:v", "mpeg4", "-q:v", "2", "-c:a", "flac",
           "-strict", "-2", str(mp4))  # fmt: skip
    ffmpeg("-i", str(mp4), "-c", "copy", str(avi))
    return mp4, avi


@pytest.mark.parametrize("backend", [None, "pyav"])  # None: torchcodec for the mp4, PyAV for the AVI
def test_windows_have_the_same_audio_and_flags_in_both_containers(same_streams_mp4_and_avi, backend):
    decoded = []
    for path in same_streams_mp4_and_avi:
        with VideoFile(path, backend=backend) as video:
            decoded.append(list(video.windows()))
            assert video.info.backend == ("pyav" if backend or path.suffix == ".avi" else "torchcodec")
    (mp4_windows, avi_windows), expected = decoded, [k < SOUND_UNTIL for k in range(6)]
    for windows in decoded:
        assert [flag for window in windows for flag in window.has_audio] == expected
    for a, b in zip(mp4_windows, avi_windows):
        assert np.array_equal(a.frames, b.frames) and np.array_equal(a.audio, b.audio)


def test_pipeline_and_summary_flag_frames_without_audio_alike(segmenter, same_streams_mp4_and_avi, tmp_path):
    mp4, avi = same_streams_mp4_and_avi
    from_avi = segmenter(str(avi), mode="instances", threshold=0.3)
    summary = segment_video(str(mp4), model=segmenter, mode="instances", threshold=0.3, output_dir=tmp_path,
                            progress=False)  # fmt: skip
    from_mp4 = segmenter(str(mp4), mode="instances", threshold=0.3)
    expected = [k < SOUND_UNTIL for k in range(6)]
    assert [r["has_audio"] for r in from_mp4] == [r["has_audio"] for r in from_avi] == expected
    assert [r["has_audio"] for r in summary["frames"]] == expected
    assert summary["num_frames_without_audio"] == expected.count(False)
    for a, b in zip(from_mp4, from_avi):
        assert a["score"] == pytest.approx(b["score"], abs=1e-6)
        assert np.array_equal(np.asarray(a["mask"]), np.asarray(b["mask"]))
        assert [(s["label"], s["mask"].tobytes()) for s in a["segments"]] == [
            (s["label"], s["mask"].tobytes()) for s in b["segments"]
        ]
        if not a["has_audio"]:  # no sound: nothing sounds
            assert a["score"] == 0.0 and a["segments"] == [] and not np.asarray(a["mask"]).any()
