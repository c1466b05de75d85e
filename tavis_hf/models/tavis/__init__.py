"""TAViS (ICCV 2025) in transformers style: config, model, checkpoint converter, loss, highlight images and the
SAM2 tracking driver.

Importing it registers `TavisConfig` / `TavisModel` (model type `"tavis"`) with transformers' `AutoConfig` and
`AutoModel`.
"""

from transformers import AutoConfig, AutoFeatureExtractor, AutoImageProcessor, AutoModel, AutoProcessor

from ..imagebind.feature_extraction_imagebind import ImageBindAudioFeatureExtractor
from .configuration_tavis import (
    AVSBENCH_CLASSES,
    TEMPORAL_MODES,
    TavisConfig,
    canonical_temporal,
    sam2_video_config_dict,
)
from .image_processing_tavis import TavisImageProcessorPil
from .loss_tavis import TavisLossTerms
from .modeling_tavis import TavisModel, TavisPreTrainedModel, TavisPrompts, TavisSegmentationOutput
from .processing_tavis import TavisProcessor

__all__ = [
    "AVSBENCH_CLASSES",
    "TEMPORAL_MODES",
    "TavisConfig",
    "TavisImageProcessorPil",
    "TavisLossTerms",
    "TavisModel",
    "TavisPreTrainedModel",
    "TavisProcessor",
    "TavisPrompts",
    "TavisSegmentationOutput",
    "canonical_temporal",
    "sam2_video_config_dict",
]

AutoConfig.register(TavisConfig.model_type, TavisConfig, exist_ok=True)
AutoModel.register(TavisConfig, TavisModel, exist_ok=True)
AutoImageProcessor.register(TavisConfig, image_processor_classes={"pil": TavisImageProcessorPil}, exist_ok=True)
AutoFeatureExtractor.register(TavisConfig, ImageBindAudioFeatureExtractor, exist_ok=True)
AutoProcessor.register(TavisConfig, TavisProcessor, exist_ok=True)
