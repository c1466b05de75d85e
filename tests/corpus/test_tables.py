"""tavis_hf.corpus.tables: COCO RLE through pycocotools, atomic shards both loadable with `datasets`, and what an
interrupted run leaves removed."""

import numpy as np
from datasets import load_dataset
from PIL import Image
from pycocotools import mask as coco_mask

from tavis_hf.corpus.tables import (
    FRAMES_DIR,
    VIDEOS_DIR,
    ShardWriter,
    decode_rle,
    encode_rle,
    frame_row,
    read_table,
    remove_unfinished_shards,
    video_row,
)


def test_rle_round_trip_is_cocos_own():
    rng = np.random.default_rng(0)
    mask = rng.random((37, 53)) > 0.6
    rle = encode_rle(Image.fromarray(mask.astype(np.uint8) * 255))
    assert rle["size"] == [37, 53] and isinstance(rle["counts"], str)
    assert np.array_equal(decode_rle(rle), mask)
    assert coco_mask.area({"size": rle["size"], "counts": rle["counts"].encode()}) == mask.sum()


def _frame(index: int) -> dict:
    mask = Image.fromarray(np.eye(8, dtype=np.uint8)[: index + 1].repeat(2, 0) * 255)
    return {"frame_index": index, "timestamp": index + 0.9375, "score": 0.5, "mask": mask,
            "segments": [{"label": "dog", "score": 0.25, "mask": mask}]}  # fmt: skip


def test_shards_load_with_datasets_and_leave_no_temporary_file(tmp_path):
    writer = ShardWriter(str(tmp_path), videos_per_shard=2)
    for i, name in enumerate(["v0", "v1", "v2"]):
        writer.add(video_row(name, None, 3.0, i + 1, 0.1), [frame_row(name, _frame(k)) for k in range(i + 1)])
    writer.add(video_row("bad", "MediaError: broken", None, None, 0.01), [])
    assert len(list((tmp_path / VIDEOS_DIR).glob("*.parquet"))) == 2  # written as soon as 2 videos are held
    writer.flush()
    assert sorted(p.name for p in (tmp_path / FRAMES_DIR).iterdir()) == sorted(
        p.name for p in (tmp_path / VIDEOS_DIR).iterdir()
    )
    assert not list(tmp_path.rglob("*.tmp-*"))
    frames = load_dataset("parquet", data_files=str(tmp_path / FRAMES_DIR / "*.parquet"), split="train")
    videos = load_dataset("parquet", data_files=str(tmp_path / VIDEOS_DIR / "*.parquet"), split="train")
    assert frames.num_rows == 6 and videos.num_rows == 4
    bad = videos.filter(lambda row: row["video"] == "bad")[0]
    assert (bad["status"], bad["error"], bad["num_frames"]) == ("error", "MediaError: broken", None)
    row = frames.filter(lambda row: row["video"] == "v2" and row["frame_index"] == 2)[0]
    assert np.array_equal(decode_rle(row["mask"]), np.asarray(_frame(2)["mask"]) > 0)
    assert row["segments"][0]["label"] == "dog" and row["has_audio"] is None


def test_unfinished_shards_are_removed(tmp_path):
    writer = ShardWriter(str(tmp_path))
    writer.add(video_row("v0", None, 1.0, 1, 0.1), [frame_row("v0", _frame(0))])
    writer.flush()
    orphan = tmp_path / FRAMES_DIR / "shard-dead-00000.parquet"
    orphan.write_bytes(next((tmp_path / FRAMES_DIR).iterdir()).read_bytes())  # a frames shard without its twin
    (tmp_path / VIDEOS_DIR / "shard-dead-00001.parquet.tmp-1234").write_bytes(b"half")
    remove_unfinished_shards(str(tmp_path))
    assert not orphan.exists() and not list(tmp_path.rglob("*.tmp-*"))
    assert read_table(str(tmp_path), FRAMES_DIR).num_rows == 1
