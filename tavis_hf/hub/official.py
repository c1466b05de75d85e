"""The authors' released files: where the TAViS checkpoints and ImageBind's BPE vocabulary are published, how to
download them (resumable, checked) and the conversion of a checkpoint into a model folder.

`tavis-hf convert --official s4|ms3|v2` runs `convert_official`: it fetches the checkpoint and the vocabulary into a
cache folder (`fetch_official_file`) and converts them with `convert_tavis_checkpoint` (`TavisConfig.release()`).

What the conversion needs: the TAViS `.pth` holds the whole model, SAM 2 and ImageBind-huge included
(docs/fidelity.md §6), so neither `imagebind_huge.pth` nor SAM 2 weights are downloaded; the tokenizer saved with the
processor is built from ImageBind's `bpe_simple_vocab_16e6.txt.gz`. None of these files is on the Hugging Face Hub:
`gdown` downloads the Google Drive files and the plain GitHub link alike, resuming a partial `<name>*.part` file left
beside the target and renaming it when complete. The MS3 checkpoint is published on Baidu Netdisk only, which needs
a browser: download it by hand (or put it in the cache folder under its cache name).

`TAVIS_HF_OFFICIAL_BASE_URL` (or `base_url=`) replaces every location with `<base url>/<cache name>`: a mirror of
these files, or a local server in the tests.
"""

from __future__ import annotations

import logging
import os
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "BASE_URL_VARIABLE",
    "DEFAULT_CACHE_DIR",
    "OFFICIAL_FILES",
    "OFFICIAL_SUBSETS",
    "OfficialFile",
    "convert_official",
    "fetch_official_file",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OfficialFile:
    """One file the authors publish, as they publish it.

    Args:
        filename: its name in the cache folder (and on a mirror).
        published_at: the link the authors give (what a browser opens to download it by hand).
        download_url: what `gdown` fetches; None when only a browser can download it.
        size: its size in bytes, or None when not published.
        sha256: its SHA-256 (hex), or None when not published.
        note: what else a person needs to download it by hand.
    """

    filename: str
    published_at: str
    download_url: str | None
    size: int | None = None
    sha256: str | None = None
    note: str = ""


# facebookresearch/ImageBind main (2025-11-21): the vocabulary's commit and path
_VOCABULARY_AT_COMMIT = "53680b02d7e37b19b124fa37bae4b6c98c38f5be/imagebind/bpe/bpe_simple_vocab_16e6.txt.gz"

OFFICIAL_FILES: dict[str, OfficialFile] = {
    # TAViS README (Sssssuperior/TAViS @ 00212fe, "Results"): sizes and checksums not published
    "s4": OfficialFile(
        "tavis_s4.pth",
        "https://drive.google.com/file/d/1gTdAMvqHT6uK6EOI8NSAucSa1m8bVw3t/view",
        "https://drive.google.com/uc?id=1gTdAMvqHT6uK6EOI8NSAucSa1m8bVw3t",
    ),
    "ms3": OfficialFile(
        "tavis_ms3.pth",
        "https://pan.baidu.com/s/1pBNo0RSaO0ufu86fA9w1UQ?pwd=dm2u",
        None,
        note="Baidu Netdisk, extraction code dm2u",
    ),
    "v2": OfficialFile(
        "tavis_v2.pth",
        "https://drive.google.com/file/d/1seSe2_2nz-_lcdleexAdRAoWuR8jIj45/view",
        "https://drive.google.com/uc?id=1seSe2_2nz-_lcdleexAdRAoWuR8jIj45",
    ),
    # ImageBind's BPE vocabulary (OpenAI CLIP's; the same bytes ship in open_clip and clip wheels)
    "vocabulary": OfficialFile(
        "bpe_simple_vocab_16e6.txt.gz",
        f"https://github.com/facebookresearch/ImageBind/blob/{_VOCABULARY_AT_COMMIT}",
        f"https://raw.githubusercontent.com/facebookresearch/ImageBind/{_VOCABULARY_AT_COMMIT}",
        size=1_356_917,
        sha256="924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a",
    ),
}
"""Name -> the published file: the TAViS checkpoints (one per subset) and `"vocabulary"`."""

OFFICIAL_SUBSETS = ("s4", "ms3", "v2")
"""The subsets the authors release a checkpoint for (AVSBench S4, MS3 and AVSBench-semantic v2)."""
BASE_URL_VARIABLE = "TAVIS_HF_OFFICIAL_BASE_URL"
"""Environment variable: fetch every file from `<its value>/<cache name>` instead of where it is published."""
DEFAULT_CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tavis_hf" / "official"
"""Where downloaded files are kept unless `cache_dir` (`--cache-dir`) says otherwise."""

_BY_HAND_COMMAND = (
    "tavis-hf convert --kind tavis --checkpoint TAVIS.pth --bpe-path bpe_simple_vocab_16e6.txt.gz --output-dir DIR"
)


def _by_hand(file: OfficialFile, cache_dir: Path) -> str:
    """What to do instead: where to download `file` in a browser and the command to run with it."""
    where = file.published_at + (f" ({file.note})" if file.note else "")
    vocabulary = OFFICIAL_FILES["vocabulary"]
    also = "" if file == vocabulary else f" (the vocabulary is at {vocabulary.published_at})"
    return (
        f"download it by hand from {where} and run `{_BY_HAND_COMMAND}`{also}, "
        f"or save it as {cache_dir / file.filename} and run this command again"
    )


