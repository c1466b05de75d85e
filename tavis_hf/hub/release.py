"""Release folders: a saved model made ready for `publish`.

`build_release_folder` writes `config.json`, sharded safetensors, the processor/tokenizer files, the training records
and the model card (`README.md`); `load_model_checked` loads a model folder and fails on any weight that does not fit.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from huggingface_hub import ModelCard

from .cards import make_model_card, model_card_from_folder
from .facts import PROVENANCE_FILES, config_facts
from .publish import release_files
from .records import folder_eval_records_in


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

    A source folder's training records (`PROVENANCE_FILES`) and evaluation records (`evaluation*.json`, with the
    chart a listening record names) are copied along: the card cites them.

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
        from ..models.tavis.convert_tavis import save_remote_code

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
        charts = [record["chart"] for name in records for record in folder_eval_records_in(source / name)
                  if record.get("chart")]  # fmt: skip
        for name in [*PROVENANCE_FILES, *records, *charts]:
            if (source / name).is_file():
                shutil.copyfile(source / name, output_dir / name)


def _default_card(model_or_dir, model, output_dir: Path, has_processor: bool) -> ModelCard:
    if isinstance(model_or_dir, (str, Path)):
        return model_card_from_folder(model_or_dir, model_name=output_dir.name, local_path=output_dir)
    facts = config_facts(model.config, num_parameters=model.num_parameters(), has_processor=has_processor)
    return make_model_card(model_name=output_dir.name, facts=facts, local_path=output_dir)
