"""Evaluation records shared by tests/hub and tests/cli."""

S4_RECORD = {
    "dataset": {"name": "AVSBench-object", "type": "avsbench", "config": "s4", "split": "test"},
    "protocol": {"name": "tavis_release", "score_space": "logits", "videos_per_batch": 1},
    "metrics": {"jaccard": 0.8125, "fmeasure": 0.90625},
}
MS3_RECORD = {
    "dataset": {"name": "AVSBench-object", "type": "avsbench", "config": "ms3", "split": "test"},
    "protocol": {"name": "avsbench", "score_space": "sigmoid", "videos_per_batch": 4},
    "metrics": {"jaccard": 0.625, "fmeasure": 0.75},
}
