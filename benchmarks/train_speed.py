"""Time to a return on Spread: our PPO on the batched core against SB3 PPO through SuperSuit
and RLlib PPO.

Run `python -m benchmarks.train_speed [--target R] [--copies B] [--threads N]`.

Peer (measured in the same run): Stable-Baselines3 PPO with `MlpPolicy` trained on
`mpe2.simple_spread_v3.parallel_env()` through SuperSuit's vectorised wrappers, the way
PettingZoo's documentation trains it (`pettingzoo_env_to_vec_env_v1`, then
`concat_vec_envs_v1(env, 8, base_class="stable_baselines3")`: 8 worlds × 3 agents = 24
single-agent environments sharing one policy; `num_cpus=0`, in-process, which was the faster
choice on 2 cores) with the tutorial's `learning_rate=1e-3, batch_size=256` and SB3's other
defaults (n_steps 2048, 10 epochs, 2×64 tanh actor and critic, γ 0.99, λ 0.95, clip 0.2, no
entropy bonus, no value clipping, constant learning rate).

Ours: `agents.make("ppo")` on `envs.make("spread", batch_size=B)`, which equals
simple_spread_v3 step for step, with the same network, learning rate, γ, λ, clip, entropy and
value-loss settings; what differs is what the batched core is for: B = 256 copies stepped
together (32× SuperSuit's 8 worlds), one rollout of T = 25 steps (one episode, 19,200
agent-steps) per update in 8 minibatches of 2,400 agent-steps, and CleanRL's 4 epochs (10
epochs at this learning rate made our larger-batch updates unstable and slower to the target).
Second peer: RLlib PPO on its new API stack (`agents.make("rllib_ppo")`, RLlib 2.x's
`PPOConfig` with one remote env runner stepping 16 copies of our Spread through the RLlib
`MultiAgentEnv` shell, one shared RLModule, a local learner), with the same network (2×64
tanh MLP encoder, separate for policy and value), learning rate, γ, λ, clip, gradient clip,
value-loss weight, no entropy bonus and no KL penalty, on batches of 19,200 agent-steps in
minibatches of 2,400 for 4 epochs, as ours. Its time counts from a built algorithm (Ray
started, env runner actor up).

All run with one torch thread by default (`--threads`): on a loaded 2-core machine more
threads made the learners several times slower.

All are measured the same way: every `--eval-every` seconds of training (the clock is paused
meanwhile) the current policy plays one sampled episode in each of 256 seeded copies of Spread
(the same layouts for both), and its mean per-agent episode return is the curve. Time to
target = training seconds (model construction excluded, environment stepping and updates
included) until that return first reaches `--target`. Prints the times and ours against each
peer; saves benchmarks/results/train_speed.json (with the git SHA) and train_speed.png.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

import agents
import envs
from benchmarks.env_speed import git_sha
from emergent.rollout import run_episodes

RESULTS = Path(__file__).parent / "results"
EVAL_COPIES, EVAL_SEED = 256, 12345
SHARED = {"learning_rate": 1e-3, "gamma": 0.99, "gae_lambda": 0.95, "max_grad_norm": 0.5}
SB3 = {**SHARED, "n_steps": 2048, "batch_size": 256, "n_epochs": 10, "ent_coef": 0.0}
OURS = {
    **SHARED,
    "clip_coef": 0.2,
    "ent_coef": 0.0,
    "vf_coef": 0.5,
    "clip_vloss": False,
    "anneal_lr": False,
    "hidden_sizes": (64, 64),
    "activation": "tanh",
    "num_steps": 25,
    "num_minibatches": 8,
    "update_epochs": 4,
}
RLLIB = {
    "lr": 1e-3,
    "gamma": 0.99,
    "gae_lambda": 0.95,
    "grad_clip": 0.5,
    "clip_param": 0.2,
    "entropy_coeff": 0.0,
    "vf_loss_coeff": 0.5,
    "kl_coeff": 0.0,
    "hidden_sizes": (64, 64),
    "activation": "tanh",
    "train_batch_size": 19_200,
    "minibatch_size": 2_400,
    "num_epochs": 4,
    "num_env_runners": 1,
    "envs_per_env_runner": 16,
}


class Curve:
    """Training clock (paused during evaluation) and the evaluated return curve."""

    def __init__(self, evaluate: Callable[[], float], every: float, target: float, limit: float):
        self.evaluate, self.every, self.target, self.limit = evaluate, every, target, limit
        self.points: list[tuple[float, int, float]] = []  # (train seconds, agent-steps, return)
        self.reached: float | None = None
        self.start = time.perf_counter()
        self.paused = 0.0
        self.next_eval = every

    def seconds(self) -> float:
        return time.perf_counter() - self.start - self.paused

    def tick(self, agent_steps: int) -> bool:
        """Evaluate when due; False once the target is reached or the time limit is up."""
        now = self.seconds()
        if now >= self.next_eval or now >= self.limit:
            pause = time.perf_counter()
            value = self.evaluate()
            self.points.append((now, agent_steps, value))
            self.paused += time.perf_counter() - pause
            self.next_eval = now + self.every
            if value >= self.target and self.reached is None:
                self.reached = now
        return self.reached is None and now < self.limit


def eval_return(act: Callable[[np.ndarray, np.random.Generator], np.ndarray]) -> float:
    """Mean per-agent return of one sampled episode in each of the fixed evaluation copies."""
    env = envs.make("spread", batch_size=EVAL_COPIES, seed=0)
    rng = np.random.default_rng(0)
    return float(run_episodes(env, lambda obs: act(obs, rng), EVAL_SEED).returns.mean())


def run_sb3(args: argparse.Namespace) -> dict:
    """SB3 PPO on simple_spread_v3 through SuperSuit, as in PettingZoo's SB3 tutorial."""
    import supersuit as ss
    from mpe2 import simple_spread_v3
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback

    from agents.sb3_ppo import SB3Policy

    torch.manual_seed(0)
    env = ss.pettingzoo_env_to_vec_env_v1(simple_spread_v3.parallel_env())
    env = ss.concat_vec_envs_v1(env, 8, num_cpus=0, base_class="stable_baselines3")
    model = PPO("MlpPolicy", env, verbose=0, device="cpu", **SB3)
    policy = SB3Policy(model.policy, None, (18,))  # type: ignore[arg-type]

    class Tick(BaseCallback):
        def _on_training_start(self) -> None:
            self.curve = Curve(
                lambda: eval_return(policy.act), args.eval_every, args.target, args.sb3_seconds
            )

        def _on_step(self) -> bool:
            return self.curve.tick(int(self.model.num_timesteps))

    tick = Tick()
    model.learn(total_timesteps=10**12, callback=tick)
    return {"name": "SB3 PPO + SuperSuit (8 worlds)", "options": SB3, **result(tick.curve)}


