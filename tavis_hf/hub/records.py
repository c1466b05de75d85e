"""Evaluation records: the scores a model card shows, as plain dicts.

Evaluation results enter cards as *evaluation records*, plain dicts (what `tavis-hf evaluate --output` writes). The
minimal shape::

    {
        "dataset": {"name": "AVSBench-object", "type": "avsbench", "config": "s4", "split": "test"},
        "protocol": {"name": "tavis_release", "videos_per_batch": 1},
        "metrics": {"jaccard": 0.8812, "fmeasure": 0.9325},
    }

and the optional keys `command` (the command line that produced it; shown in the card), `tavis_hf_version`,
`model` (`name_or_path` and `fingerprint`: `weights_fingerprint` of the evaluated folder; a card refuses a record
made on other weights), `dataset.num_videos`, `num_videos`, `num_frames` and `shuffled_audio` (the listening
control: `{"seed", "metrics": {...}, "drop": {...}}`, the same clips scored with every clip given another clip's
soundtrack). A *listening record* (`tavis-hf evaluate --protocol listening`, `tavis_hf.listening`) has protocol name
`"listening"`, its own-audio `metrics`, a `conditions` table (one row per sound condition) and the file name of its
`chart` (a PNG next to the record); cards show it in a section of its own, outside the results table and the
`model-index`. A *zero-shot record* (`--protocol zero-shot`, `tavis_hf.zero_shot`) also carries `open_vocabulary`
(the split's `name`, `source`, `seen_classes` and `unseen_classes`); cards add a section for it.

Other records become the card's `model-index` (`huggingface_hub.EvalResult`, metric `config` = protocol name, metric `args` =
the protocol's options). The newer `.eval_results/*.yaml` format is not written: it requires the benchmark dataset to
be a Hub dataset, and AVSBench is not on the Hub.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .facts import _read_json_object

METRIC_NAMES = {
    "jaccard": "M_J (mIoU)",
    "fmeasure": "M_F (F-measure, beta^2 = 0.3)",
    "miou": "mIoU (71 classes)",
    "fscore": "F-score (71 classes, beta^2 = 0.3)",
    "miou_unseen": "mIoU, unseen classes (zero-shot M_J)",
    "miou_seen": "mIoU, seen classes",
    "miou_harmonic": "mIoU, harmonic mean of seen and unseen",
    "fscore_unseen": "F-score, unseen classes",
    "fscore_seen": "F-score, seen classes",
    "fscore_harmonic": "F-score, harmonic mean of seen and unseen",
}
"""Display names of the metric keys produced by `tavis_hf.metrics`; other keys are shown as they are."""


@dataclass
class _Metric:
    key: str
    name: str
    value: float


@dataclass
class _ShuffledRow:
    name: str
    own: float
    shuffled: float
    drop: float


@dataclass
class _ListeningRow:
    name: str
    ideal: str | None
    jaccard: float | None
    fmeasure: float | None
    empty_prediction_fraction: float | None
    false_positive_area: float | None
    false_positive_frames: int
    num_videos: int
    skipped_videos: int


@dataclass
class _Record:
    dataset_name: str
    dataset_type: str
    dataset_config: str | None
    dataset_split: str | None
    protocol_name: str
    protocol_args: dict[str, Any]
    metrics: list[_Metric] = field(default_factory=list)
    command: str | None = None
    origin: str | None = None
    size: str | None = None
    version: str | None = None
    fingerprint: str | None = None
    shuffled_seed: Any = None
    shuffled: list[_ShuffledRow] = field(default_factory=list)
    conditions: list[_ListeningRow] = field(default_factory=list)
    chart: str | None = None
    open_vocabulary: dict[str, Any] | None = None

    @property
    def values(self) -> dict[str, float]:
        """Metric key -> value."""
        return {metric.key: metric.value for metric in self.metrics}

    @property
    def label(self) -> str:
        return " ".join(str(p) for p in (self.dataset_name, self.dataset_config, self.dataset_split) if p)


def _number(where: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{where}: metric {key!r} must be a number, got {value!r}")
    return float(value)


def _parse_shuffled(where: str, control: Any, metrics: list[_Metric]) -> list[_ShuffledRow]:
    """Rows of the listening control: own-audio value, shuffled-audio value and drop of each metric scored in both."""
    if not isinstance(control, dict) or not isinstance(control.get("metrics"), dict):
        raise ValueError(f"{where}: shuffled_audio must be a dict with a 'metrics' dict (and optional 'seed', 'drop')")
    drops = control.get("drop") or {}
    if not isinstance(drops, dict):
        raise ValueError(f"{where}: shuffled_audio.drop must be a dict of metric name -> value")
    rows = []
    for metric in metrics:
        if metric.key not in control["metrics"]:
            continue
        shuffled = _number(f"{where} shuffled_audio", metric.key, control["metrics"][metric.key])
        drop = drops.get(metric.key, metric.value - shuffled)
        rows.append(_ShuffledRow(metric.name, metric.value, shuffled, _number(f"{where} drop", metric.key, drop)))
    if not rows:
        raise ValueError(f"{where}: shuffled_audio.metrics shares no metric with the record's metrics")
    return rows


def _parse_conditions(where: str, conditions: Any) -> list[_ListeningRow]:
    """The rows of a listening record's `conditions` (`tavis_hf.listening`): figures are numbers or None."""
    if not isinstance(conditions, list) or not conditions or not all(isinstance(row, dict) for row in conditions):
        raise ValueError(f"{where}: conditions must be a non-empty list of dicts (one per sound condition)")
    figures = ("jaccard", "fmeasure", "empty_prediction_fraction", "false_positive_area")
    rows = []
    for row in conditions:
        if not isinstance(row.get("name"), str) or not row["name"]:
            raise ValueError(f"{where}: every condition needs a name, got {row.get('name')!r}")
        values = {key: None if row.get(key) is None else _number(f"{where} {row['name']}", key, row[key])
                  for key in figures}  # fmt: skip
        counts = {key: int(row.get(key) or 0) for key in ("false_positive_frames", "num_videos", "skipped_videos")}
        rows.append(_ListeningRow(name=row["name"], ideal=row.get("ideal"), **values, **counts))
    return rows


