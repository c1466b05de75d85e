"""Score a TAViS checkpoint on an AVSBench split (local copy) or on SynthAVS, with an explicit metric protocol.

    # AVSBench-object S4 test, AVSBench metric code with 4 videos per batch (AVSBench test.sh)
    python examples/evaluate_avsbench.py --model DIR --subset s4 --object-root avsbench_data \\
        --protocol avsbench --videos-per-batch 4
    # the TAViS authors' setting: semantic ground truth, F on raw logits, one video per batch
    python examples/evaluate_avsbench.py --model DIR --subset ms3 --object-root avsbench_data \\
        --semantic-root AVSBench_semantic --mask-source semantic --protocol tavis_release
    # AVSS (v2) mIoU / F over 71 classes, background included
    python examples/evaluate_avsbench.py --model DIR --subset v2 --semantic-root AVSBench_semantic --protocol avss
    # no AVSBench at hand: SynthAVS test clips
    python examples/evaluate_avsbench.py --model DIR --synthavs single --clips 50 --protocol avsbench --videos-per-batch 1

Prints one JSON object: the metric values with their provenance (protocol, score space, videos per batch, ground-truth
source, split) and, for ``avss``, the per-class report. ``tavis-hf evaluate`` does the same on a saved dataset.
"""

import argparse
import json

from transformers import AutoProcessor

from tavis_hf.data import AVSBENCH_CLASSES, SUBSETS, SYNTHAVS_CLASSES, avsbench_build_info, load_avsbench, make_synthavs
from tavis_hf.data.synthetic import DATASET_MODES
from tavis_hf.evaluation import evaluate_dataset
from tavis_hf.metrics import PROTOCOLS, AVSBenchMetric
from tavis_hf.models.tavis import TavisModel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="TAViS model folder or Hub id")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--subset", choices=SUBSETS, help="AVSBench subset (needs the local roots)")
    source.add_argument(
        "--synthavs", choices=tuple(DATASET_MODES), help="evaluate on SynthAVS clips (this mode) instead"
    )
    parser.add_argument("--object-root", help="AVSBench-object folder (Single-source/, Multi-sources/)")
    parser.add_argument("--semantic-root", help="AVSBench-semantic folder (metadata.csv)")
    parser.add_argument("--mask-source", choices=("object", "semantic"), help="ground truth for s4/ms3")
    parser.add_argument(
        "--classes", default="avsbench", choices=("avsbench", "synthavs"), help="class vocabulary of the AVSBench tree"
    )
    parser.add_argument("--clips", type=int, default=50, help="SynthAVS test clips")
    parser.add_argument("--image-size", type=int, default=224, help="SynthAVS frame size")
    parser.add_argument("--split", default="test", choices=("train", "val", "test"))
    parser.add_argument("--protocol", required=True, choices=PROTOCOLS)
    parser.add_argument("--videos-per-batch", type=int, help="required by --protocol avsbench")
    parser.add_argument("--limit", type=int, help="evaluate only the first N clips")
    parser.add_argument("--device", default=None, help="e.g. cuda")
    parser.add_argument(
        "--shuffle-audio",
        type=int,
        metavar="SEED",
        help="control: every clip gets another clip's soundtrack (seeded derangement); shows the model listens",
    )
    args = parser.parse_args()

    if args.synthavs:
        splits = make_synthavs({args.split: args.clips}, mode=args.synthavs, image_size=args.image_size)
    else:
        splits = load_avsbench(
            args.subset,
            object_root=args.object_root,
            semantic_root=args.semantic_root,
            mask_source=args.mask_source,
            splits=(args.split,),
            class_names=AVSBENCH_CLASSES if args.classes == "avsbench" else SYNTHAVS_CLASSES,
        )
    dataset = splits[args.split]
    if args.limit is not None:
        dataset = dataset.select(range(min(args.limit, dataset.num_rows)))
    class_names = dataset.features["class_ids"].feature.names
    metric = AVSBenchMetric(
        protocol=args.protocol,
        videos_per_batch=args.videos_per_batch,
        num_classes=len(class_names),
        class_names=class_names,
        gt_source=avsbench_build_info(dataset)["mask_source"],
        split=args.split,
    )
    model = TavisModel.from_pretrained(args.model)
    processor = AutoProcessor.from_pretrained(args.model)
    result = evaluate_dataset(
        model, processor, dataset, metric, device=args.device, shuffle_audio_seed=args.shuffle_audio
    )
    result["dataset"] = "SynthAVS" if args.synthavs else f"AVSBench {args.subset}"
    if args.protocol == "avss":
        result["per_class"] = [row for row in metric.per_class_report() if row["frames"] > 0]
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
