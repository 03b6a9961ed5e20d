"""Stopping a learner whose loss is no longer finite, in one line that says where.

Every learner raises `generative.train.NonFiniteLoss`, the exception `generative.train.fit`
raises for the generative models, so a run reports both the same way.
"""

from __future__ import annotations

from generative.train import NonFiniteLoss


def nonfinite(
    learner: str, what: str, value: float, agent_steps: int, update: int, rate: str
) -> NonFiniteLoss:
    """The error for `what` ("the loss", "the gradient") having become `value` (nan, inf).

    Args:
        learner: the learner kind, which starts the message.
        agent_steps: the agent-steps collected when it happened.
        update: the policy update it happened in (the first is 1).
        rate: the name of the learner's learning-rate option.
    """
    return NonFiniteLoss(
        f"{learner}: {what} became {value} at agent-step {agent_steps:,} (update {update}); "
        f"lower agent.{rate} or check the rewards"
    )


__all__ = ["NonFiniteLoss", "nonfinite"]
