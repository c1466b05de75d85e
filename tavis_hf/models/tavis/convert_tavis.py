"""Convert an authors' TAViS checkpoint (S4, MS3 or V2 release) into a Hugging Face folder.

    python -m tavis_hf.models.tavis.convert_tavis --checkpoint model_epoch_best.pth --output-dir tavis-s4-hf \
        [--preset release|official_reduced] [--bpe-path bpe_simple_vocab_16e6.txt.gz] [--max-shard-size 5GB] \
        [--remote-code]

writes `config.json` (the authors'-release fidelity flags), sharded `model*.safetensors` and, with `--bpe-path`, the
`TavisProcessor` (frame views, ImageBind audio clips, ImageBind tokenizer built from that BPE file). The checkpoint is
read without running code (`load_checkpoint_state_dict`: a `.safetensors` file or `torch.load(weights_only=True)`; a
pickle with other objects is refused with the way to re-save it). `--remote-code` also copies the model code into the
folder (`save_remote_code`) so that `AutoModel.from_pretrained(folder, trust_remote_code=True)` works without
`tavis_hf`. Bad input (a missing, damaged or foreign file) is one line on stderr and exit status 2.

Key map (docs/fidelity.md §6):
- SAM2 keys (`image_encoder.trunk/neck`, `sam_prompt_encoder`, `sam_mask_decoder`, `memory_*`, …) -> `sam2.*` with the
  renames of transformers' `convert_sam2_video_to_hf.py` (ported below: the script is not in the wheel);
- `image_encoder.prompt_generator.lightweight_mlp_{i}.0` / `.shared_mlp.{i}` -> `audio_adapters.{i}.fc1` / `.fc2`;
- `imagebind.*` -> `imagebind.*` through `convert_imagebind_state_dict` (depth/thermal/IMU, the text mask buffer and
  the audio logit-scale buffer dropped there);
- TAViS heads -> `ibqd.*`, `pseudo_text.*`, `text_prompt_proj`, `query_proj`, `audio_prompt_mlp`,
  `global_audio_prompt_proj`, `sparse_prompt_mlp`, `dense_prompt_proj`, `adapter_audio_proj`.
Documented drops (vestigial in the release): the last (unused) adapter, IBQD query layers 0..L-2 (only the last one
acts, `ibqd_query_layers="last_only"`), `transformer_cross_attention_layers_H`, `query_fea_H`, `query_embed_H`,
`transformer_CA`, `text_prompt_all`, top-level `no_mask_embed`, `sam_mask_decoder.audio_score`,
`sam_mask_decoder.decoder_norm`, `CEloss.weight`. Any other unconsumed, missing or mis-shaped key is an error that
lists the keys.
"""

import argparse
import functools
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path

import torch
from accelerate import init_empty_weights
from huggingface_hub import save_torch_state_dict

from ..imagebind.convert_imagebind import (
    checkpoint_mismatch_error,
    convert_imagebind_state_dict,
    load_checkpoint_state_dict,
    run_converter,
)
from ..imagebind.tokenization_imagebind import load_bpe_merges
from .configuration_tavis import TavisConfig
from .modeling_tavis import TavisModel
from .processing_tavis import TavisProcessor

__all__ = ["convert_sam2_key", "convert_tavis_checkpoint", "convert_tavis_state_dict", "main", "save_remote_code"]

