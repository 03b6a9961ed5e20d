"""Small networks for egocentric grid observations."""

from __future__ import annotations

import gymnasium
import torch
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn


class GridCNN(BaseFeaturesExtractor):
    """Conv layers over a (C, H, W) view, then one dense layer.

    A size in the spirit of the sequential-social-dilemma agents (one or two small 3×3 conv
    layers and a small dense layer; Leibo et al. 2017, Hughes et al. 2018).
    """

    def __init__(
        self,
        observation_space: gymnasium.spaces.Box,
        channels: tuple[int, ...] = (16, 32),
        hidden_size: int = 128,
    ) -> None:
        super().__init__(observation_space, features_dim=hidden_size)
        layers: list[nn.Module] = []
        in_channels = observation_space.shape[0]
        for i, out_channels in enumerate(channels):
            stride = 2 if i > 0 else 1
            layers += [nn.Conv2d(in_channels, out_channels, 3, stride=stride), nn.ReLU()]
            in_channels = out_channels
        self.conv = nn.Sequential(*layers, nn.Flatten())
        with torch.no_grad():
            n_flat = self.conv(torch.zeros(1, *observation_space.shape)).shape[1]
        self.dense = nn.Sequential(nn.Linear(n_flat, hidden_size), nn.ReLU())

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        return self.dense(self.conv(observations))  # (N, hidden_size)
