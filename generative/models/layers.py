"""Small network builders shared by the autoencoder and VAE families.

`mlp` maps (B, D_in) to (B, D_out); `ConvEncoder` maps (B, C, H, W) images to (B, D_out) and
`ConvDecoder` maps (B, D_in) codes back to (B, C_out, H, W) feature maps. The convolutional
pair halves (doubles) the resolution once per entry of `channels`, so H and W must be
divisible by 2 ** len(channels); for the (1, 8, 8) digits, channels=(32, 64) goes
8x8 -> 4x4 -> 2x2 and back.
"""

from __future__ import annotations

from torch import Tensor, nn

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "elu": nn.ELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
}


def check_activation(name: str) -> None:
    """Raise a one-line ValueError unless `name` is a key of `ACTIVATIONS`."""
    if name not in ACTIVATIONS:
        raise ValueError(f"activation={name!r}; allowed: {', '.join(sorted(ACTIVATIONS))}")


def mlp(
    in_dim: int,
    hidden: tuple[int, ...],
    out_dim: int,
    activation: str = "relu",
    dropout: float = 0.0,
    bias: bool = True,
) -> nn.Sequential:
    """Linear -> activation (-> dropout) per hidden width, then a final Linear.

    With `hidden=()` this is one affine (or linear, `bias=False`) map.

    Args:
        in_dim: D_in, input features.
        hidden: widths of the hidden layers.
        out_dim: D_out, output features.
        activation: a key of `ACTIVATIONS`.
        dropout: probability of zeroing a hidden unit during training.
        bias: whether the Linear layers have biases.

    Returns:
        A module mapping (B, D_in) -> (B, D_out).
    """
    check_activation(activation)
    layers: list[nn.Module] = []
    width = in_dim
    for h in hidden:
        layers += [nn.Linear(width, h, bias=bias), ACTIVATIONS[activation]()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = h
    layers.append(nn.Linear(width, out_dim, bias=bias))
    return nn.Sequential(*layers)


def check_conv_shape(shape: tuple[int, ...], channels: tuple[int, ...]) -> None:
    """Raise a one-line ValueError unless `shape` is (C, H, W) with H, W divisible by 2^L."""
    factor = 2 ** len(channels)
    if len(shape) != 3 or shape[1] % factor or shape[2] % factor:
        raise ValueError(
            f"shape={shape}; conv networks need (C, H, W) images with H and W divisible by "
            f"2**len(channels)={factor}"
        )


class ConvEncoder(nn.Module):
    """(B, C, H, W) -> (B, D_out): stride-2 3x3 convolutions, then a Linear head.

    Each entry of `channels` is one conv (kernel 3, stride 2, padding 1) + activation, which
    halves H and W; the flattened map goes through `head` hidden widths to D_out.
    """

    def __init__(
        self,
        shape: tuple[int, ...],
        channels: tuple[int, ...],
        out_dim: int,
        head: tuple[int, ...] = (),
        activation: str = "relu",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        check_conv_shape(shape, channels)
        check_activation(activation)
        c, h, w = shape
        layers: list[nn.Module] = []
        for out_c in channels:
            layers += [nn.Conv2d(c, out_c, 3, stride=2, padding=1), ACTIVATIONS[activation]()]
            c, h, w = out_c, h // 2, w // 2
        self.features = nn.Sequential(*layers, nn.Flatten())
        if dropout > 0:
            self.features.append(nn.Dropout(dropout))
        self.head = mlp(c * h * w, head, out_dim, activation, dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x))


class ConvDecoder(nn.Module):
    """(B, D_in) -> (B, C_out, H, W): a Linear stem, then stride-2 transposed convolutions.

    Mirrors `ConvEncoder`: the code goes through `head` hidden widths to a
    (channels[-1], H / 2^L, W / 2^L) map; each transposed conv (kernel 4, stride 2,
    padding 1) doubles H and W, walking `channels` backwards; a final 3x3 conv gives C_out
    maps with no activation.
    """

    def __init__(
        self,
        in_dim: int,
        shape: tuple[int, ...],
        channels: tuple[int, ...],
        out_channels: int,
        head: tuple[int, ...] = (),
        activation: str = "relu",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        check_conv_shape(shape, channels)
        check_activation(activation)
        _, h, w = shape
        factor = 2 ** len(channels)
        self.start = (channels[-1], h // factor, w // factor)
        c = channels[-1]
        self.stem = nn.Sequential(
            mlp(in_dim, head, c * self.start[1] * self.start[2], activation, dropout),
            ACTIVATIONS[activation](),
        )
        layers: list[nn.Module] = []
        for out_c in reversed(channels):
            layers += [nn.ConvTranspose2d(c, out_c, 4, stride=2, padding=1)]
            layers += [ACTIVATIONS[activation]()]
            c = out_c
        layers.append(nn.Conv2d(c, out_channels, 3, padding=1))
        self.body = nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:
        h = self.stem(z).view(len(z), *self.start)  # (B, C_L, H / 2^L, W / 2^L)
        return self.body(h)
