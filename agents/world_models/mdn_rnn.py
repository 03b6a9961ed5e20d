"""The memory of World Models: a recurrent network with a mixture-density head (MDN-RNN).

Ha & Schmidhuber 2018 ("World models", arXiv:1803.10122, sec. 2.2 and appendix A.2): an LSTM
reads the VAE code z_t and the action a_t and models the next code as a mixture of K Gaussians
per latent dimension (Graves 2013; Bishop 1994),

    p(z_{t+1} | h_t) = prod_j sum_k pi_jk N(z_{t+1,j}; mu_jk, sigma_jk^2),

with heads on h_t for the reward of the step (squared error) and for the episode's end
(Bernoulli). Sampling at temperature tau divides the mixture logits by tau and multiplies each
sigma by sqrt(tau) (their `sample_z` with `temperature`); tau -> 0 makes the dream a
deterministic average, higher tau a noisier, harder one.

Training data are sequences of posterior parameters, so every epoch draws fresh codes
z ~ q(z | x) (their training "on z sampled from the stored mu and sigma"): one example is
(T + 1, 2 L + 3) = [mu, log sigma^2, action, reward, end] per step, the last step's action,
reward and end unused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from generative.base import GenerativeModel
from generative.config_checks import check_float, check_int
from generative.data import DataInfo
from generative.models.vae import reparameterize

__all__ = ["MDNRNN", "MDNRNNConfig", "RecurrentState", "mixture_log_prob", "sample_mixture"]

RecurrentState = tuple[Tensor, Tensor]
"""(h, c) of the LSTM, each (1, n, hidden)."""

LOG_SIGMA_RANGE = (-7.0, 3.0)
"""Clamp of the mixture's log sigma, so a collapsing component cannot overflow the loss."""


@dataclass(frozen=True)
class MDNRNNConfig:
    """Settings of `MDNRNN` (World Models' CarRacing values: 256 units, 5 mixtures)."""

    hidden: int = 256
    """LSTM units; 1 to 8,192."""
    mixtures: int = 5
    """K, Gaussians per latent dimension; 1 to 64."""
    reward_weight: float = 1.0
    """Weight of the reward's squared error in the loss; finite, >= 0."""
    end_weight: float = 1.0
    """Weight of the episode end's cross-entropy in the loss; finite, >= 0."""

    def __post_init__(self) -> None:
        check_int("hidden", self.hidden, 1, 8192)
        check_int("mixtures", self.mixtures, 1, 64)
        check_float("reward_weight", self.reward_weight, 0.0)
        check_float("end_weight", self.end_weight, 0.0)


def mixture_log_prob(z: Tensor, logits: Tensor, mu: Tensor, log_sigma: Tensor) -> Tensor:
    """log sum_k pi_k N(z; mu_k, sigma_k^2) per dimension: z (..., L), the rest (..., L, K)."""
    log_pi = F.log_softmax(logits, -1)
    x = (z.unsqueeze(-1) - mu) / log_sigma.exp()
    log_n = -0.5 * x**2 - log_sigma - 0.5 * math.log(2 * math.pi)
    return torch.logsumexp(log_pi + log_n, -1)


def sample_mixture(
    logits: Tensor, mu: Tensor, log_sigma: Tensor, temperature: float, gen: torch.Generator
) -> Tensor:
    """One draw per dimension (..., L) of the mixtures (..., L, K) at temperature tau > 0:
    component k ~ softmax(logits / tau), then mu_k + sigma_k sqrt(tau) eps."""
    probs = F.softmax(logits / temperature, -1)
    flat = probs.reshape(-1, probs.shape[-1])
    u = torch.rand(len(flat), 1, generator=gen, device=gen.device).to(flat.device)
    k = (flat.cumsum(-1) < u).sum(-1).clamp(max=flat.shape[-1] - 1).view(probs.shape[:-1])
    pick = k.unsqueeze(-1)
    m = mu.gather(-1, pick).squeeze(-1)
    s = log_sigma.gather(-1, pick).squeeze(-1).exp() * math.sqrt(temperature)
    eps = torch.randn(m.shape, generator=gen, device=gen.device).to(m.device)
    return m + s * eps


