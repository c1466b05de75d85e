"""The open-vocabulary (zero-shot) split of an AVSBench-schema ``DatasetDict``: seen classes to train on, unseen ones
to test on.

AVSBench-OV is the split of OV-AVSS (Guo et al., "Open-Vocabulary Audio-Visual Semantic Segmentation", ACM MM 2024)
over the 70 AVSBench-semantic object classes: 40 seen ("base") and 30 unseen ("novel") classes. The class ids are
written in the OV-AVSS release, ``ruohaoguo/ovavss`` at commit ``baa883c09452efd2608cbc91b34451be960a7aa6``, file
``demo_video/test_net_video_avsbench_r50.py``: the two id lists passed to ``scores_gzsl`` (ids of the 71-class
AVSBench-semantic vocabulary, background = 0 in neither list). :data:`AVSBENCH_OV_UNSEEN_CLASSES` holds the 30
unseen ones by name (:data:`~tavis_hf.data.AVSBENCH_CLASSES` naming); every other object class is seen.

What :func:`make_open_vocabulary` does to a ``DatasetDict`` (``docs/avsbench.md`` §12):

* ``train`` and ``val``: relabelled to the *seen vocabulary* (background, then the seen classes in vocabulary order;
  the ``class_ids`` ``ClassLabel`` names are that vocabulary, so a training run takes only seen names). Pixels of an
  unseen class become background in ``semantic_masks`` and in the binary ``masks``: OV-AVSS trains from an annotation
  file of seen-class instances only (``avsbench_ov_train_base.json``), in which unseen objects are no target.
* ``train`` only: clips left without any seen-class pixel are dropped, as OV-AVSS's data loader drops videos without
  annotations (``DATALOADER.FILTER_EMPTY_ANNOTATIONS: True`` in ``configs/avsbench/Base-AVSBench.yaml``).
* ``test``: unchanged, with the full vocabulary (seen + unseen), which the zero-shot protocol encodes as text
  (``tavis_hf.zero_shot``).

Each split's build record (``dataset.info.description``, read by :func:`~tavis_hf.data.avsbench_build_info`) gets an
``open_vocabulary`` entry: the split's name and source, the seen and unseen classes, and which vocabulary this split
is labelled with (``"seen"`` or ``"all"``); :func:`open_vocabulary_info` reads it back.

The same works on SynthAVS with :data:`SYNTHAVS_OV_UNSEEN_CLASSES`, a split of its ten classes that is tavis_hf's own
choice (no paper defines one), or with any split given as a JSON file (:func:`resolve_open_vocabulary_split`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

__all__ = [
    "AVSBENCH_OV_UNSEEN_CLASSES",
    "OPEN_VOCABULARY_SPLITS",
    "SYNTHAVS_OV_UNSEEN_CLASSES",
    "OpenVocabularySplit",
    "make_open_vocabulary",
    "open_vocabulary_info",
    "resolve_open_vocabulary_split",
]

#: The 30 unseen ("novel") classes of AVSBench-OV (ids 1, 3, 5, 13, 14, 15, 22, 23, 24, 25, 30, 32, 33, 34, 39, 42,
#: 45, 49, 50, 51, 53, 54, 56, 57, 61, 64, 65, 66, 68, 69 of AVSBENCH_CLASSES; source in the module docstring).
AVSBENCH_OV_UNSEEN_CLASSES: tuple[str, ...] = (
    "accordion", "axe", "bassoon", "cello", "clarinet", "clipper", "emergency-car", "erhu", "flute", "frying-food",
    "guzheng", "handpan", "harmonica", "harp", "leopard", "marimba", "mower", "pipa", "saw", "saxophone", "sitar",
    "sorna", "tabla", "tank", "trombone", "tuba", "ukulele", "utv", "violin", "wolf",
)  # fmt: skip
AVSBENCH_OV_SOURCE = (
    "OV-AVSS (Guo et al., ACM MM 2024) AVSBench-OV: ruohaoguo/ovavss@baa883c09452efd2608cbc91b34451be960a7aa6 "
    "demo_video/test_net_video_avsbench_r50.py (scores_gzsl seen/unseen class ids)"
)

#: Three of SynthAVS's ten classes held out as unseen: tavis_hf's own split, not from a paper.
SYNTHAVS_OV_UNSEEN_CLASSES: tuple[str, ...] = ("drum", "whistle", "organ")
SYNTHAVS_OV_SOURCE = "tavis_hf's own SynthAVS split (no published split exists)"


@dataclass(frozen=True)
class OpenVocabularySplit:
    """A seen/unseen split: its `name`, the `unseen_classes` (every other non-background class of the dataset's
    vocabulary is seen) and where it comes from (`source`)."""

    name: str
    unseen_classes: tuple[str, ...]
    source: str

    def check_vocabulary(self, class_names: Sequence[str]) -> None:
        """Raise `ValueError` unless every unseen class is a non-background class of `class_names`."""
        missing = [name for name in self.unseen_classes if name not in class_names[1:]]
        if missing:
            raise ValueError(
                f"open-vocabulary split {self.name!r} names classes the dataset's vocabulary lacks: {missing}"
            )
        if len(set(self.unseen_classes)) == len(class_names) - 1:
            raise ValueError(f"open-vocabulary split {self.name!r} leaves no seen class to train on")

    def seen_classes(self, class_names: Sequence[str]) -> list[str]:
        """The seen classes of `class_names` (background excluded), in vocabulary order."""
        return [name for name in class_names[1:] if name not in self.unseen_classes]


OPEN_VOCABULARY_SPLITS: dict[str, OpenVocabularySplit] = {
    "avsbench-ov": OpenVocabularySplit("avsbench-ov", AVSBENCH_OV_UNSEEN_CLASSES, AVSBENCH_OV_SOURCE),
    "synthavs-ov": OpenVocabularySplit("synthavs-ov", SYNTHAVS_OV_UNSEEN_CLASSES, SYNTHAVS_OV_SOURCE),
}
"""The named splits: AVSBench-OV (OV-AVSS) and tavis_hf's SynthAVS split."""


