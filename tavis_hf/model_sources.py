"""Where a TAViS model comes from: a saved model folder or a Hub id (`owner/name`), checked before anything loads.

:func:`check_model_source` is what the CLI, :func:`tavis_hf.segmentation.load_segmenter`, the pipeline through it,
:func:`tavis_hf.evaluation.evaluate_model` and the demo call on a model argument. A path that exists must be a folder
holding a `config.json` of a TAViS model; a name that is not a path on disk must have the form of a Hub id
(`owner/name`), else it is a missing or mistyped folder (`FileNotFoundError`, which says both). Without this, a
mistyped folder reaches the Hub client, whose message ("Repo id must be in the form ...") does not say that the
folder is missing. :func:`hub_loading_errors` turns a Hub id that cannot be loaded into the same kind of message.
Nothing heavy is imported here (the CLI checks `--model` before it imports torch).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

__all__ = ["MODEL_TYPE", "check_model_source", "hub_loading_errors"]

MODEL_TYPE = "tavis"
"""`model_type` in the `config.json` of a TAViS model folder."""
_HUB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*")


def _is_hub_id(name: str) -> bool:
    return bool(_HUB_ID.fullmatch(name)) and ".." not in name and not name.endswith((".", "-"))


def check_model_source(model: str | os.PathLike) -> str:
    """`model` as a string, once it is known to be a TAViS model folder or a name of the Hub id form.

    Raises:
        FileNotFoundError: `model` is neither an existing path nor of the form `owner/name`, or it is a folder without
            `config.json`.
        NotADirectoryError: `model` is a file.
        ValueError: its `config.json` is not JSON, or its `model_type` is not `"tavis"`.
    """
    if not isinstance(model, (str, os.PathLike)):
        raise TypeError(f"model must be a model folder or a Hub id (owner/name), got {type(model).__name__}")
    name = os.fspath(model)
    path = Path(name).expanduser()
    if not path.exists():
        if _is_hub_id(name):
            return name
        raise FileNotFoundError(f"no such model folder: {name} (a Hub id has the form owner/name)")
    if not path.is_dir():
        raise NotADirectoryError(f"model {name} is a file; give the model folder that holds its config.json")
    config_file = path / "config.json"
    if not config_file.is_file():
        raise FileNotFoundError(
            f"model folder {name} has no config.json: give a folder written by save_pretrained or `tavis-hf convert`"
        )
    try:
        model_type = json.loads(config_file.read_text(encoding="utf-8")).get("model_type")
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError) as error:
        raise ValueError(f"{config_file} is not a JSON object ({error}); save the model again") from error
    if model_type != MODEL_TYPE:
        raise ValueError(
            f"model folder {name} holds a model of type {model_type!r} (config.json model_type), not a TAViS model "
            f"({MODEL_TYPE!r})"
        )
    return name


@contextlib.contextmanager
def hub_loading_errors(model: str) -> Iterator[None]:
    """Inside: an `OSError` raised while loading `model`, a name that is not a path on disk, becomes a
    `FileNotFoundError` saying that no such folder exists and why the Hub did not give it either."""
    try:
        yield
    except OSError as error:
        if Path(model).expanduser().exists():
            raise
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise FileNotFoundError(
            f"no such model folder: {model}, and the Hub did not give it either: {reason}"
        ) from error
