"""`SignallingGame`: a speaker and a listener trained on the Signalling world's games.

The world's batched core draws the games (`games`: K candidate objects and the target's
position, from the training split); the pair is one model with the generative library's
`loss(batch)` interface, so `generative.train.fit` trains it (optimiser, seeds, checkpoints,
resume, logs). The channel learns by `TalkConfig.training`:

- "gumbel": loss = CE(listener's logits, target), the speaker's tokens straight-through
  Gumbel-softmax one-hots, so the gradient flows from the listener into the speaker (EGG's
  `GumbelSoftmaxWrapper` + `RnnSenderGS`, here with transformer blocks).
- "ppo": every token the speaker chooses and the listener's pick are actions; the reward is
  the world's (success_reward when the pick is the target, else failure_reward), given at the
  end, so with gamma = lambda = 1 each action's advantage is R - V(state) (CleanRL's GAE at
  lambda = 1), normalised over the rollout. Each rollout of `batch_size` games is sampled with
  the current policy at the first step of a cycle of ppo_epochs x minibatches training steps
  and then optimised with the clipped surrogate (Schulman et al. 2017): per action
  -min(r A, clip(r, 1 - eps, 1 + eps) A), r = pi(a | s) / pi_old(a | s), plus 0.5 (V - R)^2 and
  minus entropy_coef x entropy. Checkpoints at multiples of the cycle resume exactly. With
  influence_coef > 0 the speaker's return adds that weight times its social influence on the
  listener's pick (Jaques et al. 2019; `SignallingGame.influence`), an intrinsic reward.

With a prior language model and kl_beta > 0 the loss adds beta x sum over chosen positions of
KL(pi_speaker(. | prefix, meaning) || p_LM(. | prefix)), the LM reading the start token and the
message so far (Lazaridou et al. 2020's "reward shaping" toward a pretrained LM; Lee et al.
2019), and every step logs the messages' perplexity under the prior.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from agents.talking.config import TalkConfig
from agents.talking.listener import Listener
from agents.talking.speaker import Speaker, Utterance
from envs.messages import EOS
from envs.signalling import rules as signalling
from envs.signalling.config import SignallingConfig
from generative.base import GenerativeModel
from generative.data import DataInfo
from generative.models.transformer import Transformer


def games(world: SignallingConfig, n: int, seed: int) -> Tensor:
    """(n, K * n_attributes + 1) int64 games drawn by the world's reset with generator `seed`:
    each row is the K candidates' attribute values, candidate after candidate, then the
    target's position."""
    state = signalling.reset(world, n, np.random.default_rng(seed))
    flat = state.candidates[:, 0].reshape(n, -1)  # (n, K * n_attributes), pair 0
    return torch.from_numpy(np.concatenate([flat, state.target[:, :1]], 1).astype(np.int64))


class Rollout(NamedTuple):
    """One PPO rollout of games, sampled with no gradient."""

    meanings: Tensor  # (R, meaning_size)
    candidates: Tensor  # (R, K, object_size)
    tokens: Tensor  # (R, L)
    acts: Tensor  # (R, L) bool
    speaker_logp: Tensor  # (R, L)
    speaker_adv: Tensor  # (R, L)
    choice: Tensor  # (R,)
    listener_logp: Tensor  # (R,)
    listener_adv: Tensor  # (R,)
    returns: Tensor  # (R,) the world's reward
    speaker_returns: Tensor  # (R,) plus influence_coef x the social influence
    influence: Tensor  # (R,) the speaker's social influence on the listener's pick, nats
    order: Tensor  # (epochs, R) a permutation per pass


