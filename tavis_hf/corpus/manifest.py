"""What a corpus run is, so that a re-run resumes it and never mixes results of another model or other options.

An output folder holds ``manifest.json``: the model (``name_or_path`` and a fingerprint of its weights) and every
option that changes the rows (labels, mode, fps, threshold, temporal, dtype, max duration). A run on a folder with
the same identity skips the videos that already have a ``videos`` row; a different identity is refused unless
`overwrite` is set, which deletes the folder's tables first.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from fsspec.core import url_to_fs

from .tables import FRAMES_DIR, VIDEOS_DIR, read_table, remove_unfinished_shards

MANIFEST_FILE = "manifest.json"
"""Name of the run identity file inside an output folder."""


def model_fingerprint(model) -> str:
    """Fingerprint of a loaded `TavisModel`: `tavis_hf.hub.weights_fingerprint` of the folder it was loaded from
    (the one evaluation records carry), else the SHA-256 of its config and parameters (a Hub id, a model in memory)."""
    import torch

    from ..hub import weights_fingerprint

    folder = Path(str(getattr(model, "name_or_path", "") or ""))
    if str(folder) and (folder / "config.json").is_file():
        return weights_fingerprint(folder)
    digest = hashlib.sha256(model.config.to_json_string().encode())
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    return "sha256:" + digest.hexdigest()


def run_identity(model, options: dict) -> dict:
    """The identity of a run: `model` (name, fingerprint) and the `options` that change its rows."""
    return {
        "model": {"name_or_path": str(getattr(model, "name_or_path", "")), "fingerprint": model_fingerprint(model)},
        "options": options,
    }


def prepare_output(output_dir: str, identity: dict, overwrite: bool = False) -> set[str]:
    """Make `output_dir` ready for a run of `identity`; return the videos it already holds (to skip).

    Raises:
        ValueError: the folder holds a run of another model or other options and `overwrite` is not set.
    """
    fs, root = url_to_fs(os.fspath(output_dir))
    manifest = f"{root}/{MANIFEST_FILE}"
    if fs.exists(manifest):
        with fs.open(manifest, "r") as file:
            previous = json.load(file)
        if previous != identity and not overwrite:
            raise ValueError(
                f"{output_dir} holds results of another run ({_differences(previous, identity)}); pass --overwrite "
                "(overwrite=True) to replace them, or choose another output folder"
            )
    if overwrite:
        for folder in (FRAMES_DIR, VIDEOS_DIR):
            if fs.exists(f"{root}/{folder}"):
                fs.rm(f"{root}/{folder}", recursive=True)
    fs.makedirs(root, exist_ok=True)
    with fs.open(manifest, "w") as file:
        json.dump(identity, file, indent=2)
    remove_unfinished_shards(output_dir)
    return set(read_table(output_dir, VIDEOS_DIR, columns=["video"]).column("video").to_pylist())


def _differences(previous: dict, identity: dict) -> str:
    """What differs between two identities, e.g. ``"model fingerprint differs; threshold 0.5 -> 0.7"``."""
    changes = []
    if previous.get("model") != identity["model"]:
        changes.append("another model (weights fingerprint differs)")
    old_options = previous.get("options", {})
    for name in sorted(set(old_options) | set(identity["options"])):
        before, after = old_options.get(name), identity["options"].get(name)
        if before != after:
            changes.append(f"{name} {before!r} -> {after!r}")
    return "; ".join(changes) or "another format"


__all__ = ["MANIFEST_FILE", "model_fingerprint", "prepare_output", "run_identity"]
