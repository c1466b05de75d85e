"""Pipelines of tavis_hf; importing this module registers the `"audio-visual-segmentation"` task."""

from transformers import AutoModel
from transformers.pipelines import PIPELINE_REGISTRY

from .audio_visual_segmentation import DEFAULT_MODEL_DIR, AudioVisualSegmentationPipeline, parse_labels

PIPELINE_REGISTRY.register_pipeline(
    "audio-visual-segmentation",
    pipeline_class=AudioVisualSegmentationPipeline,
    pt_model=AutoModel,
    type="multimodal",
)

__all__ = ["DEFAULT_MODEL_DIR", "AudioVisualSegmentationPipeline", "parse_labels"]
