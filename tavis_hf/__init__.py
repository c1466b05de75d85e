"""tavis_hf: TAViS audio-visual segmentation (ImageBind + SAM2) as a Hugging Face library.

Importing the package registers its configs, models, processors and the ``"audio-visual-segmentation"``
pipeline task with transformers' Auto classes: at once when transformers is already imported, else as soon as it
is (see :mod:`tavis_hf._registration`), so ``import tavis_hf`` itself imports no torch, transformers or datasets
(the ``tavis-hf`` command checks its arguments first). The public names below are imported on first access.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING

from . import _registration

__version__ = "0.1.0.dev0"

_LAZY_ATTRIBUTES = {
    # AVSBench / SynthAVS datasets and AVS metrics (subpackages)
    "data": None,
    "metrics": None,
    # ImageBind (registers model type "imagebind")
    "ImageBindAudioConfig": ".models.imagebind",
    "ImageBindAudioFeatureExtractor": ".models.imagebind",
    "ImageBindConfig": ".models.imagebind",
    "ImageBindModel": ".models.imagebind",
    "ImageBindTextConfig": ".models.imagebind",
    "ImageBindVisionConfig": ".models.imagebind",
    # TAViS (registers model type "tavis")
    "TavisConfig": ".models.tavis",
    "TavisImageProcessorPil": ".models.tavis",
    "TavisModel": ".models.tavis",
    "TavisProcessor": ".models.tavis",
    "TavisSegmentationOutput": ".models.tavis",
    # the "audio-visual-segmentation" task and the application layer (one video -> files)
    "AudioVisualSegmentationPipeline": ".pipelines",
    "segment_video": ".segmentation",
    # many videos -> Parquet tables (local worker processes or Ray Data)
    "segment_corpus": ".corpus",
}
"""Public name -> module it comes from (None: the name is a subpackage)."""

__all__ = [  # the names of _LAZY_ATTRIBUTES (a literal, for linters and type checkers)
    "AudioVisualSegmentationPipeline",
    "ImageBindAudioConfig",
    "ImageBindAudioFeatureExtractor",
    "ImageBindConfig",
    "ImageBindModel",
    "ImageBindTextConfig",
    "ImageBindVisionConfig",
    "TavisConfig",
    "TavisImageProcessorPil",
    "TavisModel",
    "TavisProcessor",
    "TavisSegmentationOutput",
    "__version__",
    "data",
    "metrics",
    "segment_corpus",
    "segment_video",
]

if TYPE_CHECKING:
    from . import data, metrics
    from .corpus import segment_corpus
    from .models.imagebind import (
        ImageBindAudioConfig,
        ImageBindAudioFeatureExtractor,
        ImageBindConfig,
        ImageBindModel,
        ImageBindTextConfig,
        ImageBindVisionConfig,
    )
    from .models.tavis import (
        TavisConfig,
        TavisImageProcessorPil,
        TavisModel,
        TavisProcessor,
        TavisSegmentationOutput,
    )
    from .pipelines import AudioVisualSegmentationPipeline
    from .segmentation import segment_video


def __getattr__(name: str):
    """Import a public name (or any submodule, e.g. ``tavis_hf.media``) on first access and cache it."""
    if name in _LAZY_ATTRIBUTES:
        module = _LAZY_ATTRIBUTES[name]
        value = importlib.import_module(f".{name}" if module is None else module, __name__)
        if module is not None:
            value = getattr(value, name)
    elif not name.startswith("__") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


_registration.install()  # last: registering may import the models, which may read names defined above
