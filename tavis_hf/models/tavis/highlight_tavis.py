# Copyright 2026 The tavis_hf contributors. Licensed under the MIT licence.
"""TAViS highlight images: each object query's mask kept sharp on its frame, the rest blurred.

ImageBind vision embeds the highlight image of every query; its similarity to the class prompts gives the
image-to-text class logits, used by the training loss (``loss_i2t`` and the matcher, ``docs/fidelity.md`` §3) and at
inference by the semantic (AVSS) map when ``TavisConfig.avss_class_source`` is ``"v2t"`` or ``"mean"``.

The module depends only on torch; it imports nothing from the rest of ``tavis_hf``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["highlight_images"]


def _gaussian_kernel_1d(kernel_size: int, sigma: float, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    positions = torch.arange(kernel_size, dtype=torch.float64) - (kernel_size - 1) / 2
    kernel = torch.exp(-0.5 * (positions / sigma) ** 2)
    return (kernel / kernel.sum()).to(dtype=dtype, device=device)


def highlight_images(
    object_probs: torch.Tensor,
    frames: torch.Tensor,
    *,
    blur: str = "box",
    kernel_size: int = 75,
    sigma: float | None = None,
) -> torch.Tensor:
    r"""Build the "highlight" image of every object query: the object kept sharp, its surroundings blurred.

    For a query with mask probability $m$ and frame $I$: $H = m \cdot I + (1 - m) \cdot \mathrm{Blur}((1 - m) \cdot
    I)$. Gradients flow into `object_probs` (this is the path of the image-to-text loss into the mask decoder).

    Blurs (both keep the spatial size and treat the outside of the image as zeros, so borders darken):

    - `"box"` (released code, the default): a `kernel_size x kernel_size` average, stride 1, padding
      `kernel_size // 2`, with the zero padding counted in the average (`count_include_pad=True`).
    - `"gaussian"` (the paper's wording): a separable normalised Gaussian of the same size, zero padding. `sigma`
      defaults to the OpenCV / torchvision convention `0.3 * ((kernel_size - 1) / 2 - 1) + 0.8` (11.6 for 75).

    Args:
        object_probs (`torch.Tensor` of shape `(F, N, H, W)`):
            Per-query mask probabilities in [0, 1] (sigmoid of the object logits).
        frames (`torch.Tensor` of shape `(F, 3, H, W)`):
            The un-normalised frames in [0, 1].
        blur (`str`, *optional*, defaults to `"box"`):
            `"box"` or `"gaussian"`.
        kernel_size (`int`, *optional*, defaults to 75):
            Odd blur window size in pixels.
        sigma (`float`, *optional*):
            Gaussian standard deviation in pixels (only for `blur="gaussian"`).

    Returns:
        `torch.Tensor` of shape `(F, N, 3, H, W)`: the highlight images, in [0, 1].
    """
    if object_probs.ndim != 4:
        raise ValueError(f"`object_probs` must have shape (F, N, H, W), got {tuple(object_probs.shape)}.")
    if frames.ndim != 4 or frames.shape[1] != 3:
        raise ValueError(f"`frames` must have shape (F, 3, H, W), got {tuple(frames.shape)}.")
    if frames.shape[0] != object_probs.shape[0] or frames.shape[-2:] != object_probs.shape[-2:]:
        raise ValueError(
            f"`frames` {tuple(frames.shape)} and `object_probs` {tuple(object_probs.shape)} disagree on the number "
            "of frames or the spatial size."
        )
    if kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(f"`kernel_size` must be a positive odd integer, got {kernel_size}.")
    if blur not in ("box", "gaussian"):
        raise ValueError(f"`blur` must be 'box' or 'gaussian', got {blur!r}.")
    if blur == "box" and sigma is not None:
        raise ValueError("`sigma` only applies to blur='gaussian'.")

    mask = object_probs.unsqueeze(2)  # (F, N, 1, H, W)
    image = frames.unsqueeze(1)  # (F, 1, 3, H, W)
    background = (1 - mask) * image  # (F, N, 3, H, W)
    flat = background.flatten(0, 1)  # (F*N, 3, H, W)
    padding = kernel_size // 2
    if blur == "box":
        blurred = F.avg_pool2d(flat, kernel_size, stride=1, padding=padding, count_include_pad=True)
    else:
        if sigma is None:
            sigma = 0.3 * ((kernel_size - 1) * 0.5 - 1) + 0.8
        if sigma <= 0:
            raise ValueError(f"`sigma` must be positive, got {sigma}.")
        kernel = _gaussian_kernel_1d(kernel_size, sigma, flat.dtype, flat.device)
        channels = flat.shape[1]
        blurred = F.conv2d(
            flat, kernel.view(1, 1, 1, -1).expand(channels, 1, 1, -1), padding=(0, padding), groups=channels
        )
        blurred = F.conv2d(
            blurred, kernel.view(1, 1, -1, 1).expand(channels, 1, -1, 1), padding=(padding, 0), groups=channels
        )
    blurred = blurred.view_as(background)
    return mask * image + (1 - mask) * blurred
