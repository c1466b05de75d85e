"""Loading the authors' ImageBind code as a test-time reference (never shipped, never vendored: CC BY-NC-SA 4.0).

Set `IMAGEBIND_OFFICIAL_SRC` to a checkout of facebookresearch/ImageBind (the folder holding `imagebind/`) and
install its pure-Python dependencies (the `parity` extra: einops, iopath; ftfy and regex are installed already) or
set `IMAGEBIND_OFFICIAL_PYDEPS` to a folder holding them (`pip install --target DIR einops iopath portalocker`). timm is replaced by a small stub (`DropPath` is only active
in training mode, `trunc_normal_` only initialises), and `imagebind/__init__.py` (which imports torchvision and
torchaudio through `imagebind.data`) is bypassed.
"""

import importlib
import os
import sys
import types

import pytest
import torch
from torch import nn

from ...parity import HOW_TO_ENABLE


class _DropPathStub(nn.Module):
    """Evaluation-mode stand-in for timm's DropPath."""

    def __init__(self, drop_prob: float = 0.0):
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, x):
        if self.training and self.drop_prob > 0:
            raise RuntimeError("The timm stub supports evaluation mode only.")
        return x


def official_source() -> str:
    src = os.environ.get("IMAGEBIND_OFFICIAL_SRC")
    if not src or not os.path.isdir(os.path.join(src, "imagebind", "models")):
        pytest.skip(f"IMAGEBIND_OFFICIAL_SRC does not point at a facebookresearch/ImageBind checkout: {HOW_TO_ENABLE}")
    return src


def import_official(module: str) -> types.ModuleType:
    """Import `imagebind.models.<module>` from the official source with timm stubbed; sys.modules is restored."""
    src = official_source()
    pydeps = os.environ.get("IMAGEBIND_OFFICIAL_PYDEPS")
    saved_path = list(sys.path)
    saved_modules = dict(sys.modules)
    if pydeps:
        sys.path.insert(0, pydeps)
    timm = types.ModuleType("timm")
    timm_layers = types.ModuleType("timm.layers")
    timm_layers.DropPath = _DropPathStub
    timm_layers.trunc_normal_ = nn.init.trunc_normal_
    timm.layers = timm_layers
    package = types.ModuleType("imagebind")
    package.__path__ = [os.path.join(src, "imagebind")]
    sys.modules.update({"timm": timm, "timm.layers": timm_layers, "imagebind": package})
    try:
        return importlib.import_module(f"imagebind.models.{module}")
    except ImportError as error:
        pytest.skip(
            f"official ImageBind dependencies missing ({error}): pip install einops iopath, or set "
            f"IMAGEBIND_OFFICIAL_PYDEPS; {HOW_TO_ENABLE}"
        )
    finally:
        # Drop the stubs and the bypassed package name; the imported modules keep their own references, and the
        # pure-Python dependencies (einops, iopath) stay importable for their lazy imports.
        for name in [name for name in sys.modules if name.split(".")[0] in ("timm", "imagebind")]:
            del sys.modules[name]
        sys.modules.update({name: mod for name, mod in saved_modules.items() if name.split(".")[0] == "timm"})
        sys.path[:] = saved_path


def randomise_(module: nn.Module, generator: torch.Generator) -> None:
    """Give every parameter random values (LayerNorm weights around 1) so that mapping errors show."""
    with torch.no_grad():
        for name, param in module.named_parameters():
            noise = torch.randn(param.shape, generator=generator)
            if name.endswith("log_logit_scale"):
                param.fill_(3.5)  # exp(3.5) = 33 < 100: the scale is applied, not clamped
            elif param.ndim == 1 and name.endswith("weight"):  # LayerNorm scales
                param.copy_(1 + 0.1 * noise)
            else:
                param.copy_(0.02 * noise)
