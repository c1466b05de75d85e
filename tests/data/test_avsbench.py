"""AVSBench builder on tiny trees: both releases, all five subsets, uid traps, palette decoding, errors, cache."""

import json
import os
import shutil
from unittest import mock

import numpy as np
import pytest
from PIL import Image

from tavis_hf.data import (
    AVSBENCH_CLASSES,
    AVSBENCH_PALETTE,
    avsbench_build_info,
    decode_palette_mask,
    encode_palette_mask,
    load_avsbench,
    push_avsbench_to_hub,
    read_label2idx,
    render_dataset_card,
    resolve_semantic_uid,
)

from .conftest import MS3_SPEC, S4_SPEC, SIZE, V2_SPEC


def _by_uid(dataset):
    return {row["uid"]: row for row in dataset}


def _mask(image):
    return np.asarray(image)


def _check_alignment(row, marker):
    """Masks and frames of one example belong together and are in frame order."""
    for i, (frame, mask, flag) in enumerate(zip(row["frames"], row["masks"], row["annotated"])):
        assert abs(int(np.asarray(frame.convert("RGB"))[..., 0].mean()) - (20 * i + 10)) <= 2
        assert abs(int(np.asarray(frame.convert("RGB"))[..., 1].mean()) - (marker * 17) % 200) <= 2
        values = _mask(mask)
        assert mask.mode == "L" and set(np.unique(values)) <= {0, 255}
        if flag:
            assert (values[0] == 255).sum() == i + 1
            assert (values[1 + marker % 6] == 255).all()
        else:
            assert not values.any()


# ---------------------------------------------------------------- palette, label2idx, uids


def test_palette_colours():
    assert AVSBENCH_PALETTE.shape == (71, 3)
    assert tuple(AVSBENCH_PALETTE[1]) == (128, 0, 0) and tuple(AVSBENCH_PALETTE[70]) == (32, 128, 128)
    assert tuple(AVSBENCH_PALETTE[9]) == (192, 0, 0) and tuple(AVSBENCH_PALETTE[64]) == (32, 0, 0)
    assert len({tuple(c) for c in AVSBENCH_PALETTE}) == 71
    ids = np.arange(71, dtype=np.uint8).reshape(71, 1).repeat(3, 1)
    np.testing.assert_array_equal(decode_palette_mask(encode_palette_mask(ids)), ids)


def test_unknown_colour_is_reported():
    rgb = encode_palette_mask(np.zeros((4, 4), dtype=np.uint8))
    rgb[0, 0] = (1, 2, 3)
    rgb[0, 1] = (1, 2, 3)
    with pytest.raises(ValueError, match=r"2 pixels match no palette colour.*\[1, 2, 3\]"):
        decode_palette_mask(rgb)


@pytest.mark.parametrize("start", [0, 1])
def test_label2idx_zero_and_one_indexed(tmp_path, start):
    path = tmp_path / "label2idx.json"
    path.write_text(json.dumps({name: i + start for i, name in enumerate(AVSBENCH_CLASSES)}))
    assert read_label2idx(path) == list(AVSBENCH_CLASSES)


@pytest.mark.parametrize("change", ["reorder", "rename", "values"])
def test_label2idx_rejects_changed_vocabulary(tmp_path, change):
    names = list(AVSBENCH_CLASSES)
    values = list(range(71))
    if change == "reorder":
        names[1], names[2] = names[2], names[1]
    elif change == "rename":
        names[5] = "kazoo"
    else:
        values[3] = 7
    path = tmp_path / "label2idx.json"
    path.write_text(json.dumps(dict(zip(names, values))))
    with pytest.raises(ValueError):
        read_label2idx(path)