# transformers `convert_sam2_video_to_hf.py` KEYS_TO_MODIFY_MAPPING (applied in order, substring replacement).
_SAM2_KEYS_TO_MODIFY = {
    "iou_prediction_head.layers.0": "iou_prediction_head.proj_in",
    "iou_prediction_head.layers.1": "iou_prediction_head.layers.0",
    "iou_prediction_head.layers.2": "iou_prediction_head.proj_out",
    "mask_decoder.output_upscaling.0": "mask_decoder.upscale_conv1",
    "mask_decoder.output_upscaling.1": "mask_decoder.upscale_layer_norm",
    "mask_decoder.output_upscaling.3": "mask_decoder.upscale_conv2",
    "mask_downscaling.0": "mask_embed.conv1",
    "mask_downscaling.1": "mask_embed.layer_norm1",
    "mask_downscaling.3": "mask_embed.conv2",
    "mask_downscaling.4": "mask_embed.layer_norm2",
    "mask_downscaling.6": "mask_embed.conv3",
    "dwconv": "depthwise_conv",
    "pwconv": "pointwise_conv",
    "fuser": "memory_fuser",
    "point_embeddings": "point_embed",
    "pe_layer.positional_encoding_gaussian_matrix": "shared_embedding.positional_embedding",
    "obj_ptr_tpos_proj": "temporal_positional_encoding_projection_layer",
    "no_obj_embed_spatial": "occlusion_spatial_embedding_parameter",
    "sam_prompt_encoder": "prompt_encoder",
    "sam_mask_decoder": "mask_decoder",
    "maskmem_tpos_enc": "memory_temporal_positional_encoding",
    "gamma": "scale",
    "image_encoder.neck": "vision_encoder.neck",
    "image_encoder": "vision_encoder.backbone",
    "neck.0": "neck.conv1",
    "neck.1": "neck.layer_norm1",
    "neck.2": "neck.conv2",
    "neck.3": "neck.layer_norm2",
    "pix_feat_proj": "feature_projection",
    "patch_embed.proj": "patch_embed.projection",
    "no_mem_embed": "no_memory_embedding",
    "no_mem_pos_enc": "no_memory_positional_encoding",
    "obj_ptr": "object_pointer",
    ".norm": ".layer_norm",
    "trunk.": "",
    "out_proj": "o_proj",
}
# 3-layer MLPs: layers.0 -> proj_in, layers.1 -> layers.0, layers.2 -> proj_out.
_SAM2_MLP3 = re.compile(
    r"(.*(?:output_hypernetworks_mlps\.\d+|mask_decoder\.pred_obj_score_head|^object_pointer_proj))\.layers\.(\d+)(\..*)"
)
_SAM2_MLP2 = re.compile(r"(.*(?:vision_encoder\.backbone\.blocks\.\d+|mask_decoder\.transformer\.layers\.\d+)\.mlp)"
                        r"\.layers\.(\d+)(\..*)")  # fmt: skip
_SAM2_DOWNSAMPLER = re.compile(r"(memory_encoder\.mask_downsampler)\.encoder\.(\d+)(\..*)")

_ADAPTER = re.compile(r"image_encoder\.prompt_generator\.(?:lightweight_mlp_(\d+)\.0|shared_mlp\.(\d+))\.(weight|bias)")
_QUERY_LAYER = re.compile(r"transformer_cross_attention_layers_W\.(\d+)\.(.+)")
_HEAD_PREFIXES = {
    "query_fea_W.": "ibqd.queries.",
    "query_embed_W.": "ibqd.query_pos.",
    "seperate_audio.": "ibqd.token_residual_proj.",
    "transformer_cross_attention_audio.": "ibqd.token_refiner.",
    "audio_to_text1.": "pseudo_text.eot_logits.",
    "audio_to_texte.": "pseudo_text.token_embeds.",
    "text_a.": "text_prompt_proj.",
    "mlp.": "query_proj.",
    "audio_MLP.": "audio_prompt_mlp.",
    "token_all.": "global_audio_prompt_proj.",
    "aggregate.": "sparse_prompt_mlp.",
    "down.": "dense_prompt_proj.",
    "mlp_audio.": "adapter_audio_proj.",
}
_DROPPED = re.compile(
    r"(transformer_cross_attention_layers_H\.|transformer_CA\.|sam_mask_decoder\.audio_score\.|"
    r"sam_mask_decoder\.decoder_norm\.).*|query_fea_H\.weight|query_embed_H\.weight|text_prompt_all\.weight|"
    r"no_mask_embed\.weight|CEloss\.weight"
)


def convert_sam2_key(key: str) -> str:
    """Official SAM2 state-dict key -> transformers `Sam2VideoModel` key (the rules of transformers'
    `convert_sam2_video_to_hf.py`; `point_embeddings.{i}` are concatenated separately)."""
    for old, new in _SAM2_KEYS_TO_MODIFY.items():
        if old in key:
            key = key.replace(old, new)
    if match := _SAM2_MLP2.fullmatch(key):
        key = f"{match[1]}.{('proj_in', 'proj_out')[int(match[2])]}{match[3]}"
    if match := _SAM2_MLP3.fullmatch(key):
        key = f"{match[1]}.{('proj_in', 'layers.0', 'proj_out')[int(match[2])]}{match[3]}"
    key = re.sub(r"(vision_encoder\.neck\.convs\.\d+)\.conv\.", r"\1.", key)
    key = key.replace("memory_encoder.o_proj.", "memory_encoder.projection.")
    if match := _SAM2_DOWNSAMPLER.fullmatch(key):
        index = int(match[2])
        layer = "final_conv" if index == 12 else f"layers.{index // 3}." + ("conv", "layer_norm")[index % 3]
        key = f"{match[1]}.{layer}{match[3]}"
    return key


