"""Convert the authors' `imagebind_huge.pth` into a Hugging Face folder.

    python -m tavis_hf.models.imagebind.convert_imagebind --checkpoint imagebind_huge.pth \
        --bpe-path bpe_simple_vocab_16e6.txt.gz --output-dir imagebind-huge-hf

writes `config.json`, `model.safetensors` (vision, text and audio towers, fp32, ~4.3 GB), the tokenizer files and
`preprocessor_config.json` (audio feature extractor). The checkpoint is read without running code
(`load_checkpoint_state_dict`: a `.safetensors` file or `torch.load(weights_only=True)`, memory-mapped; a pickle with
other objects is refused with the way to re-save it; bad input is one line on stderr). ImageBind's weights are CC BY-NC-SA 4.0: the converted folder inherits that licence (non-commercial,
share-alike); do not publish it under other terms.

Key mapping (official -> this package):
- `modality_trunks.{m}.blocks.{i}.attn.in_proj_{weight,bias}` -> `{m}_model.encoder.layers.{i}.self_attn.{q,k,v}_proj`
  (rows split in [q; k; v] order), `attn.out_proj` -> `self_attn.out_proj`, `attn.bias_{k,v}` -> `self_attn.{k,v}_bias`,
  `norm_{1,2}` -> `layer_norm{1,2}`, `mlp.fc{1,2}` -> `mlp.fc{1,2}`;
- vision: the Conv3d stem `(D, 3, 2, 14, 14)` is kept as is (`embeddings.patch_embedding` is a Conv3d: folding it
  into a Conv2d would be mathematically equal for still images but round differently), `cls_token` ->
  `class_embedding`, `pos_embed[0]` -> `position_embedding`, `pre_transformer_layer.0` -> `pre_layrnorm`,
  head `0` -> `post_layernorm`, head `2` -> `visual_projection`;
- text: `token_embedding`, `pos_embed[0]` -> `position_embedding`, head `proj.0` -> `final_layer_norm`,
  `proj.1` -> `text_projection`, `log_logit_scale` -> `text_logit_scale`;
- audio: `rgbt_stem.proj` -> `patch_embedding`, `rgbt_stem.norm_layer` -> `patch_layer_norm`, CLS / positions as
  vision, head `0` / `2` -> `post_layernorm` / `audio_projection`.
Documented drops (never silently anything else): the text causal-mask buffer (rebuilt on the fly), the audio
`log_logit_scale` buffer (checked to equal ln 20, the fixed `audio_config.logit_scale`) and, by default, every key
of the depth, thermal and IMU modalities (`ignore_modalities`).
"""

import argparse
import math
import os
import pickle
import re
import sys
import zipfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from .configuration_imagebind import ImageBindConfig
from .feature_extraction_imagebind import ImageBindAudioFeatureExtractor
from .modeling_imagebind import ImageBindModel
from .tokenization_imagebind import build_imagebind_tokenizer, load_bpe_merges

__all__ = [
    "DEFAULT_IGNORED_MODALITIES",
    "checkpoint_mismatch_error",
    "convert_imagebind_state_dict",
    "load_checkpoint_state_dict",
    "main",
    "run_converter",
]

