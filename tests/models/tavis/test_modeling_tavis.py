"""TavisConfig / TavisModel on the tiny configuration (CPU, random weights). The checks every model passes (save/load
round trip, batch independence, bfloat16, misspelt keywords) come from `ModelTesterMixin`."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from huggingface_hub.errors import StrictDataclassClassValidationError
from transformers import AutoConfig, AutoModel

import tavis_hf  # (registers the Auto classes)
from tavis_hf.models.imagebind import ImageBindConfig
from tavis_hf.models.tavis import (
    AVSBENCH_CLASSES,
    TEMPORAL_MODES,
    TavisConfig,
    TavisLossTerms,
    TavisModel,
    TavisPrompts,
    sam2_video_config_dict,
)
from tavis_hf.models.tavis.convert_tavis import save_remote_code

from ..modeling_common import REORDERED_SUMS, ModelTesterMixin

SIZE = 64
NUM_CLASSES = 4
LOSS_TERMS = ("loss_a2t", "loss_i2t", "loss_object_bce", "loss_object_iou", "loss_a2pt", "loss_binary_bce",
              "loss_binary_iou", "loss_binary_presence")  # fmt: skip


def make_model(seed=0, **overrides) -> TavisModel:
    torch.manual_seed(seed)
    return TavisModel(TavisConfig.tiny(**overrides))


def make_inputs(batch_size=2, num_frames=2, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return {
        "pixel_values": torch.randn(batch_size, num_frames, 3, SIZE, SIZE, generator=generator),
        "input_features": torch.randn(batch_size, num_frames, 1, 128, 204, generator=generator),
    }


def class_ids(num_classes=NUM_CLASSES, offset=100):
    ids = torch.zeros(num_classes, 77, dtype=torch.long)
    ids[:, 0] = 49406
    ids[:, 1] = torch.arange(num_classes) + offset
    ids[:, 2] = 49407
    return ids


def make_labels(batch_size=2, num_frames=2):
    labels = torch.zeros(batch_size, num_frames, SIZE, SIZE, dtype=torch.long)
    labels[:, :, 8:30, 8:30] = 1
    labels[0, :, 36:60, 30:56] = 3
    return labels


@pytest.fixture(scope="module")
def eval_model():
    return make_model().eval()


class TestTavisModel(ModelTesterMixin):
    """The shared checks on the tiny TAViS model, frames decoded on their own, with a class vocabulary."""

    model_class = TavisModel
    bfloat16_outputs = ("sparse_prompts", "imagebind_audio_tokens", "audio_class_logits", "class_probs")
    num_frames = 2

    def get_config(self):
        return TavisConfig.tiny()

    def get_inputs(self, batch_size, seed=0):
        return make_inputs(batch_size=batch_size, num_frames=self.num_frames, seed=seed)

    def shared_inputs(self):
        return {"class_input_ids": class_ids()}

    def output_tensors(self, outputs):
        names = ("pred_masks", "object_masks", "object_score_logits", "iou_scores", "audio_class_logits",
                 "image_class_logits", "class_probs", "sparse_prompts", "imagebind_audio_tokens")  # fmt: skip
        return {name: getattr(outputs, name) for name in names}


class TestTavisModelTracking(TestTavisModel):
    """The same checks with SAM2 tracking through 3 frames (`temporal="tracking"` in the saved config)."""

    num_frames = 3

    def get_config(self):
        return TavisConfig.tiny(temporal="tracking")


# ---------------------------------------------------------------------------------------------------------- config
def test_release_config_is_sam2_0_hiera_large_with_release_flags():
    config = TavisConfig.release()
    backbone = config.sam2_config.vision_config.backbone_config
    assert backbone.blocks_per_stage == [2, 6, 36, 4] and backbone.embed_dim_per_stage == [144, 288, 576, 1152]
    assert backbone.window_size_per_stage == [8, 4, 16, 8] and backbone.global_attention_blocks == [23, 33, 43]
    assert not config.sam2_config.enable_occlusion_spatial_embedding
    assert not config.sam2_config.enable_temporal_pos_encoding_for_object_pointers
    assert config.sam2_config.image_size == config.image_size == 224
    assert config.sam2_config.prompt_encoder_config.image_size == 224
    assert config.sam2_config.memory_attention_rope_feat_sizes == [14, 14]
    assert config.imagebind_config.vision_config.num_hidden_layers == 32
    assert [config.id2label[i] for i in range(config.num_labels)] == list(AVSBENCH_CLASSES)
    assert len(AVSBENCH_CLASSES) == 71 and config.prompt_template == "A {}" and config.num_object_queries == 5
    assert (config.imagebind_image_size, config.imagebind_clip_normalize, config.ibqd_query_layers) == (
        112, False, "last_only"
    )  # fmt: skip


def test_sam2_1_and_1024_configs():
    config = TavisConfig.release(sam2_config=sam2_video_config_dict("large", "2.1", 1024), image_size=1024)
    assert config.sam2_config.enable_occlusion_spatial_embedding
    assert config.sam2_config.vision_config.backbone_feature_sizes == [[256, 256], [128, 128], [64, 64]]
    paper = TavisConfig.paper()
    assert paper.ibqd_query_layers == "stacked" and paper.highlight_blur == "gaussian"
    quirks = TavisConfig.release(reproduce_training_quirks=True)
    assert (quirks.ibqd_token_memory_alignment, quirks.imagebind_train_mode, quirks.tracking_memory_bfloat16) == (
        "tile", True, True
    )  # fmt: skip
    assert TavisConfig.release().ibqd_token_memory_alignment == "interleave"


def test_config_validation_errors():
    with pytest.raises(StrictDataclassClassValidationError, match="image_size"):
        TavisConfig.tiny(image_size=128)
    with pytest.raises(StrictDataclassClassValidationError, match="ibqd_query_layers"):
        TavisConfig.tiny(ibqd_query_layers="all")
    with pytest.raises(StrictDataclassClassValidationError, match="need binary_prompt=True"):
        TavisConfig.tiny(binary_presence_threshold=0.0, binary_prompt=False)
    with pytest.raises(
        StrictDataclassClassValidationError, match=r"temporal must be one of \('per-frame', 'tracking'\)"
    ):
        TavisConfig.tiny(temporal="window")
    with pytest.raises(ValueError, match="multiple of 32"):
        sam2_video_config_dict("large", "2.0", 100)


def test_update_from_string_reaches_sub_configs(tmp_path):
    config = TavisConfig.tiny()
    decoder = config.sam2_config.mask_decoder_config
    assert decoder.dynamic_multimask_via_stability and config.multimask_best_iou
    config.update_from_string(
        "multimask_best_iou=false,sam2_config.mask_decoder_config.dynamic_multimask_via_stability=false,"
        "loss_weight_a2t=2.5"
    )
    assert (config.multimask_best_iou, decoder.dynamic_multimask_via_stability, config.loss_weight_a2t) == (
        False, False, 2.5,
    )  # fmt: skip
    config.save_pretrained(tmp_path)
    reloaded = TavisConfig.from_pretrained(tmp_path)
    assert reloaded.sam2_config.mask_decoder_config.dynamic_multimask_via_stability is False
    with pytest.raises(ValueError, match="isn't in the original config"):
        config.update_from_string("sam2_config.mask_decoder_config.no_such_field=1")
    with pytest.raises(ValueError, match="not a sub-config"):
        config.update_from_string("loss_weight_a2t.x=1")
    with pytest.raises(ValueError, match="key=value"):
        config.update_from_string("multimask_best_iou")
    config.update_from_string("binary_presence_threshold=0.0,highlight_sigma=3")  # optional fields, unset so far
    assert (config.binary_presence_threshold, config.highlight_sigma) == (0.0, 3.0)
    config.update_from_string("binary_presence_threshold=none")
    assert config.binary_presence_threshold is None


# ------------------------------------------------------------------------------------------------------- inference
def test_per_frame_forward_shapes(eval_model):
    config = eval_model.config
    num_queries, prompts = config.num_object_queries, config.num_object_queries + 1
    with torch.no_grad():
        out = eval_model(**make_inputs(), class_input_ids=class_ids())
    assert out.pred_masks.shape == (2, 2, SIZE, SIZE)
    assert out.object_masks.shape == (2, 2, num_queries, SIZE, SIZE)
    assert out.object_score_logits.shape == out.iou_scores.shape == (2, 2, prompts)
    assert out.low_res_masks.shape == (2, 2, prompts, SIZE // 4, SIZE // 4)
    assert out.audio_class_logits.shape == out.image_class_logits.shape == (2, 2, num_queries, NUM_CLASSES)
    assert out.semantic_masks.shape == (2, 2, SIZE, SIZE) and out.semantic_masks.dtype == torch.long
    assert out.semantic_masks.min() >= 0 and out.semantic_masks.max() < NUM_CLASSES
    assert ((out.semantic_masks > 0) <= (out.pred_masks > 0)).all()
    assert out.loss is None


def test_tracking_differs_from_per_frame_after_frame_0(eval_model):
    inputs = make_inputs(batch_size=1, num_frames=3)
    with torch.no_grad():
        per_frame = eval_model(**inputs, temporal="per-frame")
        tracking = eval_model(**inputs, temporal="tracking")
        former_name = eval_model(**inputs, temporal="clip")  # "clip", the name before 0.2, is read as "tracking"
    torch.testing.assert_close(per_frame.pred_masks[:, 0], tracking.pred_masks[:, 0])
    assert not torch.allclose(per_frame.pred_masks[:, 1:], tracking.pred_masks[:, 1:])
    assert torch.equal(former_name.pred_masks, tracking.pred_masks)
    assert TEMPORAL_MODES == ("per-frame", "tracking")


@pytest.mark.parametrize("class_source", ["a2t", "v2t", "mean"])
def test_class_probs_are_the_class_source_softmax(class_source):
    """`class_probs` (B, T, N, C) is the softmax of the logits `avss_class_source` names (the mean of both for
    "mean"), computed once in the model: the semantic map is assembled from it."""
    model = make_model(avss_class_source=class_source).eval()
    with torch.no_grad():
        out = model(**make_inputs(batch_size=1), class_input_ids=class_ids())
    audio = out.audio_class_logits.softmax(-1)
    image = None if out.image_class_logits is None else out.image_class_logits.softmax(-1)
    expected = {"a2t": audio, "v2t": image, "mean": None if image is None else (audio + image) / 2}[class_source]
    assert out.class_probs.shape == (1, 2, model.config.num_object_queries, NUM_CLASSES)
    assert out.class_probs.dtype == torch.float32 and not out.class_probs.requires_grad
    torch.testing.assert_close(out.class_probs, expected, rtol=0, atol=1e-6)
    torch.testing.assert_close(out.class_probs.sum(-1), torch.ones(1, 2, model.config.num_object_queries))
    with torch.no_grad():
        semantic = model.assemble_semantic_masks(out.object_masks[0], out.pred_masks[0], out.class_probs[0])
    assert torch.equal(semantic, out.semantic_masks[0])
    with torch.no_grad():
        assert model(**make_inputs(batch_size=1)).class_probs is None  # no class work, no class probabilities


def test_compute_prompts_returns_documented_shapes(eval_model):
    config = eval_model.config
    num_queries, prompts = config.num_object_queries, config.num_prompts
    audio_dim = config.imagebind_config.audio_config.hidden_size
    text_dim = config.imagebind_config.text_config.hidden_size
    size = config.imagebind_image_size
    with torch.no_grad():
        out = eval_model.compute_prompts(torch.rand(3, 3, size, size), torch.randn(3, 1, 128, 204))
    assert isinstance(out, TavisPrompts)
    shapes = {name: tuple(value.shape) for name, value in out.items()}
    assert shapes == {
        "audio_hidden_states": (3, 229, audio_dim),
        "ibqd_queries": (3, num_queries, audio_dim),
        "refined_audio_tokens": (3, num_queries, audio_dim),
        "pseudo_text_features": (3, prompts, text_dim),
        "text_prompts": (3, prompts, config.prompt_hidden_dim),
        "audio_prompts": (3, prompts, config.prompt_hidden_dim),
        "sparse_prompts": (3, prompts, config.prompt_hidden_dim),
        "dense_prompts": (3, config.prompt_hidden_dim),
        "adapter_input": (3, config.adapter_input_dim),
    }


@pytest.mark.parametrize("assembly", ["soft", "hard"])
@pytest.mark.parametrize("class_source", ["a2t", "v2t"])
def test_semantic_assembly_variants(assembly, class_source):
    model = make_model(avss_assembly=assembly, avss_class_source=class_source).eval()
    with torch.no_grad():
        out = model(**make_inputs(batch_size=1), class_input_ids=class_ids())
    assert out.semantic_masks.shape == (1, 2, SIZE, SIZE)
    assert ((out.semantic_masks > 0) <= (out.pred_masks > 0)).all()
    assert (out.image_class_logits is None) == (class_source == "a2t")


def test_release_training_quirks_flags():
    inputs = make_inputs(batch_size=2, num_frames=1)
    outputs = {}
    for alignment in ("interleave", "tile"):
        model = make_model(ibqd_token_memory_alignment=alignment, ibqd_query_layers="stacked").train()
        assert len(model.ibqd.query_layers) == model.config.ibqd_num_layers
        with torch.no_grad():
            outputs[alignment] = model(**inputs).sparse_prompts
    # frame 0's token rows attend to frames 0 and 1 under "tile" (the release's training misalignment)
    assert not torch.allclose(outputs["interleave"], outputs["tile"])


def test_truncated_pseudo_text_equals_full_77_token_run(eval_model):
    torch.manual_seed(1)
    sources = torch.randn(7, eval_model.config.imagebind_config.audio_config.hidden_size)
    with torch.no_grad():
        ours = eval_model._pseudo_text_features(sources)
        eot, embeds = eval_model.pseudo_text(sources)
        text_model = eval_model.imagebind.text_model
        pad = text_model.embeddings.token_embedding.weight[0]
        full = torch.cat([embeds, pad.expand(7, 77 - embeds.shape[1], -1)], dim=1)
        hidden = text_model(inputs_embeds=full, eos_positions=eot).last_hidden_state
    torch.testing.assert_close(ours, hidden[torch.arange(7), eot], atol=1e-5, rtol=1e-5)


def test_vocabulary_is_cached_and_replaceable():
    model = make_model().eval()
    inputs = make_inputs(batch_size=1, num_frames=1)
    with torch.no_grad():
        model(**inputs, class_input_ids=class_ids())
        cached = model._vocabulary
        model(**inputs, class_input_ids=class_ids())
        assert model._vocabulary is cached
        model.set_vocabulary(class_ids(6, offset=300), labels=["background", "a", "b", "c", "d", "e"])
        out = model(**inputs, return_class_outputs=True)
        binary_only = model(**inputs)
    assert out.audio_class_logits.shape[-1] == 6 and model.config.id2label[5] == "e"
    assert binary_only.audio_class_logits is None and binary_only.semantic_masks is None  # no class work
    torch.testing.assert_close(binary_only.pred_masks, out.pred_masks, atol=0, rtol=0)


# -------------------------------------------------------------------------------------------------------- training
def test_loss_and_gradients_reach_exactly_the_trainable_modules():
    model = make_model().train()
    out = model(**make_inputs(), class_input_ids=class_ids(), labels=make_labels())
    assert isinstance(out.loss_terms, TavisLossTerms) and tuple(out.loss_terms) == LOSS_TERMS  # one field per term
    for name, value in out.loss_terms.items():
        assert torch.isfinite(value) and value.abs() > 0, name
        assert getattr(out.loss_terms, name) is value
    assert out.class_probs.shape == out.audio_class_logits.shape and out.semantic_masks is None
    out.loss.backward()
    frozen_with_grad = [n for n, p in model.named_parameters() if not p.requires_grad and p.grad is not None]
    assert frozen_with_grad == []
    for prefix in ("imagebind.", "sam2.vision_encoder.", "pseudo_text."):
        assert all(not p.requires_grad for n, p in model.named_parameters() if n.startswith(prefix)), prefix
    with_grad = {n for n, p in model.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0}
    expected = ["audio_adapters.0.fc1.weight", "audio_adapters.4.fc2.weight", "adapter_audio_proj.weight",
                "ibqd.queries.weight", "ibqd.query_pos.weight", "ibqd.query_layers.0.multihead_attn.in_proj_weight",
                "ibqd.token_residual_proj.weight", "ibqd.token_refiner.1.norm.weight", "text_prompt_proj.weight",
                "query_proj.weight", "audio_prompt_mlp.layers.2.weight", "global_audio_prompt_proj.weight",
                "sparse_prompt_mlp.layers.0.weight", "dense_prompt_proj.weight", "sam2.no_memory_embedding",
                "sam2.mask_decoder.transformer.layers.0.self_attn.q_proj.weight"]  # fmt: skip
    assert [name for name in expected if name not in with_grad] == []


def test_a_trainable_audio_tower_gets_gradients():
    """A model trained from scratch may train its (random) ImageBind audio tower: the forward then keeps its graph."""
    model = make_model().train()
    model.imagebind.audio_model.requires_grad_(True)
    out = model(**make_inputs(), class_input_ids=class_ids(), labels=make_labels())
    out.loss.backward()
    grads = [p.grad for p in model.imagebind.audio_model.parameters()]
    assert all(g is not None for g in grads) and sum(g.abs().sum() for g in grads) > 0
    assert all(p.grad is None for p in model.imagebind.vision_model.parameters())


def test_gradient_checkpointing_gives_the_same_gradients():
    grads = []
    for checkpointing in (False, True):
        model = make_model().train()
        if checkpointing:
            model.activation_checkpointing_enable()
        out = model(**make_inputs(batch_size=1), class_input_ids=class_ids(), labels=make_labels(batch_size=1))
        out.loss.backward()
        grads.append(model.audio_adapters[0].fc1.weight.grad)
    torch.testing.assert_close(grads[0], grads[1])


def test_binary_presence_trains_sam2_object_score_head_and_empties_absent_frames_at_inference():
    """`loss_weight_binary_presence` trains the global prompt's SAM2 object score; `binary_presence_threshold` then
    empties the binary mask of frames whose score is at or below it, in eval mode only."""
    inputs, labels = make_inputs(batch_size=1), make_labels(batch_size=1)
    head = "sam2.mask_decoder.pred_obj_score_head.proj_out.weight"
    grads = {}
    for weight in (0.0, 1.0):
        model = make_model(loss_weight_binary_presence=weight).train()
        out = model(**inputs, class_input_ids=class_ids(), labels=labels)
        out.loss.backward()
        grads[weight] = dict(model.named_parameters())[head].grad
    assert grads[0.0] is None or grads[0.0].abs().sum() == 0
    assert grads[1.0].abs().sum() > 0
    model = make_model().eval()
    with torch.no_grad():
        plain = model(**inputs)
    scores = plain.object_score_logits[0, :, -1]  # (T,): the global prompt
    low, high = int(scores.argmin()), int(scores.argmax())
    assert scores[high] > scores[low]  # the frame at the threshold is absent, the one above it is kept
    model = make_model(binary_presence_threshold=float(scores[low])).eval()
    with torch.no_grad():
        suppressed = model(**inputs)
    assert bool((suppressed.pred_masks[0, low] == -1024).all())
    torch.testing.assert_close(suppressed.pred_masks[0, high], plain.pred_masks[0, high])
    torch.testing.assert_close(suppressed.object_masks, plain.object_masks)
    model.train()
    training = model(**inputs, class_input_ids=class_ids(), labels=labels)
    assert not bool((training.pred_masks[0, low] == -1024).all())  # training sees the decoder's own logits


def test_train_pseudo_text_flag_trains_the_generator():
    model = make_model(train_pseudo_text=True).train()
    out = model(**make_inputs(batch_size=1), class_input_ids=class_ids(), labels=make_labels(batch_size=1))
    out.loss.backward()
    assert model.pseudo_text.token_embeds.weight.grad.abs().sum() > 0


def test_tracking_trains_memory_modules():
    model = make_model().train()
    inputs = make_inputs(batch_size=1, num_frames=3)
    out = model(**inputs, class_input_ids=class_ids(), labels=make_labels(1, 3), temporal="tracking",
                label_frame_mask=torch.tensor([[True, False, True]]))  # fmt: skip
    out.loss.backward()
    assert model.sam2.memory_attention.layers[0].cross_attn_image.q_proj.weight.grad.abs().sum() > 0
    assert model.sam2.memory_encoder.projection.weight.grad.abs().sum() > 0


# ------------------------------------------------------------------------------------------------------ save / load
def test_heads_are_initialised_as_the_release_creates_them():
    """IBQD queries N(0, 1); prompt heads, IBQD residual projection and pseudo-text generator PyTorch's default
    Linear init U(±1/sqrt(fan_in)); adapters trunc-normal(0.02) with zero bias; IBQD attention Xavier, zero biases."""
    model = make_model(seed=1)
    ibqd = model.ibqd
    for embedding in (ibqd.queries, ibqd.query_pos):
        assert 0.6 < float(embedding.weight.std()) < 1.4
    defaults = [model.text_prompt_proj, model.query_proj, model.global_audio_prompt_proj, model.dense_prompt_proj,
                model.adapter_audio_proj, ibqd.token_residual_proj, model.pseudo_text.token_embeds,
                *model.sparse_prompt_mlp.layers, *model.audio_prompt_mlp.layers]  # fmt: skip
    for linear in defaults:
        bound = 1 / linear.in_features**0.5
        for tensor in (linear.weight, linear.bias):
            assert float(tensor.abs().max()) <= bound
            assert abs(float(tensor.std()) - bound / 3**0.5) < 0.25 * bound  # uniform: std = bound / sqrt(3)
    for adapter in model.audio_adapters:
        assert abs(float(adapter.fc1.weight.std()) - 0.02) < 0.008  # trunc_normal_(std=0.02) cut at ±2: ~normal
        assert not adapter.fc1.bias.any() and not adapter.fc2.bias.any()
    for layer in (*ibqd.query_layers, *ibqd.token_refiner):
        attention = layer.multihead_attn
        for weight in (attention.in_proj_weight, attention.out_proj.weight):
            bound = (6 / sum(weight.shape)) ** 0.5
            assert float(weight.abs().max()) <= bound and float(weight.std()) > 0.4 * bound
        assert not attention.in_proj_bias.any() and not attention.out_proj.bias.any()


def test_a_loaded_model_freezes_the_same_modules_as_a_new_one(tmp_path):
    model = make_model(train_pseudo_text=True)
    model.save_pretrained(tmp_path / "m")
    for loaded in (TavisModel.from_pretrained(tmp_path / "m"), AutoModel.from_pretrained(tmp_path / "m"),
                   TavisModel.from_pretrained(tmp_path / "m", output_loading_info=True)[0]):  # fmt: skip
        trainable = {name for name, p in loaded.named_parameters() if p.requires_grad}
        assert trainable == {name for name, p in model.named_parameters() if p.requires_grad}
        assert not any(name.startswith(("imagebind.", "sam2.vision_encoder.")) for name in trainable)
        assert any(name.startswith("pseudo_text.") for name in trainable)


def test_configs_written_before_the_rename_load_into_the_new_fields(tmp_path):
    """A config.json with `"temporal": "clip"` and `"clip_memory_bfloat16": true` (the names before 0.2) loads as
    `temporal="tracking"`, `tracking_memory_bfloat16=True`, and is saved under the new names."""
    TavisConfig.tiny().save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "config.json").read_text())
    del saved["tracking_memory_bfloat16"]
    (tmp_path / "config.json").write_text(json.dumps({**saved, "temporal": "clip", "clip_memory_bfloat16": True}))
    for config in (TavisConfig.from_pretrained(tmp_path), AutoConfig.from_pretrained(tmp_path)):
        assert (config.temporal, config.tracking_memory_bfloat16) == ("tracking", True)
        assert config.clip_memory_bfloat16 is True  # the old attribute name reads the new field
    config.save_pretrained(tmp_path / "again")
    again = json.loads((tmp_path / "again" / "config.json").read_text())
    assert (again["temporal"], again["tracking_memory_bfloat16"]) == ("tracking", True)
    assert "clip_memory_bfloat16" not in again
    keyword = TavisConfig.tiny(temporal="clip", clip_memory_bfloat16=True)
    assert (keyword.temporal, keyword.tracking_memory_bfloat16) == ("tracking", True)
    keyword.update_from_string("temporal=clip,clip_memory_bfloat16=false")
    assert (keyword.temporal, keyword.tracking_memory_bfloat16) == ("tracking", False)


def test_the_embedded_model_config_loads_under_the_new_names():
    """`tavis_hf/checkpoints/tavis-tiny/config.json` was written with `clip_memory_bfloat16`; it still loads (its
    outputs do not depend on the names: the rename changed no computation)."""
    embedded = Path(tavis_hf.__file__).parent / "checkpoints" / "tavis-tiny"
    written = json.loads((embedded / "config.json").read_text())
    assert written["clip_memory_bfloat16"] is False and "tracking_memory_bfloat16" not in written
    config = TavisConfig.from_pretrained(embedded)
    assert (config.temporal, config.tracking_memory_bfloat16) == ("per-frame", False)


@pytest.mark.slow
def test_remote_code_loading_without_the_package(tmp_path, eval_model):
    eval_model.save_pretrained(tmp_path)
    save_remote_code(tmp_path)
    inputs = make_inputs(batch_size=1, num_frames=1)
    torch.save(inputs, tmp_path / "inputs.pt")
    with torch.no_grad():
        torch.save(eval_model(**inputs).pred_masks, tmp_path / "expected.pt")
    code = f"""
