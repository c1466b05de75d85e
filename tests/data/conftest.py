"""Tiny AVSBench-layout trees (both releases, all five subsets) written with the package's own writer.

Every clip encodes its identity and frame index in its pixels so tests can check alignment after loading:
frame i is a uniform colour with red = 20 * i + 10; its mask has i + 1 foreground pixels in row 0 and a full row
``1 + marker % 6`` identifying the clip; the semantic mask carries the clip's class ids on the mask pixels.
"""

import numpy as np
import pytest

from tavis_hf.data import AVSClip, write_avsbench_tree

SIZE = 12


def tiny_clip(
    uid, video_id, split, marker, *, num_frames=5, classes=(5,), annotated=None, sampling_rate=16000, category=""
):
    frames, masks, semantic = [], [], []
    for i in range(num_frames):
        frame = np.zeros((SIZE, SIZE, 3), dtype=np.uint8)
        frame[..., 0] = 20 * i + 10
        frame[..., 1] = (marker * 17) % 200
        frames.append(frame)
        mask = np.zeros((SIZE, SIZE), dtype=bool)
        mask[0, : i + 1] = True
        mask[1 + marker % 6] = True
        masks.append(mask)
        ids = np.zeros((SIZE, SIZE), dtype=np.uint8)
        ids[mask] = classes[0]
        ids[1 + marker % 6, SIZE // 2 :] = classes[-1]
        semantic.append(ids)
    seconds = 0.25
    t = np.arange(int(seconds * sampling_rate)) / sampling_rate
    audio = (0.5 * np.sin(2 * np.pi * (200 + 50 * marker) * t)).astype(np.float32)
    return AVSClip(
        uid=uid,
        video_id=video_id,
        split=split,
        frames=frames,
        audio=audio,
        masks=masks,
        semantic_masks=semantic,
        annotated=annotated or [True] * num_frames,
        category=category,
        sounding_objects="_".join(str(c) for c in classes),
        sampling_rate=sampling_rate,
    )


S4_SPEC = [  # (video_id, split, category, class)
    ("aaaaaaaaaa1", "train", "dog_barking", 17),
    ("aaaaaaaaaa2", "train", "playing_piano", 47),
    ("bbbbbbbbbb1", "val", "dog_barking", 17),
    ("cccccccccc1", "test", "helicopter", 35),
    ("cccccccccc2", "test", "playing_piano", 47),
]
# MS3 uids include the prefix trap: YYbShzoZWRo_3 (test) vs YYbShzoZWRo_30 / _31 (train).
MS3_SPEC = [
    ("YYbShzoZWRo_30", "train"),
    ("YYbShzoZWRo_31", "train"),
    ("_fvpYLXtQHQ_0", "train"),
    ("_fvpYLXtQHQ_1", "val"),
    ("YYbShzoZWRo_3", "test"),
    ("zzzzzzzzzzz_2", "test"),
]
V2_SPEC = [("v2vid000001", "train"), ("v2vid000002", "val"), ("v2vid000003", "test"), ("v2vid000004", "test")]


def s4_clips():
    return [
        tiny_clip(
            f"{vid}_0_5000",
            vid,
            split,
            marker,
            classes=(cls,),
            category=category,
            annotated=[True, False, False, False, False] if split == "train" else None,
            sampling_rate=8000 if marker == 0 else 16000,
        )
        for marker, (vid, split, category, cls) in enumerate(S4_SPEC)
    ]


def ms3_clips():
    return [
        tiny_clip(uid, uid.rsplit("_", 1)[0], split, 10 + marker, classes=(28, 70))
        for marker, (uid, split) in enumerate(MS3_SPEC)
    ]


def v2_clips():
    return [
        tiny_clip(f"{vid}_0_10000", vid, split, 20 + m, num_frames=10, classes=(12, 3))
        for m, (vid, split) in enumerate(V2_SPEC)
    ]


@pytest.fixture(scope="session")
def avsbench_trees(tmp_path_factory):
    """``(object_root, semantic_root)`` holding s4 + ms3 and v1s + v1m + v2."""
    base = tmp_path_factory.mktemp("avsbench")
    object_root, semantic_root = base / "avsbench_data", base / "AVSBench_semantic"
    write_avsbench_tree(s4_clips(), object_root, "s4", release="object")
    write_avsbench_tree(ms3_clips(), object_root, "ms3", release="object")
    write_avsbench_tree(s4_clips(), semantic_root, "v1s", label_formats=("rgb",))
    write_avsbench_tree(ms3_clips(), semantic_root, "v1m", label_formats=("rgb", "index"))
    write_avsbench_tree(v2_clips(), semantic_root, "v2", label_formats=("index",))
    return object_root, semantic_root


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
