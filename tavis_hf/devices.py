"""Which torch device a run uses: one rule for the CLI, the Python API and the demo (:func:`resolve_device`).

No device given means the best one this machine has: CUDA when ``torch.cuda.is_available()``, else Apple's MPS when
``torch.backends.mps.is_available()``, else the CPU. A device that is named but cannot be used (``cuda:0`` on a CPU-only
torch, ``cuda:3`` on a machine with two GPUs, a misspelt name) is a ``ValueError`` whose one-line message says what
to use instead. torch is imported when a device is resolved, so importing this module stays light.
"""

from __future__ import annotations

__all__ = ["best_available_device", "resolve_device"]


def best_available_device() -> str:
    """``"cuda"`` if torch sees a CUDA GPU, else ``"mps"`` if it sees Apple's Metal, else ``"cpu"``."""
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def resolve_device(device=None):
    """The `torch.device` a run uses.

    Args:
        device: `None` or `"auto"` (the best available device, :func:`best_available_device`), a device string
            (`"cpu"`, `"cuda"`, `"cuda:1"`, `"mps"`), a `torch.device`, or an index as transformers pipelines take
            it (`-1`: the CPU, `n >= 0`: CUDA device `n`).

    Raises:
        ValueError: the name is not a torch device, or the device does not exist on this machine or torch build.
    """
    import torch

    if device is None or device == "auto":
        return torch.device(best_available_device())
    if isinstance(device, bool) or not isinstance(device, (str, int, torch.device)):
        raise TypeError(f"device must be a name such as 'cpu' or 'cuda:0', or an index; got {type(device).__name__}")
    if isinstance(device, int):
        device = "cpu" if device < 0 else f"cuda:{device}"
    try:
        resolved = torch.device(device)
    except RuntimeError as error:
        raise ValueError(
            f"invalid device {device!r}: use cpu, cuda, cuda:N or mps (or leave it out for the best available)"
        ) from error
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError("CUDA is not available in this torch build/machine; use --device cpu (device='cpu')")
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise ValueError(
                f"no CUDA device {resolved.index}: this machine has {torch.cuda.device_count()} "
                f"(cuda:0 to cuda:{torch.cuda.device_count() - 1})"
            )
    elif resolved.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError("MPS (Apple Metal) is not available in this torch build/machine; use --device cpu")
    elif resolved.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"device {device!r} is not supported here: use cpu, cuda, cuda:N or mps")
    return resolved
