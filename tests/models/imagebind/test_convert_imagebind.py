"""The converter on random state dicts shaped like the real `imagebind_huge.pth` (key list from
`tests/fixtures/imagebind_huge_state_dict.json`), widths shrunk."""

import gzip
import json
import math
import os
import re

import pytest
import torch
from transformers import AutoConfig, AutoFeatureExtractor, AutoModel, AutoTokenizer

from tavis_hf.models.imagebind import (
    ImageBindAudioConfig,
    ImageBindAudioFeatureExtractor,
    ImageBindConfig,
    ImageBindModel,
    ImageBindTextConfig,
    ImageBindVisionConfig,
    convert_imagebind_state_dict,
    tokenize_imagebind,
)
from tavis_hf.models.imagebind.convert_imagebind import main

from ...helpers import FIXTURES

KEY_LIST = FIXTURES / "imagebind_huge_state_dict.json"
HUGE_WIDTHS = {"vision": 1280, "text": 1024, "audio": 768}
SMALL_WIDTHS = {"vision": 24, "text": 16, "audio": 8}
TOWERS = ("vision", "text", "audio")
BLOCK = re.compile(r"modality_trunks\.\w+\.blocks\.(\d+)\.")


@pytest.fixture(scope="module")
def key_list():
    return [(key, tuple(shape)) for key, shape, _ in json.loads(KEY_LIST.read_text())]


def depths(key_list):
    """Blocks per tower in the key list (32 / 24 / 12 for imagebind_huge)."""
    blocks = [(key.split(".")[1], int(match.group(1))) for key, _ in key_list if (match := BLOCK.match(key))]
    return {tower: 1 + max(index for name, index in blocks if name == tower) for tower in TOWERS}


def small_config(num_layers: dict) -> ImageBindConfig:
    def common(tower):
        width = SMALL_WIDTHS[tower]
        return {"hidden_size": width, "intermediate_size": 4 * width, "num_attention_heads": 2}

    return ImageBindConfig(
        vision_config=ImageBindVisionConfig(num_hidden_layers=num_layers["vision"], **common("vision")),
        text_config=ImageBindTextConfig(num_hidden_layers=num_layers["text"], **common("text")),
        audio_config=ImageBindAudioConfig(num_hidden_layers=num_layers["audio"], **common("audio")),
    )


