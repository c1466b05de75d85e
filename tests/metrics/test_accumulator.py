"""AVSBenchMetric protocols, the `evaluate` module (offline) and the optional official-code comparison."""

import ast
import functools
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from tavis_hf.metrics import AVS_METRICS_PATH, AVSBenchMetric, batch_fmeasure, batch_jaccard
from tavis_hf.metrics.functional import semantic_batch_stats, semantic_miou_fscore

from ..parity import HOW_TO_ENABLE


def _videos(seed, b=7, t=5, h=12, w=10):
    g = torch.Generator().manual_seed(seed)
    target = (torch.rand(b, t, h, w, generator=g) < 0.3).long()
    target[1] = 0  # an all-empty video
    target[-1, 3] = 0  # an empty frame
    logits = torch.randn(b, t, h, w, generator=g) * 2 + target * 1.5
    return logits, target


@pytest.mark.parametrize("vpb", [1, 2, 4, 7, 10])
def test_avsbench_protocol_groups_videos_into_batches(vpb):
    logits, target = _videos(0)
    metric = AVSBenchMetric("avsbench", videos_per_batch=vpb)
    metric.update(logits[:3], target[:3])  # update boundaries need not match batch boundaries
    metric.update(logits[3:], target[3:])
    result = metric.compute()
    starts = range(0, 7, vpb)
    jac = [batch_jaccard(logits[s : s + vpb].flatten(0, 1), target[s : s + vpb].flatten(0, 1)) for s in starts]
    fm = [batch_fmeasure(logits[s : s + vpb].flatten(0, 1), target[s : s + vpb].flatten(0, 1)) for s in starts]
    assert result["jaccard"] == pytest.approx(np.mean(jac), abs=1e-6)
    assert result["fmeasure"] == pytest.approx(np.mean(fm), abs=1e-6)
    assert result["num_batches"] == len(jac) and result["num_frames"] == 35 and result["score_space"] == "sigmoid"


def test_tavis_release_uses_logits_per_video():
    logits, target = _videos(1)
    metric = AVSBenchMetric("tavis_release", gt_source="semantic", split="test")
    metric.update(logits, target)
    result = metric.compute()
    fm = [batch_fmeasure(logits[i], target[i], apply_sigmoid=False) for i in range(7)]
    assert result["fmeasure"] == pytest.approx(np.mean(fm), abs=1e-6)
    assert result["score_space"] == "logits" and result["videos_per_batch"] == 1 and result["gt_source"] == "semantic"
    assert fm[1] == 0.0  # the all-empty video contributes F = 0


def test_per_label_report_for_binary_protocols():
    logits, target = _videos(5, b=4)
    metric = AVSBenchMetric("avsbench", videos_per_batch=4)
    metric.update(logits, target, labels=["dog", "piano", "dog", "piano"])
    report = {row["name"]: row for row in metric.per_class_report()}
    dog = torch.cat([logits[0], logits[2]]), torch.cat([target[0], target[2]])
    assert report["dog"]["videos"] == 2 and report["dog"]["frames"] == 10
    assert report["dog"]["jaccard"] == pytest.approx(batch_jaccard(*dog), abs=1e-6)
    expected_f = (batch_fmeasure(logits[0], target[0]) + batch_fmeasure(logits[2], target[2])) / 2
    assert report["dog"]["fmeasure"] == pytest.approx(expected_f, abs=1e-6)
    unlabelled = AVSBenchMetric("avsbench", videos_per_batch=1)
    unlabelled.update(logits, target)
    with pytest.raises(ValueError, match="labels"):
        unlabelled.per_class_report()


