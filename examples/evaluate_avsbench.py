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

Prints the evaluation record (``tavis_hf.evaluation``: the command, model and dataset fingerprints, protocol, metrics,
for ``avss`` the per-class report, and with ``--shuffle-audio`` the listening control) and writes it to ``--output``.
``tavis-hf evaluate`` does the same on a saved dataset.
"""

import argparse
import json
import shlex
import sys

from tavis_hf.data import AVSBENCH_CLASSES, SUBSETS, SYNTHAVS_CLASSES, load_avsbench, make_synthavs
from tavis_hf.data.synthetic import DATASET_MODES
from tavis_hf.evaluation import evaluate_model, write_record
from tavis_hf.metrics import PROTOCOLS


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
        help="also score the listening control: every clip given another clip's soundtrack (seeded derangement)",
    )
    parser.add_argument("--output", help="write the evaluation record (JSON) here")
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
    record = evaluate_model(
        args.model,
        dataset,
        protocol=args.protocol,
        videos_per_batch=args.videos_per_batch,
        shuffle_audio_seed=args.shuffle_audio,
        device=args.device,
        command=shlex.join(["python", "examples/evaluate_avsbench.py", *sys.argv[1:]]),
    )
    if args.output:
        write_record(record, args.output)
    print(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