def _mismatch(path: Path, file: OfficialFile) -> str | None:
    """How `path` differs from the published size or SHA-256 of `file` (None: it matches what is known)."""
    if file.size is not None and (size := path.stat().st_size) != file.size:
        return f"is {size} bytes, not {file.size}"
    if file.sha256 is not None:
        from huggingface_hub.utils.sha import sha_fileobj

        with path.open("rb") as stream:
            digest = sha_fileobj(stream).hex()
        if digest != file.sha256:
            return f"has SHA-256 {digest}, not {file.sha256}"
    return None


def _failure_reason(error: Exception, url: str) -> str:
    """One short phrase for a failed download."""
    import requests

    if isinstance(error, requests.ConnectionError):
        return f"no connection to {urllib.parse.urlsplit(url).netloc}"
    if isinstance(error, requests.HTTPError) and error.response is not None:
        return f"HTTP {error.response.status_code}"
    return " ".join(str(error).split()) or type(error).__name__


def fetch_official_file(
    name: str,
    cache_dir: str | os.PathLike | None = None,
    *,
    base_url: str | None = None,
    progress: bool = True,
) -> Path:
    """The local path of the published file `name` (a key of `OFFICIAL_FILES`), downloaded into `cache_dir` unless a
    copy that matches its published size and SHA-256 (where known) is already there.

    Args:
        name: `"s4"`, `"ms3"`, `"v2"` (the TAViS checkpoints) or `"vocabulary"` (ImageBind's BPE file).
        cache_dir: where files are kept (default `DEFAULT_CACHE_DIR`).
        base_url: fetch from `<base_url>/<cache name>` instead (default: `$TAVIS_HF_OFFICIAL_BASE_URL`, if set).
        progress: show a progress bar.

    Raises:
        ConnectionError: the download failed (no network, an HTTP error): the message says where to download the
            file by hand and the command to run with it.
        FileNotFoundError: the file can only be downloaded in a browser (the MS3 checkpoint) and is not in the cache.
        ValueError: the downloaded file does not have the published size or SHA-256 (it is removed).
    """
    file = OFFICIAL_FILES[name]
    cache_dir = Path(DEFAULT_CACHE_DIR if cache_dir is None else cache_dir)
    path = cache_dir / file.filename
    if path.is_file():
        if (problem := _mismatch(path, file)) is None:
            return path
        logger.warning("%s %s: downloading it again", path, problem)
        path.unlink()
    base_url = base_url or os.environ.get(BASE_URL_VARIABLE)
    url = f"{base_url.rstrip('/')}/{file.filename}" if base_url else file.download_url
    if url is None:
        raise FileNotFoundError(f"{file.filename} cannot be downloaded without a browser: {_by_hand(file, cache_dir)}")
    import gdown
    import requests
    from gdown.exceptions import DownloadError

    cache_dir.mkdir(parents=True, exist_ok=True)
    try:  # a partial `<filename>*.part` beside `path` is resumed, renamed to `path` when complete
        gdown.download(url=url, output=str(path), quiet=not progress, resume=True)
    except (requests.RequestException, DownloadError) as error:
        reason = _failure_reason(error, url)
        raise ConnectionError(
            f"could not download {file.filename} from {url} ({reason}): {_by_hand(file, cache_dir)}"
        ) from error
    if (problem := _mismatch(path, file)) is not None:
        path.unlink()
        raise ValueError(f"{file.filename} downloaded from {url} {problem} (removed): {_by_hand(file, cache_dir)}")
    return path


def convert_official(
    subset: str,
    output_dir: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    *,
    base_url: str | None = None,
    progress: bool = True,
) -> Path:
    """Download the authors' TAViS checkpoint of `subset` and ImageBind's vocabulary (`fetch_official_file`), and
    convert them into a model folder (`convert_tavis_checkpoint`, `TavisConfig.release()`, processor included).

    Args:
        subset: `"s4"`, `"ms3"` or `"v2"`.
        output_dir: the model folder to write (default `tavis-<subset>-hf` in the current folder).
        cache_dir, base_url, progress: as in `fetch_official_file`.

    Returns:
        The model folder (what `from_pretrained` and `tavis-hf segment --model` take).
    """
    if subset not in OFFICIAL_SUBSETS:
        raise ValueError(f"no official TAViS checkpoint for subset {subset!r}; choose one of {OFFICIAL_SUBSETS}")
    checkpoint = fetch_official_file(subset, cache_dir, base_url=base_url, progress=progress)
    vocabulary = fetch_official_file("vocabulary", cache_dir, base_url=base_url, progress=progress)
    from ..models.tavis import TavisConfig
    from ..models.tavis.convert_tavis import convert_tavis_checkpoint

    output_dir = Path(f"tavis-{subset}-hf" if output_dir is None else output_dir)
    convert_tavis_checkpoint(checkpoint, output_dir, TavisConfig.release(), bpe_path=vocabulary)
    return output_dir
