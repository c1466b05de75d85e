"""AVSBench on-disk layouts (both releases), the class palette, and a writer for AVSBench-layout trees.

The path functions below are the single description of the layouts used by the builder in :mod:`.avsbench` and by
:func:`write_avsbench_tree` (used by SynthAVS and the tests). Frame indices are 0-based everywhere in this package;
the AVSBench-object file names are 1-based (``{name}_1.png`` … ``{name}_5.png``).

AVSBench-object (root = the folder holding ``Single-source/`` and ``Multi-sources/``)::

    Single-source/s4_meta_data.csv                      name,start_time,category,split
    Single-source/s4_data/visual_frames/{split}/{category}/{name}/{name}_{1..5}.png
    Single-source/s4_data/gt_masks/{split}/{category}/{name}/{name}_{1..5}.png   (train: _1 only)
    Single-source/s4_data/audio_wav/{split}/{category}/{name}.wav
    Multi-sources/ms3_meta_data.csv                     name,...,split
    Multi-sources/ms3_data/visual_frames/{name}/{name}.mp4_{1..5}.png
    Multi-sources/ms3_data/gt_masks/{split}/{name}/{name}_{1..5}.png
    Multi-sources/ms3_data/audio_wav/{split}/{name}.wav

AVSBench-semantic (root = the folder holding ``metadata.csv``)::

    metadata.csv                                        vid,uid,s_min,s_sec,a_obj,split,label
    label2idx.json
    {v1s|v1m|v2}/{uid}/frames/{i}.jpg  audio.wav  labels_rgb/{i}.png  labels_semantic/{i}.png
"""

from __future__ import annotations

import csv
import io
import json
import os
import wave
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

__all__ = [
    "AVSBENCH_CLASSES",
    "AVSBENCH_PALETTE",
    "AVSClip",
    "decode_palette_mask",
    "encode_palette_mask",
    "palette",
    "write_avsbench_tree",
]

OBJECT_SUBSETS = {
    "s4": ("Single-source", "s4_data", "s4_meta_data.csv"),
    "ms3": ("Multi-sources", "ms3_data", "ms3_meta_data.csv"),
}
SEMANTIC_SUBSETS = ("v1s", "v1m", "v2")
SEMANTIC_METADATA_COLUMNS = ("vid", "uid", "s_min", "s_sec", "a_obj", "split", "label")

#: The 71 AVSBench-semantic class names in label2idx order; index 0 is background.
AVSBENCH_CLASSES: tuple[str, ...] = tuple(
    json.loads((Path(__file__).with_name("avsbench_classes.json")).read_text())["classes"]
)


def palette(num_classes: int = 256) -> np.ndarray:
    """VOC-style bit-interleaved palette: ``(num_classes, 3)`` uint8; class 1 → (128,0,0), 70 → (32,128,128)."""
    colours = np.zeros((num_classes, 3), dtype=np.uint8)
    for c in range(num_classes):
        value, r, g, b, j = c, 0, 0, 0, 0
        while value:
            r |= (value & 1) << (7 - j)
            g |= ((value >> 1) & 1) << (7 - j)
            b |= ((value >> 2) & 1) << (7 - j)
            value >>= 3
            j += 1
        colours[c] = (r, g, b)
    return colours


#: RGB colour of each AVSBench class in ``labels_rgb`` PNGs, ``(71, 3)`` uint8.
AVSBENCH_PALETTE: np.ndarray = palette(len(AVSBENCH_CLASSES))


