"""The contract between the run (`emergent`) and every learner: `TrainHooks`, `Trainer`, `Policy`.

The runner (progress bar, evaluation, checkpoints, logs) implements `TrainHooks`; trainers call
it and know nothing of run directories. `agents.make` returns a `Trainer`; its `policy` and
the value `train` returns are `Policy`s. The runner relies on these methods only, never on
`hasattr`. Every learner in `agents.LEARNERS` satisfies them (tests/agents/test_learners.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol, Self, runtime_checkable

if TYPE_CHECKING:
    import numpy as np

    from envs.core import BatchedEnv


class TrainHooks(Protocol):
    """What a trainer tells the run while it learns."""

    def on_step(self, agent_steps: int, mean_return: float | None) -> bool:
        """After every batched environment step. Return False to stop training."""
        ...

    def on_update(self, agent_steps: int, stats: dict[str, float]) -> None:
        """After every policy update, when the learner's state is consistent (safe to save or
        evaluate). To stop, make the next `on_step` return False."""
        ...


@runtime_checkable
class Policy(Protocol):
    """A trained policy: observations of agents in, actions out."""

    def act(
        self, obs: np.ndarray, rng: np.random.Generator | None = None, deterministic: bool = False
    ) -> np.ndarray:
        """Actions (N,) int or (N, D) float for observations (N, *obs_shape), N = B·A rows
        ordered copy-major; sampled with `rng` unless `deterministic`."""
        ...

    def action_probabilities(self, obs: np.ndarray) -> np.ndarray:
        """The policy's action distribution (N, n) float64, rows summing to 1, for
        observations (N, *obs_shape) ordered as in `act`, over a Discrete(n) action space;
        what interventional measures such as causal influence of communication read.

        Raises:
            ValueError: the actions are not Discrete, or the policy cannot give its
                distribution from the observations alone (a recurrent policy).
        """
        ...

    def save(self, path: str | Path) -> None:
        """Write the policy (weights and what rebuilds the network) to one file, atomically."""
        ...

    @classmethod
    def load(cls, path: str | Path, device: str = "auto") -> Self:
        """Rebuild a policy written by `save` (weights only, no pickled code)."""
        ...


@runtime_checkable
class Trainer(Protocol):
    """A learner: `train` on a batched world, checkpoint and resume, `close`.

    `isinstance(x, Trainer)` checks the names only, and on Python 3.11 evaluates `policy`, which
    exists once `train` has run; tests/agents/test_learners.py checks the signatures too.
    """

    @property
    def agent_steps(self) -> int:
        """Agent-steps trained so far (counting any restored from a checkpoint)."""
        ...

    @property
    def policy(self) -> Policy:
        """The current policy (after `train` has built the learner)."""
        ...

    def train(self, env: BatchedEnv, steps: int, hooks: TrainHooks) -> Policy:
        """Train until `steps` agent-steps in all, or until a hook stops it; the policy.

        Raises:
            generative.train.NonFiniteLoss: a loss became NaN or infinite (one line naming
                the agent-step and the update).
            ValueError: a checkpoint loaded without `env` belongs to another world.
        """
        ...

    def save_checkpoint(self, path: str | Path) -> None:
        """Write everything a resume needs to one file, atomically."""
        ...

    def load_checkpoint(self, path: str | Path, env: BatchedEnv | None = None) -> int:
        """Read a checkpoint written by `save_checkpoint` (applied when `train` gets the world,
        or at once); return its agent-step count. Everything is checked before any tensor is
        copied: the entries and their shapes, the options and, against `env` when given (else
        against the world `train` gets), the world's name, settings, spaces and copies.

        Raises:
            generative.checkpoint.CheckpointError: a missing, corrupt or damaged file.
            ValueError: a checkpoint of another learner, other options or another world.
        """
        ...

    def close(self) -> None:
        """Release what the trainer holds (processes, actors); a no-op where it holds nothing.
        Called once by the runner after training, whatever happened."""
        ...
