"""AVSBench-exact audio-visual segmentation metrics as an `evaluate` module.

Load offline with ``evaluate.load("<path to this folder>", config_name=PROTOCOL)`` where PROTOCOL is ``"avsbench"``
(default), ``"tavis_release"`` or ``"avss"``. The maths is :mod:`tavis_hf.metrics.functional` (the package must be
installed; `evaluate` copies this file into its module cache, so the import is absolute).

Each example is one video:

* binary protocols: ``predictions`` = mask logits ``(T, H, W)`` floats, ``references`` = binary masks ``(T, H, W)``;
* ``"avss"``: ``predictions`` = predicted class ids ``(T, H, W)`` (argmax over classes), ``references`` = class ids.

``compute(..., videos_per_batch=4)`` sets the AVSBench batch size (required for ``"avsbench"``); ``num_classes``
(default 71) applies to ``"avss"``. For large evaluations use :class:`tavis_hf.metrics.AVSBenchMetric` directly: it
keeps per-frame statistics instead of full masks.
"""

import datasets
import evaluate
import numpy as np
import torch

from tavis_hf.metrics.accumulator import PROTOCOLS, AVSBenchMetric

_DESCRIPTION = __doc__

_KWARGS_DESCRIPTION = """
Args:
    predictions: list of videos, each (T, H, W): mask logits (binary protocols) or predicted class ids ("avss").
    references: list of videos, each (T, H, W): binary masks or class ids.
    videos_per_batch: AVSBench reference batch size in videos ("avsbench" only; required there).
    num_classes: number of classes incl. background ("avss" only; default 71).
Returns:
    "avsbench" / "tavis_release": jaccard (M_J), fmeasure (M_F), plus protocol metadata;
    "avss": miou, fscore (71-class means, background included), miou_no_bg, fscore_no_bg, plus metadata.
"""

_CITATION = """\
@inproceedings{zhou2022avs,
  title={Audio-Visual Segmentation},
  author={Zhou, Jinxing and Wang, Jianyuan and Zhang, Jiayi and Sun, Weixuan and Zhang, Jing and Birchfield, Stan and
          Guo, Dan and Kong, Lingpeng and Wang, Meng and Zhong, Yiran},
  booktitle={ECCV},
  year={2022}
}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class AvsMetrics(evaluate.Metric):
    """`evaluate` wrapper around :class:`tavis_hf.metrics.AVSBenchMetric`."""

    def _info(self):
        protocol = self.config_name if self.config_name != "default" else "avsbench"
        if protocol not in PROTOCOLS:
            raise ValueError(f"unknown config_name {self.config_name!r}; choose one of {PROTOCOLS}")
        prediction_value = datasets.Value("int32") if protocol == "avss" else datasets.Value("float32")
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {
                    "predictions": datasets.List(datasets.List(datasets.List(prediction_value))),
                    "references": datasets.List(datasets.List(datasets.List(datasets.Value("int32")))),
                }
            ),
            reference_urls=["https://github.com/OpenNLPLab/AVSBench"],
        )

    def _compute(self, predictions, references, videos_per_batch=None, num_classes=71):
        protocol = self.config_name if self.config_name != "default" else "avsbench"
        metric = AVSBenchMetric(
            protocol=protocol,
            videos_per_batch=videos_per_batch,
            num_classes=num_classes,
        )
        for prediction, reference in zip(predictions, references):
            target = torch.from_numpy(np.asarray(reference, dtype=np.int64))[None]
            if protocol == "avss":
                pred = torch.from_numpy(np.asarray(prediction, dtype=np.int64))[None]
            else:
                pred = torch.from_numpy(np.asarray(prediction, dtype=np.float32))[None]
                target = target != 0
            metric.update(pred, target)
        return metric.compute()
