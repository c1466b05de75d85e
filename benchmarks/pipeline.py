"""End-to-end `pipeline("audio-visual-segmentation")` figures on CPU: a 10-s clip (320x240, 25 fps, AAC audio) at
1 fps, binary mode. Prints one JSON object.

    OMP_NUM_THREADS=2 python benchmarks/pipeline.py [--presets tiny paper] [--seconds 10]

Per preset (each measured in its own subprocess, so `peak_rss_mb` is that preset's process peak): total seconds,
the split into decode+preprocess (video decoding, frame views, audio fbank clips: the pipeline's `preprocess`),
model (`forward`) and postprocess (mask upsampling, PIL images), the decode+preprocess share of the total and its
ratio to the model time (target: under 10% on the paper preset), sampled frames per second, peak RSS. The
decode+preprocess stage is timed after one warm-up pass (the first pass of a process also pays torchcodec/FFmpeg
start-up: `first_decode_preprocess_seconds`).
Models have random weights built with `from_config` (no checkpoint needed); `paper` is `TavisConfig.paper()`
(SAM 2.0 Hiera-L + ImageBind-huge, 224 px, ImageBind view 224 px CLIP-normalised), `release` the authors'
released configuration (ImageBind view 112 px, unnormalised). Needs ffmpeg to make the clip.
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time


def make_clip(path: str, seconds: float) -> None:
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-f", "lavfi", "-i",
         "sine=frequency=440:sample_rate=44100", "-t", str(seconds), "-c:v", "libx264", "-pix_fmt", "yuv420p",
         "-c:a", "aac", path],
        check=True,
    )  # fmt: skip


def measure(preset: str, video: str) -> dict:
    import torch
    from transformers import pipeline

    from tavis_hf.models.tavis import TavisConfig, TavisModel, TavisProcessor

    config = getattr(TavisConfig, preset)()
    start = time.perf_counter()
    torch.manual_seed(0)
    model = TavisModel._from_config(config).eval()
    build_seconds = time.perf_counter() - start
    processor = TavisProcessor.from_tavis_config(config)  # byte-level BPE: prompt ids only, enough for timing
    segmenter = pipeline("audio-visual-segmentation", model=model, processor=processor)
    pre_kw, fwd_kw, post_kw = segmenter._sanitize_parameters(mode="binary")

    start = time.perf_counter()
    list(segmenter.preprocess(video, **pre_kw))  # warm-up: first torchcodec/FFmpeg use in the process
    cold_extra = time.perf_counter() - start
    t0 = time.perf_counter()
    chunks = list(segmenter.preprocess(video, **pre_kw))
    t1 = time.perf_counter()
    outputs = [segmenter.forward(chunk, **fwd_kw) for chunk in chunks]
    t2 = time.perf_counter()
    frames = segmenter.postprocess(outputs, **post_kw)
    t3 = time.perf_counter()
    total = t3 - t0
    return {
        "preset": preset,
        "parameters_millions": round(sum(p.numel() for p in model.parameters()) / 1e6, 1),
        "build_seconds": round(build_seconds, 2),
        "frames": len(frames),
        "total_seconds": round(total, 3),
        "decode_preprocess_seconds": round(t1 - t0, 3),
        "first_decode_preprocess_seconds": round(cold_extra, 3),
        "model_seconds": round(t2 - t1, 3),
        "postprocess_seconds": round(t3 - t2, 3),
        "decode_preprocess_share_of_total": round((t1 - t0) / total, 4),
        "decode_preprocess_over_model": round((t1 - t0) / (t2 - t1), 4),
        "frames_per_second": round(len(frames) / total, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--presets", nargs="+", default=["tiny", "paper"], choices=["tiny", "release", "paper"])
    parser.add_argument("--seconds", type=float, default=10.0, help="clip length")
    parser.add_argument("--child", nargs=2, metavar=("PRESET", "VIDEO"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(*args.child)))
        return
    import torch

    results = {
        "clip": {"seconds": args.seconds, "size": "320x240", "video_fps": 25, "sampled_fps": 1.0, "mode": "binary"},
        "machine": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "threads": int(os.environ.get("OMP_NUM_THREADS", torch.get_num_threads())),
            "cpu": platform.processor() or platform.machine(),
        },
        "presets": [],
    }
    with tempfile.TemporaryDirectory() as tmp:
        video = os.path.join(tmp, "clip.mp4")
        make_clip(video, args.seconds)
        for preset in args.presets:
            run = subprocess.run(
                [sys.executable, __file__, "--child", preset, video], capture_output=True, text=True, check=False
            )
            if run.returncode != 0:
                results["presets"].append({"preset": preset, "error": run.stderr.strip().splitlines()[-1:]})
            else:
                results["presets"].append(json.loads(run.stdout.strip().splitlines()[-1]))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