class SignallingGame(GenerativeModel):
    """A speaker and a listener for one Signalling world (its sizes, vocabulary and end token).

    Args:
        world: the world's settings (objects, K, L, V, end token, rewards).
        cfg: the agents' settings.
        prior: a language model over the world's vocabulary: the KL term's reference, and,
            with `speaker_from_prior`, the speaker's initial weights. Frozen.
    """

    def __init__(
        self,
        world: SignallingConfig,
        cfg: TalkConfig,
        prior: Transformer | None = None,
        speaker_from_prior: bool = False,
    ) -> None:
        K, n_attr = world.num_candidates, world.n_attributes
        info = DataInfo(
            "signalling_games", (K * n_attr + 1,), "tokens", num_categories=max(world.n_values, K)
        )
        super().__init__(info)
        if cfg.kl_beta > 0 and prior is None:
            raise ValueError(f"kl_beta={cfg.kl_beta:g} needs a prior language model")
        if prior is not None and prior.vocab_size != world.vocab_size:
            raise ValueError(
                f"vocab_size={world.vocab_size}; the prior language model's vocabulary has "
                f"{prior.vocab_size} tokens"
            )
        self.world, self.cfg = world, cfg
        L, V, size = world.message_length, world.vocab_size, world.object_size
        if speaker_from_prior:
            if prior is None:
                raise ValueError("speaker_from_prior needs a prior language model")
            self.speaker = Speaker.from_language_model(prior, size, L, world.end_token)
        else:
            self.speaker = Speaker(size, V, L, cfg, world.end_token)
        self.listener = Listener(size, V, L, cfg)
        self.prior = prior.freeze().eval() if prior is not None else None
        self._rollout: Rollout | None = None

    # -- what the agents see -------------------------------------------------------------
    def decode(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """Games (B, K * n_attributes + 1) -> the target's code (B, object_size), the
        candidates' codes (B, K, object_size), the target's position (B,) and the candidates'
        attribute values (B, K, n_attributes)."""
        w = self.world
        values = x[:, :-1].reshape(len(x), w.num_candidates, w.n_attributes)
        target = x[:, -1]
        codes = F.one_hot(values, w.n_values).float().flatten(2)  # (B, K, object_size)
        return codes[torch.arange(len(x)), target], codes, target, values

    def codes(self, objects: Tensor) -> Tensor:
        """One-hot codes (N, object_size) of attribute values (N, n_attributes)."""
        return F.one_hot(objects, self.world.n_values).float().flatten(1)

    def rewards(self, choice: Tensor, target: Tensor) -> Tensor:
        """(B,) the world's reward of a pick."""
        w = self.world
        hit = (choice == target).float()
        return hit * w.success_reward + (1 - hit) * w.failure_reward

    # -- training ------------------------------------------------------------------------
    def loss(
        self, x: Tensor, y: Tensor | None = None, group: str = "model", *, step: int | None = None
    ) -> dict[str, Tensor]:
        if self.cfg.training == "gumbel":
            return self._gumbel_loss(x)
        return self._ppo_loss(x, step)

    def _gumbel_loss(self, x: Tensor) -> dict[str, Tensor]:
        meaning, cands, target, _ = self.decode(x)
        utt = self.speaker(meaning, "gumbel", self.cfg.temperature)
        logits, _ = self.listener(utt.onehot, cands)
        ce = F.cross_entropy(logits, target)
        out = {
            "loss": ce,
            "ce": ce.detach(),
            "accuracy": (logits.argmax(-1) == target).float().mean(),
        }
        return self._with_prior(out, meaning, utt)

    def _ppo_loss(self, x: Tensor, step: int | None) -> dict[str, Tensor]:
        cfg = self.cfg
        k = 0 if step is None else step % cfg.ppo_cycle
        if k == 0 or self._rollout is None:
            self._rollout = self._collect(x)
        ro = self._rollout
        size = len(ro.tokens) // cfg.minibatches
        part = k % cfg.minibatches
        idx = ro.order[k // cfg.minibatches, part * size : (part + 1) * size]
        meaning, tokens, acts = ro.meanings[idx], ro.tokens[idx], ro.acts[idx]
        logits, values = self.speaker.score(meaning, tokens)
        logp_all = F.log_softmax(logits, -1)
        logp = logp_all.gather(-1, tokens[..., None]).squeeze(-1)  # (b, L)
        weight = acts.float() / acts.float().sum().clamp(min=1)
        s_pg = _clipped(logp - ro.speaker_logp[idx], ro.speaker_adv[idx], cfg.clip)
        s_entropy = -(logp_all.exp() * logp_all).sum(-1)
        l_logits, l_value = self.listener(
            F.one_hot(tokens, self.world.vocab_size).float(), ro.candidates[idx]
        )
        l_logp_all = F.log_softmax(l_logits, -1)
        l_logp = l_logp_all.gather(-1, ro.choice[idx, None]).squeeze(-1)
        l_pg = _clipped(l_logp - ro.listener_logp[idx], ro.listener_adv[idx], cfg.clip)
        l_entropy = -(l_logp_all.exp() * l_logp_all).sum(-1)
        returns, speaker_returns = ro.returns[idx], ro.speaker_returns[idx]
        v_loss = (
            0.5 * ((values - speaker_returns[:, None]) ** 2 * weight).sum()
            + 0.5 * ((l_value - returns) ** 2).mean()
        )
        entropy = (s_entropy * weight).sum() + l_entropy.mean()
        pg = (s_pg * weight).sum() + l_pg.mean()
        out = {
            "loss": pg + 0.5 * v_loss - cfg.entropy_coef * entropy,
            "pg_loss": pg.detach(),
            "v_loss": v_loss.detach(),
            "entropy": entropy.detach(),
            "accuracy": (ro.returns[idx] == self.world.success_reward).float().mean(),
            "influence": ro.influence[idx].mean(),
        }
        utt = Utterance(tokens, F.one_hot(tokens, self.world.vocab_size).float(), logits, acts)
        return self._with_prior(out, meaning, utt)

    @torch.no_grad()
    def _collect(self, x: Tensor) -> Rollout:
        """Play the games `x` with the current policies (sampled) and compute advantages."""
        meaning, cands, target, _ = self.decode(x)
        utt = self.speaker(meaning, "sample")
        logits, values = self.speaker.score(meaning, utt.tokens)
        logp = F.log_softmax(logits, -1).gather(-1, utt.tokens[..., None]).squeeze(-1)
        l_logits, l_value = self.listener(utt.onehot, cands)
        choice = torch.distributions.Categorical(logits=l_logits).sample()
        l_logp = F.log_softmax(l_logits, -1).gather(-1, choice[:, None]).squeeze(-1)
        returns = self.rewards(choice, target)
        influence = self.influence(utt, cands) if self.cfg.influence_coef > 0 else returns * 0
        speaker_returns = returns + self.cfg.influence_coef * influence
        s_adv = _normalised(speaker_returns[:, None] - values, utt.acts)
        l_adv = _normalised(returns - l_value, torch.ones_like(returns, dtype=torch.bool))
        order = torch.stack([torch.randperm(len(x)) for _ in range(self.cfg.ppo_epochs)])
        return Rollout(
            meaning, cands, utt.tokens, utt.acts, logp, s_adv, choice, l_logp, l_adv, returns,
            speaker_returns, influence, order.to(x.device),
        )  # fmt: skip

    @torch.no_grad()
    def influence(self, utt: Utterance, candidates: Tensor) -> Tensor:
        """(B,) the social influence of each message said on the listener's pick (Jaques et
        al. 2019), in nats: KL(p(pick | m said) || sum_k p(m_k) p(pick | m_k)), the m_k the
        speaker's messages (sampled) for each of the K candidates, p(m_k) = 1/K: the
        listener does not know the target, so any candidate's message is what it could have
        heard. `emergent.metrics.influence.social_influence_reward` is the same formula."""
        B, K, _ = candidates.shape
        said = self.listener.probabilities(utt.onehot, candidates)  # (B, K)
        others = self.speaker(candidates.reshape(B * K, -1), "sample")
        repeated = candidates[:, None].expand(B, K, K, -1).reshape(B * K, K, -1)
        could = self.listener.probabilities(others.onehot, repeated).reshape(B, K, K)
        marginal = could.mean(1)  # (B, K)
        return (said * (torch.log(said + 1e-12) - torch.log(marginal + 1e-12))).sum(-1)

    def _with_prior(self, out: dict[str, Tensor], meaning: Tensor, utt: Utterance) -> dict:
        """Add beta x KL(speaker || prior) to the loss, and log the KL and the messages'
        perplexity under the prior (when there is one)."""
        if self.prior is None:
            return out
        kl, nll, count = self.prior_terms(utt)
        if self.cfg.kl_beta > 0:
            out["loss"] = out["loss"] + self.cfg.kl_beta * kl.sum() / len(kl)
        out["kl"] = (kl.sum() / count).detach()
        out["perplexity"] = torch.exp(nll.sum() / count).detach()
        return out

    def prior_terms(self, utt: Utterance) -> tuple[Tensor, Tensor, Tensor]:
        """Per message (B,): the summed KL(speaker || prior) and the prior's negative
        log-likelihood over the chosen positions, and the number of chosen positions (all
        messages together); the prior reads the start token and the message so far."""
        if self.prior is None:
            raise ValueError("prior_terms needs a prior language model")
        start = torch.full_like(utt.tokens[:, :1], EOS)
        prior_logp = F.log_softmax(self.prior.logits(torch.cat([start, utt.tokens[:, :-1]], 1)), -1)
        logp = F.log_softmax(utt.logits, -1)
        acts = utt.acts.float()
        kl = ((logp.exp() * (logp - prior_logp)).sum(-1) * acts).sum(1)
        nll = -(prior_logp.gather(-1, utt.tokens[..., None]).squeeze(-1) * acts).sum(1)
        return kl, nll, acts.sum().clamp(min=1)

    # -- the generative interface ------------------------------------------------------------
    @torch.no_grad()
    def sample(
        self, n: int, cond: Tensor | None = None, gen: torch.Generator | None = None
    ) -> Tensor:
        """(n, L) the speaker's greedy messages for objects `cond` (n, n_attributes) of
        attribute values (random objects when None, drawn with `gen`)."""
        w = self.world
        if cond is None:
            cond = torch.randint(0, w.n_values, (n, w.n_attributes), generator=gen)
        return self.speaker(self.codes(cond.to(self.device)), "greedy").tokens

    def no_weight_decay(self) -> set[str]:
        return {name for name, p in self.named_parameters() if p.dim() < 2}

    def param_groups(self) -> dict[str, list]:
        params = [p for name, p in self.named_parameters() if not name.startswith("prior.")]
        return {"model": params}


def _clipped(log_ratio: Tensor, adv: Tensor, clip: float) -> Tensor:
    """PPO's per-action loss -min(r A, clip(r, 1 - eps, 1 + eps) A), r = exp(log_ratio)."""
    ratio = log_ratio.exp()
    return -torch.min(ratio * adv, ratio.clamp(1 - clip, 1 + clip) * adv)


def _normalised(adv: Tensor, mask: Tensor) -> Tensor:
    """Advantages standardised over the masked entries (CleanRL's norm_adv); 0 elsewhere."""
    values = adv[mask]
    std = values.std() if values.numel() > 1 else values.new_tensor(1.0)
    return torch.where(mask, (adv - values.mean()) / (std + 1e-8), torch.zeros_like(adv))
