"""Cache of the frozen ImageBind audio tower's outputs (``TrainingRecipe.cache_audio_features``; identical results).

:class:`CachedImageBindAudio` routes the tower's ``forward`` through a per-clip cache for the duration of a run
(:meth:`~CachedImageBindAudio.attach` / :meth:`~CachedImageBindAudio.detach`, or ``with cache:``). It replaces the
*instance's* ``forward`` (as Accelerate does for autocast): the module tree, parameter names and state-dict keys stay
exactly those of the model, so checkpoints written with and without the cache are interchangeable. PyTorch hooks
cannot skip a forward, and a wrapper module would rename the tower's weights; a model-side seam (a forward that takes
precomputed audio states) would let the cache live outside the model.
"""

from __future__ import annotations

import hashlib

import torch
from torch import nn

__all__ = ["CachedImageBindAudio"]


class CachedImageBindAudio:
    """Memoise a frozen ImageBind audio tower (``ImageBindModel.audio_model``) per input clip.

    :meth:`attach` routes the tower's ``forward`` through the cache (its parameters, state-dict keys and other
    attributes are untouched); :meth:`detach` restores it. The key is the SHA-1 of each ``(1, 128, 204)`` log-mel
    clip's bytes, so a clip seen in an earlier epoch is not re-encoded; outputs are bit-identical to the tower's (it
    must be frozen and in eval mode, which every call checks). Entries are kept on the CPU in the tower's dtype.
    """

    def __init__(self, audio_model: nn.Module):
        self.audio_model = audio_model
        self._forward = audio_model.forward
        self._cache: dict[bytes, torch.Tensor] = {}
        self.hits = 0
        self.misses = 0

    def attach(self) -> CachedImageBindAudio:
        self.audio_model.forward = self.__call__
        return self

    def detach(self) -> None:
        del self.audio_model.forward

    def __enter__(self) -> CachedImageBindAudio:
        return self.attach()

    def __exit__(self, *exc_info) -> None:
        self.detach()

    def __call__(self, input_features: torch.Tensor, **kwargs):
        from transformers.modeling_outputs import BaseModelOutputWithPooling

        if self.audio_model.training or any(p.requires_grad for p in self.audio_model.parameters()):
            raise RuntimeError("CachedImageBindAudio needs a frozen audio tower in eval mode")
        keys = [  # raw bytes: works for every dtype (numpy has no bfloat16)
            hashlib.sha1(row.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes()).digest()
            for row in input_features
        ]
        missing = [i for i, key in enumerate(keys) if key not in self._cache]
        if missing:
            hidden = self._forward(input_features[missing], **kwargs).last_hidden_state
            for i, value in zip(missing, hidden):
                self._cache[keys[i]] = value.detach().cpu()
        self.hits += len(keys) - len(missing)
        self.misses += len(missing)
        stacked = torch.stack([self._cache[key] for key in keys]).to(input_features.device)
        return BaseModelOutputWithPooling(
            last_hidden_state=stacked, pooler_output=self.audio_model.post_layernorm(stacked[:, 0])
        )
