"""tavis_hf.training.model: the model a run trains keeps its config's behaviour; overrides; strict loading."""

import pytest
import torch

from tavis_hf.training import (
    load_model_and_processor,
    prepare_model_for_training,
    resolve_recipe,
    set_trainable_towers,
)


def test_the_config_rules_imagebind_train_mode(tiny_model_dir):
    """The authors' quirk set in a model's config (e.g. TavisConfig.release(reproduce_training_quirks=True)) is kept:
    preparing the model for training does not touch its config (the recipe used to reset it to False)."""
    model, _ = load_model_and_processor(str(tiny_model_dir), config_overrides="imagebind_train_mode=true")
    recipe = resolve_recipe(cli_values={"subset": "synth-s4"})
    assert prepare_model_for_training(model, recipe) is None
    assert model.config.imagebind_train_mode is True
    model.train()
    assert model.imagebind.training  # ImageBind in train mode, as the config says
    plain, _ = load_model_and_processor(str(tiny_model_dir))
    assert plain.config.imagebind_train_mode is False and not plain.train().imagebind.training


def test_pretrained_overrides_are_strict(tiny_model_dir):
    model, processor = load_model_and_processor(str(tiny_model_dir), config_overrides="loss_weight_a2t=3.0")
    assert model.config.loss_weight_a2t == 3.0 and processor.image_processor.size["height"] == model.config.image_size
    with pytest.raises(ValueError, match="does not load cleanly"):
        load_model_and_processor(str(tiny_model_dir), config_overrides="num_object_queries=5")
    with pytest.raises(ValueError, match="exactly one of"):
        load_model_and_processor()


def test_the_processor_must_resize_to_the_model_size(tiny_model_dir, tmp_path):
    from tavis_hf.models.tavis import TavisConfig, TavisProcessor

    processor = TavisProcessor.from_tavis_config(TavisConfig.tiny(), size={"height": 32, "width": 32})
    processor.save_pretrained(tmp_path / "processor")
    with pytest.raises(ValueError, match=r"resizes frames to .*32.* but the model runs at 64 px"):
        load_model_and_processor(str(tiny_model_dir), processor_name_or_path=str(tmp_path / "processor"))


def test_recipe_choices_applied_to_the_model():
    torch.manual_seed(0)
    model, _ = load_model_and_processor(model_preset="tiny")
    frozen = {name for name, p in model.named_parameters() if not p.requires_grad}
    recipe = resolve_recipe(cli_values={"subset": "synth-s4", "train_imagebind_audio": True,
                                        "train_sam2_image_encoder": True})  # fmt: skip
    set_trainable_towers(model, recipe)
    unfrozen = {name for name in frozen if dict(model.named_parameters())[name].requires_grad}
    assert {name.split(".")[:2] == ["imagebind", "audio_model"] or name.startswith("sam2.vision_encoder.")
            for name in unfrozen} == {True}  # fmt: skip
    assert any(name.startswith("sam2.vision_encoder.") for name in unfrozen)
    cached = resolve_recipe(cli_values={"subset": "synth-s4", "cache_audio_features": True})
    quirky, _ = load_model_and_processor(model_preset="tiny", config_overrides="imagebind_train_mode=true")
    with pytest.raises(ValueError, match="not with the model's imagebind_train_mode"):
        prepare_model_for_training(quirky, cached)
    cache = prepare_model_for_training(load_model_and_processor(model_preset="tiny")[0], cached)
    assert cache is not None and cache.misses == 0
