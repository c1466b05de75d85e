"""End-to-end `pipeline("audio-visual-segmentation")` figures on CPU: a 10-s clip (320x240, 25 fps, AAC audio) at
1 fps, binary mode. Prints one JSON object.

    OMP_NUM_THREADS=2 python benchmarks/pipeline.py [--presets tiny paper] [--seconds 10]

Per preset (each measured in its own subprocess, so `peak_rss_mb` is that preset's process peak): total seconds,
the split into decode+preprocess (video decoding, frame views, audio fbank clips), model (the model's forward calls,
timed with forward hooks) and postprocess (mask upsampling, PIL images: from the end of a window's forward to its
first result), the decode+preprocess share of the total and its ratio to the model time (target: under 10% on the
paper preset), sampled frames per second, peak RSS. The run goes through the pipeline's public
`iter_frame_results`; decode+preprocess is what remains of the total. It is timed after one warm-up pass over the
video's windows and the processor (the first pass of a process also pays torchcodec/FFmpeg start-up:
`first_decode_preprocess_seconds`).
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


class StageTimer:
    """Model and post-processing time of a pipeline run, from forward hooks on the model and the arrival of results."""

    def __init__(self, model):
        self.model_seconds = self.postprocess_seconds = 0.0
        self._forward_start = self._forward_end = None
        model.register_forward_pre_hook(self._before_forward)
        model.register_forward_hook(self._after_forward)

    def _before_forward(self, module, args):
        self._forward_start = time.perf_counter()

    def _after_forward(self, module, args, output):
        self._forward_end = time.perf_counter()
        self.model_seconds += self._forward_end - self._forward_start

    def result_arrived(self):
        """Call when the pipeline yields a result: the first one after a forward closes that window's postprocess."""
        if self._forward_end is not None:
            self.postprocess_seconds += time.perf_counter() - self._forward_end
            self._forward_end = None


def decode_and_prepare(segmenter, video: str) -> None:
    """The pipeline's input work alone: decode every window and run the processor on it."""
    from tavis_hf.media import SAMPLING_RATE

    with segmenter.open_source(video) as source:
        for window in source.windows():
            segmenter.processor(
                videos=window.frames, audio=window.audio, sampling_rate=SAMPLING_RATE, return_tensors="pt"
            )


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

    start = time.perf_counter()
    decode_and_prepare(segmenter, video)  # warm-up: first torchcodec/FFmpeg use in the process
    cold_extra = time.perf_counter() - start
    timer = StageTimer(model)
    frames = []
    t0 = time.perf_counter()
    for result in segmenter.iter_frame_results(video, mode="binary"):
        timer.result_arrived()
        frames.append(result)
    total = time.perf_counter() - t0
    model_seconds, postprocess_seconds = timer.model_seconds, timer.postprocess_seconds
    decode_seconds = total - model_seconds - postprocess_seconds
    return {
        "preset": preset,
        "parameters_millions": round(sum(p.numel() for p in model.parameters()) / 1e6, 1),
        "build_seconds": round(build_seconds, 2),
        "frames": len(frames),
        "total_seconds": round(total, 3),
        "decode_preprocess_seconds": round(decode_seconds, 3),
        "first_decode_preprocess_seconds": round(cold_extra, 3),
        "model_seconds": round(model_seconds, 3),
        "postprocess_seconds": round(postprocess_seconds, 3),
        "decode_preprocess_share_of_total": round(decode_seconds / total, 4),
        "decode_preprocess_over_model": round(decode_seconds / model_seconds, 4),
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
