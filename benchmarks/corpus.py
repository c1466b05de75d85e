"""Corpus-scale inference figures (`tavis_hf.segment_corpus`). Prints one JSON object.

    OMP_NUM_THREADS=2 python benchmarks/corpus.py [--videos 24] [--seconds 10] [--batch-size 32] [--num-workers N]
    python benchmarks/corpus.py --device cuda [--batch-sizes 1 8 32]

CPU (default): N generated clips with sound (320x240, 25 fps, AAC, `--seconds` long), the embedded tiny model
(tavis_hf/checkpoints/tavis-tiny), 1 fps, per-frame, binary. Three ways, each in its own subprocess (so `peak_rss_mb`
is its own; `children_peak_rss_mb` covers decode workers and a local Ray instance's processes): (a) `naive`, a loop
calling the single-video path (`pipeline.iter_frame_results`) once per clip; (b) `local`, `segment_corpus(...,
engine="local")`; (c) `ray`, `segment_corpus(..., engine="ray")` on a local Ray instance started first
(`ray_init_seconds` apart). Each gives seconds, videos/s and frames/s (model loading excluded), and the ratio of
local to naive frames/s.

GPU (`--device cuda`): the paper preset (`TavisConfig.paper()`: SAM 2.0 Hiera-L + ImageBind-huge, 224 px) with random
weights, bfloat16, per-frame: model-only frames/s at each `--batch-sizes` with and without `torch.compile`, peak GPU
memory, end to end (`segment_corpus`, batch 32) on the generated clips, and the authors'-code-equivalent path (fp32,
batch 1, the pseudo-text run through the text trunk at its full 77 tokens, as the authors' code does, instead of
the first `max(k) + 1` positions) for the ratio.
"""

import argparse
import json
import os
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def make_clips(folder: Path, count: int, seconds: float) -> list[str]:
    """`count` clips with a test pattern and a tone of their own, written with ffmpeg."""
    paths = []
    for i in range(count):
        path = folder / f"clip{i:03d}.mp4"
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-f", "lavfi",
             "-i", f"sine=frequency={200 + 20 * i}:sample_rate=44100", "-t", str(seconds), "-c:v", "libx264",
             "-pix_fmt", "yuv420p", "-c:a", "aac", str(path)],
            check=True,
        )  # fmt: skip
        paths.append(str(path))
    return paths


def _peak_rss() -> dict:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"peak_rss_mb": round(own, 1), "children_peak_rss_mb": round(children, 1)}


def _rates(seconds: float, videos: int, frames: int) -> dict:
    return {"seconds": round(seconds, 3), "videos": videos, "frames": frames,
            "videos_per_second": round(videos / seconds, 3), "frames_per_second": round(frames / seconds, 3)}  # fmt: skip


def run_way(way: str, clips: list[str], args) -> dict:
    """One way of segmenting `clips` (in this process): naive, local or ray."""
    import tavis_hf  # noqa: F401
    from tavis_hf.corpus import segment_corpus
    from tavis_hf.segmentation import load_segmenter

    if way == "naive":
        segmenter = load_segmenter(None, "cpu")
        start = time.perf_counter()
        frames = sum(1 for clip in clips for _ in segmenter.iter_frame_results(clip))
        return {**_rates(time.perf_counter() - start, len(clips), frames), **_peak_rss()}
    extra = {"num_workers": args.num_workers}
    result = {}
    if way == "ray":
        import ray

        start = time.perf_counter()
        ray.init(num_cpus=os.cpu_count(), include_dashboard=False, logging_level="ERROR", log_to_driver=False)
        result["ray_init_seconds"] = round(time.perf_counter() - start, 3)
        extra = {}
    with tempfile.TemporaryDirectory() as out:
        summary = segment_corpus(clips, out, engine=way, batch_size=args.batch_size, progress=False, device="cpu",
                                 **extra)  # fmt: skip
    assert summary["failed"] == 0, summary
    return {**result, **_rates(summary["seconds"], summary["segmented"], summary["frames"]), **_peak_rss()}


def cpu_figures(args, clips: list[str]) -> dict:
    figures = {}
    for way in ("naive", "local", "ray"):
        command = [sys.executable, __file__, "--way", way, "--clips", *clips, "--batch-size", str(args.batch_size)]
        if args.num_workers is not None:
            command += ["--num-workers", str(args.num_workers)]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        figures[way] = json.loads(output.strip().splitlines()[-1])
    figures["local_over_naive_frames_per_second"] = round(
        figures["local"]["frames_per_second"] / figures["naive"]["frames_per_second"], 2
    )
    return figures


