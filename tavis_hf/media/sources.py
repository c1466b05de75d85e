"""Where media come from: a local path, an ``http(s)`` URL (downloaded to a temporary file) or raw bytes."""

from __future__ import annotations

import contextlib
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator

from .types import MediaError


def is_url(source) -> bool:
    """Whether `source` is an ``http(s)`` URL (fetched to a temporary file by :func:`local_media_path`)."""
    return isinstance(source, str) and source.split("://", 1)[0].lower() in ("http", "https")


@contextlib.contextmanager
def local_media_path(source: str | os.PathLike | bytes, timeout: float = 30.0) -> Iterator[str]:
    """Yield a local file path for a path, an ``http(s)`` URL (downloaded to a temporary file) or raw bytes."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        if len(source) == 0:
            raise MediaError("empty bytes given as a media file")
        with tempfile.TemporaryDirectory(prefix="tavis_media_") as tmp:
            path = os.path.join(tmp, "input")
            with open(path, "wb") as f:
                f.write(source)
            yield path
        return
    if is_url(source):
        with tempfile.TemporaryDirectory(prefix="tavis_media_") as tmp:
            path = os.path.join(tmp, "download")
            try:
                with urllib.request.urlopen(source, timeout=timeout) as response, open(path, "wb") as f:
                    while chunk := response.read(1 << 20):
                        f.write(chunk)
            except (urllib.error.URLError, OSError, ValueError) as error:
                raise MediaError(f"could not fetch {source!r}: {error}") from error
            yield path
        return
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"a media source must be a path, an http(s) URL or bytes, got {type(source).__name__}")
    path = os.fspath(source)
    if not os.path.isfile(path):
        raise MediaError(f"no such media file: {path!r}")
    if os.path.getsize(path) == 0:
        raise MediaError(f"{path!r} is an empty file (zero bytes)")
    yield path


__all__ = ["is_url", "local_media_path"]
