"""Hub release tooling: model and dataset cards, release folders and publishing.

Two layers, as in the transformers/huggingface_hub examples:

- local work, fully testable offline: `model_card_from_folder` (every claim of the model card read from the model
  folder's own files, through `model_facts`, `make_model_card` and `render_card`, which renders model and dataset card
  templates alike) and `build_release_folder`, which writes `config.json`, sharded safetensors, the
  processor/tokenizer files, the training records and the card (`README.md`);
- one network step: `publish`, i.e. `HfApi.create_repo` + one `HfApi.upload_folder` commit (optionally as a pull
  request). `publish(..., dry_run=True)` returns the same plan without any network call.

Card templates and generator inputs live in the repository's `hub_card/` folder: `model_card_template.md`,
`citation.bib` (the TAViS paper) and `metric_protocols.json` (prose for each named metric protocol of
`tavis_hf.metrics`); `dataset_card_template.md` belongs to `tavis_hf.data`.

What a model folder may hold besides the weights, and what the card takes from each file (`model_facts`):

- `config.json`: the architecture (ImageBind towers, SAM 2 Hiera trunk, TAViS heads; "ImageBind-huge" and
  "SAM 2.0 Hiera-L" are named only when the config has exactly those dimensions), the parameter count (the model is
  built on the meta device: no weight is allocated), the input sizes, the classes and the temporal mode;
- `training_recipe.json` (`examples/train_tavis.py`): the training data (subset) and what was trained or frozen;
- `training_run.json` (`examples/train_tavis.py`): the command, the starting point (`model_preset` = a random
  initialisation, or `model_name_or_path`) and the number of clips of each split;
- `pretraining.json` (`examples/pretrain_imagebind_audio.py`): the ImageBind audio pretraining step (its arguments
  rebuild its command; its `model_preset` means a random initialisation);
- `training_metrics.json` (`examples/train_tavis.py`): the kept epoch and the end-of-training test scores (an
  evaluation record unless another record covers the same dataset, split and protocol);
- `evaluation*.json`: evaluation records (below; a file that holds no record, such as free-form notes, is ignored).

A folder without any training record and with exactly the configuration `tavis-hf convert --kind tavis` writes
(`TavisConfig.release()`) is taken for a conversion of the authors' released checkpoint; its base models are then
SAM 2.0 Hiera-L and ImageBind-huge. Nothing else is claimed about data or initialisation that no file records.

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
soundtrack).

They become the card's `model-index` (`huggingface_hub.EvalResult`, metric `config` = protocol name, metric `args` =
the protocol's options). The newer `.eval_results/*.yaml` format is not written: it requires the benchmark dataset to
be a Hub dataset, and AVSBench is not on the Hub.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from huggingface_hub import DatasetCard, DatasetCardData, EvalResult, HfApi, ModelCard, ModelCardData, RepoCard
from huggingface_hub.utils import DEFAULT_IGNORE_PATTERNS, filter_repo_objects, validate_repo_id


def _find_hub_card_dir() -> Path:
    # A wheel carries the repository's hub_card/ folder as tavis_hf/hub_card (pyproject's package-dir); a source
    # checkout or an editable install reads it where it is, next to the package.
    package = Path(__file__).resolve().parent
    for candidate in (package / "hub_card", package.parent / "hub_card"):
        if (candidate / "model_card_template.md").is_file():
            return candidate
    raise FileNotFoundError(f"tavis_hf's card templates (hub_card/) are missing next to {package}: reinstall tavis_hf")


HUB_CARD_DIR = _find_hub_card_dir()
"""The card templates and generator inputs (the repository's `hub_card/` folder, shipped as `tavis_hf/hub_card`)."""

MODEL_CARD_TEMPLATE = HUB_CARD_DIR / "model_card_template.md"
CITATION_FILE = HUB_CARD_DIR / "citation.bib"
METRIC_PROTOCOLS_FILE = HUB_CARD_DIR / "metric_protocols.json"

LICENSE = "cc-by-nc-sa-4.0"
"""Licence of every TAViS checkpoint: ImageBind, on which TAViS is built, is released under CC BY-NC-SA 4.0."""

BASE_MODEL = "facebook/sam2-hiera-large"
"""Hub id of SAM **2.0** Hiera-L, the SAM 2 of the authors' release (not SAM 2.1): a base model of the converted
release and of models fine-tuned from it, never of a model trained from a random initialisation."""

IMAGEBIND_URL = "https://github.com/facebookresearch/ImageBind"
"""Where ImageBind-huge is released (it is not on the Hub, so it cannot be a `base_model` id)."""

PIPELINE_TAG = "image-segmentation"
"""The Hub has no audio-visual segmentation task; per-frame masks make image segmentation the closest valid tag."""

TASK_TAG = "audio-visual-segmentation"

METRIC_NAMES = {
    "jaccard": "M_J (mIoU)",
    "fmeasure": "M_F (F-measure, beta^2 = 0.3)",
    "miou": "mIoU (71 classes)",
    "fscore": "F-score (71 classes, beta^2 = 0.3)",
}
"""Display names of the metric keys produced by `tavis_hf.metrics`; other keys are shown as they are."""

PROVENANCE_FILES = ("training_recipe.json", "training_run.json", "pretraining.json", "training_metrics.json")
"""Training records of a model folder: read by `model_facts`, copied into release folders by `build_release_folder`."""

_GLOB_CHARACTERS = set("*?[]")
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".ckpt")
"""Weight files `publish` refuses in a model folder (pickle-based formats)."""


def _read_required(path: Path, what: str) -> str:
    if not path.is_file():
        raise FileNotFoundError(
            f"{what} not found at {path}. The card templates ship with tavis_hf (package `tavis_hf.hub_card`, the "
            "repository's hub_card/ folder); pass an explicit path to use another file."
        )
    return path.read_text(encoding="utf-8")


def load_citation(path: str | Path = CITATION_FILE) -> str:
    """Return the BibTeX entry of the TAViS paper (stripped), read from `hub_card/citation.bib`."""
    return _read_required(Path(path), "Citation file").strip()


def _load_protocols(path: Path = METRIC_PROTOCOLS_FILE) -> dict[str, dict[str, str]]:
    return json.loads(_read_required(path, "Metric protocol descriptions"))


