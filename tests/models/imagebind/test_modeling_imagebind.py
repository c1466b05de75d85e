"""ImageBindModel on the tiny config: shapes, embedding conventions, attention semantics, errors; the checks every
model passes (save/load round trip, batch independence, bfloat16, misspelt keywords) come from `ModelTesterMixin`."""

import math

import pytest
import torch
from huggingface_hub.errors import StrictDataclassClassValidationError
from torch import nn
from transformers import AutoModel

import tavis_hf
from tavis_hf.models.imagebind import (
    ImageBindAudioConfig,
    ImageBindAudioModel,
    ImageBindConfig,
    ImageBindModel,
    ImageBindTextModel,
    ImageBindVisionModel,
)
from tavis_hf.models.imagebind.modeling_imagebind import ImageBindAudioAttention

from ..modeling_common import ModelTesterMixin


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return ImageBindModel(ImageBindConfig.tiny()).eval()


def _ids(batch=2, eot=(5, 9), generator_seed=0):
    ids = torch.randint(1, 49406, (batch, 77), generator=torch.Generator().manual_seed(generator_seed))
    ids[:, 0] = 49406
    for row, position in enumerate(eot):
        ids[row, position] = 49407
        ids[row, position + 1 :] = 0
    return ids


class TestImageBindModel(ModelTesterMixin):
    """The shared checks on the tiny ImageBind model, all three towers at once."""

    model_class = ImageBindModel
    bfloat16_outputs = ("image_embeds", "text_embeds", "audio_embeds")

    def get_config(self):
        return ImageBindConfig.tiny()

    def get_inputs(self, batch_size, seed=0):
        generator = torch.Generator().manual_seed(seed)
        return {
            "pixel_values": torch.rand(batch_size, 3, 112, 112, generator=generator),
            "input_ids": _ids(batch_size, eot=[5 + 3 * row for row in range(batch_size)], generator_seed=seed),
            "input_features": torch.randn(batch_size, 1, 128, 204, generator=generator),
        }

    def output_tensors(self, outputs):
        return {
            "image_embeds": outputs.image_embeds,
            "text_embeds": outputs.text_embeds,
            "audio_embeds": outputs.audio_embeds,
            "vision_tokens": outputs.vision_model_output.last_hidden_state,
            "text_tokens": outputs.text_model_output.last_hidden_state,
            "audio_tokens": outputs.audio_model_output.last_hidden_state,
        }


def test_presets():
    huge = ImageBindConfig.imagebind_huge()
    assert (huge.vision_config.hidden_size, huge.vision_config.num_hidden_layers) == (1280, 32)
    assert (huge.text_config.hidden_size, huge.text_config.num_hidden_layers) == (1024, 24)
    assert (huge.audio_config.hidden_size, huge.audio_config.num_hidden_layers) == (768, 12)
    assert huge.audio_config.num_positions == 229 and huge.projection_dim == 1024
    assert huge.audio_config.patch_layer_norm_eps == 1e-5 and huge.vision_config.layer_norm_eps == 1e-6
    tiny = ImageBindConfig.tiny()
    assert tiny.audio_config.num_positions == 229 and tiny.text_config.max_position_embeddings == 77
    assert tiny.vision_config.patch_size == 14 and tiny.projection_dim == 1024
    with pytest.raises(StrictDataclassClassValidationError, match="multiple of num_attention_heads"):
        ImageBindAudioConfig(hidden_size=30, num_attention_heads=4)


