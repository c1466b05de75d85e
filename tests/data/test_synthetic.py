"""SynthAVS: determinism, scene rules, schema, AVSBench-layout round trip, and "vision alone is at chance"."""

import numpy as np
import pytest
from scipy.optimize import nnls

from tavis_hf.data import (
    SYNTHAVS_CLASSES,
    SYNTHAVS_ID2LABEL,
    avsbench_build_info,
    avsbench_features,
    generate_clip,
    load_avsbench,
    make_synthavs,
    write_synthavs_tree,
    write_synthavs_video,
)
from tavis_hf.data.synthetic import _LOOKS, _sound


def test_vocabulary_and_looks():
    assert SYNTHAVS_CLASSES[0] == "background" and len(SYNTHAVS_CLASSES) - 1 >= 8
    assert SYNTHAVS_ID2LABEL[3] == SYNTHAVS_CLASSES[3]
    assert len(set(_LOOKS.values())) == len(SYNTHAVS_CLASSES) - 1  # one distinct look per sounding class


def test_sounds_are_distinct():
    rng = np.random.default_rng(0)
    spectra = []
    for c in range(1, len(SYNTHAVS_CLASSES)):
        s = np.abs(np.fft.rfft(_sound(c, rng, 2, 16000))) ** 2
        s = s[:16000].reshape(80, 200).mean(1)
        spectra.append(s / np.linalg.norm(s))
    similarity = np.stack(spectra) @ np.stack(spectra).T
    assert similarity[~np.eye(len(spectra), dtype=bool)].max() < 0.6


def test_deterministic_and_seed_dependent():
    a, b = generate_clip(3, "val", 7, "multi", 32), generate_clip(3, "val", 7, "multi", 32)
    c = generate_clip(4, "val", 7, "multi", 32)
    assert all(np.array_equal(x, y) for x, y in zip(a.frames, b.frames)) and np.array_equal(a.audio, b.audio)
    assert not np.array_equal(a.audio, c.audio)


@pytest.mark.parametrize("mode", ["single", "multi"])
def test_scene_rules(mode):
    for index in range(30):
        clip = generate_clip(0, "train", index, mode, 48)
        objects = clip.extra["objects"]
        visible = [o["class_id"] for o in objects]
        sounding = sorted(o["class_id"] for o in objects if o["sounding"])
        assert 1 <= len(objects) <= 3 and len(set(visible)) == len(visible)
        assert len(sounding) == 1 if mode == "single" else len(sounding) >= 2
        assert not set(clip.extra["offscreen"]) & set(visible)
        assert len(clip.frames) == 5 and clip.frames[0].shape == (48, 48, 3) and clip.audio.shape == (80000,)
        assert np.abs(clip.audio).max() <= 1.0
        for mask, ids in zip(clip.masks, clip.semantic_masks):
            np.testing.assert_array_equal(mask, ids != 0)
            assert set(np.unique(ids)) <= {0, *sounding}
        assert clip.sounding_objects == "_".join(sorted(SYNTHAVS_CLASSES[c] for c in sounding))


def _visual_features(obj, n_visible):
    """Everything the frames show about an object: its look (class), size, position and motion."""
    onehot = np.eye(len(SYNTHAVS_CLASSES) - 1)[obj["class_id"] - 1]
    centres = np.asarray(obj["centres"]) / 32
    motion = np.abs(np.diff(centres, axis=0)).mean()
    return np.concatenate([onehot, [obj["radius"] / 32, *centres.mean(0), motion, n_visible / 3, 1.0]])


def _fit_logistic(x, y, steps=400, lr=0.5):
    w = np.zeros(x.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-x @ w))
        w -= lr * x.T @ (p - y) / len(y)
    return w


def test_vision_alone_is_at_chance_but_audio_decides():
    """A frames-only oracle (given the exact visual attributes of every object, i.e. more than any pixel model can
    extract) trained to predict which object sounds stays at chance on held-out clips; an audio-aware oracle
    (non-negative spectral unmixing against class templates) finds the sounding object almost always."""
    train = [generate_clip(5, "train", i, "single", 32) for i in range(150)]
    test = [c for c in (generate_clip(5, "test", i, "single", 32) for i in range(130)) if len(c.extra["objects"]) > 1]
    x = np.stack([_visual_features(o, len(c.extra["objects"])) for c in train for o in c.extra["objects"]])
    y = np.asarray([o["sounding"] for c in train for o in c.extra["objects"]], dtype=float)
    w = _fit_logistic(x, y)

    def spectrum(audio):
        return (np.abs(np.fft.rfft(audio)) ** 2)[:40000].reshape(200, 200).mean(1)

    rng = np.random.default_rng(99)
    templates = np.stack(
        [np.mean([spectrum(_sound(c, rng, 5, 16000)) for _ in range(4)], 0) for c in range(1, len(SYNTHAVS_CLASSES))], 1
    )
    templates /= np.linalg.norm(templates, axis=0)
    vision_hits = audio_hits = chance = 0.0
    for clip in test:
        objects = clip.extra["objects"]
        vision_pick = int(np.argmax([_visual_features(o, len(objects)) @ w for o in objects]))
        weights, _ = nnls(templates, spectrum(clip.audio))
        audio_pick = int(np.argmax([weights[o["class_id"] - 1] for o in objects]))
        vision_hits += objects[vision_pick]["sounding"]
        audio_hits += objects[audio_pick]["sounding"]
        chance += 1 / len(objects)
    n = len(test)
    standard_error = np.sqrt(0.25 / n)
    print(f"vision-only {vision_hits / n:.3f}, chance {chance / n:.3f}, audio {audio_hits / n:.3f} on {n} clips")
    assert vision_hits / n < chance / n + 3 * standard_error
    assert audio_hits / n > 0.85