def _paper_model(dtype):
    import torch

    from tavis_hf import TavisConfig, TavisModel

    torch.manual_seed(0)
    return TavisModel(TavisConfig.paper()).eval().to("cuda", dtype)


def _full_77_token_text(model) -> None:
    """Run the pseudo-text through the text trunk at 77 positions (padded with copies of token-embedding row 0, as
    the authors' code builds it) instead of the first max(k) + 1: the authors'-code-equivalent cost."""
    import torch

    def pad(module, args, kwargs):
        embeds = kwargs["inputs_embeds"]
        fill = module.embeddings.token_embedding.weight[0].expand(embeds.shape[0], 77 - embeds.shape[1], -1)
        return args, {**kwargs, "inputs_embeds": torch.cat([embeds, fill.to(embeds.dtype)], 1)}

    model.imagebind.text_model.register_forward_pre_hook(pad, with_kwargs=True)


def _model_frames_per_second(model, batch: int, dtype, repeats: int = 10) -> float:
    import torch

    size, ib_size = model.config.image_size, model.config.imagebind_image_size
    inputs = {
        "pixel_values": torch.rand(batch, 1, 3, size, size, device="cuda", dtype=dtype),
        "imagebind_pixel_values": torch.rand(batch, 1, 3, ib_size, ib_size, device="cuda", dtype=dtype),
        "input_features": torch.randn(batch, 1, 1, 128, 204, device="cuda", dtype=dtype),
    }
    with torch.inference_mode():
        for _ in range(3):
            model(**inputs)
        torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(repeats):
            model(**inputs)
        torch.cuda.synchronize()
    return round(batch * repeats / (time.perf_counter() - start), 2)


def gpu_figures(args, clips: list[str]) -> dict:
    import torch

    figures = {"device": torch.cuda.get_device_name(0), "model_only_bf16": {}}
    model = _paper_model(torch.bfloat16)
    for compiled in (False, True):
        if compiled:
            model.compile()
        for batch in args.batch_sizes:
            torch.cuda.reset_peak_memory_stats()
            fps = _model_frames_per_second(model, batch, torch.bfloat16)
            figures["model_only_bf16"][f"batch{batch}{'_compiled' if compiled else ''}"] = {
                "frames_per_second": fps, "peak_gpu_memory_gb": round(torch.cuda.max_memory_allocated() / 2**30, 2)}  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        from tavis_hf import TavisProcessor
        from tavis_hf.corpus import segment_corpus

        model.to(torch.float32).save_pretrained(folder)
        TavisProcessor.from_tavis_config(model.config).save_pretrained(folder)
        del model
        with tempfile.TemporaryDirectory() as out:
            summary = segment_corpus(clips, out, folder, batch_size=32, dtype="bfloat16", device="cuda",
                                     num_workers=args.num_workers, progress=False)  # fmt: skip
        figures["end_to_end_bf16_batch32"] = _rates(summary["seconds"], summary["segmented"], summary["frames"])
    reference = _paper_model(torch.float32)
    _full_77_token_text(reference)
    figures["authors_equivalent_fp32_batch1"] = _model_frames_per_second(reference, 1, torch.float32)
    best = max(v["frames_per_second"] for k, v in figures["model_only_bf16"].items() if k.startswith("batch32"))
    figures["batch32_bf16_over_authors_equivalent"] = round(best / figures["authors_equivalent_fp32_batch1"], 2)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=24)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--num-workers", type=int, help="decode processes (default: segment_corpus's own)")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--output", help="also write the JSON here (benchmarks/results/, read by the README's tables)")
    parser.add_argument("--way", choices=("naive", "local", "ray"), help=argparse.SUPPRESS)
    parser.add_argument("--clips", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.way:  # one measurement, in its own process
        print(json.dumps(run_way(args.way, args.clips, args)))
        return
    with tempfile.TemporaryDirectory() as folder:
        clips = make_clips(Path(folder), args.videos, args.seconds)
        settings = {"videos": args.videos, "seconds_per_video": args.seconds, "batch_size": args.batch_size,
                    "num_workers": args.num_workers, "cpu_count": os.cpu_count(), "device": args.device,
                    "omp_num_threads": os.environ.get("OMP_NUM_THREADS")}  # fmt: skip
        figures = gpu_figures(args, clips) if args.device == "cuda" else cpu_figures(args, clips)
    text = json.dumps({"command": shlex.join(["python", "benchmarks/corpus.py", *sys.argv[1:]]), "date":
                       time.strftime("%Y-%m-%d"), "settings": settings, **figures}, indent=2)  # fmt: skip
    print(text)
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(text + "\n")


if __name__ == "__main__":
    main()
