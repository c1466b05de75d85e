"""The application layer: segment one video and write what a person keeps (mask PNGs, ``summary.json``, an overlay).

`tavis-hf segment`, the Gradio demo (:mod:`tavis_hf.demo`) and ``examples/segment_video.py`` all run
:func:`segment_video`. It drives the `"audio-visual-segmentation"` pipeline through its public interface only
([`AudioVisualSegmentationPipeline.iter_frame_results`], `vocabulary`, `open_source`, `write_overlay`): the data flow
stays media -> processor -> model -> post-processing inside the pipeline, and this module adds the writers.

An output folder holds:

* ``masks/frame_{k:05d}.png``: the sounding-object mask of sampled frame ``k`` (0/255), at the source frame size (the
  size stored in the video file, also when it was downscaled for the model);
* ``masks/frame_{k:05d}_{j}_{label}.png``: segment ``j`` of frame ``k`` when it has a label (``"semantic"`` and
  ``"instances"`` modes; the label with characters other than letters, digits, ``-`` and ``_`` replaced by ``_``);
* ``summary.json``: the dict :func:`segment_video` returns (run settings, ``num_frames``,
  ``num_frames_without_audio`` and one record per frame with its ``has_audio`` flag; paths relative to the folder).
  A frame without audio (its interval starts at or after the end of the audio stream, see :mod:`tavis_hf.media`) is
  empty;
* ``overlay.mp4``: coloured masks and labels over the whole video at its own frame rate and source frame size, with
  its original sound (the source's audio stream, same codec when mp4 carries it, else AAC at its rate and layout).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path

import numpy as np

from .devices import resolve_device
from .media import DEFAULT_FPS, VideoFile, check_duration, local_media_path
from .media.sources import is_url
from .model_sources import check_model_source, hub_loading_errors
from .models.tavis import canonical_temporal
from .pipelines import DEFAULT_MODEL_DIR, AudioVisualSegmentationPipeline

MASKS_DIR = "masks"
"""Folder of the mask PNGs inside an output folder."""
SUMMARY_FILE = "summary.json"
"""Name of the summary written into an output folder."""
OVERLAY_FILE = "overlay.mp4"
"""Name of the overlay video written into an output folder."""


def load_segmenter(model=None, device=None) -> AudioVisualSegmentationPipeline:
    """The pipeline for `model`.

    Args:
        model: a model folder or Hub id, a ready [`AudioVisualSegmentationPipeline`] (returned as it is), or `None`
            for the package's embedded default model ([`DEFAULT_MODEL_DIR`]; `FileNotFoundError` if it is absent).
        device: torch device for the model; default: the best available ([`tavis_hf.devices.resolve_device`]).

    Raises:
        FileNotFoundError, NotADirectoryError, ValueError: no such model folder, a folder that is not a TAViS model
            ([`tavis_hf.model_sources.check_model_source`]), or a device this machine does not have.
    """
    if isinstance(model, AudioVisualSegmentationPipeline):
        return model
    from transformers import pipeline

    if model is None:
        if not (DEFAULT_MODEL_DIR / "config.json").is_file():
            raise FileNotFoundError(
                f"no default model is shipped yet (expected at {DEFAULT_MODEL_DIR}); pass a model folder or Hub id"
            )
        model = str(DEFAULT_MODEL_DIR)
    model = check_model_source(model)
    device = resolve_device(device)
    with hub_loading_errors(model):
        return pipeline("audio-visual-segmentation", model=model, device=device)


def segment_frames(segmenter: AudioVisualSegmentationPipeline, video, *, progress: bool = True, **params) -> list[dict]:
    """The pipeline's per-frame results for `video` (exactly `segmenter(video, **params)`), with a progress bar over
    the sampled frames (`progress`)."""
    from tqdm.auto import tqdm

    with segmenter.open_source(video, fps=params.get("fps") or DEFAULT_FPS) as source:
        total = source.num_frames
    results = []
    with tqdm(total=total, desc="segmenting", unit="frame", disable=not progress) as bar:
        for result in segmenter.iter_frame_results(video, **params):
            results.append(result)
            bar.update(1)
    return results


def mask_file_name(frame_index: int, segment_index: int | None = None, label: str | None = None) -> str:
    """Path (relative to an output folder) of a frame's mask, or of its labelled segment `segment_index`."""
    if label is None:
        return f"{MASKS_DIR}/frame_{frame_index:05d}.png"
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in label)
    return f"{MASKS_DIR}/frame_{frame_index:05d}_{segment_index}_{safe}.png"


