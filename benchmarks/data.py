"""Data and metric throughput; prints one JSON object.

    python benchmarks/data.py                    # 1,000 SynthAVS clips at 224 px with 2 workers
    python benchmarks/data.py --clips 100 --num-proc 1 --layout-clips 40

Figures: SynthAVS clips per second (generation only, and the full cached ``DatasetDict`` build), AVSBench-layout build
speed (a SynthAVS tree in the AVSBench-semantic layout read by ``load_avsbench``: first build and cached reload), and
metric throughput in frames per second at 224x224 (``batch_jaccard`` + ``batch_fmeasure`` on batches of 20 frames;
AVSS stats with 71 classes) on the CPU and, when present, the GPU.
"""

import argparse
import json
import os
import platform
import tempfile
import time

import torch

from tavis_hf.data import SYNTHAVS_CLASSES, generate_clip, load_avsbench, make_synthavs, write_synthavs_tree
from tavis_hf.metrics import batch_fmeasure, batch_jaccard, semantic_batch_stats


def _timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def metric_throughput(device: torch.device, repeats: int) -> dict:
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(20, 224, 224, generator=g).to(device)
    target = (torch.rand(20, 224, 224, generator=g) < 0.3).to(device)
    sem_logits = torch.randn(20, 71, 224, 224, generator=g).to(device)
    sem_target = torch.randint(0, 71, (20, 224, 224), generator=g).to(device)
    batch_jaccard(logits, target), batch_fmeasure(logits, target)  # warm-up
    _sync(device)
    _, binary = _timed(
        lambda: [(batch_jaccard(logits, target), batch_fmeasure(logits, target)) for _ in range(repeats)]
    )
    semantic_batch_stats(sem_logits, sem_target)
    _sync(device)
    _, semantic = _timed(lambda: [semantic_batch_stats(sem_logits, sem_target) for _ in range(repeats)])
    return {
        "binary_jaccard_fmeasure_frames_per_s": round(20 * repeats / binary, 1),
        "avss_71_class_frames_per_s": round(20 * repeats / semantic, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=1000, help="SynthAVS clips for the DatasetDict build")
    parser.add_argument("--num-proc", type=int, default=2)
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--layout-clips", type=int, default=200, help="clips in the AVSBench-layout tree")
    parser.add_argument("--metric-repeats", type=int, default=10)
    args = parser.parse_args()

    result = {
        "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
    }
    with tempfile.TemporaryDirectory() as tmp:
        _, gen = _timed(lambda: [generate_clip(0, "train", i, "single", args.image_size) for i in range(100)])
        result["synthavs_generate_clips_per_s_1proc"] = round(100 / gen, 1)
        counts = {"train": args.clips - 2 * (args.clips // 10), "val": args.clips // 10, "test": args.clips // 10}
        _, build = _timed(
            lambda: make_synthavs(counts, image_size=args.image_size, cache_dir=f"{tmp}/cache", num_proc=args.num_proc)
        )
        result["synthavs_datasetdict"] = {
            "clips": args.clips,
            "num_proc": args.num_proc,
            "image_size": args.image_size,
            "seconds": round(build, 2),
            "clips_per_s": round(args.clips / build, 1),
            "load_average_1min": round(os.getloadavg()[0], 2),  # the machine may be shared
        }
        layout_counts = {"train": args.layout_clips - 2 * (args.layout_clips // 10)}
        layout_counts |= {"val": args.layout_clips // 10, "test": args.layout_clips // 10}
        root = write_synthavs_tree(f"{tmp}/avss", layout_counts, mode="multi", image_size=args.image_size)

        def load():
            return load_avsbench("v1m", semantic_root=root, class_names=SYNTHAVS_CLASSES, cache_dir=f"{tmp}/cache2")

        _, first = _timed(load)
        _, second = _timed(load)
        result["avsbench_layout_build"] = {
            "subset": "v1m (SynthAVS tree)",
            "clips": args.layout_clips,
            "image_size": args.image_size,
            "first_build_clips_per_s": round(args.layout_clips / first, 1),
            "cached_reload_seconds": round(second, 3),
        }
    result["metrics_224_cpu"] = metric_throughput(torch.device("cpu"), args.metric_repeats)
    if torch.cuda.is_available():
        result["metrics_224_cuda"] = metric_throughput(torch.device("cuda"), args.metric_repeats * 5)
        result["cuda_device"] = torch.cuda.get_device_name()
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
