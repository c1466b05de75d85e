"""Which videos a corpus holds: a folder, a glob, a list file, a CSV, a saved `datasets` dataset or a Parquet table.

:func:`list_videos` turns any of these into the list of video references (paths or ``http(s)`` URLs) that
:func:`tavis_hf.corpus.segment_corpus` segments, each once, in the order given. A reference is kept as written in
its source (relative paths in a list file or CSV are read relative to that file's folder): it is the ``video`` value
of the output rows and what a resumed run recognises.
"""

from __future__ import annotations

import csv
import glob
import os
from pathlib import Path

from ..media.sources import is_url

VIDEO_EXTENSIONS = (".mp4", ".mkv", ".webm", ".mov", ".avi", ".m4v", ".mpg", ".mpeg", ".flv", ".wmv", ".3gp", ".ts")
"""File name endings (lower case) a folder or glob listing keeps."""
LIST_EXTENSIONS = (".txt", ".lst", ".list")
"""A file with one of these endings lists one video path or URL per line (blank lines and ``#`` comments skipped)."""
VIDEO_COLUMN_NAMES = ("video", "path", "video_path", "file", "filename", "url")
"""Column names looked for, in this order, in a CSV, Parquet table or dataset when no ``video_column`` is given."""


def is_corpus_source(source) -> bool:
    """Whether `source` names a corpus (a folder, a list file, a CSV or Parquet table, a glob matching no file name)
    rather than one video (a file or a URL)."""
    source = os.fspath(source)
    if is_url(source):
        return False
    path = Path(source)
    if path.exists():
        return path.is_dir() or path.suffix.lower() in (*LIST_EXTENSIONS, ".csv", ".parquet")
    return glob.has_magic(source)


def list_videos(source, video_column: str | None = None) -> list[str]:
    """The video references of `source`, without duplicates, in source order.

    Args:
        source: a folder (searched recursively for :data:`VIDEO_EXTENSIONS`; a folder written by
            `Dataset.save_to_disk` is read as a dataset), a glob (``"clips/**/*.mp4"``), a list file
            (:data:`LIST_EXTENSIONS`), a ``.csv`` file, a ``.parquet`` file, or a Python list of references.
        video_column: the column holding the videos in a CSV, Parquet table or dataset (default: the first of
            :data:`VIDEO_COLUMN_NAMES` present).

    Raises:
        FileNotFoundError: `source` does not exist and matches nothing as a glob.
        ValueError: `source` holds no video (an empty folder, a list with no existing file or URL, an empty table) or
            has no such column.
    """
    if isinstance(source, (list, tuple)):
        references = [os.fspath(item) for item in source]
        where = "the given list"
    else:
        source = os.fspath(source)
        references, where = _references(source, video_column)
    references = list(dict.fromkeys(references))
    if not any(is_url(reference) or os.path.isfile(reference) for reference in references):
        raise ValueError(
            f"{where} holds no existing video file or http(s) URL ({len(references)} entries); give a folder of "
            f"videos ({', '.join(VIDEO_EXTENSIONS[:4])}, ...), a glob, a list file, a CSV or a Parquet table"
        )
    return references


def _references(source: str, video_column: str | None) -> tuple[list[str], str]:
    """The raw references of a source given by name, and how to name the source in an error."""
    path = Path(source)
    if path.is_dir():
        if (path / "dataset_info.json").is_file() or (path / "dataset_dict.json").is_file():
            return _dataset_references(path, video_column), f"the dataset {source}"
        return _media_files(path.rglob("*")), f"the folder {source}"
    if path.is_file():
        suffix = path.suffix.lower()
        if suffix in LIST_EXTENSIONS:
            return _list_file_references(path), f"the list file {source}"
        if suffix == ".csv":
            return _csv_references(path, video_column), f"the CSV file {source}"
        if suffix == ".parquet":
            return _parquet_references(path, video_column), f"the Parquet table {source}"
        return [source], source
    if glob.has_magic(source):
        return _media_files(Path(match) for match in glob.glob(source, recursive=True)), f"the glob {source!r}"
    raise FileNotFoundError(f"no such folder, file or glob match: {source}")


def _media_files(paths) -> list[str]:
    return sorted(str(p) for p in paths if p.suffix.lower() in VIDEO_EXTENSIONS and p.is_file())


def _relative_to(folder: Path, reference: str) -> str:
    """A reference from a file in `folder`: URLs and absolute paths as they are, relative paths under `folder`."""
    return reference if is_url(reference) or os.path.isabs(reference) else str(folder / reference)


def _list_file_references(path: Path) -> list[str]:
    lines = (line.strip() for line in path.read_text().splitlines())
    return [_relative_to(path.parent, line) for line in lines if line and not line.startswith("#")]


def _pick_column(columns: list[str], video_column: str | None, where: Path) -> str:
    if video_column is not None:
        if video_column not in columns:
            raise ValueError(f"{where} has no column {video_column!r} (it has {columns}); fix --video-column")
        return video_column
    for name in VIDEO_COLUMN_NAMES:
        if name in columns:
            return name
    raise ValueError(f"{where} has no video column among {columns}; name it with --video-column")


def _csv_references(path: Path, video_column: str | None) -> list[str]:
    with path.open(newline="") as file:
        reader = csv.DictReader(file)
        column = _pick_column(list(reader.fieldnames or []), video_column, path)
        values = [row[column].strip() for row in reader if (row[column] or "").strip()]
    return [_relative_to(path.parent, value) for value in values]


def _column_references(dataset, video_column: str | None, where: Path, folder: Path) -> list[str]:
    """The references of a `datasets.Dataset` column (`where` names it in errors; relative paths are under `folder`):
    strings, or `{"path": ...}` records (a `Video` feature is read without decoding)."""
    from datasets import Video

    column = _pick_column(list(dataset.column_names), video_column, where)
    if isinstance(dataset.features[column], Video):
        dataset = dataset.cast_column(column, Video(decode=False))
    values = [value["path"] if isinstance(value, dict) else value for value in dataset[column]]
    return [_relative_to(folder, value) for value in values if isinstance(value, str) and value]


def _parquet_references(path: Path, video_column: str | None) -> list[str]:
    from datasets import load_dataset

    table = load_dataset("parquet", data_files=str(path), split="train")
    return _column_references(table, video_column, path, path.parent)


def _dataset_references(path: Path, video_column: str | None) -> list[str]:
    from datasets import DatasetDict, load_from_disk

    loaded = load_from_disk(str(path))
    splits = loaded.values() if isinstance(loaded, DatasetDict) else [loaded]
    return [reference for split in splits for reference in _column_references(split, video_column, path, path)]


__all__ = ["LIST_EXTENSIONS", "VIDEO_COLUMN_NAMES", "VIDEO_EXTENSIONS", "is_corpus_source", "list_videos"]