def write_frame_masks(result: dict, output_dir: str | os.PathLike) -> dict:
    """Save the masks of one per-frame result as PNG files; return its summary record.

    The record: `{"frame_index", "timestamp", "has_audio", "score", "mask", "segments": [{"label", "score", "mask",
    "area"}]}`,
    mask paths relative to `output_dir`, `area` the segment's pixel count (an unlabelled segment shares the frame's
    mask file).
    """
    output_dir = Path(output_dir)
    k = result["frame_index"]
    mask_name = mask_file_name(k)
    result["mask"].save(output_dir / mask_name)
    segments = []
    for j, segment in enumerate(result["segments"]):
        name = mask_name
        if segment["label"] is not None:
            name = mask_file_name(k, j, segment["label"])
            segment["mask"].save(output_dir / name)
        area = int((np.asarray(segment["mask"]) > 0).sum())
        segments.append({"label": segment["label"], "score": segment["score"], "mask": name, "area": area})
    return {"frame_index": k, "timestamp": result["timestamp"], "has_audio": result["has_audio"],
            "score": result["score"], "mask": mask_name, "segments": segments}  # fmt: skip


def write_summary(summary: dict, output_dir: str | os.PathLike) -> Path:
    """Write `summary` as `output_dir/summary.json` (indented JSON); return the path."""
    path = Path(output_dir) / SUMMARY_FILE
    with open(path, "w") as f:
        json.dump(summary, f, indent=2)
    return path


def segment_video(
    video,
    model=None,
    labels=None,
    output_dir="tavis_output",
    mode: str = "binary",
    fps: float = DEFAULT_FPS,
    threshold: float = 0.5,
    temporal: str = "per-frame",
    progress: bool = True,
    device=None,
    max_duration: float | None = None,
) -> dict:
    """Segment a video and write the results to `output_dir` (see the module docstring for the files). A URL is
    downloaded once (for the frames and the overlay).

    Args:
        video: a video path, URL or bytes (see [`AudioVisualSegmentationPipeline`]).
        model: a model folder/Hub id, an [`AudioVisualSegmentationPipeline`], or `None` for the embedded default
            model (see [`load_segmenter`]).
        labels, mode, fps, threshold, temporal: as for the pipeline (`temporal="clip"` is read as `"tracking"`).
        output_dir: output folder (created).
        progress (`bool`): show a tqdm progress bar over the sampled frames.
        device: torch device for the model.
        max_duration (`float`, *optional*): refuse a video file or URL longer than this many seconds (a one-line
            `MediaError`, before the model loads).

    Returns:
        `dict`: the summary written to `summary.json` (paths relative to `output_dir`).
    """
    start = time.perf_counter()
    name = os.fspath(video) if isinstance(video, (str, os.PathLike)) else f"<{type(video).__name__}>"
    with local_media_path(video) if is_url(video) else contextlib.nullcontext(video) as source:
        if max_duration is not None and not isinstance(source, dict):
            with VideoFile(source, fps=fps) as opened:
                check_duration(name, opened.info.duration, max_duration)
        segmenter = load_segmenter(model, device)
        output_dir = Path(output_dir)
        (output_dir / MASKS_DIR).mkdir(parents=True, exist_ok=True)
        temporal = canonical_temporal(temporal)
        vocabulary = segmenter.vocabulary(labels)
        params = {"labels": labels, "mode": mode, "threshold": threshold, "fps": fps, "temporal": temporal}
        results = segment_frames(segmenter, source, progress=progress, **params)
        records = [write_frame_masks(result, output_dir) for result in results]
        overlay = segmenter.write_overlay(source, results, output_dir / OVERLAY_FILE, fps=fps)
    summary = {
        "video": name,
        "model": getattr(segmenter.model, "name_or_path", None),
        "mode": mode,
        "labels": vocabulary,
        "fps": fps,
        "threshold": threshold,
        "temporal": temporal,
        "num_frames": len(results),
        "num_frames_without_audio": sum(not result["has_audio"] for result in results),
        "overlay": os.path.relpath(overlay, output_dir),
        "seconds": round(time.perf_counter() - start, 3),
        "frames": records,
    }
    write_summary(summary, output_dir)
    return summary


__all__ = [
    "MASKS_DIR",
    "OVERLAY_FILE",
    "SUMMARY_FILE",
    "load_segmenter",
    "mask_file_name",
    "segment_frames",
    "segment_video",
    "write_frame_masks",
    "write_summary",
]
