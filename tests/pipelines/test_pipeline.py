"""pipeline("audio-visual-segmentation") end to end with a tiny random TavisModel (CPU)."""

import numpy as np
import pytest
import torch
from PIL import Image

from tavis_hf.media import MediaError
from tavis_hf.pipelines import AudioVisualSegmentationPipeline, parse_labels

from ..helpers import make_video, requires_ffmpeg

pytestmark = requires_ffmpeg


def masks_of(frames):
    return [np.asarray(f["mask"]) for f in frames]


def assert_score_is_mean_probability_in_mask(score, mask, threshold=0.5):
    """A mask's score is the mean foreground probability inside it: 0 for an empty mask, else in [threshold, 1]
    (every pixel inside passed the threshold)."""
    if np.asarray(mask).any():
        assert threshold <= score <= 1.0, score
    else:
        assert score == 0.0


def assert_same_frames(a, b):
    """Two runs on the same frames in other batches: the same frames and labels; masks and scores up to rounding.

    The tiny random model's mask logits are O(1e-3) and batching changes them by O(1e-9) here (float32 sums in another
    order), so a pixel whose logit lies that close to 0 may flip: about 1e-5 of the pixels even for a 1e-8 change.
    At most 1e-3 of a frame may differ; a flipped pixel moves the mean probability of a mask by less than 1e-5."""
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x["timestamp"] == y["timestamp"] and x["frame_index"] == y["frame_index"]
        assert np.mean(np.asarray(x["mask"]) != np.asarray(y["mask"])) <= 1e-3
        assert abs(x["score"] - y["score"]) < 1e-5
        assert [s["label"] for s in x["segments"]] == [s["label"] for s in y["segments"]]


def test_task_registered_and_output_format(segmenter, short_mp4):
    from transformers.pipelines import get_supported_tasks

    assert "audio-visual-segmentation" in get_supported_tasks()
    assert isinstance(segmenter, AudioVisualSegmentationPipeline)
    frames = segmenter(str(short_mp4), labels=["dog", "guitar"], mode="semantic")
    assert [f["frame_index"] for f in frames] == list(range(3))
    assert frames[0]["timestamp"] == pytest.approx(0.9375)
    for frame in frames:
        assert isinstance(frame["mask"], Image.Image) and frame["mask"].mode == "L" and frame["mask"].size == (96, 64)
        assert set(np.unique(np.asarray(frame["mask"]))) <= {0, 255}
        assert_score_is_mean_probability_in_mask(frame["score"], frame["mask"])
        for segment in frame["segments"]:
            seg = np.asarray(segment["mask"]) > 0
            # class probability times the mean probability in the region: 0 exactly when the region is empty
            assert segment["label"] in ("dog", "guitar") and segment["score"] <= 1.0
            assert (segment["score"] > 0) == seg.any()
            assert not (seg & (np.asarray(frame["mask"]) == 0)).any()  # classes only inside the sounding mask


@pytest.mark.parametrize("mode", ["binary", "instances"])
def test_modes(segmenter, short_mp4, mode):
    frames = segmenter(str(short_mp4), mode=mode)
    assert len(frames) == 3
    vocabulary = set(segmenter.model.config.id2label.values()) - {"background"}
    for frame in frames:
        for segment in frame["segments"]:
            if mode == "binary":
                assert segment["label"] is None and np.array_equal(
                    np.asarray(segment["mask"]), np.asarray(frame["mask"])
                )
            else:
                assert segment["label"] in vocabulary


