"""An env-to-module connector for `agents.rllib_ppo`: uint8 images scaled to [0, 1].

RLlib's CNN encoder only casts observations to float, so grid-world frames would reach the
first conv layer as 0..255; dividing by 255 is what SB3 and `agents.ppo` do. The scaled
observations are written back into the episodes, so the learner trains on what the env
runners acted on. `agents.rllib_policy` applies the same scaling at evaluation.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from ray.rllib.connectors.env_to_module.observation_preprocessor import (
    SingleAgentObservationPreprocessor,
)


def _scaled(space: gymnasium.spaces.Space) -> gymnasium.spaces.Space:
    if isinstance(space, gymnasium.spaces.Box) and space.dtype == np.uint8:
        return gymnasium.spaces.Box(0.0, 1.0, space.shape, np.float32)
    return space


class ScaleImages(SingleAgentObservationPreprocessor):
    """Each agent's uint8 observation x becomes x / 255 as float32; others pass unchanged."""

    def recompute_output_observation_space(
        self, input_observation_space: gymnasium.spaces.Space, input_action_space: Any
    ) -> gymnasium.spaces.Space:
        if isinstance(input_observation_space, gymnasium.spaces.Dict):  # one space per agent
            return gymnasium.spaces.Dict(
                {k: _scaled(s) for k, s in input_observation_space.spaces.items()}
            )
        return _scaled(input_observation_space)

    def preprocess(self, observation: np.ndarray, episode: Any) -> np.ndarray:
        if observation.dtype == np.uint8:
            return observation.astype(np.float32) / 255.0
        return observation


def scale_images(env: Any = None, spaces: Any = None, device: Any = None) -> ScaleImages:
    """The `env_to_module_connector` factory RLlib's config expects."""
    return ScaleImages()