@functools.lru_cache(maxsize=4)
def _reference_shapes(config_json: str) -> dict[str, torch.Size]:
    """State-dict key -> shape of `TavisModel` for a config (JSON string), built without allocating weights."""
    with init_empty_weights():
        model = TavisModel(TavisConfig.from_dict(json.loads(config_json)))
    return {key: value.shape for key, value in model.state_dict().items()}


def convert_tavis_state_dict(official_state_dict: Mapping[str, torch.Tensor], config: TavisConfig) -> dict:
    """Map an authors' TAViS state dict to [`TavisModel`] keys for `config`.

    Returns:
        A dict that `TavisModel(config).load_state_dict(..., strict=True)` accepts.

    Raises:
        ValueError: listing every official key neither consumed nor documented as dropped, every model key left
            missing, and every shape mismatch.
    """
    reference = _reference_shapes(config.to_json_string())
    num_blocks = sum(1 for key in reference if re.fullmatch(r"audio_adapters\.\d+\.fc1\.weight", key))
    num_query_layers = config.ibqd_num_layers
    last_only = config.ibqd_query_layers == "last_only"

    converted: dict[str, torch.Tensor] = {}
    imagebind: dict[str, torch.Tensor] = {}
    point_embeddings: dict[int, torch.Tensor] = {}
    unexpected: list[str] = []
    for key, value in official_state_dict.items():
        if key.startswith("imagebind."):
            imagebind[key[len("imagebind.") :]] = value
        elif _DROPPED.fullmatch(key):
            continue
        elif match := _ADAPTER.fullmatch(key):
            index = int(match[1] if match[1] is not None else match[2])
            if index == num_blocks:  # built but never applied (one more adapter than Hiera blocks)
                continue
            converted[f"audio_adapters.{index}.{'fc1' if match[1] is not None else 'fc2'}.{match[3]}"] = value
        elif match := _QUERY_LAYER.fullmatch(key):
            index = int(match[1])
            if last_only:
                if index == num_query_layers - 1:
                    converted[f"ibqd.query_layers.0.{match[2]}"] = value
                # layers 0..L-2 are evaluated on the initial queries and discarded: dropped
            else:
                converted[f"ibqd.query_layers.{index}.{match[2]}"] = value
        elif prefix := next((p for p in _HEAD_PREFIXES if key.startswith(p)), None):
            converted[_HEAD_PREFIXES[prefix] + key[len(prefix) :]] = value
        elif match := re.fullmatch(r"sam_prompt_encoder\.point_embeddings\.(\d+)\.weight", key):
            point_embeddings[int(match[1])] = value
        elif key == "sam_prompt_encoder.pe_layer.positional_encoding_gaussian_matrix":
            converted["sam2.prompt_encoder.shared_embedding.positional_embedding"] = value
            converted["sam2.shared_image_embedding.positional_embedding"] = value.clone()
        else:
            converted["sam2." + convert_sam2_key(key)] = value
    if point_embeddings:
        converted["sam2.prompt_encoder.point_embed.weight"] = torch.cat(
            [point_embeddings[i] for i in sorted(point_embeddings)], dim=0
        )
    if imagebind:
        for key, value in convert_imagebind_state_dict(imagebind, config.imagebind_config).items():
            converted["imagebind." + key] = value

    missing = sorted(set(reference) - set(converted))
    unexpected += sorted(f"{key} (converted name)" for key in set(converted) - set(reference))
    mismatched = [
        f"{key}: checkpoint {tuple(converted[key].shape)} vs model {tuple(reference[key])}"
        for key in sorted(set(converted) & set(reference))
        if converted[key].shape != reference[key]
    ]
    if missing or unexpected or mismatched:
        raise checkpoint_mismatch_error("TAViS", missing, unexpected, mismatched)
    return converted