def test_uid_matching_is_exact():
    rows = [
        {"vid": "YYbShzoZWRo", "uid": "YYbShzoZWRo_30", "label": "v1m"},
        {"vid": "YYbShzoZWRo", "uid": "YYbShzoZWRo_31", "label": "v1m"},
        {"vid": "YYbShzoZWRo", "uid": "YYbShzoZWRo_3", "label": "v1m"},
        {"vid": "abcdefghijk", "uid": "abcdefghijk_1000_6000", "label": "v1s"},
        {"vid": "dupdupdupdu", "uid": "dupdupdupdu_0_5000", "label": "v1s"},
        {"vid": "dupdupdupdu", "uid": "dupdupdupdu_5000_10000", "label": "v1s"},
    ]
    assert resolve_semantic_uid("YYbShzoZWRo_3", "ms3", rows)["uid"] == "YYbShzoZWRo_3"
    assert resolve_semantic_uid("abcdefghijk", "s4", rows)["uid"] == "abcdefghijk_1000_6000"
    with pytest.raises(LookupError, match="found 0"):
        resolve_semantic_uid("YYbShzoZWRo_4", "ms3", rows)
    with pytest.raises(LookupError, match="found 2"):
        resolve_semantic_uid("dupdupdupdu", "s4", rows)


# ---------------------------------------------------------------- builds


def test_s4_object(avsbench_trees, tmp_path):
    object_root, _ = avsbench_trees
    ds = load_avsbench("s4", object_root=object_root, cache_dir=tmp_path)
    assert {k: v.num_rows for k, v in ds.items()} == {"train": 2, "val": 1, "test": 2}
    assert avsbench_build_info(ds["test"])["mask_source"] == "object"
    rows = _by_uid(ds["train"])
    row = rows["aaaaaaaaaa1"]
    assert row["annotated"] == [True, False, False, False, False]
    assert row["category"] == row["sounding_objects"] == "dog_barking"
    assert row["semantic_masks"] == [] and row["class_ids"] == []
    for marker, (vid, split, _, _) in enumerate(S4_SPEC):
        _check_alignment(_by_uid(ds[split])[vid], marker)
    samples = row["audio"].get_all_samples()  # written at 8 kHz, decoded at 16 kHz
    assert samples.sample_rate == 16000 and abs(samples.data.shape[-1] - 4000) <= 2


def test_ms3_object_binarises_palette_index_masks(avsbench_trees, tmp_path):
    object_root, _ = avsbench_trees
    mask_file = next((object_root / "Multi-sources" / "ms3_data" / "gt_masks" / "test").rglob("*.png"))
    assert Image.open(mask_file).mode == "P" and np.asarray(Image.open(mask_file)).max() == 1
    ds = load_avsbench("ms3", object_root=object_root, cache_dir=tmp_path)
    assert {k: v.num_rows for k, v in ds.items()} == {"train": 3, "val": 1, "test": 2}
    for marker, (uid, split) in enumerate(MS3_SPEC):
        row = _by_uid(ds[split])[uid]
        assert row["video_id"] == uid.rsplit("_", 1)[0] and all(row["annotated"])
        _check_alignment(row, 10 + marker)


@pytest.mark.parametrize("subset", ["s4", "ms3"])
def test_object_clips_with_semantic_labels(avsbench_trees, tmp_path, subset):
    """The TAViS setting: frames from AVSBench-object, masks + audio from AVSBench-semantic (exact uid match)."""
    object_root, semantic_root = avsbench_trees
    ds = load_avsbench(
        subset, object_root=object_root, semantic_root=semantic_root, mask_source="semantic", cache_dir=tmp_path
    )
    assert avsbench_build_info(ds["train"])["mask_source"] == "semantic"
    if subset == "ms3":
        test_rows = _by_uid(ds["test"])
        assert set(test_rows) == {"YYbShzoZWRo_3", "zzzzzzzzzzz_2"}
        trap = test_rows["YYbShzoZWRo_3"]
        _check_alignment(trap, 10 + 4)  # its own masks, not those of YYbShzoZWRo_30 / _31
        assert trap["class_ids"] == [28, 70] and trap["sounding_objects"] == "28_70"
        samples = trap["audio"].get_all_samples().data.numpy()[0]
        peak = np.abs(np.fft.rfft(samples)).argmax() * 16000 / samples.size
        assert abs(peak - (200 + 50 * 14)) < 10
    else:
        row = _by_uid(ds["train"])["aaaaaaaaaa1_0_5000"]
        assert row["video_id"] == "aaaaaaaaaa1" and row["class_ids"] == [17]
        assert row["annotated"] == [True, False, False, False, False]
        _check_alignment(row, 0)
        semantic = np.asarray(row["semantic_masks"][0])
        assert set(np.unique(semantic)) == {0, 17}
        np.testing.assert_array_equal(semantic != 0, np.asarray(row["masks"][0]) != 0)