def test_dataset_dict_schema(tmp_path):
    ds = make_synthavs({"train": 3, "test": 2}, seed=1, mode="multi", image_size=32, cache_dir=tmp_path)
    assert {k: v.num_rows for k, v in ds.items()} == {"train": 3, "test": 2}
    assert ds["train"].features == avsbench_features(SYNTHAVS_CLASSES)
    assert avsbench_build_info(ds["train"])["subset"] == "synth-ms3"
    row = ds["test"][1]
    clip = generate_clip(1, "test", 1, "multi", 32)
    assert row["uid"] == clip.uid and row["subset"] == "synth-ms3" and all(row["annotated"])
    np.testing.assert_array_equal(np.asarray(row["frames"][2]), clip.frames[2])
    np.testing.assert_array_equal(np.asarray(row["masks"][4]) == 255, clip.masks[4])
    np.testing.assert_array_equal(np.asarray(row["semantic_masks"][0]), clip.semantic_masks[0])
    assert [SYNTHAVS_CLASSES[c] for c in row["class_ids"]] == sorted(
        clip.sounding_objects.split("_"), key=SYNTHAVS_CLASSES.index
    )
    samples = row["audio"].get_all_samples()
    assert samples.sample_rate == 16000 and samples.data.shape[-1] == 80000
    assert np.abs(samples.data.numpy()[0] - clip.audio).max() < 1e-3


def test_mixed_mode_alternates_single_and_multi_scenes(tmp_path):
    ds = make_synthavs({"train": 4}, seed=2, mode="mixed", image_size=32, cache_dir=tmp_path)["train"]
    assert avsbench_build_info(ds)["subset"] == "synth-mixed" and set(ds["subset"]) == {"synth-mixed"}
    for index, mode in enumerate(["single", "multi", "single", "multi"]):
        clip = generate_clip(2, "train", index, mode, 32)
        assert ds[index]["uid"] == clip.uid
        np.testing.assert_array_equal(np.asarray(ds[index]["frames"][1]), clip.frames[1])
    with pytest.raises(ValueError, match="mode must be one of"):
        make_synthavs({"train": 1}, mode="both", cache_dir=tmp_path)


def test_avsbench_layout_refuses_mixed_scenes(tmp_path):
    for mode in ("mixed", "both"):
        with pytest.raises(ValueError, match="takes mode 'single' or 'multi'"):
            write_synthavs_tree(tmp_path / "tree", {"train": 1}, mode=mode, image_size=32)
    assert not (tmp_path / "tree").exists()


@pytest.mark.parametrize(("mode", "release", "subset"), [("single", "object", "s4"), ("multi", "semantic", "v1m")])
def test_avsbench_layout_round_trip(tmp_path, mode, release, subset):
    root = write_synthavs_tree(
        tmp_path / release, {"train": 2, "val": 1, "test": 1}, seed=2, mode=mode, release=release, image_size=32
    )
    roots = {"object_root": root} if release == "object" else {"semantic_root": root}
    ds = load_avsbench(subset, class_names=SYNTHAVS_CLASSES, cache_dir=tmp_path / "cache", **roots)
    row = ds["test"][0]
    clip = generate_clip(2, "test", 0, mode, 32)
    for i in range(5):
        np.testing.assert_array_equal(np.asarray(row["masks"][i]) == 255, clip.masks[i])
    if release == "semantic":
        np.testing.assert_array_equal(np.asarray(row["semantic_masks"][3]), clip.semantic_masks[3])
        assert row["sounding_objects"] == clip.sounding_objects
    else:  # S4 train clips are annotated on their first frame only
        assert all(r["annotated"] == [True, False, False, False, False] for r in ds["train"])


def test_bad_arguments():
    with pytest.raises(ValueError, match="mode"):
        generate_clip(0, mode="stereo")
    with pytest.raises(ValueError, match="split"):
        make_synthavs({"dev": 3})
    with pytest.raises(ValueError, match="at least one"):
        make_synthavs({"train": 0})


def test_write_synthavs_video_has_frames_and_sound(tmp_path):
    pytest.importorskip("av", reason="PyAV (the `video` extra) writes the mp4")
    from tavis_hf.media import VideoFile

    path = write_synthavs_video(tmp_path / "clip.mp4", index=1, mode="multi", image_size=64)
    clip = generate_clip(seed=0, split="test", index=1, mode="multi", image_size=64)
    assert not path.with_suffix(".partial.mp4").exists()
    with VideoFile(path, frame_offset=0.5) as video:
        assert video.info.duration == pytest.approx(5.0, abs=0.1)
        assert video.info.audio_duration == pytest.approx(5.0, abs=0.1)
        frames = np.concatenate([window.frames for window in video.windows()])
        audio = video.soundtrack()
    # the clip's own frames, nothing drawn over them (H.264 is lossy: a few grey levels on average)
    assert frames.shape == (5, 64, 64, 3)
    assert np.abs(frames.astype(int) - np.stack(clip.frames).astype(int)).mean() < 4
    n = min(len(audio), len(clip.audio))
    assert np.corrcoef(audio[1000 : n - 1000], clip.audio[1000 : n - 1000])[0, 1] > 0.95  # AAC keeps the sound
