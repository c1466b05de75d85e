"""SynthAVS: a procedurally generated audio-visual segmentation dataset with the AVSBench schema.

Every clip is a deterministic function of ``(seed, split, index)``. A clip lasts ``num_frames`` seconds (5 by
default, 1 frame per second, like AVSBench-object) with 16 kHz mono audio. Each of the :data:`SYNTHAVS_CLASSES`
(10 sounding classes + background) has a distinct look (shape, colour, texture) and a distinct synthesised sound
(decaying partials, siren sweep, drum hits, bird-like chirps, engine buzz, whistle with vibrato, resonant clicks,
amplitude-gated noise, organ chord, gated square wave).

Scene: 1–3 visible objects of distinct classes move across a textured background (``"single"`` / S4-like mode:
exactly one of them sounds; ``"multi"`` / MS3-like mode: 2–3 visible, at least two sound). Which visible objects
sound is drawn uniformly at random, independently of their looks, sizes and motion, so the silent objects are
look-alike distractors and no frames-only predictor can beat chance on which object sounds; with probability 1/2 an
off-screen source (a class that is not visible) is added to the audio, plus background noise. Masks cover the
visible (unoccluded) pixels of the sounding objects; semantic masks carry their class ids (AVSS-like).

Use :func:`make_synthavs` for a ``datasets.DatasetDict`` (schema in :mod:`tavis_hf.data.avsbench`) or
:func:`write_synthavs_tree` for an AVSBench-layout folder that :func:`tavis_hf.data.load_avsbench` reads (pass
``class_names=SYNTHAVS_CLASSES``). Numpy only.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .avsbench import SAMPLING_RATE, avsbench_features
from .layout import AVSClip, png_bytes, wav_bytes, write_avsbench_tree

__all__ = [
    "SYNTHAVS_CLASSES",
    "SYNTHAVS_ID2LABEL",
    "generate_clip",
    "make_synthavs",
    "write_synthavs_tree",
    "write_synthavs_video",
]

#: SynthAVS class vocabulary; index 0 is background, 1..10 are sounding classes.
SYNTHAVS_CLASSES: tuple[str, ...] = (
    "background",
    "chime",
    "siren",
    "drum",
    "chirp",
    "engine",
    "whistle",
    "clicker",
    "rattle",
    "organ",
    "buzzer",
)
#: id → name mapping of :data:`SYNTHAVS_CLASSES`.
SYNTHAVS_ID2LABEL: dict[int, str] = dict(enumerate(SYNTHAVS_CLASSES))

MODES = ("single", "multi")
_SPLIT_IDS = {"train": 0, "val": 1, "test": 2}
_VERSION = "1"  # bump when generated clips change, to invalidate caches

# class id -> (shape, RGB colour, texture)
_LOOKS = {
    1: ("circle", (220, 40, 40), "solid"),
    2: ("triangle", (40, 80, 230), "hstripes"),
    3: ("square", (40, 180, 60), "checker"),
    4: ("diamond", (230, 210, 40), "solid"),
    5: ("bar", (240, 130, 20), "vstripes"),
    6: ("ring", (40, 210, 210), "solid"),
    7: ("cross", (150, 60, 200), "solid"),
    8: ("square", (220, 50, 180), "hstripes"),
    9: ("circle", (235, 235, 235), "rings"),
    10: ("triangle", (150, 95, 40), "checker"),
}


# ---------------------------------------------------------------- sounds


def _sound(class_id: int, rng: np.random.Generator, seconds: float, sr: int) -> np.ndarray:
    """A distinct synthesised sound per class (with per-clip jitter), peak-normalised to 1."""
    t = np.arange(int(seconds * sr), dtype=np.float32) / sr
    jitter = rng.uniform(0.92, 1.08)
    phase = rng.uniform(0, 1)
    if class_id == 1:  # chime: inharmonic decaying partials, struck every second
        f0 = 650 * jitter
        env = np.exp(-4 * ((t + phase) % 1.0))
        y = env * sum(a * np.sin(2 * np.pi * f0 * r * t) for a, r in ((1, 1), (0.5, 2.76), (0.3, 5.4)))
    elif class_id == 2:  # siren: slow frequency sweep
        freq = 750 * jitter + 300 * np.sin(2 * np.pi * 0.5 * t + 2 * np.pi * phase)
        y = np.sin(2 * np.pi * np.cumsum(freq) / sr)
    elif class_id == 3:  # drum: low thumps twice a second
        local = (t + phase) % 0.5
        thump = np.exp(-25 * local) * np.sin(2 * np.pi * 55 * jitter * local)
        y = thump + 0.3 * np.exp(-60 * local) * rng.standard_normal(t.size)
    elif class_id == 4:  # chirp: short rising sweeps, four per second
        local = (t + phase) % 0.25
        sweep = 2000 * jitter + 8000 * local
        y = (local < 0.08) * np.sin(2 * np.pi * np.cumsum(sweep) / sr)
    elif class_id == 5:  # engine: sawtooth buzz with tremolo
        f0 = 140 * jitter
        saw = 2 * ((f0 * t + phase) % 1.0) - 1
        y = saw * (0.75 + 0.25 * np.sin(2 * np.pi * 9 * t))
    elif class_id == 6:  # whistle: high tone with vibrato
        freq = 3300 * jitter + 80 * np.sin(2 * np.pi * 6 * t)
        y = np.sin(2 * np.pi * np.cumsum(freq) / sr)
    elif class_id == 7:  # clicker: train of short resonant clicks at 5 Hz
        local = (t + phase) % 0.2
        y = np.exp(-300 * local) * np.sin(2 * np.pi * 4800 * jitter * t)
    elif class_id == 8:  # rattle: noise gated at 12 Hz
        y = rng.standard_normal(t.size) * (((t * 12 * jitter + phase) % 1.0) < 0.5)
    elif class_id == 9:  # organ: steady major chord with harmonics
        y = sum(np.sin(2 * np.pi * f * jitter * t) + 0.3 * np.sin(4 * np.pi * f * jitter * t) for f in (262, 330, 392))
    elif class_id == 10:  # buzzer: 1300 Hz square wave, on/off at 2 Hz
        y = np.sign(np.sin(2 * np.pi * 1300 * jitter * t)) * (((t * 2 + phase) % 1.0) < 0.6)
    else:
        raise ValueError(f"no sound for class id {class_id}")
    y = np.asarray(y, dtype=np.float32)
    return y / (np.abs(y).max() + 1e-6)


# ---------------------------------------------------------------- pictures


def _shape_mask(shape: str, dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    if shape == "circle":
        return dx * dx + dy * dy <= 1
    if shape == "square":
        return np.maximum(np.abs(dx), np.abs(dy)) <= 0.85
    if shape == "triangle":
        return (dy <= 0.75) & (np.abs(dx) <= (dy + 0.95) * 0.6)
    if shape == "diamond":
        return np.abs(dx) + np.abs(dy) <= 1
    if shape == "bar":
        return (np.abs(dx) <= 1) & (np.abs(dy) <= 0.5)
    if shape == "ring":
        r2 = dx * dx + dy * dy
        return (r2 <= 1) & (r2 >= 0.3)
    if shape == "cross":
        return ((np.abs(dx) <= 0.3) & (np.abs(dy) <= 1)) | ((np.abs(dy) <= 0.3) & (np.abs(dx) <= 1))
    raise ValueError(f"unknown shape {shape!r}")


def _texture(texture: str, dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    if texture == "solid":
        return np.ones_like(dx)
    if texture == "hstripes":
        return np.where(np.sin(dy * 9) > 0, 1.0, 0.55)
    if texture == "vstripes":
        return np.where(np.sin(dx * 9) > 0, 1.0, 0.55)
    if texture == "checker":
        return np.where((np.floor(dx * 2.5) + np.floor(dy * 2.5)) % 2 == 0, 1.0, 0.55)
    if texture == "rings":
        return np.where(np.sin(np.sqrt(dx * dx + dy * dy) * 12) > 0, 1.0, 0.6)
    raise ValueError(f"unknown texture {texture!r}")


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A static, smoothly varying, desaturated background with a blocky noise texture (``(size, size, 3)`` float)."""
    base = rng.uniform(60, 140)
    tint = rng.uniform(-15, 15, size=3).astype(np.float32)
    ramp = np.linspace(-20, 20, size, dtype=np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    grad = np.cos(angle) * ramp[None, :] + np.sin(angle) * ramp[:, None]
    cells = -(-size // 8)
    noise = np.repeat(np.repeat(rng.normal(0, 6, size=(cells, cells)).astype(np.float32), 8, 0), 8, 1)[:size, :size]
    return base + tint[None, None, :] + (grad + noise)[:, :, None]


def generate_clip(
    seed: int,
    split: str = "train",
    index: int = 0,
    mode: str = "single",
    image_size: int = 224,
    num_frames: int = 5,
    sampling_rate: int = SAMPLING_RATE,
) -> AVSClip:
    """Generate one SynthAVS clip, deterministically from ``(seed, split, index)``.

    Returns:
        An :class:`~tavis_hf.data.layout.AVSClip` with ``num_frames`` frames ``(image_size, image_size, 3)`` uint8,
        ``num_frames`` seconds of audio, binary and semantic masks for every frame (all annotated), and
        ``extra = {"objects": [...], "offscreen": [...]}`` describing the scene (class ids, sounding flags, radii
        and per-frame centres) for analysis.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if split not in _SPLIT_IDS:
        raise ValueError(f"split must be one of {tuple(_SPLIT_IDS)}, got {split!r}")
    if image_size < 16:
        raise ValueError(f"image_size must be >= 16, got {image_size}")
    # One generator, drawn from in a fixed order: the cast, their motion, the frames, then the soundtrack.
    rng = np.random.default_rng([seed, _SPLIT_IDS[split], index, MODES.index(mode)])
    classes, sounding, offscreen = _draw_cast(rng, mode)
    objects = _place_objects(rng, classes, sounding, image_size)
    frames, masks, semantic = _render_frames(rng, objects, image_size, num_frames)
    seconds = num_frames
    audio = _mix_soundtrack(rng, objects, offscreen, seconds, sampling_rate)
    names = sorted(SYNTHAVS_CLASSES[o["class_id"]] for o in objects if o["sounding"])
    video_id = f"sy{seed % 1000:03d}{_SPLIT_IDS[split]}{index:05d}"
    uid = f"{video_id}_0_{seconds * 1000}" if mode == "single" else f"{video_id}_0"
    for obj in objects:
        obj["start"], obj["velocity"] = obj["start"].tolist(), obj["velocity"].tolist()
    return AVSClip(
        uid=uid,
        video_id=video_id,
        split=split,
        frames=frames,
        audio=audio,
        masks=masks,
        semantic_masks=semantic,
        annotated=[True] * num_frames,
        category=names[0] if mode == "single" else "",
        sounding_objects="_".join(names),
        sampling_rate=sampling_rate,
        extra={"objects": objects, "offscreen": offscreen},
    )


def _draw_cast(rng: np.random.Generator, mode: str) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """The visible classes, which of them sound, and the off-screen source (a class not visible; half the time)."""
    num_sounding_classes = len(SYNTHAVS_CLASSES) - 1
    if mode == "single":
        n_visible = int(rng.integers(1, 4))
        n_sounding = 1
    else:
        n_visible = int(rng.integers(2, 4))
        n_sounding = int(rng.integers(2, n_visible + 1))
    classes = rng.choice(np.arange(1, num_sounding_classes + 1), size=n_visible, replace=False)
    sounding = np.zeros(n_visible, dtype=bool)
    sounding[rng.choice(n_visible, size=n_sounding, replace=False)] = True
    invisible = np.setdiff1d(np.arange(1, num_sounding_classes + 1), classes)
    offscreen = [int(rng.choice(invisible))] if rng.random() < 0.5 else []
    return classes, sounding, offscreen


def _place_objects(rng: np.random.Generator, classes: np.ndarray, sounding: np.ndarray, size: int) -> list[dict]:
    """Each visible object's radius, start (kept apart from the others when possible) and velocity, in pixels."""
    objects = []
    for k in range(len(classes)):
        radius = rng.uniform(0.12, 0.2) * size
        for _ in range(20):  # keep objects apart at the start
            start = rng.uniform(radius, size - radius, size=2)
            if all(np.hypot(*(start - o["start"])) > radius + o["radius"] for o in objects):
                break
        velocity = rng.uniform(-0.07, 0.07, size=2) * size
        objects.append(
            {
                "class_id": int(classes[k]),
                "sounding": bool(sounding[k]),
                "radius": radius,
                "start": start,
                "velocity": velocity,
            }
        )
    return objects


def _render_frames(
    rng: np.random.Generator, objects: list[dict], size: int, num_frames: int
) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """Frames, binary masks and class-id masks of the moving objects (later objects drawn on top); records each
    object's per-frame centres in ``obj["centres"]``."""
    frames, masks, semantic = [], [], []
    background = _background(rng, size)
    for f in range(num_frames):
        image = background * rng.uniform(0.95, 1.05)  # the camera is static; lighting flickers slightly
        owner = np.zeros((size, size), dtype=np.int8) - 1  # index of the topmost object per pixel
        for k, obj in enumerate(objects):
            _draw_object(image, owner, k, obj, f, size)
        ids = np.zeros((size, size), dtype=np.uint8)
        for k, obj in enumerate(objects):
            if obj["sounding"]:
                ids[owner == k] = obj["class_id"]
        frames.append(np.clip(image, 0, 255).astype(np.uint8))
        masks.append(ids != 0)
        semantic.append(ids)
    return frames, masks, semantic


def _draw_object(image: np.ndarray, owner: np.ndarray, k: int, obj: dict, frame_index: int, size: int) -> None:
    """Paint object ``k`` at its position in frame ``frame_index`` into ``image`` and mark its pixels in ``owner``."""
    centre = _bounce(obj["start"] + obj["velocity"] * frame_index, obj["radius"], size)
    obj.setdefault("centres", []).append(centre.tolist())
    r = obj["radius"]
    x0, x1 = max(int(centre[0] - r), 0), min(int(centre[0] + r) + 2, size)
    y0, y1 = max(int(centre[1] - r), 0), min(int(centre[1] + r) + 2, size)
    dx = (np.arange(x0, x1, dtype=np.float32)[None, :] - centre[0]) / r
    dy = (np.arange(y0, y1, dtype=np.float32)[:, None] - centre[1]) / r
    dx, dy = np.broadcast_arrays(dx, dy)
    shape, colour, texture = _LOOKS[obj["class_id"]]
    inside = _shape_mask(shape, dx, dy)
    shade = _texture(texture, dx, dy)[..., None] * np.asarray(colour, dtype=np.float32)
    patch = image[y0:y1, x0:x1]
    patch[inside] = shade[inside]
    owner[y0:y1, x0:x1][inside] = k


def _mix_soundtrack(
    rng: np.random.Generator, objects: list[dict], offscreen: list[int], seconds: int, sampling_rate: int
) -> np.ndarray:
    """The sounding objects' sounds, the off-screen source and background noise, peak-normalised to 0.9."""
    audio = np.zeros(int(seconds * sampling_rate), dtype=np.float32)
    for obj in objects:
        if obj["sounding"]:
            audio += rng.uniform(0.6, 1.0) * _sound(obj["class_id"], rng, seconds, sampling_rate)
    for class_id in offscreen:
        audio += rng.uniform(0.4, 0.8) * _sound(class_id, rng, seconds, sampling_rate)
    audio += 0.02 * rng.standard_normal(audio.size).astype(np.float32)
    audio *= 0.9 / (np.abs(audio).max() + 1e-6)
    return audio


def write_synthavs_video(
    path: str | os.PathLike,
    *,
    seed: int = 0,
    split: str = "test",
    index: int = 0,
    mode: str = "multi",
    image_size: int = 224,
) -> Path:
    """Write one SynthAVS clip (:func:`generate_clip`) as an mp4 with its sound: H.264 frames at 1 frame per second
    and AAC mono audio (needs PyAV, the ``video`` extra). The package's example clip (CLI ``segment --example``, the
    demo's examples). The file is written under a temporary name first, so a half-written clip is never left behind.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.
    """
    from ..media import write_video

    path = Path(path)
    clip = generate_clip(seed=seed, split=split, index=index, mode=mode, image_size=image_size)
    partial = path.with_suffix(".partial.mp4")
    write_video(partial, clip.frames, fps=1.0, audio=clip.audio, sampling_rate=clip.sampling_rate)
    partial.replace(path)
    return path


def _bounce(position: np.ndarray, radius: float, size: int) -> np.ndarray:
    """Reflect a centre moving along a line back into ``[radius, size - radius]``."""
    low, span = radius, max(size - 2 * radius, 1e-3)
    folded = np.mod(position - low, 2 * span)
    return low + np.where(folded > span, 2 * span - folded, folded)


# ---------------------------------------------------------------- outputs


def _example(clip: AVSClip, subset: str) -> dict:
    return {
        "video_id": clip.video_id,
        "uid": clip.uid,
        "subset": subset,
        "category": clip.category,
        "sounding_objects": clip.sounding_objects,
        "frames": [{"bytes": png_bytes(f), "path": None} for f in clip.frames],
        "audio": {"bytes": wav_bytes(clip.audio, clip.sampling_rate), "path": None},
        "masks": [{"bytes": png_bytes(m.astype(np.uint8) * 255, "L"), "path": None} for m in clip.masks],
        "semantic_masks": [{"bytes": png_bytes(s, "L"), "path": None} for s in clip.semantic_masks],
        "annotated": clip.annotated,
        "class_ids": sorted({int(c) for s in clip.semantic_masks for c in np.unique(s) if c != 0}),
    }


DATASET_MODES = {"single": "synth-s4", "multi": "synth-ms3", "mixed": "synth-mixed"}
"""`make_synthavs` modes and their subset names. ``"mixed"`` alternates S4-like (even indices) and MS3-like (odd
indices) scenes: in MS3-like scenes most visible objects sound, so a model trained only on them can score well
without listening; the S4-like half makes listening necessary."""


def _clip_mode(mode: str, index: int) -> str:
    return MODES[index % 2] if mode == "mixed" else mode


def _generate_examples(indices, seed, split, mode, image_size, num_frames):
    subset = DATASET_MODES[mode]
    for index in indices:
        yield _example(generate_clip(seed, split, index, _clip_mode(mode, index), image_size, num_frames), subset)


def _check_counts(num_clips: Mapping[str, int]) -> None:
    for split, count in num_clips.items():
        if split not in _SPLIT_IDS:
            raise ValueError(f"unknown split {split!r}; choose from {tuple(_SPLIT_IDS)}")
        if count < 1:
            raise ValueError(f"split {split!r} needs at least one clip, got {count}")


def make_synthavs(
    num_clips: Mapping[str, int] | None = None,
    *,
    seed: int = 0,
    mode: str = "single",
    image_size: int = 224,
    num_frames: int = 5,
    cache_dir: str | os.PathLike | None = None,
    num_proc: int | None = None,
):
    """Generate SynthAVS as a ``datasets.DatasetDict`` (AVSBench schema, cached as Arrow).

    Args:
        num_clips: clips per split (default ``{"train": 800, "val": 100, "test": 100}``).
        seed: dataset seed; the same arguments always give the same data.
        mode: ``"single"`` (S4-like, subset ``synth-s4``), ``"multi"`` (MS3-like, subset ``synth-ms3``) or
            ``"mixed"`` (both, alternating; subset ``synth-mixed``, see :data:`DATASET_MODES`). Clip ``i`` of a split
            is the same scene in ``"mixed"`` as in its own mode.
        image_size: frame side in pixels.
        num_frames: frames (= seconds) per clip.
        cache_dir: `datasets` cache directory.
        num_proc: worker processes (the data do not depend on it).

    Returns:
        ``DatasetDict``; ``class_ids`` uses ``ClassLabel(names=SYNTHAVS_CLASSES)``.
    """
    import datasets

    num_clips = dict(num_clips or {"train": 800, "val": 100, "test": 100})
    _check_counts(num_clips)
    if mode not in DATASET_MODES:
        raise ValueError(f"mode must be one of {tuple(DATASET_MODES)}, got {mode!r}")
    features = avsbench_features(SYNTHAVS_CLASSES)
    info = {
        "builder": "tavis_hf.data.make_synthavs",
        "subset": DATASET_MODES[mode],
        "mask_source": "semantic",
        "seed": seed,
        "image_size": image_size,
        "num_classes": len(SYNTHAVS_CLASSES),
        "class_names": list(SYNTHAVS_CLASSES),
    }
    result = {}
    for split, count in num_clips.items():
        options = {**info, "split": split, "count": count, "num_frames": num_frames, "version": _VERSION}
        dataset = datasets.Dataset.from_generator(
            _generate_examples,
            features=features,
            cache_dir=str(cache_dir) if cache_dir is not None else None,
            gen_kwargs={
                "indices": list(range(count)),
                "seed": seed,
                "split": split,
                "mode": mode,
                "image_size": image_size,
                "num_frames": num_frames,
            },
            num_proc=num_proc,
            split=datasets.NamedSplit(split),
            fingerprint=hashlib.sha256(json.dumps(options, sort_keys=True).encode()).hexdigest()[:32],
        )
        dataset.info.description = json.dumps(info)
        result[split] = dataset
    return datasets.DatasetDict(result)


def write_synthavs_tree(
    root: str | os.PathLike,
    num_clips: Mapping[str, int],
    *,
    seed: int = 0,
    mode: str = "single",
    release: str = "semantic",
    image_size: int = 224,
) -> Path:
    """Write SynthAVS as an AVSBench-layout folder.

    ``release="semantic"`` writes subset ``v1s`` (single) or ``v1m`` (multi) under an AVSBench-semantic root;
    ``release="object"`` writes ``s4`` or ``ms3`` under an AVSBench-object root. Load it back with
    ``load_avsbench(..., class_names=SYNTHAVS_CLASSES)``. An AVSBench subset holds one kind of scene, so ``"mixed"``
    (:func:`make_synthavs` only) is refused.
    """
    _check_counts(num_clips)
    if mode not in MODES:
        raise ValueError(
            f"an AVSBench-layout tree takes mode 'single' or 'multi', got {mode!r} ('mixed' is for make_synthavs)"
        )
    if release == "semantic":
        subset = "v1s" if mode == "single" else "v1m"
    elif release == "object":
        subset = "s4" if mode == "single" else "ms3"
    else:
        raise ValueError(f"release must be 'semantic' or 'object', got {release!r}")
    clips = (
        generate_clip(seed, split, index, mode, image_size)
        for split, count in num_clips.items()
        for index in range(count)
    )
    return write_avsbench_tree(clips, root, subset, release=release, class_names=SYNTHAVS_CLASSES)
