"""Actor-critic networks for `agents.ppo`, shared by all agents or one per agent.

Every layer holds M stacked copies of its weights: M = 1 for parameter sharing, M = A for one
network per agent. Data inside the network is laid out (M, N, ...): with sharing, the B copies
× A agents fold into N = B·A rows of the one model; per agent, model m sees the N = B rows of
agent m. Dense layers are one batched matmul (`torch.baddbmm`) and conv layers one grouped
convolution, so per-agent networks cost one kernel per layer, not a Python loop over agents.

Layouts follow CleanRL: vector observations get separate actor and critic MLPs (tanh) as in
`ppo.py` (and SB3's `MlpPolicy`); image observations (uint8 H×W×C) a shared conv torso as in
`ppo_atari.py`; with `recurrent`, a shared torso feeds a GRU whose state is zeroed at episode
starts, as in `ppo_atari_lstm.py`. Orthogonal initialisation (gain √2 hidden, 0.01 actor head,
1 critic head) as in CleanRL.

Ref: Huang et al. 2022, "The 37 Implementation Details of Proximal Policy Optimization";
Cho et al. 2014 (GRU).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor, nn
from torch.distributions import Normal

from agents.ppo_config import PPOConfig
from agents.spec import EnvSpec

ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {"tanh": torch.tanh, "relu": torch.relu}
"""The dense layers' activation by name: the values `PPOConfig.activation` allows."""


def _orthogonal_(weight: Tensor, gain: float) -> None:
    """Orthogonal init of each of the M stacked matrices (M, D_in, D_out) separately."""
    with torch.no_grad():
        for w in weight:
            nn.init.orthogonal_(w, gain)


class BatchedLinear(nn.Module):
    """M independent linear layers at once: (M, N, D_in) -> (M, N, D_out)."""

    def __init__(self, models: int, d_in: int, d_out: int, gain: float = math.sqrt(2)) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(models, d_in, d_out))
        self.bias = nn.Parameter(torch.zeros(models, 1, d_out))
        _orthogonal_(self.weight, gain)

    def forward(self, x: Tensor) -> Tensor:
        return torch.baddbmm(self.bias, x, self.weight)


class BatchedConv(nn.Module):
    """M independent 3×3 conv layers as one grouped convolution.

    (N, M·C_in, H, W) -> (N, M·C_out, H', W'); group m holds model m's channels.
    """

    def __init__(self, models: int, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(models * c_in, models * c_out, 3, stride=stride, groups=models)
        with torch.no_grad():
            for w in self.conv.weight.view(models, c_out, c_in * 9):
                nn.init.orthogonal_(w, math.sqrt(2))
            self.conv.bias.zero_()

    def forward(self, x: Tensor) -> Tensor:
        return torch.relu(self.conv(x))


class MLP(nn.Module):
    """Dense layers with an activation after each: (M, N, D) -> (M, N, hidden_sizes[-1]).

    Raises:
        ValueError: `act` is not a key of `ACTIVATIONS` (the message lists them).
    """

    def __init__(self, models: int, d_in: int, hidden_sizes: tuple[int, ...], act: str) -> None:
        super().__init__()
        if act not in ACTIVATIONS:
            raise ValueError(f"activation={act!r}; allowed: {', '.join(map(repr, ACTIVATIONS))}")
        sizes = (d_in, *hidden_sizes)
        self.layers = nn.ModuleList(
            BatchedLinear(models, a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True)
        )
        self.act = ACTIVATIONS[act]
        self.out_size = sizes[-1]

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.layers:
            x = self.act(layer(x))
        return x


class GridEncoder(nn.Module):
    """uint8 images (M, N, H, W, C) -> features (M, N, D): 3×3 convs (stride 1, then 2), then
    dense ReLU layers; the size of `agents.networks.GridCNN`."""

    def __init__(
        self,
        models: int,
        obs_shape: tuple[int, ...],
        channels: tuple[int, ...],
        hidden_sizes: tuple[int, ...],
    ) -> None:
        super().__init__()
        h, w, c = obs_shape
        self.models = models
        sizes = (c, *channels)
        self.convs = nn.Sequential(
            *(
                BatchedConv(models, a, b, stride=1 if i == 0 else 2)
                for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True))
            )
        )
        with torch.no_grad():
            flat = self.convs(torch.zeros(1, models * c, h, w)).numel() // models
        self.dense = MLP(models, flat, hidden_sizes, "relu")
        self.out_size = self.dense.out_size

    def forward(self, x: Tensor) -> Tensor:
        M, N, H, W, C = x.shape
        x = x.permute(1, 0, 4, 2, 3).reshape(N, M * C, H, W).float() / 255.0  # (N, M·C, H, W)
        x = self.convs(x)  # (N, M·C', H', W')
        x = x.reshape(N, M, -1).transpose(0, 1)  # (M, N, C'·H'·W')
        return self.dense(x)


