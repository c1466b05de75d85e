"""The local corpus engine: decoding in worker processes, batched model forwards, one model replica per GPU.

Each replica gets a share of the videos and a `torch.utils.data.DataLoader` over :class:`DecodedVideos`, an
`IterableDataset` whose workers (`num_workers` processes) each decode their own videos with the pipeline's
`open_source` / `preprocess` (:func:`~tavis_hf.corpus.steps.decoded_items`) while the replica's model runs the batches
(:class:`~tavis_hf.corpus.steps.FrameBatcher`). Replicas run in threads (one per device). A CPU replica leaves the
decode workers their cores: its torch threads are at most the CPU count minus the workers (at least 1). Workers run
torch on one thread each, decode in float32 and send their tensors as NumPy arrays, pickled by value (cheaper than
sharing one file descriptor per tensor); the replica casts them to the model's dtype, the same cast `preprocess` makes.
Together the workers keep about one batch of frames decoded ahead, so decoding goes on while the model runs.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from .job import CorpusJob, ResultSink
from .steps import FrameBatcher, decoded_items, decoding_segmenter


def default_num_workers() -> int:
    """Decode workers per replica when none is given: the CPU cores, at most 8."""
    return min(8, os.cpu_count() or 1)


class DecodedVideos(IterableDataset):
    """The decoded items (:func:`decoded_items`) of `videos`; with several DataLoader workers, worker `i` of `n`
    decodes videos `i, i + n, ...`."""

    def __init__(self, decoder, videos: list[str], preprocess_params: dict, max_duration: float | None):
        self.decoder = decoder
        self.videos = videos
        self.preprocess_params = preprocess_params
        self.max_duration = max_duration

    def __iter__(self):
        worker = get_worker_info()
        videos = self.videos if worker is None else self.videos[worker.id :: worker.num_workers]
        if worker is None:  # in the replica's own process: nothing to send
            for video in videos:
                yield from decoded_items(self.decoder, video, self.preprocess_params, self.max_duration)
            return
        torch.set_num_threads(1)  # the workers and the model share the cores
        for video in videos:
            for item in decoded_items(self.decoder, video, self.preprocess_params, self.max_duration):
                if "chunk" in item:
                    item["chunk"] = {k: v.numpy() if torch.is_tensor(v) else v for k, v in item["chunk"].items()}
                yield item


def _received(item: dict, dtype: torch.dtype) -> dict:
    """An item with its arrays (from a worker) or float32 tensors (decoded in this process) as tensors in `dtype`."""
    if "chunk" in item:
        item["chunk"] = {k: torch.as_tensor(v).to(dtype) if isinstance(v, (np.ndarray, torch.Tensor)) else v
                         for k, v in item["chunk"].items()}  # fmt: skip
    return item


def _as_sent(item: dict) -> dict:
    """The DataLoader's collate function: the item as the worker sent it (no conversion to tensors)."""
    return item


def run_replica(segmenter, videos: list[str], job: CorpusJob, sink: ResultSink, num_workers: int | None) -> None:
    """Segment `videos` with one model replica (`segmenter`), sending finished videos to `sink`; `num_workers`
    decode processes (None: :func:`default_num_workers`)."""
    if num_workers is None:
        num_workers = default_num_workers()
    preprocess_params, forward_params, postprocess_params = segmenter.stage_parameters(**job.call_parameters)
    decoder = decoding_segmenter(segmenter.model.config, segmenter.processor, torch.float32)
    dataset = DecodedVideos(decoder, videos, preprocess_params, job.max_duration)
    workers = min(num_workers, len(videos))
    ahead = {"prefetch_factor": -(-job.batch_size // workers) + 1} if workers else {}  # a batch decoded ahead
    loader = DataLoader(dataset, batch_size=None, num_workers=workers, collate_fn=_as_sent, **ahead)
    batcher = FrameBatcher(segmenter, job.batch_size, forward_params, postprocess_params)

    def record(finished):
        for row, frame_rows, results in finished:
            job.write_files(segmenter, row, results)
            sink.add(row, frame_rows)

    threads = torch.get_num_threads()
    if segmenter.device.type == "cpu" and loader.num_workers:  # the decode workers share the CPU cores
        torch.set_num_threads(max(1, min(threads, (os.cpu_count() or 1) - loader.num_workers)))
    try:
        for item in loader:
            record(batcher.add(_received(item, segmenter.model.dtype)))
        record(batcher.flush())
    finally:
        torch.set_num_threads(threads)


def run_local(segmenters: list, videos: list[str], job: CorpusJob, sink: ResultSink, num_workers: int | None) -> None:
    """Segment `videos` with one replica per entry of `segmenters` (videos dealt round-robin)."""
    if len(segmenters) == 1:
        run_replica(segmenters[0], videos, job, sink, num_workers)
        return
    shares = [videos[i :: len(segmenters)] for i in range(len(segmenters))]
    with ThreadPoolExecutor(max_workers=len(segmenters)) as pool:
        futures = [
            pool.submit(run_replica, segmenter, share, job, sink, num_workers)
            for segmenter, share in zip(segmenters, shares)
            if share
        ]
        for future in futures:
            future.result()


__all__ = ["DecodedVideos", "default_num_workers", "run_local", "run_replica"]
