"""An MLP denoiser for flat data (2-D toys, latent codes): (x_t (B, D), t, y) -> (B, D).

Each hidden layer adds a projection of the timestep (and class) embedding before its
activation, h <- SiLU(W h + U emb), so every layer knows the noise level; the output layer
starts at zero (the untrained denoiser outputs 0).
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from generative.models.diffusion.embedding import ConditionEmbedding

__all__ = ["MLPDenoiser"]


class MLPDenoiser(nn.Module):
    """(x_t (B, D), t (B,), y (B,) or None) -> (B, D).

    Args:
        dim: D.
        hidden: widths of the hidden layers (at least one).
        embed_dim: width of the timestep/class embedding.
        dropout: on hidden units.
        num_classes: C for class-conditional denoisers (label C is the null class).
    """

    def __init__(
        self,
        dim: int,
        hidden: tuple[int, ...] = (256, 256, 256),
        embed_dim: int = 128,
        dropout: float = 0.0,
        num_classes: int | None = None,
    ) -> None:
        super().__init__()
        if not hidden or any(h < 1 for h in hidden):
            raise ValueError(f"hidden={hidden}; need at least one width, each at least 1")
        self.embed = ConditionEmbedding(embed_dim, num_classes)
        widths = (dim, *hidden[:-1])
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths, hidden, strict=True))
        self.emb = nn.ModuleList(nn.Linear(embed_dim, h) for h in hidden)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden[-1], dim)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x: Tensor, t: Tensor, y: Tensor | None = None) -> Tensor:
        emb = F.silu(self.embed(t, y))  # (B, E)
        h = x
        for layer, proj in zip(self.layers, self.emb, strict=True):
            h = self.drop(F.silu(layer(h) + proj(emb)))  # (B, H_i)
        return self.out(h)
