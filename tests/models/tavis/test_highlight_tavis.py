"""Tests of the highlight images (`tavis_hf.models.tavis.highlight_tavis`)."""

import pytest
import torch

from tavis_hf.models.tavis.highlight_tavis import highlight_images


def _box_blur_loop(image: torch.Tensor, kernel_size: int) -> torch.Tensor:
    """Direct float64 box blur with zero padding counted in the average."""
    channels, height, width = image.shape
    radius = kernel_size // 2
    out = torch.zeros(channels, height, width, dtype=torch.float64)
    for y in range(height):
        for x in range(width):
            window = image[:, max(0, y - radius) : y + radius + 1, max(0, x - radius) : x + radius + 1]
            out[:, y, x] = window.double().sum(dim=(1, 2)) / kernel_size**2
    return out


def test_box_highlight_matches_direct_loop():
    torch.manual_seed(0)
    probs = torch.rand(2, 3, 9, 11, dtype=torch.float64)
    frames = torch.rand(2, 3, 9, 11, dtype=torch.float64)
    out = highlight_images(probs, frames, blur="box", kernel_size=5)
    assert out.shape == (2, 3, 3, 9, 11)
    for f in range(2):
        for n in range(3):
            m = probs[f, n]
            expected = m * frames[f] + (1 - m) * _box_blur_loop((1 - m) * frames[f], 5)
            # float64 sums of 25 values in [0, 1] in two orders: <= 25 * 2.2e-16 = 6e-15 apart
            torch.testing.assert_close(out[f, n], expected, rtol=0, atol=1e-12)


def test_box_highlight_with_kernel_larger_than_image_darkens_borders():
    # 75x75 window on a 9x9 image: every output pixel averages the whole image with the zero padding counted.
    frames = torch.ones(1, 3, 9, 9, dtype=torch.float64)
    probs = torch.zeros(1, 1, 9, 9, dtype=torch.float64)
    out = highlight_images(probs, frames)
    torch.testing.assert_close(out, torch.full_like(out, 81 / 75**2))


def test_gaussian_highlight():
    torch.manual_seed(0)
    probs = torch.rand(1, 2, 8, 8, dtype=torch.float64)
    frames = torch.rand(1, 3, 8, 8, dtype=torch.float64)
    # a vanishing sigma makes the blur the identity: H = m I + (1 - m)^2 I
    sharp = highlight_images(probs, frames, blur="gaussian", kernel_size=5, sigma=1e-3)
    m = probs.unsqueeze(2)
    torch.testing.assert_close(sharp, m * frames.unsqueeze(1) + (1 - m) ** 2 * frames.unsqueeze(1))
    # a normalised kernel keeps a constant image constant away from the borders
    flat = highlight_images(torch.zeros(1, 1, 15, 15), torch.full((1, 3, 15, 15), 0.5), blur="gaussian", kernel_size=5)
    torch.testing.assert_close(flat[..., 2:-2, 2:-2], torch.full_like(flat[..., 2:-2, 2:-2], 0.5))
    assert (flat[..., 0, 0] < 0.5).all()  # zero padding darkens the corners
    default = highlight_images(probs, frames, blur="gaussian", kernel_size=5)
    explicit = highlight_images(probs, frames, blur="gaussian", kernel_size=5, sigma=0.3 * (2 - 1) + 0.8)
    torch.testing.assert_close(default, explicit)


def test_highlight_gradients_reach_object_probs():
    torch.manual_seed(0)
    probs = torch.rand(2, 5, 16, 16, requires_grad=True)
    frames = torch.rand(2, 3, 16, 16)
    for blur in ("box", "gaussian"):
        probs.grad = None
        highlight_images(probs, frames, blur=blur, kernel_size=7).square().sum().backward()
        assert probs.grad is not None and probs.grad.abs().gt(0).float().mean() > 0.99


def test_highlight_rejects_bad_input():
    probs, frames = torch.rand(1, 2, 8, 8), torch.rand(1, 3, 8, 8)
    with pytest.raises(ValueError, match="odd"):
        highlight_images(probs, frames, kernel_size=4)
    with pytest.raises(ValueError, match="blur"):
        highlight_images(probs, frames, blur="median")
    with pytest.raises(ValueError, match="sigma"):
        highlight_images(probs, frames, sigma=2.0)
    with pytest.raises(ValueError, match="disagree"):
        highlight_images(probs, torch.rand(1, 3, 8, 9))
