"""The Parquet tables of a corpus run: row schemas, masks as COCO RLE, shards written atomically.

An output folder (a local path or any fsspec URL) holds

* ``frames/*.parquet``: one row per sampled frame of every video segmented without error, :data:`FRAME_SCHEMA`:
  ``video``, ``frame_index``, ``timestamp`` (s), ``score``, ``mask`` (the sounding-object mask as COCO RLE:
  ``{"size": [height, width], "counts": str}``, at the size the pipeline returns masks), ``segments`` (``label``,
  ``score``, ``mask`` as RLE) and ``has_audio`` (the pipeline's per-frame flag, null when it gives none);
* ``videos/*.parquet``: one row per input video, :data:`VIDEO_SCHEMA`: ``video``, ``status`` (``"ok"`` or
  ``"error"``), ``error`` (the one-line message, null when ok), ``duration`` (s), ``num_frames`` (sampled frames)
  and ``seconds`` (time spent on it: decoding plus its share of the model batches).

Both load with ``datasets.load_dataset("parquet", data_files=...)``; :func:`decode_rle` turns a mask back into a
boolean array. The shards of one group of videos share a file name in both folders; the ``videos`` shard is written
last, so a video counts as done once its ``videos`` row exists (a ``frames`` shard without its ``videos`` twin is
what an interrupted run leaves; :func:`remove_unfinished_shards` deletes it).
"""

from __future__ import annotations

import os
import uuid

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from fsspec.core import url_to_fs
from fsspec.implementations.local import LocalFileSystem
from pycocotools import mask as coco_mask

FRAMES_DIR = "frames"
"""Folder of the per-frame table inside an output folder."""
VIDEOS_DIR = "videos"
"""Folder of the per-video table inside an output folder."""

RLE_TYPE = pa.struct([("size", pa.list_(pa.int32())), ("counts", pa.string())])
SEGMENT_TYPE = pa.struct([("label", pa.string()), ("score", pa.float64()), ("mask", RLE_TYPE)])
FRAME_SCHEMA = pa.schema(
    [
        ("video", pa.string()),
        ("frame_index", pa.int32()),
        ("timestamp", pa.float64()),
        ("score", pa.float64()),
        ("mask", RLE_TYPE),
        ("segments", pa.list_(SEGMENT_TYPE)),
        ("has_audio", pa.bool_()),
    ]
)
"""Schema of ``frames/*.parquet`` (one row per sampled frame)."""
VIDEO_SCHEMA = pa.schema(
    [
        ("video", pa.string()),
        ("status", pa.string()),
        ("error", pa.string()),
        ("duration", pa.float64()),
        ("num_frames", pa.int32()),
        ("seconds", pa.float64()),
    ]
)
"""Schema of ``videos/*.parquet`` (one row per input video)."""


def encode_rle(mask) -> dict:
    """A binary mask (PIL image or array, nonzero = inside) -> COCO RLE `{"size": [h, w], "counts": str}`."""
    binary = np.asfortranarray(np.asarray(mask) > 0, dtype=np.uint8)
    rle = coco_mask.encode(binary)
    return {"size": [int(n) for n in rle["size"]], "counts": rle["counts"].decode("ascii")}


def decode_rle(rle: dict) -> np.ndarray:
    """COCO RLE (as stored in the tables) -> boolean `(h, w)` array."""
    return coco_mask.decode({"size": list(rle["size"]), "counts": rle["counts"].encode("ascii")}).astype(bool)


def frame_row(video: str, result: dict) -> dict:
    """The ``frames`` row of one per-frame result of the pipeline."""
    return {
        "video": video,
        "frame_index": result["frame_index"],
        "timestamp": result["timestamp"],
        "score": result["score"],
        "mask": encode_rle(result["mask"]),
        "segments": [
            {"label": s["label"], "score": s["score"], "mask": encode_rle(s["mask"])} for s in result["segments"]
        ],
        "has_audio": result.get("has_audio"),
    }


def video_row(video: str, error: str | None, duration, num_frames, seconds: float) -> dict:
    """The ``videos`` row of one input (`error` None: segmented)."""
    return {
        "video": video,
        "status": "ok" if error is None else "error",
        "error": error,
        "duration": duration,
        "num_frames": num_frames,
        "seconds": round(seconds, 4),
    }