def weights_fingerprint(folder: str | Path) -> str:
    """Fingerprint of a saved model: `"sha256:"` + the SHA-256 of `config.json`'s bytes followed by the bytes of each
    `*.safetensors` file of `folder`, in sorted name order. Evaluation records carry it (`model.fingerprint`) so that
    a card never shows results measured on other weights."""
    folder = Path(folder)
    config = folder / "config.json"
    if not config.is_file():
        raise FileNotFoundError(f"{folder} is not a saved model folder (no config.json)")
    digest = hashlib.sha256()
    for path in [config, *sorted(folder.glob("*.safetensors"), key=lambda p: p.name)]:
        with path.open("rb") as file:
            for chunk in iter(lambda: file.read(1 << 20), b""):
                digest.update(chunk)
    return "sha256:" + digest.hexdigest()


# ---------------------------------------------------------------------------------------------- evaluation records
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
    control = record.get("shuffled_audio")
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
    )


def _eval_results(records: list[_Record]) -> list[EvalResult]:
    results = []
    for record in records:
        for metric in record.metrics:
            results.append(
                EvalResult(
                    task_type=PIPELINE_TAG,
                    task_name="Audio-Visual Segmentation",
                    dataset_type=record.dataset_type,
                    dataset_name=record.dataset_name,
                    dataset_config=record.dataset_config,
                    dataset_split=record.dataset_split,
                    metric_type=metric.key,
                    metric_name=metric.name,
                    metric_value=metric.value,
                    metric_config=record.protocol_name,
                    metric_args=record.protocol_args or None,
                )
            )
    return results


def eval_record_from_metric(
    result: dict[str, Any],
    *,
    dataset_name: str,
    dataset_type: str = "avsbench",
    dataset_config: str | None = None,
) -> dict[str, Any]:
    """Turn `tavis_hf.metrics.AVSBenchMetric.compute()` output into an evaluation record for the card.

    Only the headline metrics go into the record (`jaccard`/`fmeasure`, or `miou`/`fscore` for AVSS); the protocol
    options (`score_space`, `videos_per_batch`, `gt_source`, `include_padding_frames`) become the protocol's args.
    """
    headline = [key for key in METRIC_NAMES if key in result]
    if not headline or "protocol" not in result:
        raise ValueError(f"not an AVSBenchMetric result (no protocol or headline metric): keys {sorted(result)}")
    options = ("score_space", "videos_per_batch", "gt_source", "include_padding_frames")
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


# ---------------------------------------------------------------------------------------------------- model facts
@dataclass
class ModelFacts:
    """What a model card says about a TAViS checkpoint, each item derived from the model's own files.

    Built by `config_facts` (from a config alone) and `model_facts` (a folder: config plus training records).

    Attributes:
        architecture: one line; names "ImageBind-huge" / "SAM 2.0 Hiera-L" only when the config has those dimensions.
        components: `(label, value)` rows of the details table (towers, trunk, heads, classes).
        num_parameters: total parameter count of the model the config builds.
        image_size / imagebind_image_size: SAM 2 and ImageBind vision input sides in pixels.
        temporal: `"per-frame"` or `"tracking"` (`config.temporal`).
        num_classes: size of the class vocabulary, background included.
        preset: the `TavisConfig` preset whose architecture the config has (`tiny`, `release`, ...), or None.
        imagebind_huge / sam2_name: whether the towers are ImageBind-huge; "SAM 2.0 Hiera-L" etc. or None.
        origin: `"converted"` (the authors' release), `"scratch"` (random initialisation), `"finetuned"` or None
            (not recorded); origin_text says it in words, with the file that records it.
        base_models: Hub ids for the card's `base_model` metadata; base_model_names: every base model in words.
        training_data / training_data_kind: what the model was trained on (`"synthavs"`, `"avsbench"` or None).
        training_details, training_commands, training_notes: the training section (`(what, command)` pairs).
        has_processor: the folder has its processor.
    """

    architecture: str
    components: list[tuple[str, str]]
    num_parameters: int
    image_size: int
    imagebind_image_size: int
    temporal: str
    num_classes: int
    preset: str | None = None
    imagebind_huge: bool = False
    sam2_name: str | None = None
    origin: str | None = None
    origin_text: str | None = None
    base_models: list[str] = field(default_factory=list)
    base_model_names: list[str] = field(default_factory=list)
    training_data: str | None = None
    training_data_kind: str | None = None
    training_details: list[str] = field(default_factory=list)
    training_commands: list[tuple[str, str]] = field(default_factory=list)
    training_notes: list[str] = field(default_factory=list)
    has_processor: bool = True

    @property
    def embeds_imagebind_huge(self) -> bool:
        """The weights descend from the released ImageBind-huge (a base model says so)."""
        return any("ImageBind-huge" in name for name in self.base_model_names)

    @property
    def summary(self) -> str:
        """One sentence: architecture, input size, origin and training data."""
        what = f"the architecture of `TavisConfig.{self.preset}()`" if self.preset else "a custom architecture"
        sentence = f"A TAViS model with {what} ({self.image_size} px)"
        origin = {
            "scratch": "trained from a random initialisation",
            "converted": "converted from the authors' released TAViS weights",
        }.get(self.origin, (self.origin_text or "").split(" (per")[0].split(";")[0])
        if origin:
            sentence += f", {origin}"
        if self.training_data:
            data = self.training_data.split(" (")[0].split(",")[0]
            sentence += f" on {data}" if origin.startswith(("trained", "fine-tuned")) else f", trained on {data}"
        return sentence + "."


_TAVIS_PRESETS = ("tiny", "release", "paper", "official_reduced")
_HIERA_SIZES = {"tiny": "Hiera-T", "small": "Hiera-S", "base_plus": "Hiera-B+", "large": "Hiera-L"}
_RELEASE_FLAGS = ("imagebind_clip_normalize", "train_pseudo_text", "binary_prompt", "multimask_best_iou",
                  "object_score_suppression", "object_pointer_threshold", "temporal", "highlight_blur",
                  "loss_weight_binary_presence", "binary_presence_threshold")  # fmt: skip
