"""Timestep (and class) embeddings shared by the diffusion denoisers.

The timestep enters as the sinusoidal position encoding of Vaswani et al. 2017 (sec. 3.5), as
in Ho et al. 2020 (appendix B), followed by a two-layer MLP; a class label adds a learned
vector (Ho & Salimans 2022). Label `num_classes` is the null class of classifier-free
guidance: the unconditional model.

References:
    Vaswani et al. 2017, "Attention is all you need", arXiv:1706.03762.
    Ho, Jain & Abbeel 2020, "Denoising diffusion probabilistic models", arXiv:2006.11239.
    Ho & Salimans 2022, "Classifier-free diffusion guidance", arXiv:2207.12598.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

__all__ = ["ConditionEmbedding", "timestep_embedding"]


def timestep_embedding(t: Tensor, dim: int, max_period: float = 10000.0) -> Tensor:
    """Sinusoidal encoding of integer timesteps.

    e(t)_i = sin(t w_i), e(t)_{i + dim/2} = cos(t w_i),  w_i = max_period^(-i / (dim/2)).

    Args:
        t: (B,) timesteps (any numeric dtype).
        dim: even embedding width.
    Returns:
        (B, dim) float32, whatever autocast is doing.
    """
    half = dim // 2
    freqs = torch.exp(
        -math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half
    )  # (dim/2,)
    args = t.float()[:, None] * freqs[None, :]  # (B, dim/2)
    return torch.cat([torch.sin(args), torch.cos(args)], dim=1)


class ConditionEmbedding(nn.Module):
    """(t (B,), y (B,) or None) -> (B, dim): MLP(sinusoid(t)) + class_table[y].

    Args:
        dim: embedding width (even).
        num_classes: C for class-conditional denoisers (the table has C + 1 rows, row C the
            null class); None for unconditional ones, which reject labels.
    """

    def __init__(self, dim: int, num_classes: int | None = None) -> None:
        super().__init__()
        if dim < 2 or dim % 2:
            raise ValueError(f"embed_dim={dim}; must be a positive even number")
        self.dim, self.num_classes = dim, num_classes
        self.time = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim))
        self.classes = nn.Embedding(num_classes + 1, dim) if num_classes else None

    def forward(self, t: Tensor, y: Tensor | None = None) -> Tensor:
        emb = self.time(timestep_embedding(t, self.dim))
        if self.classes is not None:
            if y is None:
                y = torch.full_like(t, self.num_classes)  # the null class
            emb = emb + self.classes(y)
        elif y is not None:
            raise ValueError("this denoiser is unconditional; labels must be None")
        return emb