def one_line(error: BaseException) -> str:
    """An exception as the one-line message of an ``error`` row: its type and its text on one line."""
    return f"{type(error).__name__}: {' '.join(str(error).split())}"


class ShardWriter:
    """Collects the rows of finished videos and writes them as shards of `videos_per_shard` videos.

    Each shard is written to a temporary name and renamed (`os.replace` on a local disk): a reader never sees half a
    file. Shard names carry a random run id, so a resumed run adds shards beside the earlier ones.
    """

    def __init__(self, output_dir: str, videos_per_shard: int = 16):
        self.fs, self.root = url_to_fs(os.fspath(output_dir))
        for folder in (FRAMES_DIR, VIDEOS_DIR):
            self.fs.makedirs(f"{self.root}/{folder}", exist_ok=True)
        self.videos_per_shard = videos_per_shard
        self.run_id = uuid.uuid4().hex[:8]
        self.shards = 0
        self.frames: list[dict] = []
        self.videos: list[dict] = []

    def add(self, video: dict, frames: list[dict]) -> None:
        """Add one finished video (its ``videos`` row and ``frames`` rows); write a shard when enough are held."""
        self.videos.append(video)
        self.frames.extend(frames)
        if len(self.videos) >= self.videos_per_shard:
            self.flush()

    def flush(self) -> None:
        """Write the rows held as one shard in each table (frames first, videos last)."""
        if not self.videos:
            return
        name = f"shard-{self.run_id}-{self.shards:05d}.parquet"
        self._write(pa.Table.from_pylist(self.frames, schema=FRAME_SCHEMA), f"{FRAMES_DIR}/{name}")
        self._write(pa.Table.from_pylist(self.videos, schema=VIDEO_SCHEMA), f"{VIDEOS_DIR}/{name}")
        self.shards += 1
        self.frames, self.videos = [], []

    def _write(self, table: pa.Table, relative: str) -> None:
        final = f"{self.root}/{relative}"
        temporary = f"{final}.tmp-{uuid.uuid4().hex[:8]}"
        with self.fs.open(temporary, "wb") as file:
            pq.write_table(table, file)
        if isinstance(self.fs, LocalFileSystem):
            os.replace(temporary, final)
        else:
            self.fs.mv(temporary, final)


def shard_files(output_dir: str, folder: str) -> list[str]:
    """The finished shards of one table (`FRAMES_DIR` or `VIDEOS_DIR`) of an output folder, sorted, as fsspec paths."""
    fs, root = url_to_fs(os.fspath(output_dir))
    return sorted(fs.glob(f"{root}/{folder}/*.parquet"))


def read_table(output_dir: str, folder: str, columns: list[str] | None = None) -> pa.Table:
    """One table of an output folder (all its shards) as a `pyarrow.Table` (empty with the schema when none)."""
    fs, _ = url_to_fs(os.fspath(output_dir))
    schema = FRAME_SCHEMA if folder == FRAMES_DIR else VIDEO_SCHEMA
    tables = [pq.read_table(path, filesystem=fs, columns=columns) for path in shard_files(output_dir, folder)]
    if not tables:
        return schema.empty_table().select(columns) if columns else schema.empty_table()
    return pa.concat_tables(tables)


def remove_unfinished_shards(output_dir: str) -> None:
    """Delete what an interrupted run left: temporary files and ``frames`` shards without their ``videos`` twin."""
    fs, root = url_to_fs(os.fspath(output_dir))
    finished = {path.rsplit("/", 1)[-1] for path in shard_files(output_dir, VIDEOS_DIR)}
    for path in shard_files(output_dir, FRAMES_DIR):
        if path.rsplit("/", 1)[-1] not in finished:
            fs.rm(path)
    for folder in (FRAMES_DIR, VIDEOS_DIR):
        for path in fs.glob(f"{root}/{folder}/*.tmp-*"):
            fs.rm(path)


__all__ = [
    "FRAMES_DIR",
    "FRAME_SCHEMA",
    "VIDEOS_DIR",
    "VIDEO_SCHEMA",
    "ShardWriter",
    "decode_rle",
    "encode_rle",
    "frame_row",
    "read_table",
    "remove_unfinished_shards",
    "shard_files",
    "video_row",
]