def _parse_open_vocabulary(where: str, split: Any) -> dict[str, Any] | None:
    """A zero-shot record's `open_vocabulary` (`name`, `source`, `seen_classes`, `unseen_classes`), checked."""
    if split is None:
        return None
    lists = ("seen_classes", "unseen_classes")
    if not isinstance(split, dict) or not all(isinstance(split.get(key), list) for key in lists):
        raise ValueError(f"{where}: open_vocabulary must be a dict with 'seen_classes' and 'unseen_classes' lists")
    return split


def _record_size(record: dict[str, Any]) -> str | None:
    videos = record.get("num_videos", record["dataset"].get("num_videos"))
    frames = record.get("num_frames")
    parts = [f"{videos} video{'s' * (videos != 1)}" if videos is not None else None]
    parts.append(f"{frames} frame{'s' * (frames != 1)}" if frames is not None else None)
    return ", ".join(p for p in parts if p) or None


def _parse_record(record: dict[str, Any], index: int) -> _Record:
    where = f"evaluation record {index}"
    if not isinstance(record, dict):
        raise TypeError(f"{where} must be a dict, got {type(record).__name__}")
    missing = [key for key in ("dataset", "protocol", "metrics") if key not in record]
    if missing:
        raise ValueError(f"{where} lacks the key(s) {missing}; expected 'dataset', 'protocol' and 'metrics'")
    dataset, protocol, metrics = record["dataset"], record["protocol"], record["metrics"]
    for key in ("name", "type"):
        if not isinstance(dataset.get(key), str) or not dataset[key]:
            raise ValueError(f"{where}: dataset.{key} must be a non-empty string, got {dataset.get(key)!r}")
    if not isinstance(protocol.get("name"), str) or not protocol["name"]:
        raise ValueError(f"{where}: protocol.name must be a non-empty string, got {protocol.get('name')!r}")
    if not isinstance(metrics, dict) or not metrics:
        raise ValueError(f"{where}: metrics must be a non-empty dict of metric name -> value")
    parsed = [_Metric(key=k, name=METRIC_NAMES.get(k, k), value=_number(where, k, v)) for k, v in metrics.items()]
    model = record.get("model") or {}
    if not isinstance(model, dict):
        raise ValueError(f"{where}: model must be a dict with 'name_or_path' and 'fingerprint', got {model!r}")
    for key, value in (("command", record.get("command")), ("model.fingerprint", model.get("fingerprint"))):
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise ValueError(f"{where}: {key} must be a non-empty string, got {value!r}")
    control, chart = record.get("shuffled_audio"), record.get("chart")
    if chart is not None and (not isinstance(chart, str) or not chart or Path(chart).name != chart):
        raise ValueError(f"{where}: chart must be the name of a file next to the record, got {chart!r}")
    return _Record(
        dataset_name=dataset["name"],
        dataset_type=dataset["type"],
        dataset_config=dataset.get("config"),
        dataset_split=dataset.get("split"),
        protocol_name=protocol["name"],
        protocol_args={k: v for k, v in protocol.items() if k != "name"},
        metrics=parsed,
        command=record.get("command"),
        size=_record_size(record),
        version=record.get("tavis_hf_version"),
        fingerprint=model.get("fingerprint"),
        shuffled_seed=control.get("seed") if isinstance(control, dict) else None,
        shuffled=_parse_shuffled(where, control, parsed) if control is not None else [],
        conditions=_parse_conditions(where, record["conditions"]) if "conditions" in record else [],
        chart=chart,
        open_vocabulary=_parse_open_vocabulary(where, record.get("open_vocabulary")),
    )


