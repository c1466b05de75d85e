"""tavis_hf.visualization: colours, overlay drawing, overlay videos with sound, the pipeline's results drawn."""

import numpy as np
import pytest
from PIL import Image

from tavis_hf.media import VideoArrays, VideoFile
from tavis_hf.visualization import (
    PALETTE,
    color_for,
    draw_overlay,
    result_labels,
    write_overlay_video,
    write_results_overlay,
)

from ..helpers import requires_ffmpeg


def test_colours_are_stable_per_label():
    labels = [None, "dog", "guitar"]
    assert np.array_equal(color_for("dog", labels), PALETTE[1])
    assert np.array_equal(color_for("cat", labels), PALETTE[0])  # unknown label: the first colour
    many = [f"c{i}" for i in range(len(PALETTE) + 1)]
    assert np.array_equal(color_for(many[-1], many), PALETTE[0])  # cycled


def test_draw_overlay_blends_masks_and_labels():
    frame = np.zeros((40, 60, 3), dtype=np.uint8)
    small = np.zeros((20, 30), dtype=bool)
    small[10:20, 15:30] = True  # bottom-right quarter at half size: NEAREST-resized to the frame
    out = draw_overlay(frame, [("dog", 0.9, small)], ["dog"], alpha=0.5)
    assert out.shape == frame.shape and out.dtype == np.uint8
    assert np.array_equal(out[30, 45], (0.5 * PALETTE[0]).astype(np.uint8))
    assert not out[20:40, 0:30].any()  # outside the mask and the legend: untouched
    assert out[4:13, 4:13].any()  # the legend swatch
    unchanged = draw_overlay(frame, [("dog", 0.0, np.zeros((40, 60), bool))], ["dog"])
    assert np.array_equal(unchanged, frame)  # an empty mask draws nothing, not even its legend


@requires_ffmpeg
def test_overlay_has_video_and_audio(tmp_path, clip_mp4):
    import av

    with VideoFile(clip_mp4) as video:
        audio = video.soundtrack()
        mask = np.zeros((64, 96), dtype=bool)
        mask[10:30, 20:50] = True
        out = write_overlay_video(tmp_path / "o.mp4", video.iter_frames(), lambda t: [("dog", 0.9, mask)], ["dog"],
                                  video.info.video_fps, audio)  # fmt: skip
    with av.open(out) as container:
        assert container.streams.video and container.streams.audio
        frame = next(container.decode(video=0)).to_ndarray(format="rgb24")
        assert container.streams.video[0].frames == 70
    inside, outside = frame[15:25, 25:45].astype(int), frame[40:60, 60:90].astype(int)
    assert inside[..., 0].mean() > 100  # red-tinted mask region
    assert outside.shape == (20, 30, 3)


def _result(index, label, mask):
    image = Image.fromarray(mask.astype(np.uint8) * 255, mode="L")
    return {"frame_index": index, "timestamp": index + 0.5, "mask": image, "score": 0.8,
            "segments": [{"label": label, "score": 0.8, "mask": image}] if mask.any() else []}  # fmt: skip


def test_results_overlay_shows_each_interval_its_result(tmp_path):
    """Frames given as arrays at 1 fps: frame k shows result k (left half masked in frame 0, right half in frame 1)."""
    import av

    left, right = np.zeros((32, 48), bool), np.zeros((32, 48), bool)
    left[:, :24], right[:, 24:] = True, True
    results = [_result(0, "dog", left), _result(1, None, right)]
    assert result_labels(results) == [None, "dog"]  # None sorts first: the colour order
    frames = np.full((2, 32, 48, 3), 100, dtype=np.uint8)
    audio = np.zeros(2 * 16000, dtype=np.float32)
    with VideoArrays(frames, audio, 16000) as video:
        path = write_results_overlay(tmp_path / "r.mp4", video, results, sample_fps=1.0)
    with av.open(path) as container:
        decoded = [f.to_ndarray(format="rgb24").astype(int) for f in container.decode(video=0)]
    assert len(decoded) == 2
    dog, sounding = PALETTE[1], PALETTE[0]  # colours by position in result_labels
    assert np.abs(decoded[0][20, 8] - (100 + dog) / 2).max() < 12 and np.abs(decoded[0][20, 40] - 100).max() < 12
    assert np.abs(decoded[1][20, 40] - (100 + sounding) / 2).max() < 12 and np.abs(decoded[1][20, 8] - 100).max() < 12


@pytest.mark.parametrize("fps", [0.5, 2.0])
def test_results_overlay_maps_times_to_sampling_intervals(tmp_path, fps):
    """A video frame at t seconds shows the result of interval floor(t * sample_fps), clamped to the results."""
    import av

    masks = [np.zeros((64, 64), bool) for _ in range(3)]
    for k, mask in enumerate(masks):
        mask[:, 20 * k : 20 * k + 20] = True
    results = [_result(k, "dog", mask) for k, mask in enumerate(masks)]
    frames = np.full((3, 64, 64, 3), 100, dtype=np.uint8)
    with VideoArrays(frames, np.zeros(48000, np.float32), 16000, fps=fps) as video:
        path = write_results_overlay(tmp_path / "t.mp4", video, results, sample_fps=fps)
    with av.open(path) as container:
        decoded = [f.to_ndarray(format="rgb24").astype(int) for f in container.decode(video=0)]
    assert len(decoded) == 3
    for k, frame in enumerate(decoded):  # VideoArrays gives frame k at k / fps: interval k (below the legend)
        assert frame[50, 20 * k + 10, 0] > frame[50, (20 * k + 30) % 60, 0] + 30


def test_label_text_grows_with_the_frame_size():
    """The legend (swatch and label text) is drawn in proportion to the frame height: readable on 1080p."""
    from tavis_hf.visualization import label_font_size

    def legend_box(height: int, width: int) -> tuple[int, int]:
        frame = np.zeros((height, width, 3), dtype=np.uint8)
        mask = np.zeros((height, width), dtype=bool)
        mask[-2:, -2:] = True  # a speck in the far corner, away from the legend
        drawn = draw_overlay(frame, [("guitar", 0.87, mask)], ["guitar"])[: height // 2, : width // 2]
        rows, cols = np.nonzero(drawn.any(axis=-1))
        return rows.max() - rows.min() + 1, cols.max() - cols.min() + 1

    (small_h, small_w), (large_h, large_w) = legend_box(180, 320), legend_box(1080, 1920)
    assert label_font_size(1080) >= 2.5 * label_font_size(180)
    assert large_h >= 2.5 * small_h and large_w >= 2.5 * small_w