def test_annotated_flags_skip_frames():
    logits, target = _videos(2, b=2)
    annotated = torch.tensor([[1, 0, 0, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)
    metric = AVSBenchMetric("avsbench", videos_per_batch=2)
    metric.update(logits, target, annotated=annotated)
    frames = torch.cat([logits[0, :1], logits[1]]), torch.cat([target[0, :1], target[1]])
    assert metric.compute()["jaccard"] == pytest.approx(batch_jaccard(*frames), abs=1e-6)
    assert metric.num_frames == 6


def test_avss_protocol_and_report():
    g = torch.Generator().manual_seed(3)
    logits = torch.randn(3, 4, 6, 5, 5, generator=g)
    target = torch.randint(0, 6, (3, 4, 5, 5), generator=g)
    names = [f"c{i}" for i in range(6)]
    metric = AVSBenchMetric("avss", num_classes=6, class_names=names)
    metric.update(logits[:1], target[:1])
    metric.update(logits[1:], target[1:])
    result = metric.compute()
    expected = semantic_miou_fscore(*semantic_batch_stats(logits.flatten(0, 1), target.flatten(0, 1)))
    assert (result["miou"], result["fscore"]) == (
        pytest.approx(expected[0], abs=1e-6),
        pytest.approx(expected[1], abs=1e-6),
    )
    report = metric.per_class_report()
    assert [r["name"] for r in report] == names
    assert np.mean([r["iou"] for r in report]) == pytest.approx(result["miou"], abs=1e-6)


def test_avss_padding_frames():
    # 19: a padding frame predicted all background adds IoU 1 to class 0; one pixel of class 5 adds n_5 += 1.
    target = torch.zeros(1, 2, 2, 2, dtype=torch.int64)
    target[0, 0, 0, 0] = 3
    pred = target.clone()
    pred[0, 1, 1, 1] = 5
    pred[0, 1, 0, 0] = 2  # garbage target on the padding frame is replaced by background
    annotated = torch.tensor([[True, False]])
    padded = AVSBenchMetric("avss", num_classes=6, include_padding_frames=True)
    garbage = target.clone()
    garbage[0, 1] = 4
    padded.update(pred, garbage, annotated=annotated)
    skipped = AVSBenchMetric("avss", num_classes=6)
    skipped.update(pred, target, annotated=annotated)
    assert padded.num_frames == 2 and skipped.num_frames == 1
    counts = {r["class_id"]: r["frames"] for r in padded.per_class_report()}
    assert counts[5] == 1 and counts[0] == 2
    assert {r["class_id"]: r["frames"] for r in skipped.per_class_report()}[5] == 0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"protocol": "avsbench"}, "videos_per_batch"),
        ({"protocol": "tavis_release", "videos_per_batch": 4}, "one video"),
        ({"protocol": "avss", "videos_per_batch": 1}, "does not apply"),
        ({"protocol": "nope"}, "unknown protocol"),
        ({"protocol": "avsbench", "videos_per_batch": 1, "include_padding_frames": True}, "avss"),
    ],
)
def test_protocol_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        AVSBenchMetric(**kwargs)


def test_compute_without_updates_raises():
    with pytest.raises(ValueError, match="no videos"):
        AVSBenchMetric("avsbench", videos_per_batch=1).compute()


def test_evaluate_module_offline(monkeypatch):
    evaluate = pytest.importorskip("evaluate")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    logits, target = _videos(4, b=3, h=6, w=5)
    module = evaluate.load(str(AVS_METRICS_PATH), config_name="avsbench")
    result = module.compute(predictions=list(logits.numpy()), references=list(target.numpy()), videos_per_batch=2)
    direct = AVSBenchMetric("avsbench", videos_per_batch=2)
    direct.update(logits, target)
    assert result["jaccard"] == pytest.approx(direct.compute()["jaccard"], abs=1e-7)
    assert result["fmeasure"] == pytest.approx(direct.compute()["fmeasure"], abs=1e-7)
    semantic = evaluate.load(str(AVS_METRICS_PATH), config_name="avss")
    for pred, ref in zip(target.numpy(), (target * 2).numpy()):
        semantic.add(predictions=pred, references=ref)
    assert semantic.compute(num_classes=3)["num_frames"] == 15


# ---------------------------------------------------------------- optional: the official AVSBench code


def _load_official(src: Path, relpath: str, names: list[str]) -> dict:
    """Execute only the named top-level functions of an official file (its module imports cv2/torchvision)."""
    tree = ast.parse((src / relpath).read_text())
    nodes = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in names]
    namespace = {"torch": torch, "os": os}
    exec(compile(ast.Module(body=nodes, type_ignores=[]), relpath, "exec"), namespace)
    return namespace


