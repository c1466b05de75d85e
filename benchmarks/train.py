#!/usr/bin/env python
"""Training step time and peak memory of TAViS, with and without audio-feature caching and activation checkpointing.

    python benchmarks/train.py                                  # tiny preset on CPU (random weights)
    python benchmarks/train.py --preset paper --device cuda --mixed-precision bf16

Prints one JSON object: for every (cache_audio_features, activation_checkpointing) combination, the median
optimizer-step time over ``--steps`` timed steps (after ``--warmup`` steps, so the cache is warm) and the peak
memory (CUDA: ``torch.cuda.max_memory_allocated``; CPU: the worker process's peak RSS). Each combination runs in
its own subprocess so peaks do not mix. Inputs are random tensors of the recipe's shapes (``--subset``: S4 = one
frame per clip, MS3 = 5-frame clips with SAM2 memory) with a fixed set of audio clips, as in an epoch over a dataset.
Options also accept their underscore spelling (``--batch_size``).
"""

import argparse
import itertools
import json
import platform
import resource
import statistics
import subprocess
import sys
import time

import torch

from tavis_hf.models.tavis import TavisConfig, TavisModel
from tavis_hf.training import CachedImageBindAudio, resolve_recipe

PRESETS = ("tiny", "release", "paper")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", choices=PRESETS, default="tiny", help="TavisConfig preset (default: tiny)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    parser.add_argument("--subset", default="s4", help="recipe whose batch shape is used (default: s4)")
    parser.add_argument("--batch-size", "--batch_size", type=int, help="clips per step (default: the recipe's)")
    parser.add_argument("--mixed-precision", "--mixed_precision", choices=["no", "bf16", "fp16"], default="no")
    parser.add_argument("--steps", type=int, default=5, help="timed steps (default: 5)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first (default: 2)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # "<cache>,<checkpointing>": run one combination
    return parser.parse_args(argv)


def run_one(args, cache: bool, checkpointing: bool) -> dict:
    recipe = resolve_recipe(cli_values={"subset": args.subset})
    device = torch.device(args.device)
    torch.manual_seed(0)
    config = getattr(TavisConfig, args.preset)()
    model = TavisModel(config).to(device).train()
    if checkpointing:
        model.activation_checkpointing_enable()
    if cache:
        CachedImageBindAudio(model.imagebind.audio_model).attach()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=recipe.learning_rate)
    batch = args.batch_size or recipe.per_device_train_batch_size
    frames = 1 if recipe.train_frames == "annotated" else 5
    size, num_classes = config.image_size, len(config.id2label)
    labels = torch.zeros(batch, frames, size, size, dtype=torch.long)
    labels[..., size // 4 : size // 2, size // 4 : size // 2] = 1
    audio = torch.randn(batch, frames, 1, 128, 204)  # the same clips every step: a warm cache after step 1
    inputs = {
        "pixel_values": torch.randn(batch, frames, 3, size, size),
        "input_features": audio,
        "class_input_ids": torch.randint(1, 500, (num_classes, 77)),
        "labels": labels,
    }
    inputs = {key: value.to(device) for key, value in inputs.items()}
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(args.mixed_precision)
    scaler = torch.amp.GradScaler(device.type, enabled=args.mixed_precision == "fp16")
    times = []
    for step in range(args.warmup + args.steps):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            loss = model(**inputs, temporal=recipe.train_temporal).loss
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad()
        if device.type == "cuda":
            torch.cuda.synchronize()
        if step >= args.warmup:
            times.append(time.perf_counter() - start)
    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated(device) / 2**20
        peak_kind = "cuda_max_memory_allocated"
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        peak_kind = "process_peak_rss"
    return {
        "cache_audio_features": cache,
        "activation_checkpointing": checkpointing,
        "step_time_s_median": statistics.median(times),
        "step_time_s_min": min(times),
        "peak_memory_mib": round(peak, 1),
        "peak_memory_kind": peak_kind,
        "last_loss": loss.item(),
    }


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        cache, checkpointing = (flag == "1" for flag in args.worker.split(","))
        print(json.dumps(run_one(args, cache, checkpointing)))
        return
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("--device cuda requested but torch.cuda.is_available() is False")
    results = []
    for cache, checkpointing in itertools.product((False, True), repeat=2):
        command = [sys.executable, __file__, *(argv if argv is not None else sys.argv[1:]),
                   "--worker", f"{int(cache)},{int(checkpointing)}"]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"benchmark worker failed:\n{done.stderr[-3000:]}")
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    recipe = resolve_recipe(cli_values={"subset": args.subset})
    report = {
        "benchmark": "train_step",
        "preset": args.preset,
        "device": torch.cuda.get_device_name() if args.device.startswith("cuda") else platform.processor() or "cpu",
        "torch_threads": torch.get_num_threads(),
        "subset": args.subset,
        "batch_size": args.batch_size or recipe.per_device_train_batch_size,
        "frames_per_clip": 1 if recipe.train_frames == "annotated" else 5,
        "temporal": recipe.train_temporal,
        "mixed_precision": args.mixed_precision,
        "steps": args.steps,
        "warmup": args.warmup,
        "results": results,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