def run_ours(args: argparse.Namespace) -> dict:
    """Our PPO on the batched Spread core with B copies."""
    env = envs.make("spread", batch_size=args.copies, seed=0)
    trainer = agents.make("ppo", seed=0, device="cpu", **OURS)

    class Hooks:
        def __init__(self) -> None:
            self.curve = Curve(
                lambda: eval_return(trainer.policy.act),
                args.eval_every,
                args.target,
                args.ours_seconds,
            )

        def on_step(self, agent_steps: int, mean_return: float | None) -> bool:
            return self.curve.tick(agent_steps)

        def on_update(self, agent_steps: int, stats: dict[str, float]) -> None:
            pass

    hooks = Hooks()
    trainer.train(env, 10**12, hooks)
    options = {**OURS, "hidden_sizes": list(OURS["hidden_sizes"]), "copies": args.copies}
    name = f"ours: PPO on the batched core (B = {args.copies})"
    return {"name": name, "options": options, **result(hooks.curve)}


def run_rllib(args: argparse.Namespace) -> dict:
    """RLlib PPO (new API stack) on our Spread through the RLlib MultiAgentEnv shell."""
    env = envs.make("spread", batch_size=1, seed=0)
    trainer = agents.make("rllib_ppo", seed=0, device="cpu", **RLLIB)

    class Hooks:
        def __init__(self) -> None:
            self.curve: Curve | None = None

        def on_step(self, agent_steps: int, mean_return: float | None) -> bool:
            assert self.curve is not None
            return self.curve.tick(agent_steps)

        def on_update(self, agent_steps: int, stats: dict[str, float]) -> None:
            pass

    hooks = Hooks()
    try:
        trainer.train(env, 0, hooks)  # builds the algorithm (Ray, env runner) off the clock
        hooks.curve = Curve(
            lambda: eval_return(trainer.policy.act),
            args.eval_every,
            args.target,
            args.rllib_seconds,
        )
        trainer.train(env, 10**12, hooks)
    finally:
        trainer.close()
    options = {**RLLIB, "hidden_sizes": list(RLLIB["hidden_sizes"])}
    name = "RLlib PPO (1 env runner x 16 worlds)"
    return {"name": name, "options": options, **result(hooks.curve)}


