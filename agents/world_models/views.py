"""Agents' views as images for convolutional networks, and back.

The worlds observe (H, W, C) uint8 windows with odd sides (15 x 15 in Commons, 11 x 11 in
Wolfpack: the agent sits in the middle); strided convolutions want sides divisible by 2^L. A
view becomes a (C, H', W') float image in [0, 1], zero-padded at the bottom and right to the
next multiple, and a decoded image is cropped back.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

__all__ = ["from_images", "padded_shape", "to_images"]


def padded_shape(view_shape: tuple[int, int, int], multiple: int) -> tuple[int, int, int]:
    """(C, H', W') of the image of an (H, W, C) view, sides rounded up to `multiple`."""
    h, w, c = view_shape
    return (c, -(-h // multiple) * multiple, -(-w // multiple) * multiple)


def to_images(views: Tensor, multiple: int) -> Tensor:
    """Views (n, H, W, C) float -> images (n, C, H', W') zero-padded to `multiple`."""
    _, h, w, _ = views.shape
    _, hp, wp = padded_shape(tuple(views.shape[1:]), multiple)
    return F.pad(views.permute(0, 3, 1, 2), (0, wp - w, 0, hp - h))


def from_images(images: Tensor, view_shape: tuple[int, int, int]) -> Tensor:
    """Images (n, C, H', W') -> views (n, H, W, C), cropped to `view_shape`."""
    h, w, _ = view_shape
    return images[:, :, :h, :w].permute(0, 2, 3, 1)
