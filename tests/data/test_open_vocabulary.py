"""The open-vocabulary (zero-shot) split of an AVSBench-schema DatasetDict (tavis_hf.data.open_vocabulary): the
published AVSBench-OV classes, train/val relabelled to the seen classes, test kept whole, split files."""

import json

import numpy as np
import pytest

from tavis_hf.data import (
    AVSBENCH_CLASSES,
    AVSBENCH_OV_UNSEEN_CLASSES,
    OPEN_VOCABULARY_SPLITS,
    SYNTHAVS_OV_UNSEEN_CLASSES,
    make_open_vocabulary,
    make_synthavs,
    open_vocabulary_info,
    resolve_open_vocabulary_split,
)

# The two id lists of OV-AVSS's scores_gzsl call (ruohaoguo/ovavss@baa883c, demo_video/test_net_video_avsbench_r50.py).
OVAVSS_SEEN_IDS = [2, 4, 6, 7, 8, 9, 10, 11, 12, 16, 17, 18, 19, 20, 21, 26, 27, 28, 29, 31, 35, 36, 37, 38, 40, 41, 43,
                   44, 46, 47, 48, 52, 55, 58, 59, 60, 62, 63, 67, 70]  # fmt: skip
OVAVSS_UNSEEN_IDS = [1, 3, 5, 13, 14, 15, 22, 23, 24, 25, 30, 32, 33, 34, 39, 42, 45, 49, 50, 51, 53, 54, 56, 57, 61, 64,
                     65, 66, 68, 69]  # fmt: skip


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    """SynthAVS multi-source clips at 32 px and their open-vocabulary version (synthavs-ov)."""
    cache = tmp_path_factory.mktemp("synth_ov") / "cache"
    dataset = make_synthavs({"train": 8, "val": 2, "test": 3}, image_size=32, mode="multi", cache_dir=cache)
    return dataset, make_open_vocabulary(dataset, "synthavs-ov")


def _class_maps(dataset) -> list[np.ndarray]:
    return [np.stack([np.asarray(m) for m in example["semantic_masks"]]) for example in dataset]


def test_avsbench_ov_is_the_ovavss_split():
    split = OPEN_VOCABULARY_SPLITS["avsbench-ov"]
    assert AVSBENCH_OV_UNSEEN_CLASSES == tuple(AVSBENCH_CLASSES[i] for i in OVAVSS_UNSEEN_IDS)
    assert split.seen_classes(AVSBENCH_CLASSES) == [AVSBENCH_CLASSES[i] for i in OVAVSS_SEEN_IDS]
    assert "ruohaoguo/ovavss@baa883c" in split.source


def test_train_and_val_hold_only_seen_classes(synth):
    dataset, open_vocabulary = synth
    unseen_ids = [dataset["train"].features["class_ids"].feature.names.index(n) for n in SYNTHAVS_OV_UNSEEN_CLASSES]
    seen_vocabulary = ["background", *OPEN_VOCABULARY_SPLITS["synthavs-ov"].seen_classes(
        dataset["train"].features["class_ids"].feature.names)]  # fmt: skip
    for name in ("train", "val"):
        split = open_vocabulary[name]
        assert split.features["class_ids"].feature.names == seen_vocabulary
        info = open_vocabulary_info(split)
        assert info["vocabulary"] == "seen" and info["unseen_classes"] == list(SYNTHAVS_OV_UNSEEN_CLASSES)
        assert not set(seen_vocabulary) & set(info["unseen_classes"])
    kept = [i for i, ids in enumerate(dataset["train"]["class_ids"]) if set(ids) - set(unseen_ids)]
    assert 0 < len(kept) < dataset["train"].num_rows  # this seed has clips with only unseen classes: dropped
    assert open_vocabulary["train"]["uid"] == [dataset["train"][i]["uid"] for i in kept]
    names = dataset["train"].features["class_ids"].feature.names
    for i, new_maps in zip(kept, _class_maps(open_vocabulary["train"])):
        old_maps = _class_maps(dataset["train"].select([i]))[0]
        expected = np.vectorize(lambda c: seen_vocabulary.index(names[c]) if names[c] in seen_vocabulary else 0)
        np.testing.assert_array_equal(new_maps, expected(old_maps))
        binary = np.stack([np.asarray(m) for m in open_vocabulary["train"][kept.index(i)]["masks"]])
        np.testing.assert_array_equal(binary > 0, new_maps > 0)  # unseen objects are no binary target either


def test_test_split_keeps_the_full_vocabulary(synth):
    dataset, open_vocabulary = synth
    test = open_vocabulary["test"]
    assert test.features["class_ids"].feature.names == dataset["test"].features["class_ids"].feature.names
    assert test["class_ids"] == dataset["test"]["class_ids"]
    assert open_vocabulary_info(test)["vocabulary"] == "all"
    with pytest.raises(ValueError, match="no open-vocabulary split"):
        open_vocabulary_info(dataset["test"])


def test_split_files_and_bad_splits(synth, tmp_path):
    dataset, open_vocabulary = synth
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"unseen_classes": ["siren"], "source": "a test"}))
    split = resolve_open_vocabulary_split(str(path))
    assert (split.name, split.unseen_classes, split.source) == ("mine", ("siren",), "a test")
    assert make_open_vocabulary(dataset, split)["val"].features["class_ids"].feature.names.count("siren") == 0
    with pytest.raises(FileNotFoundError, match="neither a known split"):
        resolve_open_vocabulary_split(str(tmp_path / "absent.json"))
    path.write_text(json.dumps({"unseen": ["siren"]}))
    with pytest.raises(ValueError, match="'unseen_classes'"):
        resolve_open_vocabulary_split(str(path))
    with pytest.raises(ValueError, match="lacks"):
        make_open_vocabulary(dataset, "avsbench-ov")  # AVSBench names on SynthAVS
    with pytest.raises(ValueError, match="already carries"):
        make_open_vocabulary(open_vocabulary, "synthavs-ov")
