"""`segment_corpus`: segment every video of a corpus into Parquet tables, resumably, on one machine or on Ray."""

from __future__ import annotations

import os

import torch

from ..media import DEFAULT_FPS
from ..models.tavis import canonical_temporal
from .inputs import list_videos
from .job import CorpusJob, ResultSink
from .local import run_local
from .manifest import prepare_output, run_identity
from .ray_engine import run_ray
from .tables import VIDEOS_DIR, ShardWriter, read_table

ENGINES = ("local", "ray")
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def segment_corpus(
    source,
    output_dir,
    model=None,
    *,
    labels=None,
    mode: str = "binary",
    fps: float = DEFAULT_FPS,
    threshold: float = 0.5,
    temporal: str = "per-frame",
    video_column: str | None = None,
    engine: str = "local",
    batch_size: int = 32,
    num_workers: int | None = None,
    dtype: str | torch.dtype | None = None,
    compile: bool = False,
    device=None,
    max_duration: float | None = None,
    overwrite: bool = False,
    save_masks: bool = False,
    save_overlays: bool = False,
    videos_per_shard: int = 16,
    progress: bool = True,
    ray_address: str | None = None,
    num_gpus_per_worker: float = 0.0,
    concurrency: int | None = None,
) -> dict:
    """Segment every video of `source` and write ``OUT/frames/*.parquet`` and ``OUT/videos/*.parquet``.

    Args:
        source: a folder, glob, list file, CSV, Parquet table, saved dataset or list of paths/URLs
            ([`tavis_hf.corpus.list_videos`]); `video_column` names the column of a table.
        output_dir: the output folder, a local path or any fsspec URL (see [`tavis_hf.corpus.tables`]).
        model: a model folder or Hub id (default: the package's embedded model) or a ready pipeline (local engine;
            used as it is: no `dtype` or `compile`).
        labels, mode, fps, threshold, temporal: as for `pipeline("audio-visual-segmentation")`.
        engine: `"local"` (worker processes + batched forwards on this machine) or `"ray"` (Ray Data).
        batch_size: frames per model forward; per-frame chunks of different videos, or whole tracking windows.
        num_workers: decode processes per model replica (local engine; default: the CPU cores, at most 8).
        dtype: `"bfloat16"`, `"float16"` or `"float32"` (default: the model's own).
        compile: `torch.compile` the model (GPU only).
        device: `"cpu"`, `"cuda"` (one replica per local GPU) or `"cuda:N"` (default: every GPU, else the CPU).
        max_duration: videos longer than this (s) get an error row.
        overwrite: replace the results of another model or other options in `output_dir` instead of refusing.
        save_masks / save_overlays: also write each video's mask PNGs / overlay under ``OUT/files/``.
        videos_per_shard: videos per Parquet shard (the unit of resumption).
        progress: show a progress bar (videos/s, frames/s, ETA).
        ray_address, num_gpus_per_worker, concurrency: the Ray engine's cluster (`"auto"`, `"HOST:PORT"`; None starts
            a local instance), GPUs per model actor, number of model actors.

    Returns:
        `dict`: `output_dir`, `videos` (in the source), `skipped` (already done), `segmented`, `ok`, `failed`
        (error rows among the source's videos), `frames` (written now), `seconds`, `videos_per_second`,
        `frames_per_second`.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}; got {engine!r}")
    if batch_size < 1 or videos_per_shard < 1:
        raise ValueError(f"batch_size and videos_per_shard must be >= 1; got {batch_size}, {videos_per_shard}")
    videos = list_videos(source, video_column)
    job = CorpusJob(
        output_dir=os.fspath(output_dir),
        call_parameters={"labels": labels, "mode": mode, "threshold": threshold, "fps": fps,
                         "temporal": canonical_temporal(temporal)},
        batch_size=batch_size, max_duration=max_duration, save_masks=save_masks, save_overlays=save_overlays,
    )  # fmt: skip
    torch_dtype = _torch_dtype(dtype)
    segmenters = load_replicas(model, _devices(device, engine), torch_dtype, compile)
    identity = run_identity(segmenters[0].model, _identity_options(segmenters[0], job, torch_dtype))
    done = prepare_output(job.output_dir, identity, overwrite)
    todo = [video for video in videos if video not in done]
    sink = ResultSink(ShardWriter(job.output_dir, videos_per_shard), total=len(todo), progress=progress)
    try:
        if engine == "local" and todo:
            run_local(segmenters, todo, job, sink, num_workers)
        elif todo:  # Ray is imported only here: the local engine needs no Ray
            run_ray(segmenters[0], todo, job, sink, ray_address, num_gpus_per_worker, concurrency, compile)
    finally:
        sink.close()
    return _summary(job.output_dir, videos, len(todo), sink)


def _identity_options(segmenter, job: CorpusJob, dtype: torch.dtype) -> dict:
    """The options that change a run's rows (see `tavis_hf.corpus.manifest`)."""
    return {
        **job.call_parameters,
        "labels": segmenter.vocabulary(job.call_parameters["labels"]),
        "dtype": str(dtype).removeprefix("torch."),
        "max_duration": job.max_duration,
    }