DEFAULT_IGNORED_MODALITIES = ("depth", "thermal", "imu")
_TOWERS = {"vision": "vision_model", "text": "text_model", "audio": "audio_model"}
_BLOCK = re.compile(r"modality_trunks\.(vision|text|audio)\.blocks\.(\d+)\.(.+)")
_BLOCK_PARTS = {
    "attn.out_proj.weight": "self_attn.out_proj.weight",
    "attn.out_proj.bias": "self_attn.out_proj.bias",
    "attn.bias_k": "self_attn.k_bias",
    "attn.bias_v": "self_attn.v_bias",
    "norm_1.weight": "layer_norm1.weight",
    "norm_1.bias": "layer_norm1.bias",
    "norm_2.weight": "layer_norm2.weight",
    "norm_2.bias": "layer_norm2.bias",
    "mlp.fc1.weight": "mlp.fc1.weight",
    "mlp.fc1.bias": "mlp.fc1.bias",
    "mlp.fc2.weight": "mlp.fc2.weight",
    "mlp.fc2.bias": "mlp.fc2.bias",
}
_RENAMES = {
    "modality_preprocessors.vision.rgbt_stem.proj.1.weight": "vision_model.embeddings.patch_embedding.weight",
    "modality_preprocessors.vision.cls_token": "vision_model.embeddings.class_embedding",
    "modality_preprocessors.vision.pos_embedding_helper.pos_embed": "vision_model.embeddings.position_embedding.weight",
    "modality_trunks.vision.pre_transformer_layer.0.weight": "vision_model.pre_layrnorm.weight",
    "modality_trunks.vision.pre_transformer_layer.0.bias": "vision_model.pre_layrnorm.bias",
    "modality_heads.vision.0.weight": "vision_model.post_layernorm.weight",
    "modality_heads.vision.0.bias": "vision_model.post_layernorm.bias",
    "modality_heads.vision.2.weight": "visual_projection.weight",
    "modality_preprocessors.text.token_embedding.weight": "text_model.embeddings.token_embedding.weight",
    "modality_preprocessors.text.pos_embed": "text_model.embeddings.position_embedding.weight",
    "modality_heads.text.proj.0.weight": "text_model.final_layer_norm.weight",
    "modality_heads.text.proj.0.bias": "text_model.final_layer_norm.bias",
    "modality_heads.text.proj.1.weight": "text_projection.weight",
    "modality_postprocessors.text.1.log_logit_scale": "text_logit_scale",
    "modality_preprocessors.audio.rgbt_stem.proj.weight": "audio_model.embeddings.patch_embedding.weight",
    "modality_preprocessors.audio.rgbt_stem.norm_layer.weight": "audio_model.embeddings.patch_layer_norm.weight",
    "modality_preprocessors.audio.rgbt_stem.norm_layer.bias": "audio_model.embeddings.patch_layer_norm.bias",
    "modality_preprocessors.audio.cls_token": "audio_model.embeddings.class_embedding",
    "modality_preprocessors.audio.pos_embedding_helper.pos_embed": "audio_model.embeddings.position_embedding.weight",
    "modality_heads.audio.0.weight": "audio_model.post_layernorm.weight",
    "modality_heads.audio.0.bias": "audio_model.post_layernorm.bias",
    "modality_heads.audio.2.weight": "audio_projection.weight",
}
_TEXT_MASK = "modality_preprocessors.text.mask"
_AUDIO_SCALE = "modality_postprocessors.audio.1.log_logit_scale"
# Official parameters carry leading singleton dims: CLS (1, 1, D) -> (D,), positions (1, N, D) -> (N, D).
_KEPT_DIMS = {
    "modality_preprocessors.vision.cls_token": 1,
    "modality_preprocessors.vision.pos_embedding_helper.pos_embed": 2,
    "modality_preprocessors.text.pos_embed": 2,
    "modality_preprocessors.audio.cls_token": 1,
    "modality_preprocessors.audio.pos_embedding_helper.pos_embed": 2,
}


_SHOWN_KEYS = 5
"""Keys listed in a mismatch error for each kind of problem (the rest are counted)."""


