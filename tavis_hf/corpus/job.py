"""One corpus run as both engines see it: the stage parameters, batching, optional per-video files, and where
finished videos go (the shard writer, with a progress bar: videos/s, frames/s and ETA)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from .steps import video_files_dir, write_video_files
from .tables import ShardWriter


@dataclass
class CorpusJob:
    """What every replica, worker and actor of a run needs to know (picklable: Ray ships it to its actors).

    Attributes:
        output_dir: the run's output folder (local path or fsspec URL).
        call_parameters: the pipeline call parameters (labels, mode, threshold, fps, temporal); each replica turns
            them into stage parameters with `AudioVisualSegmentationPipeline.stage_parameters`.
        batch_size: frames per model forward (tracking windows count all their frames).
        max_duration: longer videos get an error row (None: no limit).
        save_masks / save_overlays: also write each video's mask PNGs / overlay video under ``OUT/files/``.
    """

    output_dir: str
    call_parameters: dict
    batch_size: int = 32
    max_duration: float | None = None
    save_masks: bool = False
    save_overlays: bool = False

    def write_files(self, segmenter, row: dict, results: list[dict]) -> None:
        """The optional per-video files of a video segmented without error."""
        if row["status"] == "ok" and (self.save_masks or self.save_overlays):
            folder = video_files_dir(self.output_dir, row["video"])
            fps = self.call_parameters["fps"]
            write_video_files(segmenter, row["video"], results, folder, self.save_masks, self.save_overlays, fps)


@dataclass
class ResultSink:
    """Where finished videos go: the shard writer and the progress bar (thread-safe: one replica per GPU)."""

    writer: ShardWriter
    total: int
    progress: bool = True
    frames: int = 0
    failed: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self):
        from tqdm.auto import tqdm

        self.start = time.perf_counter()
        self.bar = tqdm(total=self.total, desc="segmenting corpus", unit="video", disable=not self.progress)

    def add(self, row: dict, frame_rows: list[dict]) -> None:
        with self.lock:
            self.writer.add(row, frame_rows)
            self.frames += len(frame_rows)
            self.failed += row["status"] != "ok"
            self.bar.update(1)
            rate = self.frames / max(time.perf_counter() - self.start, 1e-9)
            self.bar.set_postfix(frames_per_s=f"{rate:.1f}", failed=self.failed, refresh=False)

    def elapsed(self) -> float:
        """Seconds since the sink was made (the run's segmenting time, model loading excluded)."""
        return time.perf_counter() - self.start

    def close(self) -> None:
        """Write the rows still held and close the progress bar."""
        with self.lock:
            self.writer.flush()
            self.bar.close()


__all__ = ["CorpusJob", "ResultSink"]
