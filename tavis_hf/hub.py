"""Hub release tooling: model and dataset cards, release folders and publishing.

Two layers, as in the transformers/huggingface_hub examples:

- local work, fully testable offline: `make_model_card` (through `render_card`, which renders model and dataset
  card templates alike) and `build_release_folder`, which writes `config.json`, sharded safetensors, the
  processor/tokenizer files and the card (`README.md`);
- one network step: `publish`, i.e. `HfApi.create_repo` + one `HfApi.upload_folder` commit (optionally as a pull
  request). `publish(..., dry_run=True)` returns the same plan without any network call.

Card templates and generator inputs live in the repository's `hub_card/` folder: `model_card_template.md`,
`citation.bib` (the TAViS paper) and `metric_protocols.json` (prose for each named metric protocol of
`tavis_hf.metrics`); `dataset_card_template.md` belongs to `tavis_hf.data`.

Evaluation results enter cards as *evaluation records*, plain dicts (what `tavis-hf evaluate --output` writes)::

    {
        "dataset": {"name": "AVSBench-object", "type": "avsbench", "config": "s4", "split": "test"},
        "protocol": {"name": "tavis_release", "videos_per_batch": 1},
        "metrics": {"jaccard": 0.8812, "fmeasure": 0.9325},
    }

They become the card's `model-index` (`huggingface_hub.EvalResult`, metric `config` = protocol name, metric `args` =
the protocol's options). The newer `.eval_results/*.yaml` format is not written: it requires the benchmark dataset to
be a Hub dataset, and AVSBench is not on the Hub.
"""

from __future__ import annotations

import json
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
"""Licence of every TAViS checkpoint: the weights embed ImageBind-huge (CC BY-NC-SA 4.0)."""

ARCHITECTURE = "TAViS: ImageBind-huge (frozen) + SAM 2.0 Hiera-L with audio-guided adaptors"
"""Architecture line of the model card for the paper/release model."""

BASE_MODEL = "facebook/sam2-hiera-large"
"""SAM **2.0** Hiera-L: the base of the authors' release (not SAM 2.1)."""

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


@dataclass
class _Metric:
    key: str
    name: str
    value: float


@dataclass
class _Record:
    dataset_name: str
    dataset_type: str
    dataset_config: str | None
    dataset_split: str | None
    protocol_name: str
    protocol_args: dict[str, Any]
    metrics: list[_Metric] = field(default_factory=list)


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
    parsed = []
    for key, value in metrics.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"{where}: metric {key!r} must be a number, got {value!r}")
        parsed.append(_Metric(key=key, name=METRIC_NAMES.get(key, key), value=float(value)))
    return _Record(
        dataset_name=dataset["name"],
        dataset_type=dataset["type"],
        dataset_config=dataset.get("config"),
        dataset_split=dataset.get("split"),
        protocol_name=protocol["name"],
        protocol_args={k: v for k, v in protocol.items() if k != "name"},
        metrics=parsed,
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


def make_model_card(
    *,
    model_name: str,
    repo_id: str | None = None,
    eval_records: list[dict[str, Any]] = (),
    datasets: list[str] | None = None,
    base_model: str | list[str] | None = BASE_MODEL,
    model_description: str = "",
    source: str | None = None,
    num_parameters: int | None = None,
    architecture: str = ARCHITECTURE,
    image_size: int = 224,
    tags: list[str] = (),
    library_name: str = "tavis_hf",
    template_path: str | Path = MODEL_CARD_TEMPLATE,
    citation_path: str | Path = CITATION_FILE,
    protocols_path: str | Path = METRIC_PROTOCOLS_FILE,
) -> ModelCard:
    """Build the model card of a TAViS checkpoint from `hub_card/model_card_template.md`.

    Args:
        model_name: title of the card and `model-index` name.
        repo_id: Hub id used in the usage snippets (defaults to `model_name`).
        eval_records: evaluation records (module docstring); each metric becomes a `model-index` result and a row of the
            card's results table, and each protocol used gets its description from `metric_protocols.json`.
        datasets: Hub dataset ids for the `datasets` metadata (AVSBench is not on the Hub: leave empty for it).
        base_model: Hub id(s) of the base model(s); SAM 2.0 Hiera-L for the faithful port; None for a model trained
            from a random initialisation (e.g. the tiny preset).
        model_description: free text under the title (e.g. what was converted or trained, on which subset).
        source: provenance line (e.g. "converted from the authors' S4 checkpoint").
        num_parameters: total parameter count, shown in the details table when given.
        architecture: the details table's architecture line (default: the paper/release model).
        image_size: side of the SAM2 input frames in pixels (`config.image_size`).
        tags: extra tags (the task, `sam2`, `imagebind` and `tavis` are always present).
        library_name: `tavis_hf` by default: the folder is transformers-format but needs `import tavis_hf` to load, so
            the Hub's transformers snippet would not work (`"transformers"` is accepted for the opposite choice).

    Raises:
        ValueError: an evaluation record is malformed or names a protocol without a description.
    """
    records = [_parse_record(r, i) for i, r in enumerate(eval_records)]
    known_protocols = _load_protocols(Path(protocols_path))
    protocols = []
    for name in dict.fromkeys(r.protocol_name for r in records):
        if name not in known_protocols:
            raise ValueError(
                f"Unknown metric protocol {name!r}: describe it in {protocols_path} (known: {sorted(known_protocols)})"
            )
        protocols.append({"name": name, **known_protocols[name]})
    base_models = [base_model] if isinstance(base_model, str) else list(base_model or [])
    card_data = ModelCardData(
        model_name=model_name,
        license=LICENSE,
        library_name=library_name,
        pipeline_tag=PIPELINE_TAG,
        base_model=base_models or None,
        datasets=list(datasets) if datasets else None,
        metrics=sorted({m.key for r in records for m in r.metrics}) or None,
        tags=list(dict.fromkeys([TASK_TAG, "tavis", "sam2", "imagebind", "audio", "video", *tags])),
        eval_results=_eval_results(records) or None,
    )
    return render_card(
        card_data,
        template_path,
        model_name=model_name,
        repo_id=repo_id or model_name,
        model_description=model_description,
        source=source,
        num_parameters=num_parameters,
        architecture=architecture,
        image_size=image_size,
        base_models=base_models,
        library_name=library_name,
        eval_records=records,
        protocols=protocols,
        citation_bibtex=load_citation(citation_path),
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
        card: the model card (`make_model_card`); by default an unevaluated card named after `output_dir`.
        max_shard_size: largest safetensors shard (int bytes or a string such as `"2GB"`); bigger models are split into
            `model-0000k-of-0000n.safetensors` plus `model.safetensors.index.json`.
        overwrite: replace the contents of a non-empty `output_dir`.
        remote_code: also ship the TAViS source files and `auto_map` so that `trust_remote_code=True` loads the
            folder without `tavis_hf` (`tavis_hf.models.tavis.convert_tavis.save_remote_code`). Default: what the
            model's config says (it has an `auto_map` when it came from such a folder); False drops `auto_map`.

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
        card = make_model_card(model_name=output_dir.name, num_parameters=model.num_parameters())
    card.save(output_dir / "README.md")

    return [path for path, _ in release_files(output_dir)]


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