@pytest.mark.skipif(
    "AVSBENCH_OFFICIAL_SRC" not in os.environ,
    reason=f"set AVSBENCH_OFFICIAL_SRC to an AVSBench checkout: {HOW_TO_ENABLE}",
)
def test_matches_official_code(tmp_path, parity_record):
    src = Path(os.environ["AVSBENCH_OFFICIAL_SRC"])
    binary = _load_official(src, "avs_scripts/avs_s4/utils/utility.py", ["mask_iou", "_eval_pr", "Eval_Fmeasure"])
    binary["_eval_pr"] = functools.partial(binary["_eval_pr"], cuda_flag=False)
    color = _load_official(
        src, "avs_scripts/avss/utils/compute_color_metrics.py", ["_batch_miou_fscore", "calc_color_miou_fscore"]
    )
    rng = np.random.default_rng(0)
    worst = 0.0
    for case in range(40):
        n, h, w = int(rng.integers(1, 21)), int(rng.integers(3, 40)), int(rng.integers(3, 40))
        target = torch.from_numpy((rng.random((n, h, w)) < rng.uniform(0.05, 0.6)).astype(np.float32))
        target[: int(rng.integers(0, n + 1))] = 0  # empty GTs, sometimes all
        logits = torch.from_numpy((rng.normal(size=(n, h, w)) * 3).astype(np.float32)) + target * 2
        if case % 5 == 4:
            logits = logits.abs() + 1  # all-positive predictions
        worst = max(worst, abs(batch_jaccard(logits, target) - binary["mask_iou"](logits, target).item()))
        worst = max(worst, abs(batch_fmeasure(logits, target) - binary["Eval_Fmeasure"](logits, target, str(tmp_path))))
        c = int(rng.integers(2, 72))
        sem_logits = torch.from_numpy(rng.normal(size=(n, c, h, w)).astype(np.float32))
        sem_target = torch.from_numpy(rng.integers(0, c, size=(n, h, w)))
        ours = semantic_batch_stats(sem_logits, sem_target)
        theirs = color["calc_color_miou_fscore"](sem_logits, sem_target)[:3]
        for a, b in zip(ours, theirs):
            worst = max(worst, (a - b).abs().max().item())
    print(f"max abs difference to the official AVSBench code: {worst:.3g}")
    parity_record.add("metrics/avsbench", worst)
    assert worst <= 1e-6


@pytest.mark.skipif(
    "TAVIS_OFFICIAL_SRC" not in os.environ, reason=f"set TAVIS_OFFICIAL_SRC to a TAViS checkout: {HOW_TO_ENABLE}"
)
def test_matches_official_tavis_release(parity_record):
    """The TAViS release's utility.py: J as AVSBench, F on raw logits (its sigmoid is commented out)."""
    tavis = _load_official(
        Path(os.environ["TAVIS_OFFICIAL_SRC"]), "utility.py", ["mask_iou", "_eval_pr", "Eval_Fmeasure"]
    )
    tavis["_eval_pr"] = functools.partial(tavis["_eval_pr"], cuda_flag=False)
    rng = np.random.default_rng(1)
    worst = 0.0
    for _ in range(30):
        n, h, w = 5, int(rng.integers(3, 40)), int(rng.integers(3, 40))
        target = torch.from_numpy((rng.random((n, h, w)) < rng.uniform(0.05, 0.6)).astype(np.float32))
        target[: int(rng.integers(0, n + 1))] = 0
        logits = torch.from_numpy(rng.normal(size=(n, h, w)).astype(np.float32)) + target
        worst = max(worst, abs(batch_jaccard(logits, target) - tavis["mask_iou"](logits, target).item()))
        ours = batch_fmeasure(logits, target, apply_sigmoid=False)
        worst = max(worst, abs(ours - tavis["Eval_Fmeasure"](logits, target)))
    print(f"max abs difference to the TAViS release code: {worst:.3g}")
    parity_record.add("metrics/tavis_release", worst)
    assert worst <= 1e-6