@lru_cache(maxsize=8)
def _palette_lookup(num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    codes = _rgb_codes(palette(num_classes))
    order = np.argsort(codes)
    return codes[order], order.astype(np.uint8)


def _rgb_codes(rgb: np.ndarray) -> np.ndarray:
    rgb = rgb.astype(np.int64)
    return (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]


def decode_palette_mask(rgb: np.ndarray, num_classes: int = len(AVSBENCH_CLASSES), source: str = "mask") -> np.ndarray:
    """Map an ``(H, W, 3)`` uint8 palette-coloured mask to ``(H, W)`` uint8 class ids by exact colour equality.

    Raises:
        ValueError: if any pixel matches no class colour (the reference silently maps those to background; here they
            indicate a lossy resize or JPEG re-encoding of the mask). The message gives the count and a few colours.
    """
    if rgb.ndim != 3 or rgb.shape[-1] != 3:
        raise ValueError(f"{source}: expected an (H, W, 3) RGB mask, got shape {rgb.shape}")
    sorted_codes, class_of = _palette_lookup(num_classes)
    codes = _rgb_codes(rgb)
    position = np.clip(np.searchsorted(sorted_codes, codes), 0, len(sorted_codes) - 1)
    matched = sorted_codes[position] == codes
    if not matched.all():
        bad = np.unique(rgb[~matched].reshape(-1, 3), axis=0)[:5].tolist()
        raise ValueError(
            f"{source}: {int((~matched).sum())} pixels match no palette colour of the {num_classes} classes "
            f"(e.g. {bad}); masks must be resized with NEAREST and never stored as JPEG"
        )
    return class_of[position]


def encode_palette_mask(class_ids: np.ndarray) -> np.ndarray:
    """Inverse of :func:`decode_palette_mask`: ``(H, W)`` class ids → ``(H, W, 3)`` uint8 palette colours."""
    return palette(256)[np.asarray(class_ids, dtype=np.uint8)]


# ---------------------------------------------------------------- path conventions


def object_meta_path(root: Path, subset: str) -> Path:
    top, _, csv_name = OBJECT_SUBSETS[subset]
    return Path(root) / top / csv_name


def _object_data(root: Path, subset: str) -> Path:
    top, data, _ = OBJECT_SUBSETS[subset]
    return Path(root) / top / data


def object_frame_path(root: Path, subset: str, split: str, category: str, name: str, index: int) -> Path:
    data = _object_data(root, subset)
    if subset == "s4":
        return data / "visual_frames" / split / category / name / f"{name}_{index + 1}.png"
    return data / "visual_frames" / name / f"{name}.mp4_{index + 1}.png"


def object_mask_path(root: Path, subset: str, split: str, category: str, name: str, index: int) -> Path:
    data = _object_data(root, subset)
    if subset == "s4":
        return data / "gt_masks" / split / category / name / f"{name}_{index + 1}.png"
    return data / "gt_masks" / split / name / f"{name}_{index + 1}.png"


def object_audio_path(root: Path, subset: str, split: str, category: str, name: str) -> Path:
    data = _object_data(root, subset)
    if subset == "s4":
        return data / "audio_wav" / split / category / f"{name}.wav"
    return data / "audio_wav" / split / f"{name}.wav"


def semantic_clip_dir(root: Path, label: str, uid: str) -> Path:
    return Path(root) / label / uid


def semantic_frame_path(root: Path, label: str, uid: str, index: int) -> Path:
    return semantic_clip_dir(root, label, uid) / "frames" / f"{index}.jpg"


def semantic_index_label_path(root: Path, label: str, uid: str, index: int) -> Path:
    return semantic_clip_dir(root, label, uid) / "labels_semantic" / f"{index}.png"


def semantic_rgb_label_path(root: Path, label: str, uid: str, index: int) -> Path:
    return semantic_clip_dir(root, label, uid) / "labels_rgb" / f"{index}.png"


def semantic_audio_path(root: Path, label: str, uid: str) -> Path:
    return semantic_clip_dir(root, label, uid) / "audio.wav"


# ---------------------------------------------------------------- writer


@dataclass
class AVSClip:
    """One clip in memory (what SynthAVS generates and :func:`write_avsbench_tree` writes).

    Attributes:
        uid: AVSBench-semantic folder name (``{vid}_{start_ms}_{end_ms}`` for S4-like, ``{vid}_{k}`` for MS3-like).
        video_id: the source video id (11 characters in AVSBench).
        split: ``"train"``, ``"val"`` or ``"test"``.
        frames: T arrays ``(H, W, 3)`` uint8.
        audio: ``(samples,)`` float32 mono waveform in [-1, 1] at ``sampling_rate``.
        masks: T arrays ``(H, W)`` bool (sounding pixels), whether annotated or not.
        semantic_masks: T arrays ``(H, W)`` uint8 class ids of sounding pixels (0 = background).
        annotated: T flags; frames whose flag is False get no mask file.
        category: S4 category (the clip's sounding class name).
        sounding_objects: ``_``-joined names of the sounding classes (AVSBench ``a_obj``).
        sampling_rate: audio rate in Hz.
    """

    uid: str
    video_id: str
    split: str
    frames: list[np.ndarray]
    audio: np.ndarray
    masks: list[np.ndarray]
    semantic_masks: list[np.ndarray]
    annotated: list[bool]
    category: str = ""
    sounding_objects: str = ""
    sampling_rate: int = 16000
    extra: dict = field(default_factory=dict)


def png_bytes(array: np.ndarray, mode: str | None = None) -> bytes:
    """Encode an array as PNG (fast compression)."""
    buffer = io.BytesIO()
    Image.fromarray(array, mode=mode).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def wav_bytes(audio: np.ndarray, sampling_rate: int) -> bytes:
    """Encode a mono float waveform in [-1, 1] as 16-bit PCM WAV."""
    pcm = (np.clip(audio, -1.0, 1.0) * 32767.0).round().astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(sampling_rate)
        handle.writeframes(pcm.tobytes())
    return buffer.getvalue()


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _object_name(clip: AVSClip, subset: str) -> str:
    return clip.video_id if subset == "s4" else clip.uid


def write_avsbench_tree(
    clips: Iterable[AVSClip],
    root: str | os.PathLike,
    subset: str,
    release: str = "semantic",
    class_names: Sequence[str] = AVSBENCH_CLASSES,
    label_formats: Sequence[str] = ("rgb", "index"),
) -> Path:
    """Write clips as an AVSBench-layout tree that :func:`tavis_hf.data.load_avsbench` reads.

    Args:
        clips: the clips to write.
        root: AVSBench-object root (``release="object"``) or AVSBench-semantic root (``release="semantic"``).
        subset: ``"s4"``/``"ms3"`` for the object release, ``"v1s"``/``"v1m"``/``"v2"`` for the semantic release.
        release: ``"object"`` or ``"semantic"``.
        class_names: written to ``label2idx.json`` (semantic release).
        label_formats: which semantic label files to write: ``"rgb"`` (``labels_rgb``), ``"index"``
            (``labels_semantic``).

    Returns:
        The root path. Existing metadata files are appended to, so several subsets can share a semantic root.
    """
    root = Path(root)
    clips = list(clips)
    if release == "object":
        if subset not in OBJECT_SUBSETS:
            raise ValueError(f"object release subsets are {tuple(OBJECT_SUBSETS)}, got {subset!r}")
        rows = []
        for clip in clips:
            name = _object_name(clip, subset)
            for i, frame in enumerate(clip.frames):
                _write(object_frame_path(root, subset, clip.split, clip.category, name, i), png_bytes(frame))
                if clip.annotated[i]:
                    mask = clip.masks[i]
                    if subset == "s4":  # 1-bit PNG like the S4 release
                        buffer = io.BytesIO()
                        Image.fromarray(mask.astype(np.uint8) * 255).convert("1").save(buffer, format="PNG")
                        data = buffer.getvalue()
                    else:  # palette PNG with foreground index 1 (the MS3 binarisation trap)
                        image = Image.fromarray(mask.astype(np.uint8), mode="P")
                        image.putpalette([0, 0, 0, 255, 255, 255])
                        buffer = io.BytesIO()
                        image.save(buffer, format="PNG")
                        data = buffer.getvalue()
                    _write(object_mask_path(root, subset, clip.split, clip.category, name, i), data)
            _write(
                object_audio_path(root, subset, clip.split, clip.category, name),
                wav_bytes(clip.audio, clip.sampling_rate),
            )
            rows.append([name, "0", clip.category, clip.split] if subset == "s4" else [name, clip.split])
        header = ["name", "start_time", "category", "split"] if subset == "s4" else ["name", "split"]
        _append_csv(object_meta_path(root, subset), header, rows)
        return root
    if release != "semantic":
        raise ValueError(f"release must be 'object' or 'semantic', got {release!r}")
    if subset not in SEMANTIC_SUBSETS:
        raise ValueError(f"semantic release subsets are {SEMANTIC_SUBSETS}, got {subset!r}")
    rows = []
    for clip in clips:
        for i, frame in enumerate(clip.frames):
            buffer = io.BytesIO()
            Image.fromarray(frame).save(buffer, format="JPEG", quality=95)
            _write(semantic_frame_path(root, subset, clip.uid, i), buffer.getvalue())
            if clip.annotated[i]:
                ids = clip.semantic_masks[i]
                if "rgb" in label_formats:
                    _write(semantic_rgb_label_path(root, subset, clip.uid, i), png_bytes(encode_palette_mask(ids)))
                if "index" in label_formats:
                    _write(semantic_index_label_path(root, subset, clip.uid, i), png_bytes(ids.astype(np.uint8), "L"))
        _write(semantic_audio_path(root, subset, clip.uid), wav_bytes(clip.audio, clip.sampling_rate))
        rows.append([clip.video_id, clip.uid, "0", "0", clip.sounding_objects, clip.split, subset])
    _append_csv(root / "metadata.csv", list(SEMANTIC_METADATA_COLUMNS), rows)
    label2idx = root / "label2idx.json"
    if not label2idx.exists():
        label2idx.write_text(json.dumps({name: i for i, name in enumerate(class_names)}, indent=1))
    return root


def _append_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists()
    with path.open("a", newline="") as handle:
        writer = csv.writer(handle)
        if new:
            writer.writerow(header)
        writer.writerows(rows)