class MDNRNN(GenerativeModel):
    """LSTM over (z_t, one-hot a_t) with mixture, reward and end heads on h_t.

    Args:
        latent_dim: L, the VAE's code size.
        num_actions: n of the Discrete(n) actions.
        length: T, transitions per training sequence (the data's shape is (T + 1, 2 L + 3)).
    """

    def __init__(
        self, latent_dim: int, num_actions: int, length: int, cfg: MDNRNNConfig | None = None
    ) -> None:
        super().__init__(
            DataInfo("world_sequences", (length + 1, 2 * latent_dim + 3), "continuous")
        )
        self.cfg = cfg = cfg or MDNRNNConfig()
        self.latent_dim, self.num_actions = latent_dim, num_actions
        self.lstm = nn.LSTM(latent_dim + num_actions, cfg.hidden, batch_first=True)
        self.mixture = nn.Linear(cfg.hidden, 3 * latent_dim * cfg.mixtures)
        self.reward = nn.Linear(cfg.hidden, 1)
        self.end = nn.Linear(cfg.hidden, 1)

    def inputs(self, z: Tensor, actions: Tensor) -> Tensor:
        """[z, one-hot(a)] (..., L + n) from codes (..., L) and actions (...,) int64."""
        return torch.cat([z, F.one_hot(actions, self.num_actions).to(z.dtype)], -1)

    def heads(self, h: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
        """(logits, mu, log sigma) each (..., L, K), reward (...,) and end logit (...,)."""
        out = self.mixture(h).view(*h.shape[:-1], self.latent_dim, 3 * self.cfg.mixtures)
        logits, mu, log_sigma = out.chunk(3, -1)
        return (
            logits,
            mu,
            log_sigma.clamp(*LOG_SIGMA_RANGE),
            self.reward(h).squeeze(-1),
            self.end(h).squeeze(-1),
        )

    def unpack(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
        """(mu, log_var) (N, T + 1, L) and actions, rewards, ends (N, T) of packed sequences."""
        L = self.latent_dim
        mu, log_var = x[..., :L], x[..., L : 2 * L]
        rest = x[:, :-1, 2 * L :]
        return mu, log_var, rest[..., 0].round().long(), rest[..., 1], rest[..., 2]

    def loss(
        self, x: Tensor, y: Tensor | None = None, group: str = "model", *, step: int | None = None
    ) -> dict[str, Tensor]:
        """Mean negative log-likelihood per latent dimension of the next code, plus the weighted
        reward squared error and end cross-entropy, averaged over steps and sequences."""
        mu, log_var, actions, rewards, ends = self.unpack(x)
        z = reparameterize(mu, log_var)  # (N, T + 1, L), a fresh draw every step
        h, _ = self.lstm(self.inputs(z[:, :-1], actions))
        logits, m, log_s, reward, end = self.heads(h)
        z_nll = -mixture_log_prob(z[:, 1:], logits, m, log_s).mean()
        reward_mse = F.mse_loss(reward, rewards)
        end_bce = F.binary_cross_entropy_with_logits(end, ends)
        cfg = self.cfg
        return {
            "loss": z_nll + cfg.reward_weight * reward_mse + cfg.end_weight * end_bce,
            "z_nll": z_nll.detach(),
            "reward_mse": reward_mse.detach(),
            "end_bce": end_bce.detach(),
        }

    def initial_state(self, n: int) -> RecurrentState:
        """Zero (h, c) for n streams, as every training sequence starts."""
        zero = torch.zeros(1, n, self.cfg.hidden, device=self.mixture.weight.device)
        return (zero, zero.clone())

    def advance(
        self, z: Tensor, actions: Tensor, state: RecurrentState
    ) -> tuple[RecurrentState, tuple[Tensor, Tensor, Tensor, Tensor, Tensor]]:
        """One LSTM step for n streams: codes (n, L), actions (n,) -> (new state, heads)."""
        h, (h_n, c_n) = self.lstm(self.inputs(z, actions).unsqueeze(1), state)
        return (h_n, c_n), self.heads(h[:, 0])

    @torch.no_grad()
    def sample(
        self, n: int, cond: Tensor | None = None, gen: torch.Generator | None = None
    ) -> Tensor:
        """n imagined sequences (n, T + 1, 2 L + 3) in the data's layout, from z_0 ~ N(0, I)
        under uniform random actions at tau = 1 (log-variances 0: the codes are exact)."""
        gen = gen or torch.Generator().manual_seed(0)
        device = self.mixture.weight.device
        T, L = self.info.shape[0] - 1, self.latent_dim
        z = torch.randn(n, L, generator=gen, device=gen.device).to(device)
        state, rows = self.initial_state(n), []
        for _ in range(T):
            a = torch.randint(self.num_actions, (n,), generator=gen, device=gen.device).to(device)
            state, (logits, mu, log_s, reward, end) = self.advance(z, a, state)
            rows.append(
                torch.cat(
                    [
                        z,
                        torch.zeros_like(z),
                        a[:, None].float(),
                        reward[:, None],
                        end.sigmoid()[:, None],
                    ],
                    -1,
                )
            )
            z = sample_mixture(logits, mu, log_s, 1.0, gen)
        rows.append(torch.cat([z, torch.zeros(n, L + 3, device=device)], -1))
        return torch.stack(rows, 1)