def convert_tavis_checkpoint(
    checkpoint_path: str | os.PathLike,
    output_dir: str | os.PathLike,
    config: TavisConfig | None = None,
    bpe_path: str | os.PathLike | None = None,
    max_shard_size: str | int = "5GB",
) -> TavisConfig:
    """Convert `checkpoint_path` (a flat official state dict) to a Hugging Face folder at `output_dir`.

    `config` defaults to [`TavisConfig.release`]. Returns the config written. The file is read without running code
    ([`load_checkpoint_state_dict`]: safetensors or a weights-only `.pth`); a file that is not such a checkpoint, or
    whose keys do not fit `config`, is a `ValueError` naming it."""
    config = TavisConfig.release() if config is None else config
    official = load_checkpoint_state_dict(checkpoint_path)
    try:
        state_dict = convert_tavis_state_dict(official, config)
    except ValueError as error:
        raise ValueError(
            f"{checkpoint_path}: {error} (is it an authors' TAViS checkpoint, S4, MS3 or V2? ImageBind's own "
            "imagebind_huge.pth converts with `tavis-hf convert --kind imagebind`)"
        ) from error
    num_merges = config.imagebind_config.text_config.vocab_size - 2 * 256 - 2
    merges = None if bpe_path is None else load_bpe_merges(bpe_path, num_merges=num_merges)  # before writing
    os.makedirs(output_dir, exist_ok=True)
    config.save_pretrained(output_dir)
    save_torch_state_dict(
        {key: value.contiguous() for key, value in state_dict.items()},
        output_dir,
        max_shard_size=max_shard_size,
        metadata={"format": "pt"},
    )
    if merges is not None:  # the TavisProcessor: frame views per `config`, ImageBind audio clips and tokenizer
        TavisProcessor.from_tavis_config(config, merges).save_pretrained(output_dir)
    return config


_PACKAGE_DIR = Path(__file__).resolve().parent
_REMOTE_CODE_FILES = (
    _PACKAGE_DIR / "configuration_tavis.py",
    _PACKAGE_DIR / "modeling_tavis.py",
    _PACKAGE_DIR / "loss_tavis.py",
    _PACKAGE_DIR / "highlight_tavis.py",
    _PACKAGE_DIR / "sam2_tracking_tavis.py",
    _PACKAGE_DIR.parent / "imagebind" / "configuration_imagebind.py",
    _PACKAGE_DIR.parent / "imagebind" / "modeling_imagebind.py",
)


def save_remote_code(output_dir: str | os.PathLike) -> None:
    """Make a saved TAViS folder loadable with `AutoModel.from_pretrained(folder, trust_remote_code=True)` without
    `tavis_hf` installed: copy the model's source files next to the weights (the ImageBind ones included, their
    `from ..imagebind.` imports rewritten as same-folder imports) and add `auto_map` to `config.json`."""
    output_dir = Path(output_dir)
    config_path = output_dir / "config.json"
    if not config_path.is_file():
        raise ValueError(f"{output_dir} has no config.json: save the model (or convert a checkpoint) there first")
    for source in _REMOTE_CODE_FILES:
        text = source.read_text().replace("from ..imagebind.", "from .")
        (output_dir / source.name).write_text(text)
    config = json.loads(config_path.read_text())
    config["auto_map"] = {"AutoConfig": "configuration_tavis.TavisConfig", "AutoModel": "modeling_tavis.TavisModel"}
    config_path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", required=True, help="the authors' TAViS .pth (S4, MS3 or V2)")
    parser.add_argument("--output-dir", required=True)
    parser.add_argument("--preset", choices=("release", "official_reduced"), default="release")
    parser.add_argument(
        "--bpe-path",
        required=True,
        help="ImageBind's bpe/bpe_simple_vocab_16e6.txt.gz: the tokenizer saved with the processor (a folder without "
        "its processor cannot be used by the pipeline)",
    )
    parser.add_argument("--max-shard-size", default="5GB")
    parser.add_argument("--remote-code", action="store_true", help="also save the code for trust_remote_code=True")
    args = parser.parse_args(argv)
    config = getattr(TavisConfig, args.preset)()
    convert_tavis_checkpoint(args.checkpoint, args.output_dir, config, args.bpe_path, args.max_shard_size)
    if args.remote_code:
        save_remote_code(args.output_dir)


if __name__ == "__main__":
    run_converter(main, "see python -m tavis_hf.models.tavis.convert_tavis --help")
