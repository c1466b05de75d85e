"""What the pipeline gives back is faithful to the source: masks, mask PNGs and the overlay at the source frame size
(not the size the frames were decoded at for the model), and the overlay carries the source's own sound (its sample
rate and channels)."""

import numpy as np
import pytest
from PIL import Image

from tavis_hf.media import MAX_FRAME_SIZE, VideoFile
from tavis_hf.segmentation import segment_video

from ..helpers import ffprobe_streams, make_video, requires_ffmpeg

pytestmark = requires_ffmpeg


@pytest.fixture(scope="module")
def full_hd_stereo(tmp_path_factory):
    """2 s of 1080x1920 video at 5 fps with a 48-kHz stereo AAC track: two sampled frames."""
    path = tmp_path_factory.mktemp("full_hd") / "full_hd.mp4"
    return make_video(path, duration=2.0, size="1920x1080", rate=5, audio="sine=frequency=440:sample_rate=48000",
                      channels=2)  # fmt: skip


def test_masks_pngs_and_overlay_at_the_source_size_with_the_source_sound(segmenter, full_hd_stereo, tmp_path):
    with VideoFile(full_hd_stereo) as video:  # decoded for the model with the long side at MAX_FRAME_SIZE
        assert (video.info.width, video.info.height) == (MAX_FRAME_SIZE, 576)
        assert (video.info.source_width, video.info.source_height) == (1920, 1080)
    results = segmenter(str(full_hd_stereo), mode="instances", threshold=0.3)
    assert len(results) == 2
    for result in results:
        assert result["mask"].size == (1920, 1080)
        assert all(segment["mask"].size == (1920, 1080) for segment in result["segments"])
    summary = segment_video(str(full_hd_stereo), model=segmenter, output_dir=tmp_path / "out", progress=False)
    for record, result in zip(summary["frames"], segmenter(str(full_hd_stereo))):
        png = Image.open(tmp_path / "out" / record["mask"])
        assert png.size == (1920, 1080) and np.array_equal(np.asarray(png), np.asarray(result["mask"]))
    streams = ffprobe_streams(tmp_path / "out" / summary["overlay"])
    assert (streams["video"]["width"], streams["video"]["height"]) == (1920, 1080)
    assert (streams["audio"]["sample_rate"], streams["audio"]["channels"]) == ("48000", 2)


def test_dict_input_masks_at_its_frames_size_and_overlay_with_its_waveform(segmenter, tmp_path):
    """A dict input: the source size is its frames' size, the overlay's sound its waveform at its rate and channels."""
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, (2, 90, 160, 3), dtype=np.uint8)
    seconds = np.arange(2 * 22050) / 22050
    stereo = np.stack([np.sin(2 * np.pi * 440 * seconds), np.zeros_like(seconds)]).astype(np.float32) * 0.5
    inputs = {"frames": frames, "audio": stereo, "sampling_rate": 22050}
    results = segmenter(inputs, output_video=str(tmp_path / "overlay.mp4"))
    assert [result["mask"].size for result in results] == [(160, 90)] * 2
    streams = ffprobe_streams(tmp_path / "overlay.mp4")
    assert (streams["video"]["width"], streams["video"]["height"]) == (160, 90)
    assert (streams["audio"]["sample_rate"], streams["audio"]["channels"]) == ("22050", 2)
