"""Turn a local AVSBench download into a ``datasets.DatasetDict`` (train / val / test).

AVSBench is gated: this module never downloads it. Point :func:`load_avsbench` at your copy (layouts in
:mod:`tavis_hf.data.layout`). Subsets: AVSBench-object ``"s4"`` and ``"ms3"``; AVSBench-semantic ``"v1s"``, ``"v1m"``
and ``"v2"``. The result is cached as Arrow under the `datasets` cache, keyed on the file list, file sizes and
modification times, so a second call is fast.

Schema (one example = one clip; shared with SynthAVS, :mod:`tavis_hf.data.synthetic`)
------------------------------------------------------------------------------------------
================== ================================ ===============================================================
column             feature                          meaning
================== ================================ ===============================================================
``video_id``       ``Value("string")``              source video id (the YouTube id for AVSBench)
``uid``            ``Value("string")``              clip id: the AVSBench-semantic folder name when semantic data is
                                                    used, else the AVSBench-object ``name``
``subset``         ``Value("string")``              ``s4``, ``ms3``, ``v1s``, ``v1m``, ``v2`` (SynthAVS: ``synth-s4``,
                                                    ``synth-ms3``)
``category``       ``Value("string")``              S4 category (``""`` when the release has none)
``sounding_objects`` ``Value("string")``            AVSBench-semantic ``a_obj`` (``_``-joined), the S4 category for
                                                    S4 object data, ``""`` when unknown
``frames``         ``List(Image())``                T RGB frames in temporal order (T = 5, v2: 10), 1 frame per
                                                    second of audio
``audio``          ``Audio(sampling_rate=16000)``   the clip's whole mono waveform, decoded at 16 kHz
``masks``          ``List(Image())``                T binary masks, ``L`` mode with values 0 / 255, same size as the
                                                    frame; a frame that is not annotated holds an all-zero
                                                    placeholder (never train on it: check ``annotated``)
``semantic_masks`` ``List(Image())``                T class-id masks (``L`` mode, value = class id, 0 = background),
                                                    same placeholder rule; ``[]`` when no semantic labels were used
``annotated``      ``List(Value("bool"))``          per-frame ground-truth flag (S4/v1s train: frame 0 only)
``class_ids``      ``List(ClassLabel(names=...))``  sorted ids of the sounding classes in the annotated semantic
                                                    masks (``[]`` without semantic labels); the ``ClassLabel`` names
                                                    are the id2label of the vocabulary
================== ================================ ===============================================================

How the build is recorded: ``dataset.info.description`` is a JSON object (read it back with
:func:`avsbench_build_info`) holding ``subset``, ``mask_source`` (``"object"`` = AVSBench-object ``gt_masks``,
``"semantic"`` = AVSBench-semantic labels binarised with ``!= 0``, as the TAViS authors evaluate), the roots'
names, ``image_size`` and the class vocabulary.

Storage: without ``image_size``, frames and audio are referenced by path (no copy; the cache stays valid while the
files are unchanged); masks are re-encoded PNGs. ``save_to_disk`` and :func:`push_avsbench_to_hub` embed the media.
For s4/ms3 the split comes from the AVSBench-object metadata, also when masks come from AVSBench-semantic.

Rules enforced (``docs/avsbench.md`` §6–7): metadata rows are matched to AVSBench-semantic folders exactly (``v1m``:
``uid == name``; ``v1s``: ``vid == name``), never by prefix, and zero or several matches raise; every missing file is
listed in one ``FileNotFoundError``; palette colours are decoded by exact match and unknown colours raise; masks are
resized with NEAREST only; object masks are binarised with ``!= 0`` (the MS3 palette PNGs store foreground as index 1);
the number of examples per split is checked against the metadata.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from .layout import (
    AVSBENCH_CLASSES,
    OBJECT_SUBSETS,
    SEMANTIC_METADATA_COLUMNS,
    SEMANTIC_SUBSETS,
    decode_palette_mask,
    object_audio_path,
    object_frame_path,
    object_mask_path,
    object_meta_path,
    png_bytes,
    semantic_audio_path,
    semantic_frame_path,
    semantic_index_label_path,
    semantic_rgb_label_path,
)

__all__ = [
    "SPLITS",
    "SUBSETS",
    "avsbench_build_info",
    "avsbench_features",
    "load_avsbench",
    "push_avsbench_to_hub",
    "read_label2idx",
    "render_dataset_card",
    "resolve_semantic_uid",
]

SUBSETS = ("s4", "ms3", *SEMANTIC_SUBSETS)
SPLITS = ("train", "val", "test")
SAMPLING_RATE = 16000
_BUILDER_VERSION = "1"  # bump when the generated examples change, to invalidate caches
_MAX_LISTED = 20


def avsbench_features(class_names: Sequence[str] = AVSBENCH_CLASSES):
    """The ``datasets.Features`` of the schema in the module docstring, for a class vocabulary."""
    import datasets

    return datasets.Features(
        {
            "video_id": datasets.Value("string"),
            "uid": datasets.Value("string"),
            "subset": datasets.Value("string"),
            "category": datasets.Value("string"),
            "sounding_objects": datasets.Value("string"),
            "frames": datasets.List(datasets.Image()),
            "audio": datasets.Audio(sampling_rate=SAMPLING_RATE),
            "masks": datasets.List(datasets.Image()),
            "semantic_masks": datasets.List(datasets.Image()),
            "annotated": datasets.List(datasets.Value("bool")),
            "class_ids": datasets.List(datasets.ClassLabel(names=list(class_names))),
        }
    )


# ---------------------------------------------------------------- metadata


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise FileNotFoundError(f"metadata file not found: {path}")
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        raise ValueError(f"{path} is empty")
    header, body = rows[0], rows[1:]
    return [dict(zip(header, row)) | {"__row__": row} for row in body if row]


def _object_rows(root: Path, subset: str) -> list[dict[str, str]]:
    """AVSBench-object metadata: column 0 = name, ``split`` by header; S4 ``category`` by header or column 2."""
    path = object_meta_path(root, subset)
    rows = _read_csv(path)
    out = []
    for row in rows:
        if "split" not in row:
            raise ValueError(f"{path} has no 'split' column")
        category = row.get("category", row["__row__"][2] if len(row["__row__"]) > 2 else "") if subset == "s4" else ""
        out.append({"name": row["__row__"][0], "category": category, "split": row["split"]})
    _check_unique([r["name"] for r in out], path)
    return out


def _semantic_rows(root: Path) -> list[dict[str, str]]:
    path = Path(root) / "metadata.csv"
    rows = _read_csv(path)
    if rows and not set(SEMANTIC_METADATA_COLUMNS) <= set(rows[0]):
        raise ValueError(f"{path} must have the columns {SEMANTIC_METADATA_COLUMNS}, got {list(rows[0])[:-1]}")
    _check_unique([r["uid"] for r in rows], path)
    return rows


def _check_unique(names: list[str], path: Path) -> None:
    seen, duplicates = set(), set()
    for name in names:
        (duplicates if name in seen else seen).add(name)
    if duplicates:
        raise ValueError(f"{path}: duplicated clip names {sorted(duplicates)[:_MAX_LISTED]}")


def resolve_semantic_uid(name: str, subset: str, semantic_rows: Sequence[dict[str, str]]) -> dict[str, str]:
    """Find the AVSBench-semantic row of an AVSBench-object clip by exact matching (never by prefix).

    ``ms3`` names are ``v1m`` uids (``uid == name``: ``YYbShzoZWRo_3`` never matches ``YYbShzoZWRo_30``); ``s4``
    names are YouTube ids of ``v1s`` clips (``vid == name``).

    Raises:
        LookupError: zero or several matching rows.
    """
    if subset == "ms3":
        matches = [row for row in semantic_rows if row["label"] == "v1m" and row["uid"] == name]
    elif subset == "s4":
        matches = [row for row in semantic_rows if row["label"] == "v1s" and row["vid"] == name]
    else:
        raise ValueError(f"only 's4' and 'ms3' clips map to semantic uids, got {subset!r}")
    if len(matches) != 1:
        found = [row["uid"] for row in matches]
        raise LookupError(f"{subset} clip {name!r} must match exactly one semantic uid, found {len(found)}: {found}")
    return matches[0]


def read_label2idx(path: str | os.PathLike, class_names: Sequence[str] = AVSBENCH_CLASSES) -> list[str]:
    """Validate a ``label2idx.json`` against a class vocabulary and return the names in id order.

    Ids are derived from the file's key order (what TAViS does), so 0-indexed and 1-indexed variants both give
    background = 0. The stored integers must be consecutive from 0 or 1, and the names must equal ``class_names``.

    Raises:
        ValueError: on renamed, reordered, missing or extra classes, or non-consecutive values.
    """
    mapping = json.loads(Path(path).read_text())
    names, values = list(mapping), list(mapping.values())
    if values not in (list(range(len(values))), list(range(1, len(values) + 1))):
        raise ValueError(f"{path}: class indices must be consecutive from 0 or 1, got {values[:5]}...")
    if names != list(class_names):
        diff = [(i, a, b) for i, (a, b) in enumerate(zip(names, class_names)) if a != b][:5]
        raise ValueError(
            f"{path}: classes differ from the expected {len(class_names)}-class vocabulary "
            f"(file has {len(names)}; first differences (id, file, expected): {diff}); pass class_names= for a "
            "different vocabulary"
        )
    return names


# ---------------------------------------------------------------- planning (paths only, all checks up front)


def _plan(
    subset: str,
    split: str,
    object_root: Path | None,
    semantic_root: Path | None,
    mask_source: str,
    object_rows: list[dict] | None,
    semantic_rows: list[dict] | None,
) -> tuple[list[dict], list[Path]]:
    """Per-clip file plan for one split, plus the list of missing files."""
    plans, required = [], []
    if subset in OBJECT_SUBSETS:
        for row in object_rows:
            if row["split"] != split:
                continue
            name, category = row["name"], row["category"]
            num_frames = 5
            annotated = [i == 0 or not (subset == "s4" and split == "train") for i in range(num_frames)]
            plan = {
                "video_id": name if subset == "s4" else name.rsplit("_", 1)[0],
                "uid": name,
                "subset": subset,
                "category": category,
                "sounding_objects": category,
                "frames": [str(object_frame_path(object_root, subset, split, category, name, i)) for i in range(5)],
                "annotated": annotated,
                "object_masks": None,
                "semantic": None,
            }
            if mask_source == "object":
                plan["audio"] = str(object_audio_path(object_root, subset, split, category, name))
                plan["object_masks"] = [
                    str(object_mask_path(object_root, subset, split, category, name, i)) if annotated[i] else None
                    for i in range(num_frames)
                ]
            if semantic_root is not None:
                sem = resolve_semantic_uid(name, subset, semantic_rows)
                label = sem["label"]
                plan.update(uid=sem["uid"], video_id=sem["vid"], sounding_objects=sem["a_obj"])
                plan["semantic"] = [
                    _semantic_label(semantic_root, label, sem["uid"], i) if annotated[i] else None for i in range(5)
                ]
                if mask_source == "semantic":
                    plan["audio"] = str(semantic_audio_path(semantic_root, label, sem["uid"]))
            plans.append(plan)
    else:
        for row in semantic_rows:
            if row["label"] != subset or row["split"] != split:
                continue
            uid = row["uid"]
            num_frames = 10 if subset == "v2" else 5
            annotated = [i == 0 or not (subset == "v1s" and split == "train") for i in range(num_frames)]
            plans.append(
                {
                    "video_id": row["vid"],
                    "uid": uid,
                    "subset": subset,
                    "category": "",
                    "sounding_objects": row["a_obj"],
                    "frames": [str(semantic_frame_path(semantic_root, subset, uid, i)) for i in range(num_frames)],
                    "audio": str(semantic_audio_path(semantic_root, subset, uid)),
                    "annotated": annotated,
                    "object_masks": None,
                    "semantic": [
                        _semantic_label(semantic_root, subset, uid, i) if annotated[i] else None
                        for i in range(num_frames)
                    ],
                }
            )
    for plan in plans:
        required += plan["frames"] + [plan["audio"]]
        required += [p for p in plan["object_masks"] or [] if p]
        required += [p for p in plan["semantic"] or [] if p]
    missing = [Path(p) for p in required if not os.path.isfile(p)]
    return plans, missing


def _semantic_label(root: Path, label: str, uid: str, index: int) -> str:
    """Prefer the class-index PNG (``labels_semantic``); fall back to the palette PNG (``labels_rgb``)."""
    index_path = semantic_index_label_path(root, label, uid, index)
    return str(index_path if index_path.is_file() else semantic_rgb_label_path(root, label, uid, index))


# ---------------------------------------------------------------- example generation


def _read_binary_mask(path: str) -> np.ndarray:
    image = Image.open(path)
    if image.mode in ("1", "L", "P", "I", "I;16", "F"):
        return np.asarray(image) != 0
    return np.asarray(image.convert("RGB")).any(axis=-1)


def _read_class_mask(path: str, num_classes: int) -> np.ndarray:
    image = Image.open(path)
    if Path(path).parent.name == "labels_rgb":
        ids = decode_palette_mask(np.asarray(image.convert("RGB")), num_classes, source=path)
    elif image.mode in ("L", "P", "I", "I;16"):
        ids = np.asarray(image)
        if ids.max(initial=0) >= num_classes:
            raise ValueError(f"{path}: class id {int(ids.max())} outside the {num_classes}-class vocabulary")
        ids = ids.astype(np.uint8)
    else:
        raise ValueError(f"{path}: class-index label must be a single-channel PNG, got mode {image.mode}")
    return ids


def _fit(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a mask to ``size`` (W, H) with NEAREST (never interpolating labels)."""
    if (mask.shape[1], mask.shape[0]) == size:
        return mask
    return np.asarray(Image.fromarray(mask).resize(size, Image.NEAREST))


