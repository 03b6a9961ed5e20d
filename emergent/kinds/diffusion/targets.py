"""The numbers the diffusion report states: readings of the cells (means over seeds, with
their ranges) and each target of the experiment checked against its anchor."""

from __future__ import annotations

import numpy as np

from emergent.kinds.diffusion import plots as diffusion_plots
from emergent.kinds.diffusion.config import DiffusionExperiment

SAMPLING_FAMILIES = ("vae", "ebm")
"""The zoo's families with a likelihood that is neither exact by construction (flows) nor
absent (GANs); diffusion's KL is compared with theirs."""

ANCHORS = {
    "modes": "VEEGAN 8 / 8 modes with 52.9 % and 24.6 / 25 with 40 % high-quality samples; "
    "PacGAN 7.8 / 8 and 24.8 / 25 (Srivastava et al. 2017; Lin et al. 2018)",
    "ddpm": "DDPM FID 3.17 on CIFAR-10 with all 1000 steps (Ho et al. 2020, table 1)",
    "ddim": "DDIM FID 4.16 at 100 steps against 4.04 at 1000 on CIFAR-10, 10x fewer steps "
    "(Song et al. 2021, table 1)",
    "guidance": "guidance trades diversity (FID) for fidelity (Inception score) as w grows "
    "(Ho & Salimans 2022, fig. 4)",
    "latent": "latent diffusion reaches pixel diffusion's quality at a fraction of the "
    "compute (Rombach et al. 2022, sec. 4.1)",
    "kl": "the zoo's VAE (IWAE bound) and EBM (quadrature) on the same toys",
}


def _stats(values: list[float]) -> tuple[float, float, float]:
    a = np.asarray(values, dtype=float)
    return float(a.mean()), float(a.min()), float(a.max())


def _yes(ok: bool | None) -> str:
    return "–" if ok is None else ("yes" if ok else "**no**")


def sweep_curve(cells: list[dict], sampler: str, key: str) -> diffusion_plots.Curve:
    """(S, mean, min, max) over seeds of `key` in the steps sweep of one sampler."""
    steps = sorted({r["steps"] for c in cells for r in c["sweep"] if r["sampler"] == sampler})
    rows = [
        _stats(
            [
                r[key]
                for c in cells
                for r in c["sweep"]
                if (r["sampler"], r["steps"]) == (sampler, s)
            ]
        )
        for s in steps
    ]
    return (np.array(steps), *(np.array(v) for v in zip(*rows, strict=True)))  # type: ignore[return-value]


def sweep_value(cells: list[dict], sampler: str, steps: int, key: str) -> float:
    values = [
        r[key] for c in cells for r in c["sweep"] if (r["sampler"], r["steps"]) == (sampler, steps)
    ]
    return float(np.mean(values)) if values else float("nan")


def guidance_curve(cells: list[dict], key: str) -> tuple[list[float], diffusion_plots.Curve]:
    weights = [r["guidance"] for r in cells[0]["guidance"]]
    rows = [_stats([c["guidance"][i][key] for c in cells]) for i in range(len(weights))]
    return weights, (np.array(weights), *(np.array(v) for v in zip(*rows, strict=True)))  # type: ignore[return-value]


def speed_ratios(cfg: DiffusionExperiment, speed: list[dict]) -> dict[str, float]:
    """Pixel's seconds over latent's (means over seeds of the interleaved medians): per
    diffusion training step, per step averaged over both stages, per sample."""

    def mean(key: str) -> float:
        return float(np.mean([r[key] for r in speed]))

    stage1, steps = cfg.latent.model.stage1_steps, cfg.latent.train.steps
    all_in = (
        stage1 * mean("autoencoder_step_s") + (steps - stage1) * mean("latent_step_s")
    ) / steps
    return {
        "step": mean("pixel_step_s") / mean("latent_step_s"),
        "all_in": mean("pixel_step_s") / all_in,
        "sample": mean("pixel_sample_s") / mean("latent_sample_s"),
    }