def test_semantic_subsets(avsbench_trees, tmp_path):
    _, semantic_root = avsbench_trees
    v1s = load_avsbench("v1s", semantic_root=semantic_root, cache_dir=tmp_path)  # labels_rgb only
    v1m = load_avsbench("v1m", semantic_root=semantic_root, cache_dir=tmp_path)  # labels_semantic preferred
    v2 = load_avsbench("v2", semantic_root=semantic_root, cache_dir=tmp_path)  # labels_semantic only
    assert {k: v.num_rows for k, v in v1s.items()} == {"train": 2, "val": 1, "test": 2}
    assert {k: v.num_rows for k, v in v1m.items()} == {"train": 3, "val": 1, "test": 2}
    assert {k: v.num_rows for k, v in v2.items()} == {"train": 1, "val": 1, "test": 2}
    row = _by_uid(v1s["train"])["aaaaaaaaaa2_0_5000"]
    assert row["annotated"] == [True] + [False] * 4 and row["class_ids"] == [47]
    assert v1s["train"].features["class_ids"].feature.names == list(AVSBENCH_CLASSES)
    for marker, (vid, split) in enumerate(V2_SPEC):
        row = _by_uid(v2[split])[f"{vid}_0_10000"]
        assert len(row["frames"]) == len(row["masks"]) == len(row["semantic_masks"]) == 10 and all(row["annotated"])
        assert row["class_ids"] == [3, 12]
        _check_alignment(row, 20 + marker)
        assert set(np.unique(np.asarray(row["semantic_masks"][9]))) == {0, 3, 12}


def test_rgb_and_index_labels_agree(avsbench_trees, tmp_path):
    _, semantic_root = avsbench_trees
    copy = tmp_path / "rgb_only"
    shutil.copytree(semantic_root, copy)
    for path in (copy / "v1m").rglob("labels_semantic"):
        shutil.rmtree(path)
    from_index = _by_uid(load_avsbench("v1m", semantic_root=semantic_root, cache_dir=tmp_path)["test"])
    from_rgb = _by_uid(load_avsbench("v1m", semantic_root=copy, cache_dir=tmp_path)["test"])
    for uid, row in from_index.items():
        for a, b in zip(row["semantic_masks"], from_rgb[uid]["semantic_masks"]):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_image_size_and_mask_alignment(avsbench_trees, tmp_path):
    object_root, semantic_root = avsbench_trees
    copy = tmp_path / "big_labels"
    shutil.copytree(semantic_root, copy)
    label = next((copy / "v2").rglob("labels_semantic/0.png"))
    Image.open(label).resize((SIZE * 2, SIZE * 2), Image.NEAREST).save(label)  # a label larger than its frame
    ds = load_avsbench("v2", semantic_root=copy, cache_dir=tmp_path, splits=("train",))
    assert ds["train"][0]["semantic_masks"][0].size == (SIZE, SIZE)
    resized = load_avsbench("ms3", object_root=object_root, cache_dir=tmp_path, image_size=4, splits=("val",))
    row = resized["val"][0]
    assert row["frames"][0].size == (4, 4) and row["masks"][0].size == (4, 4)
    assert set(np.unique(np.asarray(row["masks"][2]))) <= {0, 255}


def test_cache_is_reused_and_invalidated(avsbench_trees, tmp_path):
    object_root, _ = avsbench_trees
    copy = tmp_path / "obj"
    shutil.copytree(object_root, copy)
    first = load_avsbench("ms3", object_root=copy, cache_dir=tmp_path / "cache", splits=("val",))
    again = load_avsbench("ms3", object_root=copy, cache_dir=tmp_path / "cache", splits=("val",))
    assert first["val"].cache_files == again["val"].cache_files
    wav = next(copy.rglob("*.wav"))
    os.utime(wav, ns=(1, 1))
    changed = load_avsbench("ms3", object_root=copy, cache_dir=tmp_path / "cache", splits=("val",))
    if wav.parent.name == "val":
        assert changed["val"].cache_files != first["val"].cache_files