def _generate(plans: list[dict], image_size: int | None, mask_source: str, num_classes: int):
    for plan in plans:
        frames, sizes = [], []
        for path in plan["frames"]:
            if image_size is None:
                with Image.open(path) as image:
                    sizes.append(image.size)
                frames.append({"path": path, "bytes": None})
            else:
                image = Image.open(path).convert("RGB").resize((image_size, image_size), Image.BILINEAR)
                sizes.append(image.size)
                frames.append({"path": None, "bytes": png_bytes(np.asarray(image))})
        masks, semantic, class_ids = [], [], set()
        for i, size in enumerate(sizes):
            blank = np.zeros((size[1], size[0]), dtype=np.uint8)
            ids = None
            if plan["semantic"] is not None:
                ids = (
                    blank
                    if plan["semantic"][i] is None
                    else _fit(_read_class_mask(plan["semantic"][i], num_classes), size)
                )
                semantic.append({"path": None, "bytes": png_bytes(ids, "L")})
                if plan["annotated"][i]:
                    class_ids.update(int(c) for c in np.unique(ids) if c != 0)
            if mask_source == "object":
                path = plan["object_masks"][i]
                binary = blank if path is None else _fit(_read_binary_mask(path).astype(np.uint8) * 255, size)
            else:
                binary = (ids != 0).astype(np.uint8) * 255
            masks.append({"path": None, "bytes": png_bytes(binary, "L")})
        yield {
            "video_id": plan["video_id"],
            "uid": plan["uid"],
            "subset": plan["subset"],
            "category": plan["category"],
            "sounding_objects": plan["sounding_objects"],
            "frames": frames,
            "audio": {"path": plan["audio"], "bytes": None},
            "masks": masks,
            "semantic_masks": semantic,
            "annotated": plan["annotated"],
            "class_ids": sorted(class_ids),
        }