import sys, torch
from transformers import AutoModel
model = AutoModel.from_pretrained({str(tmp_path)!r}, trust_remote_code=True).eval()
assert "tavis_hf" not in sys.modules and type(model).__module__.startswith("transformers_modules.")
inputs = torch.load({str(tmp_path / "inputs.pt")!r}, weights_only=True)
expected = torch.load({str(tmp_path / "expected.pt")!r}, weights_only=True)
with torch.no_grad():
    diff = (model(**inputs).pred_masks - expected).abs().max().item()
assert diff <= {REORDERED_SUMS} * expected.abs().max().item(), diff
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]


def test_from_pretrained_backbones_loads_sam2_and_imagebind(tmp_path, eval_model):
    eval_model.sam2.save_pretrained(tmp_path / "sam2")
    eval_model.imagebind.save_pretrained(tmp_path / "imagebind")
    model = TavisModel.from_pretrained_backbones(eval_model.config, str(tmp_path / "sam2"), str(tmp_path / "imagebind"))
    for name in ("sam2", "imagebind"):
        ours, theirs = getattr(model, name).state_dict(), getattr(eval_model, name).state_dict()
        assert all(torch.equal(ours[key], theirs[key]) for key in theirs), name
    assert not any(p.requires_grad for p in model.imagebind.parameters())
    other = TavisConfig.tiny(imagebind_config=ImageBindConfig.tiny(num_hidden_layers=1).to_dict())
    with pytest.raises(RuntimeError, match="Unexpected key.*encoder.layers.1"):
        TavisModel.from_pretrained_backbones(other, eval_model.sam2, eval_model.imagebind)


