"""tavis_hf: TAViS audio-visual segmentation (ImageBind + SAM2) as a Hugging Face library.

Importing the package registers its configs, models, processors and the ``"audio-visual-segmentation"``
pipeline task with transformers' Auto classes.
"""

__version__ = "0.1.0.dev0"

# Each subpackage registers its own Auto classes on import; public names are re-exported here.

from . import data, metrics  # noqa: E402, F401  (AVSBench / SynthAVS datasets and AVS metrics; no `datasets` import)
from .models.imagebind import (  # noqa: E402, F401  (public re-exports)
    ImageBindAudioConfig,
    ImageBindAudioFeatureExtractor,
    ImageBindConfig,
    ImageBindModel,
    ImageBindTextConfig,
    ImageBindVisionConfig,
)
from .models.tavis import (  # noqa: E402, F401  (public re-exports)
    TavisConfig,
    TavisImageProcessorPil,
    TavisModel,
    TavisProcessor,
    TavisSegmentationOutput,
)
from .pipelines import AudioVisualSegmentationPipeline  # noqa: E402, F401  (registers the task)
from .segmentation import segment_video  # noqa: E402, F401  (the application layer: one video -> files)