SUBSET_DATA = {
    "s4": ("avsbench", "AVSBench-object S4 (single sound source, YouTube clips)"),
    "ms3": ("avsbench", "AVSBench-object MS3 (multiple sound sources, YouTube clips)"),
    "v1s": ("avsbench", "AVSBench-semantic v1s (single source, semantic labels, YouTube clips)"),
    "v1m": ("avsbench", "AVSBench-semantic v1m (multiple sources, semantic labels, YouTube clips)"),
    "v2": ("avsbench", "AVSBench-semantic v2 (AVSS, semantic labels, YouTube clips)"),
    "synth-s4": ("synthavs", "SynthAVS single-source (S4-like) synthetic clips"),
    "synth-ms3": ("synthavs", "SynthAVS multi-source (MS3-like) synthetic clips"),
    "synth-mixed": ("synthavs", "SynthAVS mixed synthetic clips (S4-like and MS3-like scenes alternating)"),
}
"""Training subsets (`TrainingRecipe.subset`) -> (kind, description) for the card."""


def _tower(tower) -> tuple[int, ...]:
    return tower.hidden_size, tower.intermediate_size, tower.num_hidden_layers, tower.num_attention_heads


def _imagebind_signature(imagebind) -> tuple:
    towers = (imagebind.vision_config, imagebind.text_config, imagebind.audio_config)
    return (*(_tower(t) for t in towers), imagebind.projection_dim)


def _sam2_signature(sam2) -> tuple:
    trunk, decoder = sam2.vision_config.backbone_config, sam2.mask_decoder_config
    lists = ("embed_dim_per_stage", "num_attention_heads_per_stage", "blocks_per_stage", "global_attention_blocks",
             "window_size_per_stage", "window_positional_embedding_background_size")  # fmt: skip
    sizes = ("memory_attention_hidden_size", "memory_attention_num_layers", "memory_attention_feed_forward_hidden_size",
             "memory_encoder_hidden_size", "memory_encoder_output_channels", "num_maskmem",
             "enable_occlusion_spatial_embedding", "enable_temporal_pos_encoding_for_object_pointers")  # fmt: skip
    return (
        *(tuple(getattr(trunk, name)) for name in lists),
        sam2.vision_config.fpn_hidden_size,
        (decoder.hidden_size, decoder.mlp_dim, decoder.num_attention_heads, decoder.num_hidden_layers),
        *(getattr(sam2, name) for name in sizes),
    )


def _tavis_signature(config) -> tuple:
    fields = ("image_size", "imagebind_image_size", "num_object_queries", "pseudo_text_length", "ibqd_num_layers",
              "ibqd_query_num_heads", "ibqd_refiner_num_heads", "ibqd_query_layers", "adapter_input_dim",
              "adapter_hidden_dim", "prompt_hidden_dim")  # fmt: skip
    return (*(getattr(config, name) for name in fields), _sam2_signature(config.sam2_config),
            _imagebind_signature(config.imagebind_config))  # fmt: skip


def _sam2_name(config) -> str | None:
    """ "SAM 2.0 Hiera-L" (etc.) when the SAM 2 config is exactly a released SAM 2 size at the config's image size."""
    from .models.tavis.configuration_tavis import TavisConfig, sam2_video_config_dict

    actual = _sam2_signature(config.sam2_config)
    for size, name in _HIERA_SIZES.items():
        for version in ("2.0", "2.1"):
            try:
                reference = sam2_video_config_dict(size, version, config.image_size)
            except ValueError:
                return None
            if _sam2_signature(TavisConfig(sam2_config=reference, image_size=config.image_size).sam2_config) == actual:
                return f"SAM {version} {name}"
    return None


def _preset(config) -> str | None:
    from .models.tavis.configuration_tavis import TavisConfig

    signature = _tavis_signature(config)
    return next((name for name in _TAVIS_PRESETS if _tavis_signature(getattr(TavisConfig, name)()) == signature), None)


def count_parameters(config) -> int:
    """Total parameter count of the `TavisModel` that `config` builds, built on the meta device (no memory for the
    weights: cheap for the 1.3B-parameter release model). Equals `model.num_parameters()` of the real model."""
    import torch

    from .models.tavis import TavisModel

    with torch.device("meta"):
        model = TavisModel(config)
    return sum(parameter.numel() for parameter in model.parameters())


def _slashes(values) -> str:
    return "/".join(str(v) for v in values)


def _components(config) -> list[tuple[str, str]]:
    imagebind, sam2 = config.imagebind_config, config.sam2_config
    trunk = sam2.vision_config.backbone_config
    towers = "; ".join(
        f"{name} {t.hidden_size} wide, {t.num_hidden_layers} blocks, {t.num_attention_heads} heads"
        for name, t in (("vision", imagebind.vision_config), ("text", imagebind.text_config),
                        ("audio", imagebind.audio_config))
    )  # fmt: skip
    classes = [name for i, name in sorted((int(k), v) for k, v in config.id2label.items()) if i != 0]
    shown = ", ".join(classes) if len(classes) <= 20 else f"{', '.join(classes[:20])}, …"
    return [
        ("ImageBind towers", f"{towers}; joint space {imagebind.projection_dim}"),
        ("SAM 2 image encoder", f"Hiera trunk: stage widths {_slashes(trunk.embed_dim_per_stage)}, blocks "
         f"{_slashes(trunk.blocks_per_stage)}, heads {_slashes(trunk.num_attention_heads_per_stage)}"),
        ("SAM 2 decoder and memory", f"width {sam2.mask_decoder_config.hidden_size}, "
         f"{sam2.memory_attention_num_layers} memory-attention layer(s), {sam2.num_maskmem} memory frames"),
        ("TAViS heads", f"{config.num_object_queries} object queries + 1 global (audio) prompt; "
         f"{config.ibqd_num_layers} IBQD layers ({config.ibqd_query_layers}); pseudo-text length "
         f"{config.pseudo_text_length}; audio-guided adaptors {config.adapter_input_dim} → {config.adapter_hidden_dim}"),
        ("Classes", f"{len(classes)} sounding classes + background: {shown}"),
    ]  # fmt: skip


