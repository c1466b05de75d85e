"""Key mapping of the authors' TAViS checkpoints (full key list, meta tensors: no 1.4G-element state dict)."""

import json
import math
import re

import pytest
import torch

from tavis_hf.models.tavis import TavisConfig
from tavis_hf.models.tavis.convert_tavis import convert_sam2_key, convert_tavis_state_dict

from ...helpers import FIXTURES

KEY_LIST = FIXTURES / "tavis_official_state_dict.json"
AUDIO_SCALE = "imagebind.modality_postprocessors.audio.1.log_logit_scale"
DOCUMENTED_DROPS = re.compile(
    r"image_encoder\.prompt_generator\.(lightweight_mlp_48\.0|shared_mlp\.48)\..*|"
    r"transformer_cross_attention_layers_W\.[012]\..*|transformer_cross_attention_layers_H\..*|transformer_CA\..*|"
    r"sam_mask_decoder\.(audio_score|decoder_norm)\..*|query_(fea|embed)_H\.weight|text_prompt_all\.weight|"
    r"no_mask_embed\.weight|CEloss\.weight|imagebind\..*\.(depth|thermal|imu)\..*|"
    r"imagebind\.modality_preprocessors\.text\.mask|" + re.escape(AUDIO_SCALE)
)


@pytest.fixture(scope="module")
def official_meta_state_dict():
    entries = json.loads(KEY_LIST.read_text())["keys"]
    state_dict = {entry["name"]: torch.empty(entry["shape"], device="meta") for entry in entries}
    state_dict[AUDIO_SCALE] = torch.tensor(math.log(20.0))  # checked by value in the ImageBind converter
    return state_dict


@pytest.fixture(scope="module")
def converted(official_meta_state_dict):
    return convert_tavis_state_dict(official_meta_state_dict, TavisConfig.release())


def test_every_official_key_is_consumed_or_documented_as_dropped(official_meta_state_dict, converted):
    # convert_tavis_state_dict raises on any missing/unexpected/mis-shaped key, so reaching here means full coverage
    # of the model; check the drops are exactly the documented vestigial keys by counting elements.
    kept = [key for key in official_meta_state_dict if not DOCUMENTED_DROPS.fullmatch(key)]
    dropped = len(official_meta_state_dict) - len(kept)
    assert dropped > 0
    # 4 point embeddings -> 1 tensor; the Fourier matrix -> 2 tensors; ImageBind in_proj -> q/k/v (x3)
    ib_in_proj = sum(1 for key in kept if key.startswith("imagebind.") and ".attn.in_proj_" in key)
    assert len(converted) == len(kept) - 4 + 1 + 1 + 2 * ib_in_proj
    kept_elements = sum(official_meta_state_dict[key].numel() for key in kept)
    converted_elements = sum(value.numel() for value in converted.values())
    fourier = converted["sam2.shared_image_embedding.positional_embedding"].numel()
    assert converted_elements == kept_elements + fourier


def test_sam2_renames_follow_transformers_conversion():
    assert convert_sam2_key("image_encoder.trunk.blocks.3.mlp.layers.1.weight") == (
        "vision_encoder.backbone.blocks.3.mlp.proj_out.weight"
    )
    assert convert_sam2_key("image_encoder.neck.convs.2.conv.bias") == "vision_encoder.neck.convs.2.bias"
    assert convert_sam2_key("sam_mask_decoder.output_hypernetworks_mlps.0.layers.1.weight") == (
        "mask_decoder.output_hypernetworks_mlps.0.layers.0.weight"
    )
    assert convert_sam2_key("obj_ptr_proj.layers.2.bias") == "object_pointer_proj.proj_out.bias"
    assert convert_sam2_key("memory_encoder.mask_downsampler.encoder.12.weight") == (
        "memory_encoder.mask_downsampler.final_conv.weight"
    )
    assert convert_sam2_key("memory_encoder.mask_downsampler.encoder.4.bias") == (
        "memory_encoder.mask_downsampler.layers.1.layer_norm.bias"
    )
    assert convert_sam2_key("memory_attention.layers.1.norm2.weight") == "memory_attention.layers.1.layer_norm2.weight"
    assert convert_sam2_key("maskmem_tpos_enc") == "memory_temporal_positional_encoding"


def test_release_maps_only_the_effective_query_layer(official_meta_state_dict, converted):
    assert {key.split(".")[2] for key in converted if key.startswith("ibqd.query_layers.")} == {"0"}
    assert "audio_adapters.47.fc2.weight" in converted and "audio_adapters.48.fc1.weight" not in converted
    assert converted["pseudo_text.token_embeds.weight"].shape == (6 * 1024, 768)


def test_unexpected_and_missing_keys_are_listed(official_meta_state_dict):
    config = TavisConfig.release()
    extra = dict(official_meta_state_dict, **{"mystery_head.weight": torch.empty(3, device="meta")})
    with pytest.raises(ValueError, match=r"unexpected \(1\): \['sam2\.mystery_head\.weight \(converted name\)'\]"):
        convert_tavis_state_dict(extra, config)
    partial = {k: v for k, v in official_meta_state_dict.items() if not k.startswith("text_a.")}
    with pytest.raises(ValueError, match=r"missing \(2\): \['text_prompt_proj\.bias', 'text_prompt_proj\.weight'\]"):
        convert_tavis_state_dict(partial, config)
    wrong = dict(official_meta_state_dict, **{"down.weight": torch.empty(256, 1024, device="meta")})
    with pytest.raises(ValueError, match=r"dense_prompt_proj\.weight: checkpoint \(256, 1024\) vs model"):
        convert_tavis_state_dict(wrong, config)