def shrink(key: str, shape: tuple) -> tuple:
    """The key's shape with its tower width (and 3x / 4x multiples) replaced by the small width; the joint
    projection size (first dim of the head projections) is kept."""
    tower = key.split(".")[1]
    if tower not in TOWERS:
        return ()
    big, small = HUGE_WIDTHS[tower], SMALL_WIDTHS[tower]
    is_projection = key in ("modality_heads.vision.2.weight", "modality_heads.text.proj.1.weight") or (
        key == "modality_heads.audio.2.weight"
    )
    out = []
    for axis, size in enumerate(shape):
        if is_projection and axis == 0:
            out.append(size)
        elif size in (big, 3 * big, 4 * big) and size != 49408:
            out.append(size // big * small)
        else:
            out.append(size)
    return tuple(out)


def random_official(key_list, max_blocks=None, seed=0):
    generator = torch.Generator().manual_seed(seed)
    state = {}
    for key, shape in key_list:
        block = BLOCK.match(key)
        if max_blocks is not None and block and int(block.group(1)) >= max_blocks:
            continue
        state[key] = torch.randn(shrink(key, shape), generator=generator)
    state["modality_postprocessors.audio.1.log_logit_scale"] = torch.tensor(math.log(20.0))
    state["modality_preprocessors.text.mask"] = torch.full((77, 77), float("-inf")).triu(1)
    return state


def test_every_vision_text_audio_key_is_consumed(key_list):
    official = random_official(key_list)
    config = small_config(depths(key_list))
    converted = convert_imagebind_state_dict(official, config)
    model = ImageBindModel(config)
    model.load_state_dict(converted, strict=True)

    tower_keys = [key for key, _ in key_list if key.split(".")[1] in TOWERS]
    fused = [key for key in tower_keys if key.endswith((".attn.in_proj_weight", ".attn.in_proj_bias"))]
    dropped = {"modality_preprocessors.text.mask", "modality_postprocessors.audio.1.log_logit_scale"}
    assert len(converted) == len(tower_keys) - len(dropped) + 2 * len(fused)
    assert len(converted) == len(model.state_dict())

    # values land where they belong
    fused_weight = official["modality_trunks.audio.blocks.3.attn.in_proj_weight"]
    layer = model.audio_model.encoder.layers[3].self_attn
    assert torch.equal(torch.cat([layer.q_proj.weight, layer.k_proj.weight, layer.v_proj.weight]), fused_weight)
    assert torch.equal(layer.k_bias, official["modality_trunks.audio.blocks.3.attn.bias_k"])
    stem = official["modality_preprocessors.vision.rgbt_stem.proj.1.weight"]
    assert torch.equal(model.vision_model.embeddings.patch_embedding.weight, stem)
    assert torch.equal(
        model.vision_model.embeddings.class_embedding, official["modality_preprocessors.vision.cls_token"][0, 0]
    )
    assert torch.equal(model.text_logit_scale, official["modality_postprocessors.text.1.log_logit_scale"])
    assert torch.equal(model.text_model.final_layer_norm.weight, official["modality_heads.text.proj.0.weight"])
    assert torch.equal(
        model.audio_model.embeddings.patch_layer_norm.bias,
        official["modality_preprocessors.audio.rgbt_stem.norm_layer.bias"],
    )


def test_mismatches_are_listed(key_list):
    config = small_config({"vision": 2, "text": 2, "audio": 2})
    official = random_official(key_list, max_blocks=2)
    convert_imagebind_state_dict(official, config)  # consistent: no error

    missing = dict(official)
    del missing["modality_trunks.text.blocks.1.mlp.fc2.bias"]
    with pytest.raises(ValueError, match=r"missing \(1\): \['text_model.encoder.layers.1.mlp.fc2.bias'\]"):
        convert_imagebind_state_dict(missing, config)

    extra = dict(official, **{"modality_trunks.vision.blocks.0.attn.surprise": torch.zeros(1)})
    extra["modality_trunks.audio.blocks.2.norm_1.weight"] = torch.zeros(8)  # deeper than the config
    with pytest.raises(ValueError, match=r"unexpected \(2\).*attn\.surprise.*audio_model\.encoder\.layers\.2\."):
        convert_imagebind_state_dict(extra, config)

    wider = small_config({"vision": 2, "text": 2, "audio": 2})
    wider.audio_config.hidden_size = 16
    with pytest.raises(ValueError, match=r"shape mismatches \(\d+\): \['audio_model"):
        convert_imagebind_state_dict(official, wider)

    with pytest.raises(ValueError, match=r"unexpected \(\d+\): \['modality_preprocessors.depth"):
        convert_imagebind_state_dict(official, config, ignore_modalities=())

    bad_scale = dict(official, **{"modality_postprocessors.audio.1.log_logit_scale": torch.tensor(1.0)})
    with pytest.raises(ValueError, match="expected ln"):
        convert_imagebind_state_dict(bad_scale, config)

    with pytest.raises(ValueError, match="Not an ImageBind state dict"):
        convert_imagebind_state_dict({"encoder.layer.0.weight": torch.zeros(1)}, config)
    with pytest.raises(ValueError, match="empty"):
        convert_imagebind_state_dict({}, config)


def test_command_line_conversion(key_list, tmp_path):
    from .test_tokenization import SMALL_MERGES

    config = small_config({"vision": 2, "text": 2, "audio": 2})
    config.to_json_file(tmp_path / "huge_vocab.json")
    config.text_config.vocab_size = 2 * 256 + len(SMALL_MERGES) + 2
    config.text_config.bos_token_id = 2 * 256 + len(SMALL_MERGES)
    config.text_config.eos_token_id = 2 * 256 + len(SMALL_MERGES) + 1
    config.to_json_file(tmp_path / "config.json")
    official = random_official(key_list, max_blocks=2, seed=3)
    official["modality_preprocessors.text.token_embedding.weight"] = torch.randn(config.text_config.vocab_size, 16)
    torch.save(official, tmp_path / "imagebind.pth")
    bpe = tmp_path / "bpe.txt.gz"
    with gzip.open(bpe, "wt", encoding="utf-8") as handle:
        handle.write("#version: 0.2\n" + "\n".join(" ".join(merge) for merge in SMALL_MERGES) + "\n")
    out = tmp_path / "hf"
    args = ["--checkpoint", str(tmp_path / "imagebind.pth"), "--bpe-path", str(bpe), "--output-dir", str(out)]
    with pytest.raises(ValueError, match="does not hold 48894"):  # vocabulary and BPE file must agree
        main(args + ["--config", str(tmp_path / "huge_vocab.json")])
    main(args + ["--config", str(tmp_path / "config.json")])
    assert {"config.json", "model.safetensors", "preprocessor_config.json", "tokenizer.json"} <= set(os.listdir(out))

    assert isinstance(AutoConfig.from_pretrained(out), ImageBindConfig)
    loaded = AutoModel.from_pretrained(out)
    direct = ImageBindModel(config).eval()
    direct.load_state_dict(convert_imagebind_state_dict(official, config), strict=True)
    for key, value in direct.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    assert isinstance(AutoFeatureExtractor.from_pretrained(out), ImageBindAudioFeatureExtractor)
    ids = tokenize_imagebind(AutoTokenizer.from_pretrained(out), ["the dog barks"])
    assert ids[0, :5].tolist() == [len(SMALL_MERGES) + 512, 512 + 1, 512 + 3, 512 + 10, len(SMALL_MERGES) + 513]

    small = ["--bpe-path", str(bpe), "--output-dir", str(tmp_path / "x"), "--config", str(tmp_path / "config.json")]
    torch.save({"encoder.weight": torch.zeros(2)}, tmp_path / "other.pth")
    with pytest.raises(ValueError, match="Not an ImageBind state dict"):
        main(["--checkpoint", str(tmp_path / "other.pth"), *small])
    torch.save(torch.zeros(2), tmp_path / "tensor.pth")
    with pytest.raises(ValueError, match="does not hold a state dict"):
        main(["--checkpoint", str(tmp_path / "tensor.pth"), *small])