def eval_record_from_metric(
    result: dict[str, Any],
    *,
    dataset_name: str,
    dataset_type: str = "avsbench",
    dataset_config: str | None = None,
) -> dict[str, Any]:
    """Turn `tavis_hf.metrics.AVSBenchMetric.compute()` output into an evaluation record for the card.

    Only the headline metrics go into the record (`jaccard`/`fmeasure`, `miou`/`fscore` for AVSS, the seen/unseen/
    harmonic `miou_*`/`fscore_*` for `tavis_hf.zero_shot`); the protocol options (`score_space`, `videos_per_batch`,
    `gt_source`, `include_padding_frames`, and the zero-shot `class_scoring` and `open_vocabulary` split name) become
    the protocol's args.
    """
    headline = [key for key in METRIC_NAMES if key in result]
    if not headline or "protocol" not in result:
        raise ValueError(f"not an AVSBenchMetric result (no protocol or headline metric): keys {sorted(result)}")
    options = ("score_space", "videos_per_batch", "gt_source", "include_padding_frames", "class_scoring",
               "open_vocabulary")  # fmt: skip
    record = {
        "dataset": {"name": dataset_name, "type": dataset_type, "config": dataset_config, "split": result.get("split")},
        "protocol": {"name": result["protocol"], **{k: result[k] for k in options if result.get(k) is not None}},
        "metrics": {key: float(result[key]) for key in headline},
    }
    record.update({k: result[k] for k in ("num_videos", "num_frames") if k in result})
    return record


def _is_record(data: Any) -> bool:
    return isinstance(data, dict) and "dataset" in data and "metrics" in data


def folder_eval_records(folder: str | Path) -> list[dict[str, Any]]:
    """The evaluation records stored in a model folder: every `evaluation*.json` (sorted by name) that holds a record
    or a list of records (JSON objects with `dataset` and `metrics`); other files of that name are ignored."""
    return [record for path in sorted(Path(folder).glob("evaluation*.json")) for record in folder_eval_records_in(path)]


def folder_eval_records_in(path: Path) -> list[dict[str, Any]]:
    """The evaluation record(s) one `evaluation*.json` file holds; `[]` when it holds something else."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON: {error}") from error
    items = data if isinstance(data, list) else [data]
    return items if items and all(_is_record(item) for item in items) else []


def subset_identity(subset: str | None) -> dict[str, str | None]:
    """`{"name", "type", "config"}` of a `tavis_hf.data` subset (`"s4"`, `"v2"`, `"synth-ms3"`, ...) as records and
    cards name it: SynthAVS (`synthavs`), AVSBench-object (S4, MS3) or AVSBench-semantic (`avsbench`)."""
    subset = subset or ""
    if subset.startswith("synth"):
        return {"name": "SynthAVS", "type": "synthavs", "config": subset}
    name = "AVSBench-object" if subset in ("s4", "ms3") else "AVSBench-semantic"
    return {"name": name, "type": "avsbench", "config": subset or None}


def _training_record(folder: Path) -> _Record | None:
    """The end-of-training test scores of `training_metrics.json` as a record (needs the recipe's subset)."""
    recipe = _read_json_object(folder / "training_recipe.json") or {}
    metrics = _read_json_object(folder / "training_metrics.json") or {}
    test, subset = metrics.get("test"), recipe.get("subset")
    if not isinstance(test, dict) or not subset:
        return None
    identity = subset_identity(subset)
    try:
        record = eval_record_from_metric(test, dataset_name=identity["name"], dataset_type=identity["type"],
                                         dataset_config=subset)  # fmt: skip
    except ValueError:
        return None
    control = test.get("shuffled_audio")
    if isinstance(control, dict):
        shared = {key: control[key] for key in record["metrics"] if key in control}
        record["shuffled_audio"] = {"seed": control.get("audio_shuffled_across_clips_seed"), "metrics": shared}
    parsed = _parse_record(record, 0)
    parsed.origin = (
        "scored by `examples/train_tavis.py` on the test split at the end of training (`training_metrics.json`)"
    )
    return parsed