def _fingerprint(plans: list[dict], options: dict) -> str:
    digest = hashlib.sha256(json.dumps({"version": _BUILDER_VERSION, **options}, sort_keys=True).encode())
    for plan in plans:
        for path in (
            plan["frames"] + [plan["audio"]] + [p for p in (plan["object_masks"] or []) + (plan["semantic"] or []) if p]
        ):
            stat = os.stat(path)
            digest.update(f"{path}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
        digest.update(json.dumps({k: v for k, v in plan.items() if k not in ("frames",)}, sort_keys=True).encode())
    return digest.hexdigest()[:32]


def load_avsbench(
    subset: str,
    *,
    object_root: str | os.PathLike | None = None,
    semantic_root: str | os.PathLike | None = None,
    mask_source: str | None = None,
    splits: Sequence[str] = SPLITS,
    image_size: int | None = None,
    class_names: Sequence[str] = AVSBENCH_CLASSES,
    cache_dir: str | os.PathLike | None = None,
    num_proc: int | None = None,
):
    """Build (or load from cache) a ``DatasetDict`` for one AVSBench subset.

    Args:
        subset: ``"s4"``, ``"ms3"`` (AVSBench-object clips) or ``"v1s"``, ``"v1m"``, ``"v2"`` (AVSBench-semantic).
        object_root: AVSBench-object root (holding ``Single-source/`` and ``Multi-sources/``); required for s4/ms3,
            whose frames always come from ``visual_frames``.
        semantic_root: AVSBench-semantic root (holding ``metadata.csv``); required for v1s/v1m/v2 and for
            ``mask_source="semantic"``. With s4/ms3 and ``mask_source="object"`` it is optional and adds
            ``semantic_masks``, ``class_ids`` and the semantic ``uid``/``sounding_objects``.
        mask_source: ``"object"`` (AVSBench-object ``gt_masks`` and ``audio_wav``; the default for s4/ms3, what most
            papers use) or ``"semantic"`` (v1s/v1m labels binarised with ``!= 0`` and the semantic ``audio.wav``, as
            the TAViS authors evaluate; the only choice for v1s/v1m/v2).
        splits: which splits to build.
        image_size: resize frames to ``image_size`` squared (bilinear) and masks (NEAREST); None keeps stored sizes
            (masks are then resized to their frame's size with NEAREST if they differ).
        class_names: class vocabulary of the semantic labels (AVSBench's 71 by default; SynthAVS trees use
            :data:`tavis_hf.data.SYNTHAVS_CLASSES`). ``label2idx.json``, when present, is checked against it.
        cache_dir: `datasets` cache directory.
        num_proc: worker processes for the build.

    Returns:
        ``datasets.DatasetDict`` with the requested splits (schema in the module docstring).

    Raises:
        FileNotFoundError: listing every missing file (first ones shown) in one message.
        LookupError: an object clip matches zero or several semantic uids.
        ValueError: bad arguments, bad metadata, unknown palette colours, count mismatches.
    """
    mask_source = _check_load_arguments(subset, object_root, semantic_root, mask_source, splits)
    object_root = Path(object_root) if object_root is not None else None
    semantic_root = Path(semantic_root) if semantic_root is not None else None
    plans = _plan_splits(subset, splits, object_root, semantic_root, mask_source, class_names)
    info = {
        "builder": "tavis_hf.data.load_avsbench",
        "subset": subset,
        "mask_source": mask_source,
        "object_root": object_root.name if object_root else None,
        "semantic_root": semantic_root.name if semantic_root else None,
        "image_size": image_size,
        "num_classes": len(class_names),
    }
    return _build_splits(plans, info, class_names, cache_dir, num_proc)


def _check_load_arguments(subset, object_root, semantic_root, mask_source, splits) -> str:
    """Refuse inconsistent :func:`load_avsbench` arguments; return the mask source (its default filled in)."""
    if subset not in SUBSETS:
        raise ValueError(f"subset must be one of {SUBSETS}, got {subset!r}")
    if mask_source is None:
        mask_source = "object" if subset in OBJECT_SUBSETS else "semantic"
    if mask_source not in ("object", "semantic"):
        raise ValueError(f"mask_source must be 'object' or 'semantic', got {mask_source!r}")
    if subset in OBJECT_SUBSETS and object_root is None:
        raise ValueError(f"subset {subset!r} needs object_root (the AVSBench-object folder)")
    if subset not in OBJECT_SUBSETS and mask_source == "object":
        raise ValueError(f"subset {subset!r} has no AVSBench-object masks; use mask_source='semantic'")
    if mask_source == "semantic" and semantic_root is None:
        raise ValueError("mask_source='semantic' needs semantic_root (the AVSBench-semantic folder)")
    unknown = set(splits) - set(SPLITS)
    if unknown:
        raise ValueError(f"unknown splits {sorted(unknown)}; choose from {SPLITS}")
    return mask_source


def _plan_splits(
    subset: str,
    splits: Sequence[str],
    object_root: Path | None,
    semantic_root: Path | None,
    mask_source: str,
    class_names: Sequence[str],
) -> dict[str, list[dict]]:
    """Read the metadata and plan every split's clips; one `FileNotFoundError` lists every missing file."""
    object_rows = _object_rows(object_root, subset) if subset in OBJECT_SUBSETS else None
    semantic_rows = None
    if semantic_root is not None:
        semantic_rows = _semantic_rows(semantic_root)
        if (semantic_root / "label2idx.json").is_file():
            read_label2idx(semantic_root / "label2idx.json", class_names)
    plans, missing = {}, []
    for split in splits:
        plans[split], split_missing = _plan(
            subset, split, object_root, semantic_root, mask_source, object_rows, semantic_rows
        )
        missing += split_missing
        if not plans[split]:
            raise ValueError(f"no {subset} clips for split {split!r} in the metadata")
    if missing:
        listed = "\n  ".join(str(p) for p in missing[:_MAX_LISTED])
        more = f"\n  ... and {len(missing) - _MAX_LISTED} more" if len(missing) > _MAX_LISTED else ""
        raise FileNotFoundError(f"AVSBench {subset}: {len(missing)} files are missing:\n  {listed}{more}")
    return plans


def _build_splits(plans: dict[str, list[dict]], info: dict, class_names: Sequence[str], cache_dir, num_proc):
    """Generate (or load from the cache) one ``Dataset`` per planned split; the ``DatasetDict``."""
    import datasets

    subset, image_size, mask_source = info["subset"], info["image_size"], info["mask_source"]
    features = avsbench_features(class_names)
    result = {}
    for split, split_plans in plans.items():
        options = {"split": split, "image_size": image_size, "mask_source": mask_source, "classes": list(class_names)}
        try:
            dataset = datasets.Dataset.from_generator(
                _generate,
                features=features,
                cache_dir=str(cache_dir) if cache_dir is not None else None,
                gen_kwargs={
                    "plans": split_plans,
                    "image_size": image_size,
                    "mask_source": mask_source,
                    "num_classes": len(class_names),
                },
                num_proc=num_proc,
                split=datasets.NamedSplit(split),
                fingerprint=_fingerprint(split_plans, options),
            )
        except datasets.exceptions.DatasetGenerationError as error:
            # surface the data problem (unknown colour, bad label file) instead of the generic wrapper
            if isinstance(error.__cause__, (ValueError, OSError)):
                raise type(error.__cause__)(f"AVSBench {subset}/{split}: {error.__cause__}") from error
            raise
        if dataset.num_rows != len(split_plans):
            raise ValueError(
                f"{subset}/{split}: built {dataset.num_rows} clips but the metadata lists {len(split_plans)}"
            )
        dataset.info.description = json.dumps(info)
        result[split] = dataset
    return datasets.DatasetDict(result)


def avsbench_build_info(dataset) -> dict:
    """The build record (subset, mask_source, ...) of a dataset made by :func:`load_avsbench` or SynthAVS."""
    try:
        return json.loads(dataset.info.description)
    except (TypeError, ValueError) as error:
        raise ValueError("this dataset carries no tavis_hf build record in info.description") from error


# ---------------------------------------------------------------- publishing


def render_dataset_card(dataset, repo_id: str, template_path: str | os.PathLike | None = None) -> str:
    """Fill the dataset-card template (``hub_card/dataset_card_template.md``) for a built ``DatasetDict``.

    Placeholders: ``{repo_id}``, ``{subset}``, ``{mask_source}``, ``{image_size}``, ``{num_classes}`` and
    ``{split_table}`` (a Markdown table of clip counts).
    """
    from ..hub import HUB_CARD_DIR

    path = Path(template_path) if template_path is not None else HUB_CARD_DIR / "dataset_card_template.md"
    if not path.is_file():
        raise FileNotFoundError(f"dataset card template not found: {path} (pass template_path=)")
    first = next(iter(dataset.values()))
    info = avsbench_build_info(first)
    rows = "\n".join(f"| {split} | {ds.num_rows} |" for split, ds in dataset.items())
    return path.read_text().format(
        repo_id=repo_id,
        subset=info["subset"],
        mask_source=info["mask_source"],
        image_size=info["image_size"] or "as stored",
        num_classes=info["num_classes"],
        split_table="| split | clips |\n|---|---|\n" + rows,
    )


def push_avsbench_to_hub(
    dataset,
    repo_id: str,
    *,
    private: bool = True,
    token: str | None = None,
    max_shard_size: str = "500MB",
    template_path: str | os.PathLike | None = None,
) -> None:
    """Upload a built dataset as Parquet shards with embedded media, then replace the card body with ours.

    Only for users who hold the AVSBench data rights; the repository is private by default. The YAML front matter
    written by ``push_to_hub`` (``configs``, ``dataset_info``) is kept; licence and tags are added.
    """
    from huggingface_hub import DatasetCard

    body = render_dataset_card(dataset, repo_id, template_path)
    dataset.push_to_hub(repo_id, private=private, token=token, max_shard_size=max_shard_size)
    card = DatasetCard.load(repo_id, repo_type="dataset", token=token)
    card.data.license = "other"
    card.data.tags = sorted(set(card.data.get("tags") or []) | {"audio-visual-segmentation", "avsbench"})
    card.text = body
    card.push_to_hub(repo_id, repo_type="dataset", token=token)