@torch.no_grad()
def test_tower_outputs_and_features(model):
    pixels = torch.randn(2, 3, 224, 224)
    vision = model.vision_model(pixels)
    assert vision.last_hidden_state.shape == (2, 257, 32) and vision.pooler_output.shape == (2, 32)
    assert model.vision_model(torch.randn(2, 3, 112, 112)).last_hidden_state.shape == (2, 65, 32)
    torch.testing.assert_close(vision.pooler_output, model.vision_model.post_layernorm(vision.last_hidden_state[:, 0]))
    image = model.get_image_features(pixels)
    assert image.shape == (2, 1024)
    torch.testing.assert_close(image.norm(dim=-1), torch.ones(2))
    torch.testing.assert_close(model.project_image_tokens(vision.last_hidden_state[:, 0]), image)
    # a two-frame video of identical frames is the still image
    torch.testing.assert_close(model.get_image_features(pixels[:, :, None].repeat(1, 1, 2, 1, 1)), image)

    audio_in = torch.randn(2, 1, 128, 204)
    audio = model.audio_model(audio_in)
    assert audio.last_hidden_state.shape == (2, 229, 32)
    audio_embeds = model.get_audio_features(audio_in)
    torch.testing.assert_close(audio_embeds.norm(dim=-1), torch.full((2,), 20.0))
    torch.testing.assert_close(model.project_audio_tokens(audio.last_hidden_state[:, 0]), audio_embeds)
    clips = torch.randn(2, 3, 1, 128, 204)
    expected = torch.stack([model.get_audio_features(clips[:, k]) for k in range(3)], 1).mean(1)
    torch.testing.assert_close(model.get_audio_features(clips), expected)

    ids = _ids()
    text = model.text_model(input_ids=ids)
    assert text.last_hidden_state.shape == (2, 77, 32)
    pooled = text.last_hidden_state[torch.arange(2), torch.tensor([5, 9])]
    torch.testing.assert_close(text.pooler_output, model.text_model.final_layer_norm(pooled))
    text_embeds = model.get_text_features(input_ids=ids)
    torch.testing.assert_close(text_embeds.norm(dim=-1), torch.full((2,), 1 / 0.07))
    torch.testing.assert_close(model.project_text_tokens(pooled), text_embeds)

    out = model(pixel_values=pixels, input_ids=ids, input_features=clips)
    torch.testing.assert_close(out.image_embeds, image)
    torch.testing.assert_close(out.text_embeds, text_embeds)
    torch.testing.assert_close(out.audio_embeds, expected)


@torch.no_grad()
def test_text_embeddings_path_prefix_and_causality(model):
    ids = _ids()
    full = model.text_model(input_ids=ids)
    embeds = model.text_model.embeddings.token_embedding(ids)
    eos = torch.tensor([5, 9])
    from_embeds = model.text_model(inputs_embeds=embeds, eos_positions=eos)
    torch.testing.assert_close(from_embeds.last_hidden_state, full.last_hidden_state)
    torch.testing.assert_close(
        model.get_text_features(inputs_embeds=embeds, eos_positions=eos), model.get_text_features(ids)
    )
    prefix = model.text_model(inputs_embeds=embeds[:, :6], eos_positions=torch.tensor([5, 5]))
    torch.testing.assert_close(prefix.last_hidden_state, full.last_hidden_state[:, :6])
    changed = ids.clone()
    changed[:, 40:] = 7  # tokens after position 39 cannot influence earlier positions
    torch.testing.assert_close(
        model.text_model(input_ids=changed).last_hidden_state[:, :40], full.last_hidden_state[:, :40]
    )


@torch.no_grad()
def test_text_scale_is_clamped(model):
    ids = _ids()
    original = model.text_logit_scale.detach().clone()
    try:
        model.text_logit_scale.fill_(math.log(300.0))
        torch.testing.assert_close(model.get_text_features(ids).norm(dim=-1), torch.full((2,), 100.0))
    finally:
        model.text_logit_scale.copy_(original)


