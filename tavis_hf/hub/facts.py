"""Model facts: what a model card may say about a saved TAViS model, each item read from the model folder's files.

`config_facts` derives the architecture facts from a `TavisConfig` alone; `model_facts` reads a model folder: its
config plus its training records. `weights_fingerprint` identifies a folder's weights (evaluation records carry it).

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
- `evaluation*.json`: evaluation records (`tavis_hf.hub.records`; a file that holds no record, such as free-form
  notes, is ignored).

A folder without any training record and with exactly the configuration `tavis-hf convert --kind tavis` writes
(`TavisConfig.release()`) is taken for a conversion of the authors' released checkpoint; its base models are then
SAM 2.0 Hiera-L and ImageBind-huge. Nothing else is claimed about data or initialisation that no file records.
"""

from __future__ import annotations

import hashlib
import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .publish import check_repo_id

BASE_MODEL = "facebook/sam2-hiera-large"
"""Hub id of SAM **2.0** Hiera-L, the SAM 2 of the authors' release (not SAM 2.1): a base model of the converted
release and of models fine-tuned from it, never of a model trained from a random initialisation."""


IMAGEBIND_URL = "https://github.com/facebookresearch/ImageBind"
"""Where ImageBind-huge is released (it is not on the Hub, so it cannot be a `base_model` id)."""


PROVENANCE_FILES = ("training_recipe.json", "training_run.json", "pretraining.json", "training_metrics.json")
"""Training records of a model folder: read by `model_facts`, copied into release folders by `build_release_folder`."""


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
    from ..models.tavis.configuration_tavis import TavisConfig, sam2_video_config_dict

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
    from ..models.tavis.configuration_tavis import TavisConfig

    signature = _tavis_signature(config)
    return next((name for name in _TAVIS_PRESETS if _tavis_signature(getattr(TavisConfig, name)()) == signature), None)


def count_parameters(config) -> int:
    """Total parameter count of the `TavisModel` that `config` builds, built on the meta device (no memory for the
    weights: cheap for the 1.3B-parameter release model). Equals `model.num_parameters()` of the real model."""
    import torch

    from ..models.tavis import TavisModel

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
    from ..models.imagebind import ImageBindConfig

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
    from ..models.tavis.configuration_tavis import TavisConfig

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
        from ..models.tavis.configuration_tavis import TavisConfig

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
    from ..models.tavis.configuration_tavis import TavisConfig

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
