"""Corpus-scale inference: segment thousands of videos into Parquet tables, batched, resumable, locally or on Ray.

    >>> from tavis_hf import segment_corpus
    >>> summary = segment_corpus("videos/", "out/", batch_size=32)  # out/frames/*.parquet, out/videos/*.parquet
    >>> summary["ok"], summary["failed"], summary["frames_per_second"]

`tavis-hf segment FOLDER|GLOB|LIST|CSV|PARQUET|DATASET --output-dir OUT` runs :func:`segment_corpus`.

Modules, one concept each: :mod:`~tavis_hf.corpus.inputs` (which videos a source holds),
:mod:`~tavis_hf.corpus.tables` (row schemas, COCO RLE, atomic shards), :mod:`~tavis_hf.corpus.manifest` (a run's
identity, resuming), :mod:`~tavis_hf.corpus.steps` (the per-video step through the pipeline's public stages, frame
batching), :mod:`~tavis_hf.corpus.job` (what a run's replicas share, where finished videos go),
:mod:`~tavis_hf.corpus.local` (worker processes, one replica per GPU), :mod:`~tavis_hf.corpus.ray_engine` (Ray Data) and
:mod:`~tavis_hf.corpus.run` (:func:`segment_corpus`).
"""

from __future__ import annotations

import importlib

from .inputs import is_corpus_source, list_videos

_LAZY_ATTRIBUTES = {
    "MANIFEST_FILE": ".manifest",
    "segment_corpus": ".run",
    **dict.fromkeys(("FRAMES_DIR", "VIDEOS_DIR", "decode_rle", "encode_rle", "read_table"), ".tables"),
}
"""Public name -> module: imported on first access, so that `tavis-hf segment` can tell a corpus from one video
(:func:`is_corpus_source`) without importing torch."""


def __getattr__(name: str):
    if name not in _LAZY_ATTRIBUTES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY_ATTRIBUTES[name], __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "FRAMES_DIR",
    "MANIFEST_FILE",
    "VIDEOS_DIR",
    "decode_rle",
    "encode_rle",
    "is_corpus_source",
    "list_videos",
    "read_table",
    "segment_corpus",
]
