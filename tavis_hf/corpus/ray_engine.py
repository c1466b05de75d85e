"""The Ray Data corpus engine: the same job as the local engine, as a Ray Data pipeline across a cluster.

The videos to do become a dataset (`ray.data.from_items`); :class:`DecodeStage` (CPU actors, `map`) decodes and
preprocesses each video with the pipeline's public stages into its chunks; :class:`SegmentStage` (model actors,
`map_batches`: the model is loaded once per actor, `num_gpus_per_worker` GPUs each, `concurrency` actors) batches
frames of several videos per forward and post-processes them into rows. The driver streams the finished rows into the
same Parquet shards as the local engine (a local path or any fsspec URL), so resuming, the manifest and the tables are
the same whichever engine wrote them.

`ray.init()` with no address starts a local Ray instance; `ray_address="auto"` joins the cluster this machine belongs
to (started with `ray start --head` / `ray start --address=HEAD:6379`), `"HOST:PORT"` a given head node.
"""

from __future__ import annotations

import logging
import pickle
import socket

from .job import CorpusJob, ResultSink
from .steps import FrameBatcher, decoded_items, decoding_segmenter

VIDEOS_PER_MODEL_CALL = 8
"""Videos each `SegmentStage` call receives (their frames are batched `batch_size` at a time)."""
MAX_DECODE_ACTORS = 8
"""Most decoding actors (one CPU each) Ray Data may scale the decode stage to."""
INSTALL_HINT = "pip install 'tavis-hf[distributed]' (Ray Data), or use the local engine (--engine local)"


def import_ray():
    """`ray` with Ray Data, or an `ImportError` saying how to install it."""
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as error:
        raise ImportError(f"the Ray engine needs Ray Data, which is not installed: {INSTALL_HINT}") from error
    return ray


def connect(ray, address: str | None) -> bool:
    """Join the Ray cluster at `address` (None: start a local instance) unless Ray is already initialised; return
    whether this call started the connection (the caller shuts it down).

    Raises:
        ConnectionError: nothing listens at `address`, or `"auto"` finds no running cluster.
    """
    if ray.is_initialized():
        return False
    if address not in (None, "auto"):
        host, _, port = address.rpartition(":")
        try:
            socket.create_connection((host.removeprefix("ray://"), int(port)), timeout=5).close()
        except (OSError, ValueError) as error:
            raise ConnectionError(
                f"cannot reach a Ray cluster at {address!r} ({error}); start its head with `ray start --head`, check "
                "HOST:PORT, or leave --ray-address out to start a local Ray instance"
            ) from error
    try:
        ray.init(address=address, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    except ConnectionError as error:
        raise ConnectionError(
            f"no Ray cluster found at --ray-address {address} ({' '.join(str(error).split())[:200]}); start one with "
            "`ray start --head`, or leave --ray-address out to start a local Ray instance"
        ) from error
    return True


class DecodeStage:
    """Ray `map` actor: one video -> its decoded items (pickled), with a weightless pipeline for preprocessing."""

    def __init__(self, model_name: str, dtype, job: CorpusJob):
        from transformers import AutoConfig, AutoProcessor

        segmenter = decoding_segmenter(
            AutoConfig.from_pretrained(model_name), AutoProcessor.from_pretrained(model_name), dtype
        )
        self.decoder = segmenter
        self.preprocess_params = segmenter.stage_parameters(**job.call_parameters)[0]
        self.max_duration = job.max_duration

    def __call__(self, row: dict) -> dict:
        items = list(decoded_items(self.decoder, row["video"], self.preprocess_params, self.max_duration))
        return {"video": row["video"], "items": pickle.dumps(items)}


class SegmentStage:
    """Ray `map_batches` actor: the model, loaded once per actor; decoded videos -> their rows (pickled)."""

    def __init__(self, model_name: str, dtype, compile: bool, device: str, job: CorpusJob):
        from .run import load_replicas

        self.segmenter = load_replicas(model_name, [device], dtype, compile)[0]
        _, forward_params, postprocess_params = self.segmenter.stage_parameters(**job.call_parameters)
        self.job = job
        self.batcher_args = (job.batch_size, forward_params, postprocess_params)

    def __call__(self, batch: dict) -> dict:
        batcher = FrameBatcher(self.segmenter, *self.batcher_args)
        finished = []
        for blob in batch["items"]:
            for item in pickle.loads(blob):
                finished.extend(batcher.add(item))
        finished.extend(batcher.flush())
        for row, _, results in finished:
            self.job.write_files(self.segmenter, row, results)
        return {"rows": [pickle.dumps((row, frame_rows)) for row, frame_rows, _ in finished]}


def _quiet_ray_data(ray) -> None:
    """Ray Data's own progress bars and per-run log lines off: the corpus progress bar says how far the run is."""
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)


def run_ray(segmenter, videos, job: CorpusJob, sink: ResultSink, address, num_gpus_per_worker, concurrency, compile):
    """Segment `videos` on Ray Data (see the module docstring); `segmenter` names the model and its dtype."""
    ray = import_ray()
    started = connect(ray, address)
    model_name, dtype = str(segmenter.model.name_or_path), segmenter.model.dtype
    device = "cuda" if num_gpus_per_worker else "cpu"
    _quiet_ray_data(ray)
    try:
        dataset = ray.data.from_items([{"video": video} for video in videos])
        dataset = dataset.map(
            DecodeStage,
            fn_constructor_args=(model_name, dtype, job),
            compute=ray.data.ActorPoolStrategy(min_size=1, max_size=MAX_DECODE_ACTORS),
            num_cpus=1,
        )
        dataset = dataset.map_batches(
            SegmentStage,
            fn_constructor_args=(model_name, dtype, compile, device, job),
            batch_size=VIDEOS_PER_MODEL_CALL,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=concurrency or 1),
            num_gpus=num_gpus_per_worker or None,
            num_cpus=None if num_gpus_per_worker else 1,
        )
        for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
            for blob in batch["rows"]:
                sink.add(*pickle.loads(blob))
    finally:
        if started:
            ray.shutdown()


__all__ = ["DecodeStage", "INSTALL_HINT", "SegmentStage", "connect", "import_ray", "run_ray"]
