"""The model a run trains: loaded (or built from a preset) with its config overrides, checked against its processor,
and prepared as the recipe says (trainable towers, activation checkpointing, cached audio features).

The model's behaviour is its config's (``TavisConfig``; ``imagebind_train_mode`` included): the recipe changes only
what is trained and how fast. :func:`load_model_and_processor` is shared by the Accelerate loop and the Trainer example.
"""

from __future__ import annotations

from .audio_cache import CachedImageBindAudio
from .recipe import TrainingRecipe

__all__ = ["load_model_and_processor", "prepare_model_for_training", "set_trainable_towers"]


def _pretrained(model_name_or_path: str, config_overrides: str | None):
    """`TavisModel.from_pretrained` with the overrides applied to its config first, failing on any missing,
    unexpected or mismatched weight (an override that changes the architecture cannot load the weights)."""
    from tavis_hf.models.tavis import TavisConfig, TavisModel

    config = TavisConfig.from_pretrained(model_name_or_path)
    if config_overrides:
        config.update_from_string(config_overrides)
        config.validate_architecture()
    try:
        model, info = TavisModel.from_pretrained(model_name_or_path, config=config, output_loading_info=True)
    except RuntimeError as error:  # transformers refuses weights of another shape
        raise ValueError(
            f"{model_name_or_path} does not load cleanly (config overrides {config_overrides!r}): {error}"
        ) from error
    problems = {kind: sorted(map(str, names)) for kind, names in info.items() if names}
    if problems:
        raise ValueError(
            f"{model_name_or_path} does not load cleanly (config overrides {config_overrides!r}): {problems}"
        )
    return model


def _from_preset(model_preset: str, config_overrides: str | None, processor_name_or_path, bpe_path):
    from tavis_hf.models.imagebind import load_bpe_merges
    from tavis_hf.models.tavis import TavisConfig, TavisModel, TavisProcessor

    config = getattr(TavisConfig, model_preset)()
    if config_overrides:
        config.update_from_string(config_overrides)
        config.validate_architecture()
    model = TavisModel(config)
    if processor_name_or_path:
        return model, TavisProcessor.from_pretrained(processor_name_or_path)
    if bpe_path is None and model_preset != "tiny":
        raise ValueError(f"--model-preset {model_preset} needs --bpe-path or --processor-name-or-path")
    merges = load_bpe_merges(bpe_path) if bpe_path else []
    return model, TavisProcessor.from_tavis_config(config, merges)


def load_model_and_processor(
    model_name_or_path: str | None = None,
    model_preset: str | None = None,
    config_overrides: str | None = None,
    processor_name_or_path: str | None = None,
    bpe_path: str | None = None,
):
    """``(model, processor)`` to train: a saved TAViS model (``model_name_or_path``, loaded strictly) or a random
    ``TavisConfig.<model_preset>()`` model, with ``config_overrides`` (``TavisConfig.update_from_string``) applied to
    its config. The processor comes from ``processor_name_or_path``, the model's folder, or the preset's config
    (``bpe_path``: ImageBind's BPE merges; the tiny preset gets a byte-level tokenizer). Raises ``ValueError`` when
    the processor does not resize frames to the model's ``config.image_size``."""
    from tavis_hf.models.tavis import TavisProcessor

    if (model_name_or_path is None) == (model_preset is None):
        raise ValueError("pass exactly one of model_name_or_path and model_preset")
    if model_name_or_path is not None:
        model = _pretrained(model_name_or_path, config_overrides)
        processor = TavisProcessor.from_pretrained(processor_name_or_path or model_name_or_path)
    else:
        model, processor = _from_preset(model_preset, config_overrides, processor_name_or_path, bpe_path)
    size, expected = dict(processor.image_processor.size), model.config.image_size
    if size != {"height": expected, "width": expected}:
        raise ValueError(f"the processor resizes frames to {size}, but the model runs at {expected} px "
                         "(config.image_size): pass the model's own processor")  # fmt: skip
    return model, processor


def set_trainable_towers(model, recipe: TrainingRecipe) -> None:
    """Make the towers TAViS freezes trainable where the recipe says so (``train_imagebind_audio``,
    ``train_sam2_image_encoder``)."""
    if recipe.train_imagebind_audio:
        model.imagebind.audio_model.requires_grad_(True)
    if recipe.train_sam2_image_encoder:
        model.sam2.vision_encoder.requires_grad_(True)


def prepare_model_for_training(model, recipe: TrainingRecipe) -> CachedImageBindAudio | None:
    """Apply the recipe to `model`: towers to train (:func:`set_trainable_towers`), activation checkpointing, and the audio-feature cache (returned; None without it). The model's config is not
    touched."""
    if recipe.cache_audio_features and model.config.imagebind_train_mode:
        raise ValueError(
            "cache_audio_features needs a deterministic audio tower: not with the model's imagebind_train_mode "
            "(--config-overrides imagebind_train_mode=false, or --no-cache-audio-features)"
        )
    set_trainable_towers(model, recipe)
    if recipe.activation_checkpointing:
        model.activation_checkpointing_enable()
    if recipe.cache_audio_features:
        return CachedImageBindAudio(model.imagebind.audio_model).attach()
    return None
