"""tavis_hf: TAViS audio-visual segmentation (ImageBind + SAM2) as a Hugging Face library.

Importing the package registers its configs, models, processors and the ``"audio-visual-segmentation"``
pipeline task with transformers' Auto classes.
"""

__version__ = "0.1.0.dev0"

# Each subpackage registers its own Auto classes on import; public names are re-exported here.
# (Subpackage imports are added as the subpackages land.)