def speedup(ours: dict, peer: dict, limit: float) -> tuple[float | None, float | None]:
    """(ratio, lower bound) of the peer's time to target over ours; the lower bound when the
    peer ran out of time (its time is at least its limit); (None, None) when ours missed."""
    if not ours["seconds_to_target"]:
        return None, None
    if peer["seconds_to_target"]:
        return peer["seconds_to_target"] / ours["seconds_to_target"], None
    return None, limit / ours["seconds_to_target"]


def result(curve: Curve) -> dict:
    seconds, steps, returns = (list(v) for v in zip(*curve.points, strict=True))
    return {
        "seconds_to_target": curve.reached,
        "agent_steps_per_s": steps[-1] / seconds[-1],
        "curve": {"seconds": seconds, "agent_steps": steps, "return": returns},
    }


def plot(rows: list[dict], target: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for row in rows:
        curve = row["curve"]
        axes[0].plot(curve["agent_steps"], curve["return"], label=row["name"])
        axes[1].plot(curve["seconds"], curve["return"], label=row["name"])
    for ax, xlabel in zip(axes, ("agent-steps", "training seconds"), strict=True):
        ax.axhline(target, color="grey", linestyle="--", linewidth=1, label="target")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("mean per-agent episode return (eval)")
        ax.grid(alpha=0.3)
    axes[1].set_xscale("log")
    axes[0].legend(fontsize=8)
    fig.suptitle("Spread (simple_spread_v3, N = 3): PPO return against agent-steps and seconds")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=float, default=-20.0, help="mean per-agent return")
    parser.add_argument("--copies", type=int, default=256, help="B for our PPO")
    parser.add_argument("--threads", type=int, default=1, help="torch threads for both")
    parser.add_argument("--eval-every", type=float, default=1.0, help="training seconds")
    parser.add_argument("--sb3-seconds", type=float, default=240.0, help="SB3 time limit")
    parser.add_argument("--ours-seconds", type=float, default=60.0, help="our time limit")
    parser.add_argument("--rllib-seconds", type=float, default=240.0, help="RLlib time limit")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    rows = [run_ours(args), run_sb3(args), run_rllib(args)]
    ours = rows[0]
    print(f"{'learner':<42}{'agent-steps/s':>15}{'s to target':>13}{'final return':>14}")
    for row in rows:
        reached = row["seconds_to_target"]
        print(
            f"{row['name']:<42}{row['agent_steps_per_s']:>15,.0f}"
            f"{'not reached' if reached is None else f'{reached:.1f}':>13}"
            f"{row['curve']['return'][-1]:>14.2f}"
        )
    speedups = {}
    for peer, key, limit in (
        (rows[1], "sb3", args.sb3_seconds),
        (rows[2], "rllib", args.rllib_seconds),
    ):
        ratio, at_least = speedup(ours, peer, limit)
        speedups[key] = {"speedup_to_target": ratio, "speedup_to_target_at_least": at_least}
        if ratio is not None:
            print(f"ours reaches a return of {args.target} {ratio:.1f}x faster than {peer['name']}")
        elif at_least is not None:
            print(
                f"ours reaches a return of {args.target} at least {at_least:.1f}x faster than "
                f"{peer['name']}, which did not reach it within {limit:.0f} s"
            )
        else:
            print("our learner did not reach the target within its time limit: no ratio")
        steps_ratio = ours["agent_steps_per_s"] / peer["agent_steps_per_s"]
        print(f"ours samples and trains {steps_ratio:.1f}x more agent-steps/s than {peer['name']}")

    RESULTS.mkdir(parents=True, exist_ok=True)
    record = {
        "git_sha": git_sha(),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "torch_threads": args.threads,
        "target_return": args.target,
        "eval": {"copies": EVAL_COPIES, "seed": EVAL_SEED, "every_train_seconds": args.eval_every},
        "speedups": speedups,  # per peer: its time to target over ours (or a lower bound)
        "results": rows,
    }
    (RESULTS / "train_speed.json").write_text(json.dumps(record, indent=2) + "\n")
    plot(rows, args.target, RESULTS / "train_speed.png")
    print(f"saved {RESULTS / 'train_speed.json'} and {RESULTS / 'train_speed.png'}")


if __name__ == "__main__":
    main()
