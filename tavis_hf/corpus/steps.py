"""The per-video step both corpus engines share, through the pipeline's public stages.

Decoding (in worker processes or Ray's CPU stage): :func:`decoded_items` opens one video with
`AudioVisualSegmentationPipeline.open_source` and yields the chunks of its `preprocess`, then one *end item* that
says how the video went. Model (in the engine's process or a Ray actor): :class:`FrameBatcher` gathers the chunks of
many videos into batches of about `batch_size` frames for `AudioVisualSegmentationPipeline.forward_batch` and hands
each chunk's output to `postprocess`; once a video's end item is reached it returns the video's rows
(:func:`~tavis_hf.corpus.tables.video_row`, :func:`~tavis_hf.corpus.tables.frame_row`). The masks are therefore
exactly the single-video path's, up to the float rounding of a batched forward.
"""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import torch

from ..media import check_duration, local_media_path
from .tables import frame_row, one_line, video_row

FILES_DIR = "files"
"""Folder of the optional per-video mask PNGs and overlays inside an output folder."""


def decoding_segmenter(config, processor, dtype: torch.dtype):
    """A pipeline for decoding and preprocessing only: `processor` and a weightless model (meta device) of `config`
    in `dtype`, so decode workers hold no weights and `preprocess` casts inputs to the model's dtype."""
    from transformers import pipeline

    from ..models.tavis import TavisModel

    with torch.device("meta"):
        model = TavisModel(config).to(dtype)
    return pipeline("audio-visual-segmentation", model=model, processor=processor, device="meta")


def decoded_items(decoder, video: str, preprocess_params: dict, max_duration: float | None = None) -> Iterator[dict]:
    """The chunks of `video` as items `{"video", "chunk": a preprocess chunk}`, then its end item
    `{"video", "end": True, "error": one-line message or None, "duration", "num_frames", "seconds"}`.

    An unusable video (missing, corrupt, no sound, longer than `max_duration`) yields only its end item, or the chunks
    decoded before the problem showed and an end item with the error (its frames are then dropped)."""
    start = time.perf_counter()
    facts = {"duration": None, "num_frames": None, "error": None}
    source_params = {k: v for k, v in preprocess_params.items() if k != "temporal"}
    try:
        with local_media_path(video) as path:  # a URL is fetched once, for both opens
            with decoder.open_source(path, **source_params) as source:
                facts.update(duration=source.info.duration, num_frames=source.num_frames)
            check_duration(video, facts["duration"], max_duration)
            for chunk in decoder.preprocess(path, **preprocess_params):
                yield {"video": video, "chunk": chunk}
    except Exception as error:  # noqa: BLE001  (any failure of one video becomes its error row)
        facts["error"] = one_line(error)
    yield {"video": video, "end": True, **facts, "seconds": time.perf_counter() - start}


class FrameBatcher:
    """Runs the chunks of many videos through the model in batches of about `batch_size` frames.

    Feed it the items of :func:`decoded_items` (videos may interleave; each video's items in order) with
    :meth:`add`, then call :meth:`flush`; both return the videos they finished as `(video_row, frame_rows, results)`,
    `results` being the pipeline's per-frame dicts (empty for a video that failed).
    """

    def __init__(self, segmenter, batch_size: int, forward_params: dict, postprocess_params: dict):
        self.segmenter = segmenter
        self.batch_size = batch_size
        self.forward_params = forward_params
        self.postprocess_params = postprocess_params
        self.pending: list[dict] = []
        self.pending_frames = 0
        self.results: dict[str, list[dict]] = defaultdict(list)
        self.model_seconds: dict[str, float] = defaultdict(float)

    def add(self, item: dict) -> list[tuple[dict, list[dict], list[dict]]]:
        if item.get("end") and not self.pending_frames:
            return [self._finish(item)]
        self.pending.append(item)
        if not item.get("end"):
            self.pending_frames += _model_frames(item)
        return self.flush() if self.pending_frames >= self.batch_size else []

    def flush(self) -> list[tuple[dict, list[dict], list[dict]]]:
        """Run the pending chunks; return the videos whose end item was pending."""
        items = [item for item in self.pending if not item.get("end")]
        start = time.perf_counter()
        outputs = self.segmenter.forward_batch([item["chunk"] for item in items], **self.forward_params)
        for item, output in zip(items, outputs):
            results = self.segmenter.postprocess([output], **self.postprocess_params)
            self.results[item["video"]].extend(results)
        elapsed = time.perf_counter() - start
        for item in items:  # each chunk's share of the batch's time
            self.model_seconds[item["video"]] += elapsed * _model_frames(item) / max(self.pending_frames, 1)
        finished = [self._finish(item) for item in self.pending if item.get("end")]
        self.pending, self.pending_frames = [], 0
        return finished

    def _finish(self, end: dict) -> tuple[dict, list[dict], list[dict]]:
        video = end["video"]
        results = self.results.pop(video, [])
        seconds = end["seconds"] + self.model_seconds.pop(video, 0.0)
        if end["error"] is not None:
            results = []
        row = video_row(video, end["error"], end["duration"], end["num_frames"], seconds)
        return row, [frame_row(video, result) for result in results], results


def _model_frames(item: dict) -> int:
    """Frames an item's chunk puts through the model (a tracking window counts its padded frames)."""
    return int(item["chunk"]["pixel_values"].shape[1])


def video_files_dir(output_dir, video: str) -> Path:
    """Where the optional mask PNGs and overlay of `video` go: ``OUT/files/<file stem>-<8 hex digits of its name>``."""
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in Path(video.split("?")[0]).stem)[:64]
    return Path(output_dir) / FILES_DIR / f"{stem}-{hashlib.sha1(video.encode()).hexdigest()[:8]}"


def write_video_files(segmenter, video: str, results: list[dict], folder: Path, masks: bool, overlay: bool, fps):
    """The single-video outputs of a segmented video, on request: mask PNGs (`masks`) and ``overlay.mp4``."""
    from ..segmentation import MASKS_DIR, OVERLAY_FILE, write_frame_masks

    folder.mkdir(parents=True, exist_ok=True)
    if masks:
        (folder / MASKS_DIR).mkdir(exist_ok=True)
        for result in results:
            write_frame_masks(result, folder)
    if overlay:
        segmenter.write_overlay(video, results, folder / OVERLAY_FILE, fps=fps)


__all__ = ["FILES_DIR", "FrameBatcher", "decoded_items", "decoding_segmenter", "video_files_dir", "write_video_files"]
