"""The GAN players as MLPs over flattened data, and PacGAN's packing.

`Generator` maps noise z (B, d_z) to flat samples (B, D) through `depth` hidden layers
(Linear -> optional BatchNorm -> ReLU), as in PacGAN's synthetic-data generator; its head is
linear for real-valued data and a sigmoid for data in [0, 1] (digits: levels / K).
`Discriminator` maps m packed flat samples (B, m D) to one logit (or critic value) per pack
through `depth` hidden layers (Linear -> LeakyReLU(0.2)); with `spectral=True` every Linear
is spectrally normalised (Miyato et al. 2018), so each has largest singular value about 1.
Images such as the (1, 8, 8) digits are flattened by the model, not here.
"""

from __future__ import annotations

from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm


class Generator(nn.Module):
    """G: (B, d_z) -> (B, D).

    Args:
        latent_dim: d_z, noise dimensions.
        hidden: width of each hidden layer.
        depth: number of hidden layers.
        out_dim: D, flat data dimensions.
        batch_norm: BatchNorm1d before each hidden ReLU (PacGAN's setting).
        unit_interval: end with a sigmoid, for data stored in [0, 1].
    """

    def __init__(
        self,
        latent_dim: int,
        hidden: int,
        depth: int,
        out_dim: int,
        batch_norm: bool = True,
        unit_interval: bool = False,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = latent_dim
        for _ in range(depth):
            layers.append(nn.Linear(width, hidden, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm1d(hidden))
            layers.append(nn.ReLU())
            width = hidden
        layers.append(nn.Linear(width, out_dim))
        if unit_interval:
            layers.append(nn.Sigmoid())
        self.net = nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


class Discriminator(nn.Module):
    """D: (B, m D) -> (B,) logits (or critic values for WGAN-GP).

    Args:
        in_dim: m D, the features of one pack of m flat samples.
        hidden: width of each hidden layer.
        depth: number of hidden layers.
        spectral: spectrally normalise every Linear layer (power iteration, one step per
            forward pass in training mode).
    """

    def __init__(self, in_dim: int, hidden: int, depth: int, spectral: bool = False) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = in_dim
        for _ in range(depth):
            layers += [_linear(width, hidden, spectral), nn.LeakyReLU(0.2)]
            width = hidden
        layers.append(_linear(width, 1, spectral))
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).squeeze(-1)


def _linear(in_dim: int, out_dim: int, spectral: bool) -> nn.Module:
    layer = nn.Linear(in_dim, out_dim)
    return spectral_norm(layer) if spectral else layer


def pack(x: Tensor, m: int) -> Tensor:
    """Concatenate m consecutive samples into one discriminator input (Lin et al. 2018).

    Rows beyond the last full pack are dropped.

    Args:
        x: (B, D) flat samples, B >= m.
        m: the packing degree.
    Returns:
        (B // m, m D): row i is [x_{im}, x_{im+1}, ..., x_{im+m-1}].
    """
    groups = len(x) // m
    return x[: groups * m].reshape(groups, m * x.shape[1])