def _torch_dtype(dtype) -> torch.dtype | None:
    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {sorted(DTYPES)}; got {dtype!r}")
    return DTYPES[dtype]


def _devices(device, engine: str) -> list[str]:
    """Where the model replicas go: one per local GPU for `None`/`"cuda"`, else the one device (Ray: the driver's
    copy, only used to name the run, stays on the CPU)."""
    if engine == "ray":
        return ["cpu"]
    if device is None and not torch.cuda.is_available():
        return ["cpu"]
    if device in (None, "cuda"):
        if not torch.cuda.is_available():
            raise ValueError("device 'cuda' was asked for but torch sees no GPU; pass --device cpu")
        return [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    return [str(device)]


def load_replicas(model, devices: list[str], dtype: torch.dtype | None, compile: bool) -> list:
    """One pipeline per device (`model` as for `tavis_hf.segmentation.load_segmenter`), in `dtype`, compiled on
    request (GPU only); a ready pipeline is the one replica, on its own device, in its own dtype."""
    from ..pipelines import AudioVisualSegmentationPipeline
    from ..segmentation import load_segmenter

    if isinstance(model, AudioVisualSegmentationPipeline):  # the one replica, used as it is (never changed)
        if compile or dtype not in (None, model.model.dtype):
            raise ValueError(
                "a ready pipeline is used as it is: leave out dtype and compile, or give its model folder instead"
            )
        devices = [str(model.device)]
    if compile and not all(device.startswith("cuda") for device in devices):
        raise ValueError("compile (torch.compile) is for GPUs only; leave it out on the CPU")
    replicas = []
    for device in devices:
        segmenter = load_segmenter(model, device)
        if dtype is not None:
            segmenter.model.to(dtype)
        if compile:
            segmenter.model.compile()
        replicas.append(segmenter)
    return replicas


def _summary(output_dir: str, videos: list[str], segmented: int, sink: ResultSink) -> dict:
    table = read_table(output_dir, VIDEOS_DIR, columns=["video", "status"]).to_pylist()
    status = {row["video"]: row["status"] for row in table}
    seconds = sink.elapsed()
    return {
        "output_dir": output_dir,
        "videos": len(videos),
        "skipped": len(videos) - segmented,
        "segmented": segmented,
        "ok": sum(status.get(video) == "ok" for video in videos),
        "failed": sum(status.get(video) == "error" for video in videos),
        "frames": sink.frames,
        "seconds": round(seconds, 3),
        "videos_per_second": round(segmented / seconds, 3) if seconds else None,
        "frames_per_second": round(sink.frames / seconds, 3) if seconds else None,
    }


__all__ = ["DTYPES", "ENGINES", "load_replicas", "segment_corpus"]
