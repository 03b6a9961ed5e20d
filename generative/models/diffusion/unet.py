"""A small U-Net denoiser for (C, H, W) images, after Ho et al. 2020 (appendix B).

Residual blocks (GroupNorm, SiLU, 3x3 convolutions) with the timestep (and class) embedding
added between the two convolutions; one stride-2 downsampling per level but the last;
a middle of residual block, self-attention, residual block at the lowest resolution; and a
mirrored up path whose blocks take the down path's feature maps concatenated. The output
convolution and each block's second convolution start at zero, so the untrained network
outputs 0 and every block starts as the identity.

For the (1, 8, 8) digits, channels=(32, 64): 8x8x32 -> 4x4x64 (with attention over the 16
positions) -> 8x8x32 -> 8x8x1, about 0.4 M parameters.

References:
    Ronneberger, Fischer & Brox 2015, "U-Net", arXiv:1505.04597.
    Ho, Jain & Abbeel 2020, "Denoising diffusion probabilistic models", arXiv:2006.11239.
    Wu & He 2018, "Group normalization", arXiv:1803.08494.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from generative.models.diffusion.embedding import ConditionEmbedding

__all__ = ["UNet", "check_unet_shape"]


def check_unet_shape(shape: tuple[int, ...], channels: tuple[int, ...]) -> None:
    """Raise a one-line ValueError unless `shape` is (C, H, W) with H, W divisible by 2^(L-1)."""
    factor = 2 ** (len(channels) - 1)
    if len(shape) != 3 or shape[1] % factor or shape[2] % factor:
        raise ValueError(
            f"shape={shape}; the U-Net needs (C, H, W) images with H and W divisible by "
            f"2**(len(channels) - 1)={factor}"
        )


def _norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(math.gcd(8, channels), channels)


def _zero(module: nn.Module) -> nn.Module:
    for p in module.parameters():
        nn.init.zeros_(p)
    return module


class ResBlock(nn.Module):
    """x + conv(SiLU(norm(conv(SiLU(norm(x))) + W emb))), with a 1x1 skip when widths differ."""

    def __init__(self, c_in: int, c_out: int, embed_dim: int, dropout: float) -> None:
        super().__init__()
        self.norm1, self.conv1 = _norm(c_in), nn.Conv2d(c_in, c_out, 3, padding=1)
        self.emb = nn.Linear(embed_dim, c_out)
        self.norm2, self.drop = _norm(c_out), nn.Dropout(dropout)
        self.conv2 = _zero(nn.Conv2d(c_out, c_out, 3, padding=1))
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: Tensor, emb: Tensor) -> Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.emb(F.silu(emb))[:, :, None, None]
        h = self.conv2(self.drop(F.silu(self.norm2(h))))
        return self.skip(x) + h


class SelfAttention(nn.Module):
    """Single-head self-attention over the H W positions, residual (Ho et al. appendix B)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm = _norm(channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.proj = _zero(nn.Conv2d(channels, channels, 1))

    def forward(self, x: Tensor) -> Tensor:
        b, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(b, 3, c, h * w).transpose(2, 3).unbind(1)
        out = F.scaled_dot_product_attention(q, k, v)  # (B, HW, C)
        return x + self.proj(out.transpose(1, 2).reshape(b, c, h, w))


class UNet(nn.Module):
    """(x_t (B, C, H, W), t (B,), y (B,) or None) -> (B, C_out, H, W).

    Args:
        shape: (C, H, W) of one image.
        channels: width of each resolution level, highest resolution first.
        blocks: residual blocks per level on the way down (and up).
        attention: self-attention in the middle block.
        embed_dim: width of the timestep/class embedding.
        dropout: inside the residual blocks.
        num_classes: C for class-conditional denoisers (label C is the null class).
        out_channels: C_out, channels of the output; None for C = shape[0]. A conditional
            denoiser can read context stacked on the channels and output fewer (DIAMOND's
            k past frames + the noisy next frame in, one frame out).
    """

    def __init__(
        self,
        shape: tuple[int, ...],
        channels: tuple[int, ...] = (32, 64),
        blocks: int = 1,
        attention: bool = True,
        embed_dim: int = 128,
        dropout: float = 0.0,
        num_classes: int | None = None,
        out_channels: int | None = None,
    ) -> None:
        super().__init__()
        check_unet_shape(shape, channels)
        self.embed = ConditionEmbedding(embed_dim, num_classes)
        self.conv_in = nn.Conv2d(shape[0], channels[0], 3, padding=1)
        self.down = nn.ModuleList()
        self.downsample = nn.ModuleList()
        width = channels[0]
        for i, c in enumerate(channels):
            level = [ResBlock(width if j == 0 else c, c, embed_dim, dropout) for j in range(blocks)]
            self.down.append(nn.ModuleList(level))
            width = c
            last = i + 1 == len(channels)
            self.downsample.append(nn.Identity() if last else nn.Conv2d(c, c, 3, 2, padding=1))
        self.mid1 = ResBlock(width, width, embed_dim, dropout)
        self.attn = SelfAttention(width) if attention else nn.Identity()
        self.mid2 = ResBlock(width, width, embed_dim, dropout)
        self.up = nn.ModuleList()
        self.upsample = nn.ModuleList()
        for i, c in reversed(list(enumerate(channels))):
            deepest = i + 1 == len(channels)
            self.upsample.append(
                nn.Identity() if deepest else nn.Conv2d(width, width, 3, padding=1)
            )
            level = [
                ResBlock(width + c if j == 0 else c, c, embed_dim, dropout) for j in range(blocks)
            ]
            self.up.append(nn.ModuleList(level))
            width = c
        self.norm_out = _norm(width)
        out = shape[0] if out_channels is None else out_channels
        self.conv_out = _zero(nn.Conv2d(width, out, 3, padding=1))

    def forward(self, x: Tensor, t: Tensor, y: Tensor | None = None) -> Tensor:
        emb = self.embed(t, y)  # (B, E)
        h = self.conv_in(x)  # (B, c_0, H, W)
        skips = []
        for level, down in zip(self.down, self.downsample, strict=True):
            for block in level:
                h = block(h, emb)
            skips.append(h)
            h = down(h)
        h = self.mid2(self.attn(self.mid1(h, emb)), emb)
        for level, up in zip(self.up, self.upsample, strict=True):
            if not isinstance(up, nn.Identity):  # nearest-neighbour x2, then a 3x3 conv
                h = up(F.interpolate(h, scale_factor=2.0, mode="nearest"))
            h = torch.cat([h, skips.pop()], dim=1)
            for block in level:
                h = block(h, emb)
        return self.conv_out(F.silu(self.norm_out(h)))
