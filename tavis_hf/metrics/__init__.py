"""AVSBench-exact audio-visual segmentation metrics (functional API, protocol accumulator, `evaluate` module).

The `evaluate` wrapper lives in the ``avs_metrics/`` folder: ``evaluate.load(str(AVS_METRICS_PATH))``.
"""

from pathlib import Path

from .accumulator import PROTOCOLS, AVSBenchMetric
from .functional import (
    batch_fmeasure,
    batch_jaccard,
    fmeasure_thresholds,
    frame_fmeasure_curves,
    frame_jaccard,
    semantic_batch_stats,
    semantic_miou_fscore,
)

#: Folder of the `evaluate` module (``evaluate.load(str(AVS_METRICS_PATH), config_name=...)`` works offline).
AVS_METRICS_PATH = Path(__file__).parent / "avs_metrics"

__all__ = [
    "AVS_METRICS_PATH",
    "PROTOCOLS",
    "AVSBenchMetric",
    "batch_fmeasure",
    "batch_jaccard",
    "fmeasure_thresholds",
    "frame_fmeasure_curves",
    "frame_jaccard",
    "semantic_batch_stats",
    "semantic_miou_fscore",
]
