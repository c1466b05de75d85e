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

from .inputs import is_corpus_source, list_videos
from .manifest import MANIFEST_FILE
from .run import segment_corpus
from .tables import FRAMES_DIR, VIDEOS_DIR, decode_rle, encode_rle, read_table

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