def config_facts(config, *, num_parameters: int | None = None, has_processor: bool = True) -> ModelFacts:
    """The architecture facts of a `TavisConfig` (no provenance: see `model_facts` for a folder).

    `num_parameters` defaults to `count_parameters(config)`.
    """
    huge = _imagebind_signature(config.imagebind_config) == _imagebind_signature(_imagebind_huge())
    sam2_name = _sam2_name(config)
    preset = _preset(config)
    imagebind = "ImageBind-huge" if huge else "a custom-size ImageBind (towers below)"
    sam2 = sam2_name or "a custom-size SAM 2 (Hiera trunk below)"
    architecture = f"TAViS: {imagebind} + {sam2}, coupled through text (audio-guided adaptors, IBQD, pseudo-text)"
    if preset:
        architecture += f"; the architecture of `TavisConfig.{preset}()`"
    return ModelFacts(
        architecture=architecture,
        components=_components(config),
        num_parameters=count_parameters(config) if num_parameters is None else num_parameters,
        image_size=config.image_size,
        imagebind_image_size=config.imagebind_image_size,
        temporal=config.temporal,
        num_classes=len(config.id2label),
        preset=preset,
        imagebind_huge=huge,
        sam2_name=sam2_name,
        has_processor=has_processor,
    )


def _imagebind_huge():
    from .models.imagebind import ImageBindConfig

    return ImageBindConfig.imagebind_huge()