def test_batch_list_generator_dict_match_single_calls(segmenter, short_mp4, media_dir):
    other = make_video(media_dir / "other.mp4", duration=2.0, audio="anoisesrc=sample_rate=16000:amplitude=0.3")
    single = [segmenter(str(short_mp4)), segmenter(str(other))]
    batched = segmenter([str(short_mp4), str(other)], batch_size=4)  # 5 frames: one batch of 4, one of 1
    generated = list(segmenter((p for p in [str(short_mp4), str(other)]), batch_size=2))
    for results in (batched, generated):
        for a, b in zip(single, results):
            assert_same_frames(a, b)
    # dict input: the frames and 16-kHz audio the pipeline decoded give the same masks
    from tavis_hf.media import VideoFile

    with VideoFile(short_mp4) as video:
        windows = list(video.windows())
        audio = video.soundtrack()
    frames = np.concatenate([w.frames for w in windows])
    as_dict = segmenter({"frames": frames, "audio": audio, "sampling_rate": 16000})
    assert [np.array_equal(a, b) for a, b in zip(masks_of(as_dict), masks_of(single[0]))] == [True] * 3
    assert [f["frame_index"] for f in as_dict] == [f["frame_index"] for f in single[0]]


def test_pipeline_equals_processor_plus_model(segmenter):
    """A 5-frame, 5-s dict clip: the pipeline's binary masks are the model's logits > 0 on the processor's inputs, and
    a frame's score is the mean sigmoid of the logits inside its mask."""
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, size=(5, 64, 64, 3), dtype=np.uint8)
    audio = (0.2 * rng.standard_normal(5 * 16000)).astype(np.float32)
    out = segmenter({"frames": frames, "audio": audio, "sampling_rate": 16000})
    inputs = segmenter.processor(videos=frames, audio=audio, sampling_rate=16000)
    with torch.no_grad():  # the pipeline's call: the 5-frame window in one forward (frames decoded independently)
        logits = segmenter.model(**inputs, temporal="per-frame").pred_masks[0]
    # the same forward, and masks at the model's 64x64 (the bilinear resize to the same size is the identity): the
    # same float32 values, so the masks and the scores are equal bit for bit
    assert [np.array_equal(np.asarray(f["mask"]) > 0, (logits[k] > 0).numpy()) for k, f in enumerate(out)] == [True] * 5
    assert [f["score"] for f in out] == [
        float(torch.sigmoid(z)[z > 0].mean()) if (z > 0).any() else 0.0 for z in logits
    ]


def test_labels_parsing_and_errors(segmenter, short_mp4):
    assert parse_labels("dog, guitar") == ["dog", "guitar"]
    assert segmenter.vocabulary(["dog"]) == ["background", "dog"]
    for bad, error in [({"dog": 1}, TypeError), ([1, 2], TypeError), ([], ValueError), (["a", "a"], ValueError)]:
        with pytest.raises(error):
            segmenter(str(short_mp4), labels=bad)
    with pytest.raises(ValueError, match="mode"):
        segmenter(str(short_mp4), mode="panoptic")
    with pytest.raises(ValueError, match="temporal"):
        segmenter(str(short_mp4), temporal="memory")
    with pytest.raises(TypeError, match="an input must be"):
        segmenter(3.5)
    with pytest.raises(ValueError, match="missing"):
        segmenter({"frames": np.zeros((1, 8, 8, 3), np.uint8)})


def test_bad_media_errors(segmenter, tmp_path):
    no_audio = make_video(tmp_path / "mute.mp4", duration=1.0, audio=None)
    with pytest.raises(MediaError, match="no audio stream"):
        segmenter(str(no_audio))
    with pytest.raises(MediaError, match="could not fetch"):
        segmenter("http://127.0.0.1:9/clip.mp4")
    (tmp_path / "notes.txt").write_text("not a video")
    with pytest.raises(MediaError, match="not a readable media file"):
        segmenter(str(tmp_path / "notes.txt"))


def test_silent_audio_runs(segmenter, tmp_path):
    from tavis_hf.media import VideoFile

    silent = make_video(tmp_path / "silent.mp4", duration=2.0, audio="anullsrc=r=16000:cl=mono")
    frames = segmenter(str(silent))
    assert len(frames) == 2
    for frame in frames:  # log-mel of silence sits at the log(eps) floor: finite logits, well-defined scores
        assert_score_is_mean_probability_in_mask(frame["score"], frame["mask"])
    # the decoded soundtrack is digital silence, and the file gives what its frames with an all-zero waveform give
    with VideoFile(silent) as video:
        decoded = np.concatenate([window.frames for window in video.windows()])
        audio = video.soundtrack()
    assert len(audio) > 0 and not audio.any()
    zeros = segmenter({"frames": decoded, "audio": np.zeros_like(audio), "sampling_rate": 16000})
    assert [np.array_equal(a, b) for a, b in zip(masks_of(zeros), masks_of(frames))] == [True] * 2  # the same forward
    assert [f["score"] for f in zeros] == [f["score"] for f in frames]


