"""Settings of the talking agents (`TalkConfig`): their transformers and how the channel trains."""

from __future__ import annotations

from dataclasses import dataclass

from generative.config_checks import check_float, check_int

CHANNEL_TRAINING = ("gumbel", "ppo")


@dataclass(frozen=True)
class TalkConfig:
    """The speaker's and the listener's transformers (alike) and the training of the channel."""

    n_layer: int = 2
    """Transformer blocks of the speaker and of the listener; 1 to 16."""
    n_head: int = 4
    """Attention heads per block; 1 to 64, dividing n_embd."""
    n_embd: int = 64
    """Width D of the speaker's residual stream, and of the listener's token embedding; 8 to
    1,024."""
    listener_hidden: int = 128
    """The listener's GRU state and object embedding size; 8 to 4,096."""
    training: str = "gumbel"
    """How the channel learns: "gumbel" end to end through a Gumbel-softmax straight-through
    channel (the listener's cross-entropy reaches the speaker's logits), or "ppo" with every
    token and the listener's pick as actions of a clipped policy-gradient objective."""
    temperature: float = 1.0
    """Gumbel-softmax temperature tau of the speaker's relaxed tokens; (0, 10]."""
    entropy_coef: float = 0.01
    """PPO: weight of the speaker's and listener's entropy bonus; 0 to 1."""
    clip: float = 0.2
    """PPO: clipping range of the probability ratios; (0, 1)."""
    ppo_epochs: int = 4
    """PPO: passes over each rollout of games; 1 to 64."""
    minibatches: int = 4
    """PPO: minibatches per pass (a rollout is one training batch of games); 1 to 64."""
    influence_coef: float = 0.0
    """PPO: weight of the speaker's social-influence intrinsic reward (Jaques et al. 2019), in
    nats: KL(p(pick | the message said) || p(pick) averaged over the messages the speaker says
    for each of the K candidates, each with p = 1/K: the listener's view of what it could have
    heard); 0 (off) to 100."""
    kl_beta: float = 0.0
    """Weight beta of KL(speaker || prior language model) per token (grounded speech); 0 to
    1,000. Needs a prior (`SignallingGame(prior=...)`)."""

    def __post_init__(self) -> None:
        check_int("n_layer", self.n_layer, 1, 16)
        check_int("n_head", self.n_head, 1, 64)
        check_int("n_embd", self.n_embd, 8, 1_024)
        check_int("listener_hidden", self.listener_hidden, 8, 4_096)
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd={self.n_embd}; must be divisible by n_head={self.n_head}")
        if self.training not in CHANNEL_TRAINING:
            raise ValueError(
                f"training={self.training!r}; must be one of {', '.join(CHANNEL_TRAINING)}"
            )
        check_float("temperature", self.temperature, 0.0, 10.0, open_low=True)
        check_float("entropy_coef", self.entropy_coef, 0.0, 1.0)
        check_float("clip", self.clip, 0.0, 1.0, open_low=True, open_high=True)
        check_int("ppo_epochs", self.ppo_epochs, 1, 64)
        check_int("minibatches", self.minibatches, 1, 64)
        check_float("kl_beta", self.kl_beta, 0.0, 1_000.0)
        check_float("influence_coef", self.influence_coef, 0.0, 100.0)

    @property
    def ppo_cycle(self) -> int:
        """Training steps per PPO rollout: ppo_epochs x minibatches."""
        return self.ppo_epochs * self.minibatches
