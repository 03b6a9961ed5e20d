"""Our RealNVP, MAF and NSF against zuko's, side by side on two moons.

Run `python -m benchmarks.flows [--steps N] [--layers K] [--hidden H H]`. Each pair (ours,
zuko's) gets the same depth (coupling / autoregressive layers), the same hidden widths
(ReLU MLPs), the same data (`generative.data.load("moons")`: 20k train, 5k test), and the same
training loop (`generative.train.fit`: AdamW, lr, cosine schedule, batch, steps, gradient
clipping, seed). Zuko's flows are wrapped in a thin `GenerativeModel` so both go through
`fit`. Prints final test NLL (nats) and training steps per second (wall clock, and per
CPU-second of this process, steadier on a shared machine) for each, and ours / zuko; saves the
numbers with the git SHA to benchmarks/results/flows.json.

Differences that remain by design: our flows put an ActNorm before each layer (zuko has
none); our affine log-scales are soft-clamped to (-3, 3) (zuko: about (-6.9, 6.9)); our
splines live on [-4, 4] (zuko: [-5, 5]), and zuko's spline coupling (`NSF(passes=2)`) also
transforms the conditioning half element-wise, where ours passes it through.

Peer: zuko (Rozet et al., https://github.com/probabilists/zuko), `zuko.flows.RealNVP`,
`zuko.flows.MAF` and `zuko.flows.NSF`.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import subprocess
import time
from dataclasses import replace
from pathlib import Path

import torch
import zuko
from torch import Tensor

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

    def loss(self, x: Tensor, y: Tensor | None = None, group: str = "model") -> dict[str, Tensor]:
        return {"loss": -self.log_prob(x).mean()}

    def sample(
        self, n: int, cond: Tensor | None = None, gen: torch.Generator | None = None
    ) -> Tensor:
        return self.flow().sample((n,))


def models(
    info: DataInfo, layers: int, hidden: tuple[int, ...]
) -> dict[str, tuple[GenerativeModel, GenerativeModel]]:
    """{"realnvp" | "maf" | "nsf": (ours, zuko's)} with matching sizes."""
    D = info.dim
    return {
        "realnvp": (
            RealNVP(info, RealNVPConfig(num_layers=layers, hidden=hidden)),
            ZukoFlow(info, zuko.flows.RealNVP(D, transforms=layers, hidden_features=hidden)),
        ),
        "maf": (
            MAF(info, MAFConfig(num_layers=layers, hidden=hidden)),
            ZukoFlow(info, zuko.flows.MAF(D, transforms=layers, hidden_features=hidden)),
        ),
        "nsf": (
            NSF(info, NSFConfig(num_layers=layers, hidden=hidden, bins=8)),
            ZukoFlow(
                info,
                zuko.flows.NSF(D, transforms=layers, hidden_features=hidden, bins=8, passes=2),
            ),
        ),
    }


def train_and_score(model: GenerativeModel, data: Dataset, cfg: FitConfig) -> dict:
    """Train with `fit`; return the test NLL (nats) and training steps per second."""
    cpu = time.process_time()
    result = fit(model, data, cfg)
    cpu = time.process_time() - cpu
    with torch.no_grad():
        nll = -result.model.log_prob(data.test.to(result.model.device)).mean().item()
    return {
        "test_nll": nll,
        "steps_per_s": result.steps_per_s,
        "steps_per_cpu_s": result.steps / cpu,
        "seconds": result.seconds,
    }


def git_sha() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True)
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500, help="training steps per model")
    parser.add_argument("--layers", type=int, default=5, help="flow layers (both libraries)")
    parser.add_argument("--hidden", type=int, nargs="+", default=[64, 64], help="MLP widths")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"])
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    torch.manual_seed(0)  # the models' initial weights
    data = load("moons", seed=0)
    cfg = FitConfig(
        steps=args.steps, batch_size=args.batch_size, lr=args.lr, lr_schedule="cosine",
        seed=0, device=args.device, log_every=args.steps,
    )  # fmt: skip
    hidden = tuple(args.hidden)
    rows = []
    print(
        f"{'flow':<9}{'ours NLL':>10}{'zuko NLL':>10}{'ours-zuko':>11}"
        f"{'ours step/s':>13}{'zuko step/s':>13}{'speed x':>9}{'cpu speed x':>13}"
    )
    warm_up = replace(cfg, steps=20, log_every=20)
    for name, (ours, peer) in models(data.info, args.layers, hidden).items():
        for model in (ours, peer):  # first calls pay one-off costs; keep them out of timings
            fit(copy.deepcopy(model), data, warm_up)
        a, b = train_and_score(ours, data, cfg), train_and_score(peer, data, cfg)
        row = {
            "flow": name,
            "ours": a,
            "zuko": b,
            "nll_ratio": a["test_nll"] / b["test_nll"],
            "nll_difference": a["test_nll"] - b["test_nll"],
            "speed_ratio": a["steps_per_s"] / b["steps_per_s"],
            "cpu_speed_ratio": a["steps_per_cpu_s"] / b["steps_per_cpu_s"],
        }
        rows.append(row)
        print(
            f"{name:<9}{a['test_nll']:>10.4f}{b['test_nll']:>10.4f}{row['nll_difference']:>+11.4f}"
            f"{a['steps_per_s']:>13,.0f}{b['steps_per_s']:>13,.0f}{row['speed_ratio']:>9.2f}"
            f"{row['cpu_speed_ratio']:>13.2f}"
        )
    print(
        "NLL: nats per example on the moons test split (lower is better); speed x: ours / "
        "zuko in wall-clock steps/s; cpu speed x: the same per CPU-second of this process."
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
        },
        "results": rows,
    }
    RESULTS.write_text(json.dumps(record, indent=2) + "\n")
    print(f"saved {RESULTS}")


if __name__ == "__main__":
    main()
