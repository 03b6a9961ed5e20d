"""Seeded training episodes, so a checkpoint can rebuild the world exactly where it stood.

Training episode k starts from `reset(seed=episode_seed(seed, k))`; a learner that keeps the
actions taken so far in the current episode can rebuild the world mid-episode on resume by
resetting with that seed and replaying them (every world in `envs` is deterministic given its
seed). `agents.ppo` does this in its own loop; `RecordedEpisodes` does it for a learner that
steps the world through someone else's loop (Stable-Baselines3's).

Seeds are drawn through `np.random.SeedSequence`, so they lie in [0, 2**32) for any run seed,
episode index or step count (NumPy's legacy seeding refuses anything larger).
"""

from __future__ import annotations

import numpy as np

from envs.core import BatchedEnv, StepResult


def episode_seed(seed: int, index: int) -> int:
    """Seed of the reset that starts training episode `index` (in [0, 2**32))."""
    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0])


def stream_seed(seed: int, agent_steps: int) -> int:
    """Seed of fresh random streams for a run resumed at `agent_steps` where the stored streams
    cannot be used (a checkpoint written on another device); in [0, 2**32)."""
    return int(np.random.SeedSequence([seed, agent_steps, 1]).generate_state(1)[0])


class RecordedEpisodes(BatchedEnv):
    """`env` with every reset seeded by its episode index and the current episode's actions kept.

    `reset` starts the next episode (a `seed` passed to it is ignored: the index decides). To
    resume, `seek(k)` makes the next reset start episode k again, and the learner steps the
    episode's stored actions through its own wrappers (which then count them as before).
    """

    def __init__(self, env: BatchedEnv, seed: int) -> None:
        self.env, self.seed = env, seed
        self.batch_size, self.num_agents, self.max_steps = (
            env.batch_size,
            env.num_agents,
            env.max_steps,
        )
        self.observation_space, self.action_space = env.observation_space, env.action_space
        self.event_names = env.event_names
        self.index = -1
        """The current episode (-1 before the first reset)."""
        self.t = 0
        """Steps taken in the current episode."""
        action_shape = env.action_space.shape or ()
        self.actions = np.zeros(
            (env.max_steps, env.batch_size, env.num_agents, *action_shape),
            dtype=env.action_space.dtype,
        )
        """(max_steps, B, A, ...) what the world received in the current episode (first `t`)."""

    def reset(self, seed: int | None = None) -> np.ndarray:
        """Start the next episode from its own seed; obs (B, A, *obs_shape)."""
        self.index += 1
        self.t = 0
        return self.env.reset(seed=episode_seed(self.seed, self.index))

    def step(self, actions: np.ndarray) -> StepResult:
        """Advance every copy with actions (B, A, ...), keeping them for a replay."""
        self.actions[self.t] = actions
        self.t += 1
        return self.env.step(actions)

    def render(self, index: int = 0) -> np.ndarray:
        return self.env.render(index)

    def seek(self, index: int) -> None:
        """Make the next `reset` start episode `index`."""
        self.index = index - 1

    def episode_actions(self) -> np.ndarray:
        """(t, B, A, ...) a copy of the actions taken so far in the current episode."""
        return self.actions[: self.t].copy()