class BatchedGRUCell(nn.Module):
    """M GRU cells: x (M, N, D), h (M, N, H) -> h' (M, N, H). Cho et al. 2014:

    r = σ(W_r x + U_r h), z = σ(W_z x + U_z h), n = tanh(W_n x + r ⊙ (U_n h)),
    h' = (1 - z) ⊙ n + z ⊙ h.
    """

    def __init__(self, models: int, d_in: int, hidden: int) -> None:
        super().__init__()
        self.input = BatchedLinear(models, d_in, 3 * hidden, gain=1.0)
        self.recurrent = BatchedLinear(models, hidden, 3 * hidden, gain=1.0)
        self.hidden = hidden

    def forward(self, x_gates: Tensor, h: Tensor) -> Tensor:
        """`x_gates` is `self.input(x)`, computed for a whole sequence at once by the caller."""
        r_x, z_x, n_x = x_gates.chunk(3, dim=-1)
        r_h, z_h, n_h = self.recurrent(h).chunk(3, dim=-1)
        r = torch.sigmoid(r_x + r_h)
        z = torch.sigmoid(z_x + z_h)
        n = torch.tanh(n_x + r * n_h)
        return (1 - z) * n + z * h


class ActorCritic(nn.Module):
    """Policy and value for observations laid out (N, A, *obs_shape).

    Built from the world's `spec` (agents, observation shape, uint8 images through convs,
    discrete or Box actions: a categorical over logits, or a diagonal Gaussian with a
    state-independent log std) and the network settings of `cfg` (`share_parameters`,
    `hidden_sizes`, `conv_channels`, `activation`, `recurrent`, `rnn_size`).
    """

    def __init__(self, spec: EnvSpec, cfg: PPOConfig) -> None:
        super().__init__()
        self.share, self.recurrent = cfg.share_parameters, cfg.recurrent
        self.continuous, self.image = spec.continuous, spec.image
        self.num_agents, self.rnn_size = spec.num_agents, cfg.rnn_size
        M = 1 if self.share else spec.num_agents

        def encoder() -> nn.Module:
            if spec.image:
                return GridEncoder(M, spec.obs_shape, cfg.conv_channels, cfg.hidden_sizes)
            return MLP(M, math.prod(spec.obs_shape), cfg.hidden_sizes, cfg.activation)

        self.torso = encoder()
        self.critic_torso = None if (spec.image or cfg.recurrent) else encoder()  # CleanRL ppo.py
        features = self.torso.out_size
        if cfg.recurrent:
            self.gru = BatchedGRUCell(M, features, cfg.rnn_size)
            features = cfg.rnn_size
        self.actor = BatchedLinear(M, features, spec.action_dim, gain=0.01)
        self.critic = BatchedLinear(M, features, 1, gain=1.0)
        if spec.continuous:
            self.log_std = nn.Parameter(torch.zeros(M, 1, spec.action_dim))

    # Layout: the world's (N, A, ...) <-> the models' (M, N', ...).
    def to_models(self, x: Tensor) -> Tensor:
        N, A = x.shape[:2]
        if self.share:
            return x.reshape(1, N * A, *x.shape[2:])
        return x.transpose(0, 1)

    def from_models(self, y: Tensor, N: int) -> Tensor:
        if self.share:
            return y.reshape(N, -1, *y.shape[2:])
        return y.transpose(0, 1)

    def _inputs(self, obs: Tensor) -> Tensor:
        x = self.to_models(obs)
        return x if self.image else x.reshape(*x.shape[:2], -1).float()

    def step(self, obs: Tensor, h: Tensor | None) -> tuple[Tensor, Tensor, Tensor | None]:
        """One time step. obs (N, A, *obs_shape), h (N, A, rnn_size) or None ->
        (actor output (N, A, action_dim), value (N, A), new h)."""
        N = obs.shape[0]
        x = self._inputs(obs)
        features = self.torso(x)  # (M, N', D)
        if self.recurrent:
            h_m = self.gru(self.gru.input(features), self.to_models(h))
            h, features = self.from_models(h_m, N), h_m
        critic_features = features if self.critic_torso is None else self.critic_torso(x)
        out = self.from_models(self.actor(features), N)
        value = self.from_models(self.critic(critic_features), N)[..., 0]
        return out, value, h

    def sequence(self, obs: Tensor, starts: Tensor, h0: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Recurrent pass over whole sequences (truncated BPTT over the rollout).

        obs (T, N, A, *obs_shape); starts (T, N): 1 where obs[t] begins an episode (the state
        is zeroed before it); h0 (N, A, H) the state before obs[0]. Returns actor output
        (T, N, A, action_dim), value (T, N, A) and the final state.
        """
        T, N = obs.shape[:2]
        x = self._inputs(obs.reshape(T * N, *obs.shape[2:]))  # (M, T·N', ...)
        gates = self.gru.input(self.torso(x))  # (M, T·N', 3H), one matmul for the sequence
        gates = gates.reshape(gates.shape[0], T, -1, gates.shape[-1])
        keep = (1.0 - starts)[..., None, None]  # (T, N, 1, 1)
        h, outputs = h0, []
        for t in range(T):
            h = h * keep[t]
            h_m = self.gru(gates[:, t], self.to_models(h))
            h = self.from_models(h_m, N)
            outputs.append(h_m)
        features = torch.cat(outputs, dim=1)  # (M, T·N', H)
        out = self.from_models(self.actor(features), T * N)
        value = self.from_models(self.critic(features), T * N)[..., 0]
        return out.reshape(T, N, *out.shape[1:]), value.reshape(T, N, -1), h

    def initial_state(self, n: int, device: torch.device | str) -> Tensor | None:
        """Zero recurrent state (n, A, rnn_size), or None without a recurrent core."""
        if not self.recurrent:
            return None
        return torch.zeros(n, self.num_agents, self.rnn_size, device=device)

    def std(self) -> Tensor:
        """Action std (1, M, action_dim) of the diagonal Gaussian; broadcasts to (N, A, D)."""
        return self.log_std.exp().transpose(0, 1)


def log_prob_entropy(out: Tensor, std: Tensor | None, actions: Tensor) -> tuple[Tensor, Tensor]:
    """Log-probability of `actions` and the entropy, per agent (..., A).

    Categorical over logits `out` (..., A, K), or a diagonal Gaussian with mean `out` and
    `std` (summed over action dimensions).
    """
    if std is None:
        log_p = torch.log_softmax(out, dim=-1)
        log_prob = log_p.gather(-1, actions.long()[..., None])[..., 0]
        entropy = -(log_p.exp() * log_p).sum(-1)
        return log_prob, entropy
    gaussian = Normal(out, std, validate_args=False)  # as CleanRL's continuous-action PPO
    return gaussian.log_prob(actions).sum(-1), gaussian.entropy().sum(-1)


def sample(out: Tensor, std: Tensor | None, generator: torch.Generator) -> Tensor:
    """One action per agent: Gumbel-max over logits, or mean + std·ε."""
    if std is None:
        u = torch.rand(out.shape, generator=generator, device=out.device)
        return (out - torch.log(-torch.log(u.clamp_min(1e-20)))).argmax(-1)
    return out + std * torch.randn(out.shape, generator=generator, device=out.device)