@torch.no_grad()
def test_audio_attention_equals_torch_multihead_attention_with_bias_kv():
    config = ImageBindAudioConfig(hidden_size=32, num_attention_heads=4, intermediate_size=128, num_hidden_layers=1)
    config._attn_implementation = "sdpa"
    torch.manual_seed(0)
    ours = ImageBindAudioAttention(config).eval()
    for param in ours.parameters():
        nn.init.normal_(param, std=0.2)
    reference = nn.MultiheadAttention(32, 4, bias=True, add_bias_kv=True, batch_first=True).eval()
    reference.in_proj_weight.copy_(torch.cat([ours.q_proj.weight, ours.k_proj.weight, ours.v_proj.weight]))
    reference.in_proj_bias.copy_(torch.cat([ours.q_proj.bias, ours.k_proj.bias, ours.v_proj.bias]))
    reference.out_proj.load_state_dict(ours.out_proj.state_dict())
    reference.bias_k.copy_(ours.k_bias)
    reference.bias_v.copy_(ours.v_bias)
    x = torch.randn(3, 229, 32)
    # The two sides sum the same terms in other orders (fused vs split projections, SDPA vs explicit softmax).
    # Worst-case rounding of a length-n reduction is n * eps relative to the sum of |terms|; the chain reduces over
    # 32 (q/k/v), 230 (softmax, attention-weighted sum) and 32 (out_proj) terms: per element at most about
    # (32 + 230 + 32) * eps * magnitude. float64 (SDPA; eager's softmax runs in float32 by design) checks the mapping
    # tightly, float32 checks both kernels within that bound.
    for dtype, implementations in ((torch.float64, ("sdpa",)), (torch.float32, ("sdpa", "eager"))):
        ours_d, reference_d, x_d = ours.to(dtype), reference.to(dtype), x.to(dtype)
        expected = reference_d(x_d, x_d, x_d, need_weights=False)[0]
        tolerance = (32 + 230 + 32) * torch.finfo(dtype).eps * float(expected.abs().max())
        for implementation in implementations:
            config._attn_implementation = implementation
            torch.testing.assert_close(ours_d(x_d)[0], expected, atol=tolerance, rtol=0)


def test_drop_path_only_in_training():
    config = ImageBindConfig.tiny()
    config.audio_config.drop_path_rate = 0.5
    tower = ImageBindAudioModel(config.audio_config)
    assert [layer.drop_path.drop_prob for layer in tower.encoder.layers] == [0.0, 0.5]
    features = torch.randn(2, 1, 128, 204)
    tower.eval()
    with torch.no_grad():
        torch.testing.assert_close(tower(features).last_hidden_state, tower(features).last_hidden_state)
        tower.train()
        torch.manual_seed(1)
        trained = tower(features).last_hidden_state
    assert not torch.allclose(trained, tower.eval()(features).last_hidden_state)


def test_bad_inputs(model):
    with pytest.raises(ValueError, match=r"input_features must have shape \(batch, 1, 128, 204\)"):
        model.get_audio_features(torch.randn(2, 1, 128, 200))
    with pytest.raises(ValueError, match="square"):
        model.get_image_features(torch.randn(1, 3, 224, 112))
    with pytest.raises(ValueError, match="pixel_values must have shape"):
        model.get_image_features(torch.randn(1, 224, 224))
    with pytest.raises(ValueError, match="exactly one"):
        model.get_text_features()
    with pytest.raises(ValueError, match="eos_positions is required"):
        model.get_text_features(inputs_embeds=torch.randn(1, 77, 32))
    with pytest.raises(ValueError, match="must lie in"):
        model.get_text_features(inputs_embeds=torch.randn(1, 6, 32), eos_positions=torch.tensor([6]))
    with pytest.raises(ValueError, match="Sequence length"):
        model.get_text_features(input_ids=torch.zeros(1, 78, dtype=torch.long))
    with pytest.raises(ValueError, match="at least one"):
        model()


def test_the_towers_are_registered_with_the_auto_classes(model, tmp_path):
    """The whole model's round trip is `TestImageBindModel.test_save_load_round_trip`; the towers load on their own."""
    assert tavis_hf.ImageBindModel is ImageBindModel
    model.vision_model.save_pretrained(tmp_path / "vision")
    assert isinstance(AutoModel.from_pretrained(tmp_path / "vision"), ImageBindVisionModel)
    assert isinstance(AutoModel.from_config(model.config.text_config), ImageBindTextModel)


def test_eager_equals_sdpa(tmp_path, model):
    model.save_pretrained(tmp_path)
    eager = ImageBindModel.from_pretrained(tmp_path, attn_implementation="eager")
    assert eager.config.audio_config._attn_implementation == "eager"
    with torch.no_grad():
        pixels, features, ids = torch.randn(1, 3, 112, 112), torch.randn(1, 1, 128, 204), _ids(1, (7,))
        torch.testing.assert_close(eager.get_image_features(pixels), model.get_image_features(pixels))
        torch.testing.assert_close(eager.get_audio_features(features), model.get_audio_features(features))
        torch.testing.assert_close(eager.get_text_features(ids), model.get_text_features(ids))
