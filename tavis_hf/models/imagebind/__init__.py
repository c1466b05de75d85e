"""ImageBind (vision, text, audio) in transformers style.

ImageBind is by Meta AI; its code and weights are CC BY-NC-SA 4.0. This subpackage contains no ImageBind code or
weights; weights converted with `convert_imagebind` inherit the non-commercial, share-alike licence.

Importing it registers `ImageBindConfig` / `ImageBindModel` (model type `"imagebind"`), the tower configs and models,
and `ImageBindAudioFeatureExtractor` with transformers' `AutoConfig`, `AutoModel` and `AutoFeatureExtractor`.
"""

from transformers import AutoConfig, AutoFeatureExtractor, AutoModel

from .configuration_imagebind import ImageBindAudioConfig, ImageBindConfig, ImageBindTextConfig, ImageBindVisionConfig
from .feature_extraction_imagebind import ImageBindAudioFeatureExtractor, imagebind_clip_timepoints
from .modeling_imagebind import (
    ImageBindAudioModel,
    ImageBindModel,
    ImageBindOutput,
    ImageBindPreTrainedModel,
    ImageBindTextModel,
    ImageBindVisionModel,
)
from .tokenization_imagebind import build_imagebind_tokenizer, clean_imagebind_text, load_bpe_merges, tokenize_imagebind

__all__ = [
    "ImageBindAudioConfig",
    "ImageBindAudioFeatureExtractor",
    "ImageBindAudioModel",
    "ImageBindConfig",
    "ImageBindModel",
    "ImageBindOutput",
    "ImageBindPreTrainedModel",
    "ImageBindTextConfig",
    "ImageBindTextModel",
    "ImageBindVisionConfig",
    "ImageBindVisionModel",
    "build_imagebind_tokenizer",
    "clean_imagebind_text",
    "convert_imagebind_state_dict",
    "imagebind_clip_timepoints",
    "load_bpe_merges",
    "tokenize_imagebind",
]

for _config, _model in (
    (ImageBindConfig, ImageBindModel),
    (ImageBindVisionConfig, ImageBindVisionModel),
    (ImageBindTextConfig, ImageBindTextModel),
    (ImageBindAudioConfig, ImageBindAudioModel),
):
    AutoConfig.register(_config.model_type, _config, exist_ok=True)
    AutoModel.register(_config, _model, exist_ok=True)
AutoFeatureExtractor.register(ImageBindConfig, ImageBindAudioFeatureExtractor, exist_ok=True)


def __getattr__(name: str):
    # Lazy, so that `python -m tavis_hf.models.imagebind.convert_imagebind` does not import the module twice.
    if name == "convert_imagebind_state_dict":
        from .convert_imagebind import convert_imagebind_state_dict

        return convert_imagebind_state_dict
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