# -------------------------------------------------------------------------------------------------------- bad input
def test_bad_inputs_raise_clear_errors(eval_model):
    inputs = make_inputs()
    with pytest.raises(ValueError, match="one audio clip per frame"):
        eval_model(pixel_values=inputs["pixel_values"], input_features=inputs["input_features"][:, :1])
    with pytest.raises(ValueError, match="supports 64x64 only"):
        eval_model(pixel_values=torch.zeros(2, 2, 3, 96, 96), input_features=inputs["input_features"])
    labels = make_labels()
    labels[0, 0, 0, 0] = 9
    with pytest.raises(ValueError, match=r"class ids \[9\] outside the vocabulary"):
        eval_model(**inputs, class_input_ids=class_ids(), labels=labels)
    fresh = make_model()
    with pytest.raises(ValueError, match="no class vocabulary"):
        fresh(**inputs, labels=make_labels())
    with pytest.raises(ValueError, match="temporal"):
        eval_model(**inputs, temporal="video")
    with pytest.raises(TypeError, match="temporl"):  # no catch-all **kwargs: a misspelt keyword fails
        eval_model(**inputs, temporl="tracking")


def test_model_vocabulary_is_the_datasets_avsbench_class_list():
    """The model folder keeps its own copy of the 71 AVSBench classes (self-contained for remote code)."""
    from tavis_hf.data import AVSBENCH_CLASSES as DATA_CLASSES
    from tavis_hf.models.tavis import AVSBENCH_CLASSES as MODEL_CLASSES

    assert tuple(MODEL_CLASSES) == tuple(DATA_CLASSES) and len(MODEL_CLASSES) == 71