# ----------------------------------------------------------------------------------------------------- provenance
def _read_json_object(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON: {error}") from error
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold a JSON object, got {type(data).__name__}")
    return data


def _rebuilt_command(script: str, arguments: dict[str, Any]) -> str:
    """The command line that gives `script` the recorded `arguments` (argparse `vars`): None and False are left out,
    True is a bare flag."""
    parts = ["python", script]
    for key, value in arguments.items():
        if value is None or value is False:
            continue
        parts += [f"--{key}"] if value is True else [f"--{key}", str(value)]
    return shlex.join(parts)


def _authors_bases() -> tuple[list[str], list[str]]:
    return [BASE_MODEL], [f"SAM 2.0 Hiera-L ([{BASE_MODEL}](https://huggingface.co/{BASE_MODEL}))",
                          f"ImageBind-huge ([facebookresearch/ImageBind]({IMAGEBIND_URL}))"]  # fmt: skip


def _is_release_conversion(folder: Path, config) -> bool:
    """The folder holds weights with exactly the configuration `convert_tavis` writes (`TavisConfig.release()`)."""
    from .models.tavis.configuration_tavis import TavisConfig

    if not any(folder.glob("*.safetensors")) or _preset(config) != "release":
        return False
    release = TavisConfig.release()
    return all(getattr(config, name) == getattr(release, name) for name in _RELEASE_FLAGS)


def _origin(folder: Path, config, records: dict[str, Any], depth: int = 0) -> tuple:
    """(origin, origin_text, base model ids, base model names) of the model in `folder` (see `ModelFacts`)."""
    run, pretraining = records["training_run.json"] or {}, records["pretraining.json"]
    pretrain_preset = ((pretraining or {}).get("arguments") or {}).get("model_preset")
    if run.get("model_preset") or pretrain_preset:
        source = "training_run.json" if run.get("model_preset") else "pretraining.json"
        preset = run.get("model_preset") or pretrain_preset
        return "scratch", f"trained from a random initialisation (`TavisConfig.{preset}()`, per `{source}`)", [], []
    if run.get("model_name_or_path"):
        return _finetuned_origin(run, depth)
    if not any(records.values()) and _is_release_conversion(folder, config):
        text = ("the authors' released TAViS weights, converted with `tavis-hf convert --kind tavis` (exactly the "
                "release configuration, and no training record in the folder)")  # fmt: skip
        return ("converted", text, *_authors_bases())
    if records["training_recipe.json"]:
        return None, "trained with `examples/train_tavis.py`; its starting weights are not recorded", [], []
    return None, None, [], []


def _finetuned_origin(run: dict[str, Any], depth: int) -> tuple:
    """The origin of a model trained from `run["model_name_or_path"]`: a local folder's own records say where that
    one came from; a Hub id is the base model."""
    start = run["model_name_or_path"]
    text = f"fine-tuned from `{start}` (per `training_run.json`)"
    parent = Path(start)
    if (parent / "config.json").is_file() and depth < 3:
        from .models.tavis.configuration_tavis import TavisConfig

        records = {name: _read_json_object(parent / name) for name in PROVENANCE_FILES}
        origin, parent_text, ids, names = _origin(parent, TavisConfig.from_pretrained(parent), records, depth + 1)
        text += f"; that model: {parent_text}" if parent_text else "; that model's provenance is not recorded"
        return ("scratch" if origin == "scratch" else "finetuned"), text, ids, names
    if run.get("model_is_local_folder", False) or parent.exists():
        return "finetuned", text + f"; `{start}` is not here, so its provenance is unknown", [], []
    try:
        check_repo_id(start)
    except ValueError:
        return "finetuned", text + "; that model's provenance is not recorded here", [], []
    return "finetuned", text, [start], [f"[{start}](https://huggingface.co/{start})"]


def _training_data(records: dict[str, Any]) -> tuple[str | None, str | None]:
    """(training data in words, kind: "synthavs", "avsbench" or None), from the recipe, run and pretraining records."""
    recipe, run = records["training_recipe.json"] or {}, records["training_run.json"] or {}
    pretraining = records["pretraining.json"]
    parts, kind = [], None
    subset = recipe.get("subset")
    if subset:
        kind, text = SUBSET_DATA.get(subset, (None, "a dataset"))
        text += f", subset `{subset}`"
        clips = (run.get("num_clips") or {}).get("train")
        text += f", {clips} training clips" if clips else ""
        text += f", from `{run['dataset_name_or_path']}`" if run.get("dataset_name_or_path") else ""
        parts.append(text)
    if pretraining is not None:
        arguments = pretraining.get("arguments") or {}
        if arguments.get("synthavs"):
            kind = kind or "synthavs"
            parts.append(f"ImageBind audio pretraining on {arguments['synthavs']} SynthAVS mixed synthetic clips")
        elif arguments.get("dataset_name_or_path"):
            parts.append(f"ImageBind audio pretraining on the train split of `{arguments['dataset_name_or_path']}`")
    return "; ".join(parts) or None, kind


def _pretraining_lines(pretraining: dict[str, Any]) -> list[str]:
    arguments = pretraining.get("arguments") or {}
    line = ("ImageBind audio pretraining (`examples/pretrain_imagebind_audio.py`, `pretraining.json`): the ImageBind "
            "audio tower and its projection aligned with the text embeddings of the class prompts")  # fmt: skip
    if arguments.get("steps"):
        line += f", {arguments['steps']} steps"
    if pretraining.get("train_audio_clips"):
        line += f" on {pretraining['train_audio_clips']} 2-s audio clips"
    if isinstance(pretraining.get("heldout_top1_is_a_sounding_class"), (int, float)):
        line += f"; held-out top-1 audio-to-text accuracy {pretraining['heldout_top1_is_a_sounding_class']:.3f}"
    return [line + "."]


def _recipe_lines(recipe: dict[str, Any], metrics: dict[str, Any] | None, config) -> list[str]:
    frozen, trained = ["ImageBind's vision and text towers"], []
    (trained if recipe.get("train_imagebind_audio") else frozen).append("ImageBind's audio tower")
    (trained if recipe.get("train_sam2_image_encoder") else frozen).append("the SAM 2 image encoder")
    if not config.train_pseudo_text:
        frozen.append("the pseudo-text generator")
    epochs = recipe.get("num_train_epochs")
    line = f"TAViS training (`examples/train_tavis.py`, `training_recipe.json`): {epochs} epoch{'s' * (epochs != 1)}"
    if recipe.get("max_train_steps"):
        line += f" (at most {recipe['max_train_steps']} optimizer steps)"
    line += (f", AdamW learning rate {recipe.get('learning_rate')}, {recipe.get('per_device_train_batch_size')} clips "
             f"per device per step, {recipe.get('train_frames')} frames, {recipe.get('train_temporal')} decoding; "
             f"frozen: {', '.join(frozen)}")  # fmt: skip
    if trained:
        line += f"; also trained (TAViS freezes them): {', '.join(trained)}"
    mismatch = recipe.get("mismatched_audio_probability") or 0
    if mismatch:
        line += f"; {mismatch:.0%} of the training clips heard another clip's soundtrack with an empty target"
    lines = [line + "."]
    best = (metrics or {}).get("best") or {}
    if best.get("epoch") is not None:
        kept = f"Kept weights: epoch {best['epoch']} ({best.get('selection', 'selection not recorded')}"
        value = best.get("value")
        kept += f"; val {best.get('metric')} {value:.3f})" if isinstance(value, (int, float)) else ")"
        lines.append(kept + ".")
    return lines


def _training_commands(records: dict[str, Any]) -> tuple[list[tuple[str, str]], list[str]]:
    """(`(what, command)` pairs that reproduce the training, notes on the steps whose command is not recorded)."""
    recipe, run, pretraining = (records[n] for n in ("training_recipe.json", "training_run.json", "pretraining.json"))
    commands, notes = [], []
    if pretraining is not None:
        if pretraining.get("command"):
            commands.append(("ImageBind audio pretraining", pretraining["command"]))
        elif pretraining.get("arguments"):
            command = _rebuilt_command("examples/pretrain_imagebind_audio.py", pretraining["arguments"])
            commands.append(("ImageBind audio pretraining (its arguments, from `pretraining.json`)", command))
    command = (run or {}).get("command") or (recipe or {}).get("command")
    if command:
        commands.append(("TAViS training", command))
    elif recipe is not None:
        notes.append(
            "The command line of the TAViS training step is not recorded: its recipe (optimisation and data settings) "
            "is in `training_recipe.json`, but not its dataset nor its starting weights."
        )
    return commands, notes


def model_facts(folder: str | Path) -> ModelFacts:
    """Everything a model card may say about the saved TAViS model in `folder`, each item read from its files
    (`config.json` and the training records listed in this module's docstring); nothing that no file records."""
    from .models.tavis.configuration_tavis import TavisConfig

    folder = Path(folder)
    if not (folder / "config.json").is_file():
        raise FileNotFoundError(f"{folder} is not a saved model folder (no config.json)")
    config = TavisConfig.from_pretrained(folder)
    facts = config_facts(config, has_processor=(folder / "processor_config.json").is_file())
    records = {name: _read_json_object(folder / name) for name in PROVENANCE_FILES}
    facts.origin, facts.origin_text, facts.base_models, facts.base_model_names = _origin(folder, config, records)
    facts.training_data, facts.training_data_kind = _training_data(records)
    if records["pretraining.json"] is not None:
        facts.training_details += _pretraining_lines(records["pretraining.json"])
    if records["training_recipe.json"] is not None:
        facts.training_details += _recipe_lines(
            records["training_recipe.json"], records["training_metrics.json"], config
        )
    facts.training_commands, facts.training_notes = _training_commands(records)
    return facts


def _training_record(folder: Path) -> _Record | None:
    """The end-of-training test scores of `training_metrics.json` as a record (needs the recipe's subset)."""
    recipe = _read_json_object(folder / "training_recipe.json") or {}
    metrics = _read_json_object(folder / "training_metrics.json") or {}
    test, subset = metrics.get("test"), recipe.get("subset")
    if not isinstance(test, dict) or not subset:
        return None
    name = (
        "SynthAVS"
        if subset.startswith("synth")
        else "AVSBench-object"
        if subset in ("s4", "ms3")
        else "AVSBench-semantic"
    )
    try:
        record = eval_record_from_metric(test, dataset_name=name, dataset_type=name.split("-")[0].lower(),
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


# ---------------------------------------------------------------------------------------------------------- cards
_GENERATED = re.compile(r"<!-- Generated by tavis_hf\.hub\b[^\n]*?-->")
_RENDERED_FOR = re.compile(r"\(repo_id: ([^)\s]+)\)")


def generated_card_repo_id(card_text: str) -> tuple[bool, str | None]:
    """`(generated, repo_id)`: whether `card_text` is a model card generated by this module, and the Hub repo id it
    was rendered for (None when it was rendered for a local folder, or by an older version that did not say)."""
    match = _GENERATED.search(card_text)
    if match is None:
        return False, None
    repo = _RENDERED_FOR.search(match.group(0))
    return True, None if repo is None or repo.group(1) == "none" else repo.group(1)


def render_card(card_data: ModelCardData | DatasetCardData, template_path: str | Path, **template_kwargs) -> RepoCard:
    """Render a Jinja card template with `huggingface_hub`'s card machinery (offline).

    `ModelCardData` gives a `ModelCard`, `DatasetCardData` a `DatasetCard`. The template receives `card_data` (the YAML
    front matter), every card-data field and `template_kwargs`. The rendered text is parsed back, so a template that
    breaks the YAML front matter fails here, not on the Hub.
    """
    if isinstance(card_data, ModelCardData):
        card_class = ModelCard
    elif isinstance(card_data, DatasetCardData):
        card_class = DatasetCard
    else:
        raise TypeError(f"card_data must be a ModelCardData or DatasetCardData, got {type(card_data).__name__}")
    template_path = Path(template_path)
    _read_required(template_path, "Card template")
    card = card_class.from_template(card_data, template_path=str(template_path), **template_kwargs)
    return card_class(str(card))


def _protocols(records: list[_Record], protocols_path: Path) -> list[dict[str, str]]:
    known = _load_protocols(protocols_path)
    protocols = []
    for name in dict.fromkeys(r.protocol_name for r in records):
        if name not in known:
            raise ValueError(
                f"Unknown metric protocol {name!r}: describe it in {protocols_path} (known: {sorted(known)})"
            )
        protocols.append({"name": name, **known[name]})
    return protocols


def make_model_card(
    *,
    model_name: str,
    facts: ModelFacts,
    repo_id: str | None = None,
    local_path: str | Path | None = None,
    eval_records: list[dict[str, Any]] = (),
    model_description: str = "",
    datasets: list[str] | None = None,
    tags: list[str] = (),
    library_name: str = "tavis_hf",
    template_path: str | Path = MODEL_CARD_TEMPLATE,
    citation_path: str | Path = CITATION_FILE,
    protocols_path: str | Path = METRIC_PROTOCOLS_FILE,
) -> ModelCard:
    """Build the model card of a TAViS checkpoint from `hub_card/model_card_template.md`.

    Most callers want `model_card_from_folder`, which derives `facts` and the records from a model folder.

    Args:
        model_name: title of the card and `model-index` name.
        facts: what the card says about the model (`model_facts(folder)` or `config_facts(config)`): architecture,
            parameters, input, base models, origin, training data and commands, temporal mode.
        repo_id: Hub id the card is rendered for: named in the usage snippets and recorded in the card's comment.
        local_path: what the usage snippets load when there is no `repo_id` (the model folder; else `model_name`).
        eval_records: evaluation records (module docstring); each metric becomes a `model-index` result and a row of the
            card's results table, each protocol used gets its description from `metric_protocols.json`, and records
            with `shuffled_audio` fill the listening-control table.
        datasets: Hub dataset ids for the `datasets` metadata (AVSBench is not on the Hub: leave empty for it).
        model_description: free text under the title (default: `facts.summary`).
        tags: extra tags (the task, `sam2`, `imagebind` and `tavis` are always present).
        library_name: `tavis_hf` by default: the folder is transformers-format but needs `import tavis_hf` to load, so
            the Hub's transformers snippet would not work (`"transformers"` is accepted for the opposite choice).

    Raises:
        ValueError: an evaluation record is malformed or names a protocol without a description.
    """
    records = [_parse_record(r, i) for i, r in enumerate(eval_records)]
    return _render_model_card(
        model_name, facts, records, repo_id=repo_id, local_path=local_path, model_description=model_description,
        datasets=datasets, tags=tags, library_name=library_name, template_path=template_path,
        citation_path=citation_path, protocols_path=protocols_path,
    )  # fmt: skip


def _render_model_card(
    model_name: str,
    facts: ModelFacts,
    records: list[_Record],
    *,
    repo_id: str | None = None,
    local_path: str | Path | None = None,
    model_description: str = "",
    datasets: list[str] | None = None,
    tags: list[str] = (),
    library_name: str = "tavis_hf",
    template_path: str | Path = MODEL_CARD_TEMPLATE,
    citation_path: str | Path = CITATION_FILE,
    protocols_path: str | Path = METRIC_PROTOCOLS_FILE,
) -> ModelCard:
    protocols = _protocols(records, Path(protocols_path))
    card_data = ModelCardData(
        model_name=model_name,
        license=LICENSE,
        library_name=library_name,
        pipeline_tag=PIPELINE_TAG,
        base_model=list(facts.base_models) or None,
        datasets=list(datasets) if datasets else None,
        metrics=sorted({m.key for r in records for m in r.metrics}) or None,
        tags=list(dict.fromkeys([TASK_TAG, "tavis", "sam2", "imagebind", "audio", "video", *tags])),
        eval_results=_eval_results(records) or None,
    )
    return render_card(
        card_data,
        template_path,
        model_name=model_name,
        repo_id=repo_id,
        model_id=repo_id or (str(local_path) if local_path is not None else model_name),
        model_description=model_description or facts.summary,
        facts=facts,
        library_name=library_name,
        eval_records=records,
        shuffled_records=[r for r in records if r.shuffled],
        protocols=protocols,
        citation_bibtex=load_citation(citation_path),
    )


def _same_coverage(a: _Record, b: _Record) -> bool:
    keys = ("dataset_name", "dataset_config", "dataset_split", "protocol_name")
    return all(getattr(a, key) == getattr(b, key) for key in keys)


def model_card_from_folder(
    folder: str | Path,
    *,
    repo_id: str | None = None,
    eval_records: list[dict[str, Any]] | None = None,
    model_name: str | None = None,
    description: str | None = None,
    local_path: str | Path | None = None,
) -> ModelCard:
    """The model card of the saved TAViS model in `folder`, every claim derived from the folder's own files.

    Facts come from `model_facts(folder)` (config and training records, see the module docstring). Results: the
    records of the folder's `evaluation*.json` files, then `eval_records` (one equal to a folder record is not
    repeated), then the end-of-training test scores of `training_metrics.json` unless a record above covers the same
    dataset, config, split and protocol.

    Args:
        folder: a folder saved with `save_pretrained` (at least `config.json`).
        repo_id: the Hub repository the card is for: named in "How to use" (else `local_path`, else `folder`).
        eval_records: extra evaluation records (e.g. `tavis-hf evaluate --output` files).
        model_name: title and `model-index` name (default: the repository name, else the folder name).
        description: text under the title (default: a one-sentence summary of the facts).
        local_path: what "How to use" loads when there is no `repo_id` (default: `folder` as given).

    Raises:
        FileNotFoundError: `folder` has no `config.json`.
        ValueError: a record is malformed, names an unknown protocol, or carries a `model.fingerprint` that is not
            `weights_fingerprint(folder)` (it was made on another model).
    """
    folder = Path(folder)
    facts = model_facts(folder)
    dicts = folder_eval_records(folder)
    dicts += [r for r in (eval_records or []) if r not in dicts]
    records = [_parse_record(r, i) for i, r in enumerate(dicts)]
    fingerprinted = [(i, r) for i, r in enumerate(records) if r.fingerprint]
    if fingerprinted:
        actual = weights_fingerprint(folder)
        for index, record in fingerprinted:
            if record.fingerprint != actual:
                raise ValueError(
                    f"evaluation record {index} ({record.label}) was made on another model: its model.fingerprint "
                    f"{record.fingerprint} is not the fingerprint {actual} of {folder}'s weights"
                )
    trained = _training_record(folder)
    if trained is not None and not any(_same_coverage(trained, r) for r in records):
        records.append(trained)
    name = model_name or (repo_id.split("/")[-1] if repo_id else folder.resolve().name)
    local_path = folder if local_path is None else local_path
    return _render_model_card(
        name, facts, records, repo_id=repo_id, local_path=local_path, model_description=description or ""
    )


def load_model_checked(name_or_path: str | Path):
    """`AutoModel.from_pretrained` that fails loudly: any missing, unexpected or mismatched weight is a `ValueError`
    (plain `from_pretrained` would initialise missing weights at random without complaint)."""
    from transformers import AutoModel

    model, info = AutoModel.from_pretrained(name_or_path, output_loading_info=True)
    problems = {kind: sorted(map(str, names)) for kind, names in info.items() if names}
    if problems:
        raise ValueError(f"{name_or_path} does not load cleanly into {type(model).__name__}: {problems}")
    return model


def build_release_folder(
    model_or_dir,
    output_dir: str | Path,
    processor=None,
    card: ModelCard | None = None,
    max_shard_size: int | str = "5GB",
    overwrite: bool = False,
    remote_code: bool | None = None,
) -> list[str]:
    """Write a release folder: `config.json`, sharded safetensors, processor/tokenizer files and `README.md`.

    Args:
        model_or_dir: a `transformers.PreTrainedModel`, or a folder saved with `save_pretrained` (loaded with
            `AutoModel`; its processor, if any, with `AutoProcessor` unless `processor` is given).
        output_dir: folder to create; must not exist or be empty unless `overwrite=True`.
        processor: a `ProcessorMixin` (or tokenizer / image processor) saved next to the weights.
        card: the model card; by default, named after `output_dir`, `model_card_from_folder` of a source folder or
            the card of a model object's config (`config_facts`).
        max_shard_size: largest safetensors shard (int bytes or a string such as `"2GB"`); bigger models are split into
            `model-0000k-of-0000n.safetensors` plus `model.safetensors.index.json`.
        overwrite: replace the contents of a non-empty `output_dir`.
        remote_code: also ship the TAViS source files and `auto_map` so that `trust_remote_code=True` loads the
            folder without `tavis_hf` (`tavis_hf.models.tavis.convert_tavis.save_remote_code`). Default: what the
            model's config says (it has an `auto_map` when it came from such a folder); False drops `auto_map`.

    A source folder's training records (`PROVENANCE_FILES`) and evaluation records (`evaluation*.json`) are copied
    along: the card cites them.

    Returns:
        The sorted relative paths of the files written.

    Raises:
        FileExistsError: `output_dir` is not empty and `overwrite` is False.
        FileNotFoundError: `model_or_dir` is a path without `config.json`.
        ValueError: the saved folder has missing, unexpected or mismatched weights, or is `output_dir` itself.
    """
    from transformers import AutoProcessor, PreTrainedModel

    output_dir = Path(output_dir)
    not_empty = output_dir.exists() and any(output_dir.iterdir())
    if not_empty and not overwrite:
        raise FileExistsError(f"Release folder {output_dir} is not empty (pass overwrite=True to replace it)")
    if isinstance(model_or_dir, (str, Path)):
        source_dir = Path(model_or_dir)
        if not (source_dir / "config.json").is_file():
            raise FileNotFoundError(f"{source_dir} is not a saved model folder (no config.json)")
        if output_dir.resolve() == source_dir.resolve():
            raise ValueError(f"The release folder must differ from the source folder {source_dir}")
        model = load_model_checked(source_dir)
        if processor is None and (source_dir / "processor_config.json").is_file():
            processor = AutoProcessor.from_pretrained(source_dir)
    elif isinstance(model_or_dir, PreTrainedModel):
        model = model_or_dir
    else:
        raise TypeError(f"model_or_dir must be a PreTrainedModel or a folder, got {type(model_or_dir).__name__}")
    if remote_code is None:
        remote_code = bool(getattr(model.config, "auto_map", None))
    if remote_code and getattr(model.config, "model_type", None) != "tavis":
        raise ValueError(f"remote code can only be written for TAViS models, not {type(model).__name__}")
    if not_empty:
        shutil.rmtree(output_dir)

    output_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(output_dir, max_shard_size=max_shard_size)
    if remote_code:
        from .models.tavis.convert_tavis import save_remote_code

        save_remote_code(output_dir)
    else:
        config = json.loads((output_dir / "config.json").read_text(encoding="utf-8"))
        if config.pop("auto_map", None) is not None:
            (output_dir / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    if processor is not None:
        processor.save_pretrained(output_dir)
    if card is None:
        card = _default_card(model_or_dir, model, output_dir, has_processor=processor is not None)
    _copy_provenance(model_or_dir, output_dir)
    card.save(output_dir / "README.md")

    return [path for path, _ in release_files(output_dir)]


def _copy_provenance(model_or_dir, output_dir: Path) -> None:
    if isinstance(model_or_dir, (str, Path)):
        source = Path(model_or_dir)
        records = [path.name for path in sorted(source.glob("evaluation*.json")) if folder_eval_records_in(path)]
        for name in [*PROVENANCE_FILES, *records]:
            if (source / name).is_file():
                shutil.copyfile(source / name, output_dir / name)


def _default_card(model_or_dir, model, output_dir: Path, has_processor: bool) -> ModelCard:
    if isinstance(model_or_dir, (str, Path)):
        return model_card_from_folder(model_or_dir, model_name=output_dir.name, local_path=output_dir)
    facts = config_facts(model.config, num_parameters=model.num_parameters(), has_processor=has_processor)
    return make_model_card(model_name=output_dir.name, facts=facts, local_path=output_dir)


def release_files(folder: str | Path) -> list[tuple[str, int]]:
    """The files `publish` uploads from `folder`: sorted `(relative POSIX path, size in bytes)` pairs.

    Same selection as `HfApi.upload_folder` (every file except `.git/` and `.cache/huggingface/`).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"No such folder: {folder}")
    paths = {p.relative_to(folder).as_posix(): p for p in sorted(folder.glob("**/*")) if p.is_file()}
    kept = filter_repo_objects(list(paths), ignore_patterns=DEFAULT_IGNORE_PATTERNS)
    return [(rel, paths[rel].stat().st_size) for rel in kept]


def check_repo_id(repo_id: str) -> None:
    """Raise `ValueError` unless `repo_id` is a valid `"namespace/name"` Hub id."""
    validate_repo_id(repo_id)
    if "/" not in repo_id:
        raise ValueError(f"repo_id must be 'namespace/name', got {repo_id!r}")


@dataclass
class PublishPlan:
    """What `publish` uploads (or would upload, with `dry_run=True`).

    Attributes:
        repo_id / repo_type / private / create_pr: the target.
        files: `(relative path, size in bytes)` of every file of the commit, sorted.
        card: the full text of `README.md`.
        commit_url / pr_url: set after a real upload (`pr_url` only with `create_pr=True`).
    """

    repo_id: str
    repo_type: str
    private: bool
    create_pr: bool
    files: list[tuple[str, int]]
    card: str
    commit_url: str | None = None
    pr_url: str | None = None

    def describe(self) -> str:
        """Human-readable plan: target, file list with sizes, then the card text."""
        target = f"{self.repo_type} repo {self.repo_id} ({'private' if self.private else 'public'})"
        lines = [f"Target: {target}{', as a pull request' if self.create_pr else ''}"]
        lines.append(f"Files ({len(self.files)}, {sum(size for _, size in self.files):,} bytes):")
        lines += [f"  {path}  ({size:,} bytes)" for path, size in self.files]
        lines += ["Card (README.md):", self.card]
        return "\n".join(lines)


def publish(
    folder: str | Path,
    repo_id: str,
    *,
    repo_type: str = "model",
    private: bool = True,
    create_pr: bool = False,
    dry_run: bool = False,
    token: str | None = None,
    commit_message: str = "Upload with tavis_hf",
) -> PublishPlan:
    """Upload a release folder to the Hub in one commit: `HfApi.create_repo` (exist_ok) + `HfApi.upload_folder`.

    Args:
        folder: a folder from `build_release_folder` (model) or a dataset folder with its card.
        repo_id: `"namespace/name"`.
        repo_type: `"model"` or `"dataset"`.
        private: create the repository as private (ignored when it already exists).
        create_pr: open a pull request instead of committing to `main`.
        dry_run: make no network call; return the plan (files and card) only.
        token: Hub token (default: the locally saved one).

    Returns:
        The `PublishPlan` (with `commit_url`/`pr_url` filled after a real upload).

    Raises:
        FileNotFoundError: `folder` does not exist or has no `README.md`.
        ValueError: bad `repo_id`/`repo_type`, a card without a licence, or a model folder without `config.json` or
            safetensors weights, or with pickle weights.
    """
    if repo_type not in ("model", "dataset"):
        raise ValueError(f"repo_type must be 'model' or 'dataset', got {repo_type!r}")
    check_repo_id(repo_id)
    folder = Path(folder)
    files = release_files(folder)
    names = [path for path, _ in files]
    if "README.md" not in names:
        raise FileNotFoundError(f"{folder} has no README.md card: build it with build_release_folder or render_card")
    card_class = ModelCard if repo_type == "model" else DatasetCard
    card_text = (folder / "README.md").read_text(encoding="utf-8")
    card = card_class(card_text)
    if not card.data.get("license"):
        raise ValueError(f"The card {folder / 'README.md'} declares no licence in its front matter")
    if repo_type == "model":
        if "config.json" not in names or not any(n.endswith(".safetensors") for n in names):
            raise ValueError(f"{folder} is not a model release folder (needs config.json and safetensors weights)")
        pickles = [n for n in names if n.endswith(PICKLE_SUFFIXES)]
        if pickles:
            raise ValueError(f"{folder} holds pickle weights {pickles}: releases ship safetensors only")
    odd = [n for n in names if _GLOB_CHARACTERS & set(n)]
    if odd:
        raise ValueError(f"File names with glob characters cannot be uploaded exactly: {odd}")
    plan = PublishPlan(repo_id, repo_type, private, create_pr, files, card_text)
    if dry_run:
        return plan

    api = HfApi(token=token)
    api.create_repo(repo_id, repo_type=repo_type, private=private, exist_ok=True)
    commit = api.upload_folder(
        repo_id=repo_id,
        repo_type=repo_type,
        folder_path=folder,
        commit_message=commit_message,
        create_pr=create_pr,
        allow_patterns=names,  # exactly the planned files
    )
    plan.commit_url, plan.pr_url = commit.commit_url, commit.pr_url
    return plan
