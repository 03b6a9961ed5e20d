"""What a trainer tells the run while it learns.

The runner (progress bar, evaluation, checkpoints, logs) implements `TrainHooks`; trainers call
it and know nothing of run directories.
"""

from __future__ import annotations

from typing import Protocol


class TrainHooks(Protocol):
    def on_step(self, agent_steps: int, mean_return: float | None) -> bool:
        """After every batched environment step. Return False to stop training."""
        ...

    def on_update(self, agent_steps: int, stats: dict[str, float]) -> None:
        """After every policy update, when the learner's state is consistent (safe to save or
        evaluate). To stop, make the next `on_step` return False."""
        ...