def resolve_open_vocabulary_split(split: str | OpenVocabularySplit) -> OpenVocabularySplit:
    """A split by name (:data:`OPEN_VOCABULARY_SPLITS`) or from a JSON file ``{"unseen_classes": [...], "source":
    "..."}`` (its name is the file's stem).

    Raises:
        FileNotFoundError: `split` is neither a known name nor an existing file.
        ValueError: the file is not such a JSON object.
    """
    if isinstance(split, OpenVocabularySplit):
        return split
    if split in OPEN_VOCABULARY_SPLITS:
        return OPEN_VOCABULARY_SPLITS[split]
    path = Path(split)
    if not path.is_file():
        raise FileNotFoundError(
            f"open-vocabulary split {split!r} is neither a known split {sorted(OPEN_VOCABULARY_SPLITS)} nor a file"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        unseen, source = data["unseen_classes"], data["source"]
    except (ValueError, TypeError, KeyError) as error:
        raise ValueError(
            f"{path} must be a JSON object with 'unseen_classes' (a list of class names) and 'source' (text)"
        ) from error
    if not isinstance(unseen, list) or not unseen or not all(isinstance(name, str) for name in unseen):
        raise ValueError(f"{path}: 'unseen_classes' must be a non-empty list of class names")
    return OpenVocabularySplit(path.stem, tuple(unseen), str(source))


def _relabel_to_seen(example: dict, lookup: np.ndarray) -> dict:
    """One clip relabelled to the seen vocabulary: `lookup[old id]` is the new id (0 for background and unseen)."""
    semantic, masks = [], []
    for class_map, mask in zip(example["semantic_masks"], example["masks"]):
        ids = np.asarray(class_map)
        new_ids = lookup[ids]
        binary = np.where((ids != 0) & (new_ids == 0), 0, np.asarray(mask)).astype(np.uint8)
        semantic.append(Image.fromarray(new_ids))
        masks.append(Image.fromarray(binary))
    annotated = [np.asarray(ids) for ids, flag in zip(semantic, example["annotated"]) if flag]
    present = set(np.unique(np.stack(annotated)).tolist()) if annotated else set()
    return {"semantic_masks": semantic, "masks": masks, "class_ids": sorted(present - {0})}


def _seen_only(dataset, split: OpenVocabularySplit, class_names: list[str], drop_empty: bool):
    """`dataset` relabelled to the seen vocabulary (module docstring); without clips lacking seen classes when
    `drop_empty`."""
    from .avsbench import avsbench_features

    seen_vocabulary = ["background", *split.seen_classes(class_names)]
    lookup = np.zeros(256, dtype=np.uint8)
    for new_id, name in enumerate(seen_vocabulary[1:], start=1):
        lookup[class_names.index(name)] = new_id
    relabelled = dataset.map(
        _relabel_to_seen, fn_kwargs={"lookup": lookup}, features=avsbench_features(seen_vocabulary),
        desc=f"relabelling {dataset.split} to the seen classes",
    )  # fmt: skip
    if drop_empty:
        relabelled = relabelled.filter(lambda class_ids: len(class_ids) > 0, input_columns="class_ids")
    return relabelled, seen_vocabulary


def make_open_vocabulary(dataset_dict, split: str | OpenVocabularySplit = "avsbench-ov"):
    """The open-vocabulary version of an AVSBench-schema ``DatasetDict`` (built by :mod:`tavis_hf.data`, with
    semantic masks): ``train``/``val`` relabelled to the seen classes (``train`` without clips left empty), ``test``
    with the full vocabulary, the split recorded in every split's build record (module docstring).

    Args:
        dataset_dict: a ``DatasetDict`` from :func:`~tavis_hf.data.load_avsbench` or
            :func:`~tavis_hf.data.make_synthavs`.
        split: ``"avsbench-ov"`` (OV-AVSS), ``"synthavs-ov"``, a JSON file path or an :class:`OpenVocabularySplit`.

    Raises:
        ValueError: the dataset has no semantic masks or already carries a split, or the split does not fit its
            class vocabulary.
    """
    import datasets

    from .avsbench import avsbench_build_info

    split = resolve_open_vocabulary_split(split)
    result = {}
    for name, dataset in dataset_dict.items():
        info = avsbench_build_info(dataset)
        if "open_vocabulary" in info:
            raise ValueError(f"split {name!r} already carries the open-vocabulary split {info['open_vocabulary']}")
        if dataset.num_rows and not dataset[0]["semantic_masks"]:
            raise ValueError("an open-vocabulary split needs semantic_masks (class labels); this dataset has none")
        class_names = list(dataset.features["class_ids"].feature.names)
        split.check_vocabulary(class_names)
        record = {"name": split.name, "source": split.source, "seen_classes": split.seen_classes(class_names),
                  "unseen_classes": list(split.unseen_classes), "vocabulary": "all"}  # fmt: skip
        if name != "test":
            dataset, class_names = _seen_only(dataset, split, class_names, drop_empty=name == "train")
            record["vocabulary"] = "seen"
        else:
            dataset = dataset.select(range(dataset.num_rows))  # a new Dataset (own info); the input stays unchanged
        info.update(class_names=class_names, num_classes=len(class_names), open_vocabulary=record)
        dataset.info.description = json.dumps(info)
        result[name] = dataset
    return datasets.DatasetDict(result)


def open_vocabulary_info(dataset) -> dict:
    """The ``open_vocabulary`` entry of a split's build record (``name``, ``source``, ``seen_classes``,
    ``unseen_classes``, ``vocabulary``).

    Raises:
        ValueError: the dataset was not made by :func:`make_open_vocabulary`.
    """
    from .avsbench import avsbench_build_info

    try:
        return avsbench_build_info(dataset)["open_vocabulary"]
    except (ValueError, KeyError) as error:
        raise ValueError(
            "this dataset has no open-vocabulary split; build it with `tavis-hf build-dataset --open-vocabulary` "
            "or tavis_hf.data.make_open_vocabulary"
        ) from error