def test_short_video_and_bytes_input(segmenter, tmp_path):
    short = make_video(tmp_path / "short.mp4", duration=0.5)
    frames = segmenter(short.read_bytes())
    assert len(frames) == 1 and frames[0]["timestamp"] <= 0.5


def test_output_video_and_save_pretrained(segmenter, short_mp4, tmp_path):
    import av
    from transformers import pipeline

    segmenter(str(short_mp4), output_video=str(tmp_path / "overlay.mp4"))
    with av.open(str(tmp_path / "overlay.mp4")) as container:
        assert container.streams.video[0].frames == 30 and container.streams.audio
    segmenter.save_pretrained(tmp_path / "saved")
    assert (tmp_path / "saved" / "processor_config.json").is_file()
    reloaded = pipeline("audio-visual-segmentation", model=str(tmp_path / "saved"))
    assert_same_frames(segmenter(str(short_mp4)), reloaded(str(short_mp4)))


def test_tracking_pads_the_last_window(segmenter, clip_mp4):
    """temporal="tracking": 7 frames = a window of 5 and a window of 2 padded to 5; 7 results come back. "clip", the
    former name of "tracking", gives the same masks."""
    frames = segmenter(str(clip_mp4), temporal="tracking")
    assert [f["frame_index"] for f in frames] == list(range(7))
    former = segmenter(str(clip_mp4), temporal="clip")
    assert [np.array_equal(a, b) for a, b in zip(masks_of(former), masks_of(frames))] == [True] * 7


@pytest.mark.parametrize(
    "params",
    [{}, {"mode": "semantic", "labels": "dog, guitar"}, {"mode": "instances"}, {"temporal": "tracking", "fps": 2.0}],
)
def test_iter_frame_results_equals_the_call(segmenter, clip_mp4, params):
    """The public generator yields, window by window, exactly the results of a call: the same frames, masks (bit for
    bit), scores and segments."""
    called = segmenter(str(clip_mp4), **params)
    iterated = segmenter.iter_frame_results(str(clip_mp4), **params)
    assert not isinstance(iterated, list)  # a generator: nothing is decoded before the first result is asked for
    iterated = list(iterated)
    assert len(iterated) == len(called) == (14 if params.get("fps") == 2.0 else 7)
    for a, b in zip(called, iterated):
        assert (a["frame_index"], a["timestamp"], a["score"]) == (b["frame_index"], b["timestamp"], b["score"])
        assert np.array_equal(np.asarray(a["mask"]), np.asarray(b["mask"]))
        assert [(s["label"], s["score"]) for s in a["segments"]] == [(s["label"], s["score"]) for s in b["segments"]]
        for s, t in zip(a["segments"], b["segments"]):
            assert np.array_equal(np.asarray(s["mask"]), np.asarray(t["mask"]))


def test_dtype_bfloat16(tiny_model_dir, short_mp4):
    from transformers import pipeline

    segmenter = pipeline("audio-visual-segmentation", model=str(tiny_model_dir), dtype=torch.bfloat16)
    assert segmenter.model.dtype == torch.bfloat16
    input_dtypes = set()  # the pipeline casts its float inputs to the model's dtype: the forward runs in bfloat16

    def record(module, args, kwargs):
        input_dtypes.update(kwargs[name].dtype for name in ("pixel_values", "input_features"))

    segmenter.model.register_forward_pre_hook(record, with_kwargs=True)
    frames = segmenter(str(short_mp4))
    assert len(frames) == 3 and input_dtypes == {torch.bfloat16}
    for frame in frames:
        assert_score_is_mean_probability_in_mask(frame["score"], frame["mask"])