def load_checkpoint_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """The flat state dict in the checkpoint file `path`, read without running any code: a `.safetensors` file, or a
    PyTorch checkpoint read with `torch.load(weights_only=True)` (memory-mapped when it is a zip archive).

    Raises:
        FileNotFoundError, IsADirectoryError: no such file, or a folder.
        ValueError: not a checkpoint (random bytes, text, a truncated file); a pickle holding Python objects besides
            tensors (refused: loading it would run arbitrary code; the message says how to re-save a trusted one);
            not a flat mapping of names to tensors.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such checkpoint file: {path}")
    if path.is_dir():
        raise IsADirectoryError(f"checkpoint {path} is a folder; give the checkpoint file (.pth or .safetensors)")
    kind = "safetensors file" if path.suffix == ".safetensors" else "PyTorch checkpoint (a zip archive of torch.save)"
    if path.suffix != ".safetensors" and not zipfile.is_zipfile(path):
        raise ValueError(f"{path} is not a {kind}; give the authors' .pth file (or a .safetensors file)")
    try:
        state = load_file(path) if path.suffix == ".safetensors" else _load_weights_only(path)
    except pickle.UnpicklingError as error:
        if "unsupported global" not in str(error).lower():
            raise ValueError(f"{path} is not a readable {kind} ({_first_line(error)})") from error
        raise ValueError(
            f"{path} holds pickled Python objects besides tensors: only safetensors or weights-only (tensor-only) "
            "checkpoints are accepted, because loading a pickle can run arbitrary code; where you trust the file, "
            "save only its tensors (a state dict of tensors, or safetensors) and give that file"
        ) from error
    except (RuntimeError, EOFError, KeyError, SafetensorError) as error:
        raise ValueError(f"{path} is not a readable {kind} ({_first_line(error)}); is the file complete?") from error
    if not isinstance(state, Mapping):
        raise ValueError(f"{path} does not hold a state dict (got {type(state).__name__})")
    foreign = next(((key, value) for key, value in state.items() if not isinstance(value, torch.Tensor)), None)
    if foreign is not None:
        key, value = foreign
        raise ValueError(
            f"{path} is not a flat state dict: its entry {key!r} is a {type(value).__name__}, not a tensor (if the "
            f"weights are under it, save checkpoint[{key!r}] alone with torch.save)"
        )
    return dict(state)


def _load_weights_only(path: Path):
    """`torch.load` that runs no code (tensors and plain containers only), memory-mapped."""
    return torch.load(path, map_location="cpu", weights_only=True, mmap=True)


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def checkpoint_mismatch_error(what: str, missing: list[str], unexpected: list[str], mismatched: list[str]):
    """The `ValueError` for a state dict that does not fit the model: each kind of problem counted, with its first
    keys (`missing (2): ['a', 'b']`, `unexpected (40): ['c', ... 39 more]`)."""

    def shown(keys: list[str]) -> str:
        listed = repr(keys[:_SHOWN_KEYS])
        return listed if len(keys) <= _SHOWN_KEYS else f"{listed[:-1]}, ... {len(keys) - _SHOWN_KEYS} more]"

    return ValueError(
        f"{what} checkpoint does not match the configuration:\n"
        f"  missing ({len(missing)}): {shown(missing)}\n  unexpected ({len(unexpected)}): {shown(unexpected)}\n"
        f"  shape mismatches ({len(mismatched)}): {shown(mismatched)}"
    )


def run_converter(main: Callable[[], object], converter_help: str) -> None:
    """Run a converter's `main` as a command (`python -m ...`): bad input (`ValueError`, `OSError`) is one line on
    stderr, `<converter>: error: <message> (<converter_help>)`, and exit status 2, never a traceback."""
    try:
        main()
    except (ValueError, OSError) as error:
        name = Path(sys.argv[0]).stem
        print(f"{name}: error: {' '.join(str(error).split())} ({converter_help})", file=sys.stderr)
        sys.exit(2)


def _drop_leading_ones(value: torch.Tensor, kept_dims: int) -> torch.Tensor:
    leading = value.shape[: max(value.ndim - kept_dims, 0)]
    # Unexpected shapes are passed through and reported by the shape check.
    return value.reshape(value.shape[-kept_dims:]) if all(size == 1 for size in leading) else value


def _modality(key: str) -> str | None:
    parts = key.split(".")
    return parts[1] if len(parts) > 1 and parts[0].startswith("modality_") else None


def convert_imagebind_state_dict(
    official_state_dict: Mapping[str, torch.Tensor],
    config: ImageBindConfig,
    ignore_modalities: Iterable[str] = DEFAULT_IGNORED_MODALITIES,
) -> dict[str, torch.Tensor]:
    """Map an official ImageBind state dict to [`ImageBindModel`] keys for `config` (any depths/widths).

    Args:
        official_state_dict: the authors' keys (`modality_preprocessors.*`, `modality_trunks.*`, `modality_heads.*`,
            `modality_postprocessors.*`), e.g. `torch.load("imagebind_huge.pth", weights_only=True, mmap=True)`, or
            the `imagebind.`-stripped sub-dict of a TAViS checkpoint.
        config: the target configuration; its depths decide which blocks are expected.
        ignore_modalities: official modalities whose keys are dropped silently (default depth, thermal, IMU).

    Returns:
        A dict that `ImageBindModel(config).load_state_dict(..., strict=True)` accepts.

    Raises:
        ValueError: not an ImageBind state dict; any official key left unconsumed, any model key left missing, or a
            shape mismatch (all listed); an audio logit scale other than ln(`audio_config.logit_scale`).
    """
    keys = list(official_state_dict)
    if not keys or not all(_modality(key) is not None for key in keys):
        foreign = [key for key in keys if _modality(key) is None][:5]
        raise ValueError(
            "Not an ImageBind state dict: expected only 'modality_preprocessors/trunks/heads/postprocessors.*' keys"
            + (f"; found e.g. {foreign}." if foreign else " (it is empty).")
        )
    ignored = set(ignore_modalities)
    converted: dict[str, torch.Tensor] = {}
    unexpected: list[str] = []
    for key in keys:
        value = official_state_dict[key]
        modality = _modality(key)
        if modality in ignored or key == _TEXT_MASK:
            continue
        if key == _AUDIO_SCALE:
            expected = math.log(config.audio_config.logit_scale)
            if not math.isclose(float(value), expected, rel_tol=0, abs_tol=1e-6):
                raise ValueError(
                    f"{key} = {float(value)}, expected ln({config.audio_config.logit_scale}) = {expected}."
                )
            continue
        block = _BLOCK.fullmatch(key)
        if key in _RENAMES:
            converted[_RENAMES[key]] = _drop_leading_ones(value, _KEPT_DIMS[key]) if key in _KEPT_DIMS else value
        elif block is not None:
            modality, index, part = block.groups()
            prefix = f"{_TOWERS[modality]}.encoder.layers.{index}."
            if part in ("attn.in_proj_weight", "attn.in_proj_bias"):
                kind = part.rsplit("_", 1)[1]
                for name, chunk in zip(("q", "k", "v"), value.chunk(3, dim=0)):
                    converted[f"{prefix}self_attn.{name}_proj.{kind}"] = chunk.clone().contiguous()
            elif part in _BLOCK_PARTS:
                converted[prefix + _BLOCK_PARTS[part]] = value
            else:
                unexpected.append(key)
        else:
            unexpected.append(key)

    with torch.device("meta"):
        reference = ImageBindModel(config).state_dict()
    missing = sorted(set(reference) - set(converted))
    unexpected += sorted(f"{key} (converted name)" for key in set(converted) - set(reference))
    mismatched = [
        f"{key}: checkpoint {tuple(converted[key].shape)} vs model {tuple(reference[key].shape)}"
        for key in sorted(set(converted) & set(reference))
        if converted[key].shape != reference[key].shape
    ]
    if missing or unexpected or mismatched:
        raise checkpoint_mismatch_error("ImageBind", missing, unexpected, mismatched)
    return converted


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", required=True, help="the authors' imagebind_huge.pth")
    parser.add_argument("--bpe-path", required=True, help="the authors' bpe/bpe_simple_vocab_16e6.txt.gz")
    parser.add_argument("--output-dir", required=True)
    parser.add_argument("--config", help="an ImageBindConfig config.json (default: the imagebind_huge preset)")
    args = parser.parse_args(argv)

    config = ImageBindConfig.from_json_file(args.config) if args.config else ImageBindConfig.imagebind_huge()
    official = load_checkpoint_state_dict(args.checkpoint)
    # The text vocabulary is 256 byte symbols, the same with "</w>", the merges and 2 special tokens.
    merges = load_bpe_merges(args.bpe_path, num_merges=config.text_config.vocab_size - 2 * 256 - 2)
    try:
        state_dict = convert_imagebind_state_dict(official, config)
    except ValueError as error:
        raise ValueError(f"{args.checkpoint}: {error} (is it the authors' imagebind_huge.pth?)") from error
    with torch.device("meta"):
        model = ImageBindModel(config)
    model.load_state_dict(state_dict, strict=True, assign=True)
    os.makedirs(args.output_dir, exist_ok=True)
    model.eval().save_pretrained(args.output_dir)
    build_imagebind_tokenizer(merges).save_pretrained(args.output_dir)
    ImageBindAudioFeatureExtractor().save_pretrained(args.output_dir)
    print(f"Wrote {args.output_dir} ({len(state_dict)} tensors).")


if __name__ == "__main__":
    run_converter(main, "see python -m tavis_hf.models.imagebind.convert_imagebind --help")
