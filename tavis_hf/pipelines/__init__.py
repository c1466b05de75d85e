"""Pipelines of tavis_hf; importing this module registers the `"audio-visual-segmentation"` task.

The task's default model is the package's embedded one (:data:`DEFAULT_MODEL_DIR`, a local folder, so
`pipeline("audio-visual-segmentation")` without a model loads it, processor included, with no network access;
transformers warns "No model was supplied, defaulted to <that folder> and revision None"). A local folder has no
revision, hence `None`.
"""

from transformers import AutoModel
from transformers.pipelines import PIPELINE_REGISTRY

from .audio_visual_segmentation import DEFAULT_MODEL_DIR, AudioVisualSegmentationPipeline, parse_labels

PIPELINE_REGISTRY.register_pipeline(
    "audio-visual-segmentation",
    pipeline_class=AudioVisualSegmentationPipeline,
    pt_model=AutoModel,
    default={"model": (str(DEFAULT_MODEL_DIR), None)},
    type="multimodal",
)

__all__ = ["DEFAULT_MODEL_DIR", "AudioVisualSegmentationPipeline", "parse_labels"]