def targets(
    cfg: DiffusionExperiment,
    pixel: list[dict],
    latent: list[dict],
    toys: list[dict],
    zoo: list[dict],
    speed: list[dict] = (),
) -> list[list[str]]:
    """Each target: [target, measured, anchor, met?]."""
    out: list[list[str]] = []
    for dataset, total in (("ring8", 8), ("grid25", 25)):
        mine = [c for c in toys if c["dataset"] == dataset]
        if not mine:
            continue
        modes = [c["modes_covered"] for c in mine]
        quality = float(np.mean([c["high_quality"] for c in mine]))
        out.append(
            [
                f"{dataset}: {total} / {total} modes with ≥ 90 % high-quality samples",
                f"{np.mean(modes):.1f} / {total} (worst seed {min(modes)}), "
                f"{quality:.1%} high-quality",
                ANCHORS["modes"],
                _yes(min(modes) == total and quality >= 0.9),
            ]
        )
    if toys:
        parts, ok = [], []
        for dataset in dict.fromkeys(c["dataset"] for c in toys):
            kl = np.mean([c["kl"] for c in toys if c["dataset"] == dataset and "kl" in c])
            others = {}
            for family in SAMPLING_FAMILIES:
                values = [
                    c["kl"]
                    for c in zoo
                    if c["dataset"] == dataset and c["model"] == family and c.get("kl") is not None
                ]
                if values:
                    others[family] = float(np.mean(values))
            if others:
                best = min(others, key=others.get)
                parts.append(f"{dataset}: {kl:.2f} against {best} {others[best]:.2f}")
                ok.append(kl < others[best])
            else:
                parts.append(f"{dataset}: {kl:.2f} (no zoo row to compare)")
        out.append(
            [
                "toys: the smallest KL (nats) of the sampling-based families",
                "; ".join(parts),
                ANCHORS["kl"],
                _yes(all(ok) if ok else None),
            ]
        )
    if pixel:
        full = max(cfg.eval.ddpm_steps)
        ddpm_fd = sweep_value(pixel, "ddpm", full, "fd")
        floor = float(np.mean([c["sweep"][0]["fd_floor"] for c in pixel]))
        out.append(
            [
                f"digits: DDPM {full} steps FD ≤ 1.5 × the real-data floor",
                f"FD {ddpm_fd:.3f}, floor {floor:.3f}: {ddpm_fd / floor:.2f} × floor",
                ANCHORS["ddpm"],
                _yes(ddpm_fd <= 1.5 * floor),
            ]
        )
        s = cfg.eval.compare_steps
        ddim_fd = sweep_value(pixel, "ddim", s, "fd")
        faster = sweep_value(pixel, "ddpm", full, "seconds") / sweep_value(
            pixel, "ddim", s, "seconds"
        )
        most = max(cfg.eval.ddim_steps)
        ddim_most = sweep_value(pixel, "ddim", most, "fd")
        gaps = [
            sweep_value([c], "ddim", s, "fd") / sweep_value([c], "ddpm", full, "fd") - 1
            for c in pixel
        ]
        out.append(
            [
                f"digits: DDIM {s} steps FD within 10 % of DDPM {full} at ≥ 15 × less "
                "sampling time",
                f"FD {ddim_fd:.3f} against {ddpm_fd:.3f} ({ddim_fd / ddpm_fd - 1:+.1%}; per seed "
                f"{', '.join(f'{g:+.0%}' for g in gaps)}), {faster:.1f} × faster; against "
                f"DDIM {most} (the anchor's comparison) {ddim_fd / ddim_most - 1:+.1%}",
                ANCHORS["ddim"],
                _yes(ddim_fd <= 1.1 * ddpm_fd and faster >= 15),
            ]
        )
        weights, acc = guidance_curve(pixel, "accuracy")
        _, fd = guidance_curve(pixel, "fd")
        best = int(np.argmax(acc[1]))
        reached = [w for w, a in zip(weights, acc[1], strict=True) if a >= 0.95]
        text = f"best {acc[1][best]:.1%} at w = {weights[best]:g} (FD {fd[1][best]:.3f})"
        if reached:
            i = weights.index(reached[0])
            text += f"; ≥ 95 % from w = {reached[0]:g} ({acc[1][i]:.1%}, FD {fd[1][i]:.3f})"
        out.append(
            [
                "digits: a classifier recognises ≥ 95 % of guided samples as the requested digit",
                text,
                ANCHORS["guidance"],
                _yes(bool(reached)),
            ]
        )
    if pixel and latent and speed:
        s = cfg.eval.compare_steps
        ratios = speed_ratios(cfg, speed)
        fd_ratio = float(np.mean([c["compare"]["fd"] for c in latent])) / sweep_value(
            pixel, "ddim", s, "fd"
        )
        pixel_by_seed = {c["seed"]: c for c in pixel}
        per_seed = [
            c["compare"]["fd"] / sweep_value([pixel_by_seed[c["seed"]]], "ddim", s, "fd")
            for c in latent
            if c["seed"] in pixel_by_seed
        ]
        out.append(
            [
                "digits: latent diffusion ≥ 3 × faster per training step and per sample than "
                "pixel diffusion, at FD within 1.3 × of it",
                f"{ratios['step']:.1f} × per diffusion training step "
                f"({ratios['all_in']:.1f} × counting the autoencoder's "
                f"{cfg.latent.model.stage1_steps} steps), {ratios['sample']:.1f} × per sample "
                f"(DDIM {s}), FD {fd_ratio:.2f} × pixel's (per seed "
                f"{', '.join(f'{r:.2f}' for r in per_seed)})",
                ANCHORS["latent"],
                _yes(ratios["step"] >= 3 and ratios["sample"] >= 3 and fd_ratio <= 1.3),
            ]
        )
    return out
