"""Our RealNVP, MAF and NSF against zuko's, side by side on two moons.

Run `python -m benchmarks.flows [--steps N] [--seeds S] [--layers K] [--hidden H H]`. Each
pair (ours, zuko's) gets the same depth (coupling / autoregressive layers), the same hidden
widths (ReLU MLPs), the same data (`generative.data.load("moons")`: 20k train, 5k test), and
the same training loop (`generative.train.fit`: AdamW, lr, cosine schedule, batch, steps,
gradient clipping, seed). Zuko's flows are wrapped in a thin `GenerativeModel` so both go
through `fit`. Prints the final test NLL (nats; mean over S seeds, as one seed's NLL varies by
about 0.03 nats at this budget) and training steps per second for each, and ours / zuko.
Speeds are the best of a few interleaved timed runs (wall clock, and per CPU-second of this
process, steadier on a shared machine). Saves the numbers with the git SHA to
benchmarks/results/flows.json.

Our flows are timed twice: as configured by default (an ActNorm before each coupling for
RealNVP and NSF, one at the input for MAF) and without ActNorm (zuko's layout). Other
differences that remain by design: our affine log-scales are soft-clamped to (-3, 3) (zuko:
about (-6.9, 6.9)); our splines live on [-4, 4] (zuko: [-5, 5]), and zuko's spline coupling
(`NSF(passes=2)`) also transforms the conditioning half element-wise, where ours passes it
through.

Peer: zuko (Rozet et al., https://github.com/probabilists/zuko), `zuko.flows.RealNVP`,
`zuko.flows.MAF` and `zuko.flows.NSF`.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import time
from dataclasses import replace
from pathlib import Path

import torch
import zuko
from torch import Tensor

from benchmarks.env_speed import git_sha
from generative.base import GenerativeModel
from generative.data import DataInfo, Dataset, load
from generative.models.flows import MAF, NSF, MAFConfig, NSFConfig, RealNVP, RealNVPConfig
from generative.train import FitConfig, fit

RESULTS = Path(__file__).parent / "results" / "flows.json"


class ZukoFlow(GenerativeModel):
    """A zuko flow behind our interface, so that `fit` trains it exactly like ours."""

    likelihood = "exact"

    def __init__(self, info: DataInfo, flow: zuko.lazy.Flow) -> None:
        super().__init__(info)
        self.flow = flow

    def log_prob(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        return self.flow().log_prob(x)

    def loss(
        self, x: Tensor, y: Tensor | None = None, group: str = "model", *, step: int | None = None
    ) -> dict[str, Tensor]:
        return {"loss": -self.log_prob(x).mean()}

    def sample(
        self, n: int, cond: Tensor | None = None, gen: torch.Generator | None = None
    ) -> Tensor:
        return self.flow().sample((n,))


FAMILIES = ("realnvp", "maf", "nsf")


def contenders(
    family: str, info: DataInfo, layers: int, hidden: tuple[int, ...]
) -> tuple[GenerativeModel, GenerativeModel, GenerativeModel]:
    """(ours as configured by default, ours without ActNorm (zuko's layout), zuko's)."""
    kw = {"num_layers": layers, "hidden": hidden}
    peer_kw = {"transforms": layers, "hidden_features": hidden}
    if family == "realnvp":
        cls, cfg_cls, extra = RealNVP, RealNVPConfig, {}
        peer = zuko.flows.RealNVP(info.dim, **peer_kw)
    elif family == "maf":
        cls, cfg_cls, extra = MAF, MAFConfig, {}
        peer = zuko.flows.MAF(info.dim, **peer_kw)
    else:
        cls, cfg_cls, extra = NSF, NSFConfig, {"bins": 8}
        peer = zuko.flows.NSF(info.dim, bins=8, passes=2, **peer_kw)
    return (
        cls(info, cfg_cls(**kw, **extra)),
        cls(info, cfg_cls(**kw, **extra, actnorm="none")),
        ZukoFlow(info, peer),
    )


def test_nll(model: GenerativeModel, data: Dataset, cfg: FitConfig) -> float:
    """Train a copy of `model` with `fit`; its mean NLL (nats) on the test split."""
    trained = fit(copy.deepcopy(model), data, cfg).model
    with torch.no_grad():
        return -trained.log_prob(data.test.to(trained.device)).mean().item()


def speeds(
    models: list[GenerativeModel], data: Dataset, cfg: FitConfig, steps: int, rounds: int
) -> list[dict[str, float]]:
    """Training steps per second of each model under `fit`, best of `rounds` interleaved runs.

    Every round times `steps` steps of a fresh copy of each model in turn, so load from other
    processes hits all models alike; the best round (least disturbed) is kept, as timeit does.
    Returns, per model, {"steps_per_s": wall clock, "steps_per_cpu_s": CPU time of this process}.
    """
    short = replace(cfg, steps=steps, log_every=steps)
    best = [{"steps_per_s": 0.0, "steps_per_cpu_s": 0.0} for _ in models]
    for _ in range(rounds):
        for model, record in zip(models, best, strict=True):
            cpu = time.process_time()
            result = fit(copy.deepcopy(model), data, short)
            cpu = time.process_time() - cpu
            record["steps_per_s"] = max(record["steps_per_s"], result.steps_per_s)
            record["steps_per_cpu_s"] = max(record["steps_per_cpu_s"], steps / cpu)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1200, help="training steps per model")
    parser.add_argument("--seeds", type=int, default=2, help="training runs averaged for NLL")
    parser.add_argument("--timing-steps", type=int, default=150, help="steps per timed run")
    parser.add_argument("--rounds", type=int, default=3, help="timed runs per model (best kept)")
    parser.add_argument("--layers", type=int, default=5, help="flow layers (both libraries)")
    parser.add_argument("--hidden", type=int, nargs="+", default=[64, 64], help="MLP widths")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"])
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    data = load("moons", seed=0)
    cfg = FitConfig(
        steps=args.steps, batch_size=args.batch_size, lr=args.lr, lr_schedule="cosine",
        seed=0, device=args.device, log_every=args.steps,
    )  # fmt: skip
    hidden = tuple(args.hidden)
    rows = []
    print(
        f"{'flow':<9}{'ours NLL':>10}{'zuko NLL':>10}{'ours-zuko':>11}{'ours step/s':>13}"
        f"{'zuko step/s':>13}{'speed x':>9}{'cpu speed x':>13}{'no-actnorm x':>14}"
    )
    for family in FAMILIES:
        nll = []  # per seed: (ours, zuko's)
        for seed in range(args.seeds):
            torch.manual_seed(seed)  # the models' initial weights
            ours, bare, peer = contenders(family, data.info, args.layers, hidden)
            if seed == 0:
                speeds([ours, bare, peer], data, cfg, steps=20, rounds=1)  # one-off costs
                speed = speeds([ours, bare, peer], data, cfg, args.timing_steps, args.rounds)
            nll.append([test_nll(m, data, replace(cfg, seed=seed)) for m in (ours, peer)])
        a = {"test_nll": sum(n[0] for n in nll) / args.seeds, **speed[0]}
        b = {"test_nll": sum(n[1] for n in nll) / args.seeds, **speed[2]}
        row = {
            "flow": family,
            "ours": a,
            "ours_no_actnorm": speed[1],
            "zuko": b,
            "nll_ratio": a["test_nll"] / b["test_nll"],
            "nll_difference": a["test_nll"] - b["test_nll"],
            "speed_ratio": a["steps_per_s"] / b["steps_per_s"],
            "cpu_speed_ratio": a["steps_per_cpu_s"] / b["steps_per_cpu_s"],
            "no_actnorm_speed_ratio": speed[1]["steps_per_s"] / b["steps_per_s"],
        }
        rows.append(row)
        print(
            f"{family:<9}{a['test_nll']:>10.4f}{b['test_nll']:>10.4f}"
            f"{row['nll_difference']:>+11.4f}{a['steps_per_s']:>13,.0f}{b['steps_per_s']:>13,.0f}"
            f"{row['speed_ratio']:>9.2f}{row['cpu_speed_ratio']:>13.2f}"
            f"{row['no_actnorm_speed_ratio']:>14.2f}"
        )
    print(
        f"NLL: nats per example on the moons test split, mean of {args.seeds} seeds (lower is "
        "better). speed x: ours / zuko in wall-clock steps/s; cpu speed x: the same per "
        "CPU-second of this process; no-actnorm x: ours without ActNorm (zuko's layout) / zuko."
    )

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "git_sha": git_sha(),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "torch": torch.__version__,
        "zuko": zuko.__version__,
        "settings": {
            "data": "moons (noise 0.1, 20k train, 5k test)",
            "layers": args.layers,
            "hidden": list(hidden),
            "steps": args.steps,
            "batch_size": args.batch_size,
            "lr": args.lr,
            "lr_schedule": "cosine",
            "device": args.device,
            "threads": args.threads,
            "seeds": args.seeds,
            "timing": f"best of {args.rounds} interleaved runs of {args.timing_steps} steps",
        },
        "results": rows,
    }
    RESULTS.write_text(json.dumps(record, indent=2) + "\n")
    print(f"saved {RESULTS}")


if __name__ == "__main__":
    main()
