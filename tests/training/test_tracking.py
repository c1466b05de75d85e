"""tavis_hf.training.tracking: the --report-to check and the offline JSONL tracker."""

import json

import pytest

from tavis_hf.training import JSONLTracker, requested_trackers


def test_requested_trackers():
    assert requested_trackers("none") == [] and requested_trackers("") == []
    assert requested_trackers("jsonl") == ["jsonl"]
    with pytest.raises(ValueError, match=r"trackers \['no-such-tracker'\] are not installed"):
        requested_trackers("jsonl,no-such-tracker")


def test_jsonl_tracker_writes_one_object_per_log(tmp_path):
    import torch

    tracker = JSONLTracker("run", tmp_path)
    tracker.store_init_configuration({"seed": 1})
    tracker.log({"loss": torch.tensor(0.5), "lr": 1e-3}, step=3)
    tracker.log({"loss": 0.25}, step=4)
    lines = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == [{"step": 3, "loss": 0.5, "lr": 1e-3}, {"step": 4, "loss": 0.25}]
    assert json.loads((tmp_path / "run" / "config.json").read_text()) == {"seed": 1}
