"""Numerical identity with the authors' ImageBind (random weights, reduced depths, full widths).

Skipped unless `IMAGEBIND_OFFICIAL_SRC` (and, when its imports are not installed, `IMAGEBIND_OFFICIAL_PYDEPS`) is set,
see `official.py`; `.ci/run` sets it when `../shared/reference` exists. The towers use
the real widths/heads of `imagebind_huge` and `IMAGEBIND_PARITY_DEPTH` blocks each (default 2; every structural
feature is kept: Conv3d stem, pre-LayerNorm, causal mask, key/value bias tokens, 1e-5 stem LayerNorm, drop-path
schedule). The full-depth run needs ~12 GB RAM.
"""

import copy
import os

import pytest
import torch

from tavis_hf.models.imagebind import ImageBindConfig, ImageBindModel, convert_imagebind_state_dict

from .official import import_official, randomise_

TOLERANCE = 1e-5
DEPTH = int(os.environ.get("IMAGEBIND_PARITY_DEPTH", "2"))


@pytest.fixture(scope="module")
def models():
    official_module = import_official("imagebind_model")
    torch.manual_seed(0)
    official = official_module.ImageBindModel(
        vision_embed_dim=1280,
        vision_num_blocks=min(DEPTH, 32),
        vision_num_heads=16,
        text_embed_dim=1024,
        text_num_blocks=min(DEPTH, 24),
        text_num_heads=16,
        out_embed_dim=1024,
        audio_num_blocks=min(DEPTH, 12),
        audio_drop_path=0.1,
        depth_num_blocks=1,
        thermal_num_blocks=1,
        imu_num_blocks=1,
    ).eval()
    randomise_(official, torch.Generator().manual_seed(1))

    config = ImageBindConfig.imagebind_huge()
    for sub in (config.vision_config, config.text_config, config.audio_config):
        sub.num_hidden_layers = min(DEPTH, sub.num_hidden_layers)
    ours = ImageBindModel(config).eval()
    ours.load_state_dict(convert_imagebind_state_dict(official.state_dict(), config), strict=True)
    return official, ours


def _trunk(official, modality, inputs):
    pre = official.modality_preprocessors[modality](**{modality: inputs})
    return official.modality_trunks[modality](**pre["trunk"])


def _max_diff(a, b):
    return (a - b).abs().max().item()


@pytest.mark.parametrize("size", [224, 112])
@torch.no_grad()
def test_vision_matches_official(models, parity_record, size):
    official, ours = models
    pixels = torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(size))
    expected = official({"vision": pixels})["vision"]
    tower = ours.vision_model(pixels)
    trunk_diff = _max_diff(tower.last_hidden_state, _trunk(official, "vision", pixels))
    embed_diff = _max_diff(ours.get_image_features(pixels), expected)
    print(f"vision {size}px: trunk max|diff| {trunk_diff:.2e}, embedding max|diff| {embed_diff:.2e}")
    parity_record.add(f"imagebind/vision_{size}px", max(trunk_diff, embed_diff))
    parity_record.settings["imagebind/blocks_per_tower"] = DEPTH
    assert tower.last_hidden_state.shape == (2, 1 + (size // 14) ** 2, 1280)
    assert trunk_diff <= TOLERANCE and embed_diff <= TOLERANCE
    assert _max_diff(ours.project_image_tokens(tower.last_hidden_state[:, 0]), expected) <= TOLERANCE


@torch.no_grad()
def test_vision_112px_bfloat16_matches_official(models):
    """bfloat16 weights: the positional interpolation runs in float32 on both sides."""
    official, ours = (copy.deepcopy(model).bfloat16() for model in models)
    pixels = torch.rand(2, 3, 112, 112, generator=torch.Generator().manual_seed(5)).bfloat16()
    expected = official({"vision": pixels})["vision"].float()
    diff = _max_diff(ours.get_image_features(pixels).float(), expected)
    print(f"vision 112px bfloat16: embedding max|diff| {diff:.2e}")
    assert diff <= 1e-2  # bfloat16 resolution; identical operations give 0


@torch.no_grad()
def test_text_matches_official(models, parity_record):
    official, ours = models
    ids = torch.randint(1, 49406, (3, 77), generator=torch.Generator().manual_seed(3))
    ids[:, 0] = 49406
    for row, eot in enumerate((5, 40, 76)):
        ids[row, eot] = 49407
        ids[row, eot + 1 :] = 0
    expected = official({"text": ids})["text"]
    trunk = _trunk(official, "text", ids)
    tower = ours.text_model(input_ids=ids)
    embeds = ours.text_model.embeddings.token_embedding(ids)
    from_embeds = ours.get_text_features(inputs_embeds=embeds, eos_positions=ids.argmax(-1))
    prefix = ours.text_model(inputs_embeds=embeds[:, :6], eos_positions=torch.full((3,), 5)).last_hidden_state
    diffs = {
        "trunk": _max_diff(tower.last_hidden_state, trunk),
        "embedding": _max_diff(ours.get_text_features(input_ids=ids), expected),
        "embedding from inputs_embeds": _max_diff(from_embeds, expected),
        "project_text_tokens": _max_diff(ours.project_text_tokens(trunk[torch.arange(3), ids.argmax(-1)]), expected),
    }
    print(
        "text:",
        {name: f"{value:.2e}" for name, value in diffs.items()},
        f"6-token prefix {_max_diff(prefix, trunk[:, :6]):.2e}",
    )
    parity_record.add("imagebind/text", max(diffs.values()))
    assert max(diffs.values()) <= TOLERANCE
    # a causal prefix is mathematically the same computation; other matmul shapes round differently (~1e-5 at 24 blocks)
    torch.testing.assert_close(prefix, trunk[:, :6], rtol=1e-4, atol=1e-4)


@torch.no_grad()
def test_audio_matches_official(models, parity_record):
    official, ours = models
    clips = torch.randn(2, 3, 1, 128, 204, generator=torch.Generator().manual_seed(4))
    expected = official({"audio": clips})["audio"]
    flat = clips.flatten(0, 1)
    trunk = _trunk(official, "audio", flat)
    tower = ours.audio_model(flat)
    diffs = {
        "trunk": _max_diff(tower.last_hidden_state, trunk),
        "embedding (3 clips averaged)": _max_diff(ours.get_audio_features(clips), expected),
        "project_audio_tokens": _max_diff(
            ours.project_audio_tokens(trunk[:, 0]).view(2, 3, -1).mean(1),
            expected,
        ),
    }
    print("audio:", {name: f"{value:.2e}" for name, value in diffs.items()})
    parity_record.add("imagebind/audio", max(diffs.values()))
    assert tower.last_hidden_state.shape == (6, 229, 768)
    assert max(diffs.values()) <= TOLERANCE