# ---------------------------------------------------------------- errors


def test_missing_files_listed_in_one_error(avsbench_trees, tmp_path):
    object_root, _ = avsbench_trees
    broken = tmp_path / "broken"
    shutil.copytree(object_root, broken)
    data = broken / "Single-source" / "s4_data"
    removed = [
        data / "visual_frames" / "test" / "helicopter" / "cccccccccc1" / "cccccccccc1_3.png",
        data / "gt_masks" / "val" / "dog_barking" / "bbbbbbbbbb1" / "bbbbbbbbbb1_5.png",
        data / "audio_wav" / "train" / "playing_piano" / "aaaaaaaaaa2.wav",
    ]
    for path in removed:
        path.unlink()
    with pytest.raises(FileNotFoundError) as error:
        load_avsbench("s4", object_root=broken, cache_dir=tmp_path)
    message = str(error.value)
    assert "3 files are missing" in message and all(str(p) in message for p in removed)


def test_unknown_palette_colour_in_tree(avsbench_trees, tmp_path):
    _, semantic_root = avsbench_trees
    copy = tmp_path / "bad_colour"
    shutil.copytree(semantic_root, copy)
    label = next((copy / "v1s").rglob("labels_rgb/0.png"))
    rgb = np.asarray(Image.open(label).convert("RGB")).copy()
    rgb[0, 0] = (7, 7, 7)
    Image.fromarray(rgb).save(label)
    with pytest.raises(ValueError, match="match no palette colour"):
        load_avsbench("v1s", semantic_root=copy, cache_dir=tmp_path)


def test_argument_and_metadata_errors(avsbench_trees, tmp_path):
    object_root, semantic_root = avsbench_trees
    with pytest.raises(ValueError, match="object_root"):
        load_avsbench("s4", semantic_root=semantic_root)
    with pytest.raises(ValueError, match="semantic_root"):
        load_avsbench("ms3", object_root=object_root, mask_source="semantic")
    with pytest.raises(ValueError, match="no AVSBench-object masks"):
        load_avsbench("v2", semantic_root=semantic_root, mask_source="object")
    with pytest.raises(ValueError, match="subset"):
        load_avsbench("v3", semantic_root=semantic_root)
    with pytest.raises(ValueError, match="vocabulary"):
        load_avsbench("v2", semantic_root=semantic_root, class_names=["background", "x"])
    copy = tmp_path / "dup"
    shutil.copytree(semantic_root, copy)
    with (copy / "metadata.csv").open("a") as handle:
        handle.write("v2vid000001,v2vid000001_0_10000,0,0,x,train,v2\n")
    with pytest.raises(ValueError, match="duplicated"):
        load_avsbench("v2", semantic_root=copy)


# ---------------------------------------------------------------- publishing


def test_card_and_push_are_private_by_default(avsbench_trees, tmp_path):
    from huggingface_hub import DatasetCard

    _, semantic_root = avsbench_trees
    ds = load_avsbench("v2", semantic_root=semantic_root, cache_dir=tmp_path)
    card = render_dataset_card(ds, "me/avsbench-v2")
    assert "me/avsbench-v2" in card and "`v2`" in card and "| test | 2 |" in card
    existing = DatasetCard("---\nconfigs:\n- config_name: default\n  data_files: data/*\n---\nauto\n")
    with (
        mock.patch("datasets.DatasetDict.push_to_hub") as push,
        mock.patch.object(DatasetCard, "load", return_value=existing) as load,
        mock.patch.object(DatasetCard, "push_to_hub") as push_card,
    ):
        push_avsbench_to_hub(ds, "me/avsbench-v2")
    assert push.call_args.kwargs["private"] is True
    load.assert_called_once()
    push_card.assert_called_once()
    assert existing.data.license == "other" and "audio-visual-segmentation" in existing.data.tags
    assert existing.data.configs and existing.text.startswith("# me/avsbench-v2")
