"""Measure a trained generative model the same way for every family.

Likelihood (test NLL in nats per example and bits per dimension; for dequantized data the
bound on the discrete data's NLL; for toys KL = NLL − true entropy), samples and sampling
time, Fréchet distance on the shared feature space with its real-data floor, KID, MMD (toys),
precision/recall/density/coverage, and mode coverage for the Gaussian-mixture toys.
"""

from __future__ import annotations

import inspect
import time
from typing import Any

import numpy as np
import torch
from torch import Tensor

from generative.base import GenerativeModel
from generative.data import Dataset, toys
from generative.metrics import features, frechet, kernel, likelihood, modes, prdc

MODE_SAMPLES = 2500  # the VEEGAN / PacGAN protocol
NLL_CHUNK = 256


@torch.no_grad()
def test_nll(
    model: GenerativeModel, data: Dataset, iwae_k: int = 1000, seed: int = 0, draws: int = 2
) -> float:
    """Mean test NLL in nats per example; for dequantized data the discrete-data bound
    −E_u log p((x+u)/L) + D log L averaged over `draws` noise draws (Theis et al. 2016)."""
    gen = torch.Generator().manual_seed(seed)
    takes_k = "k" in inspect.signature(model.log_prob).parameters
    device = model.device
    total, count = 0.0, 0
    for _ in range(draws if data.info.kind == "dequantized" else 1):
        for start in range(0, len(data.test), NLL_CHUNK):
            x = data.dequantize(data.test[start : start + NLL_CHUNK], gen).to(device)
            y = None if data.test_labels is None else data.test_labels[start : start + NLL_CHUNK]
            y = y.to(device) if y is not None else None
            log_p = model.log_prob(x, y, k=iwae_k) if takes_k else model.log_prob(x, y)
            if data.info.kind == "dequantized":
                nll = likelihood.dequantized_nll_bound(
                    log_p.double().cpu(), data.info.dim, data.info.num_categories
                )
            else:
                nll = -log_p.double().cpu()
            total += float(nll.sum())
            count += len(x)
    return total / count


def real_pool(data: Dataset) -> Tensor:
    """All real examples (train, val and test) for the sample-quality reference."""
    return torch.cat([data.train, data.val, data.test])


@torch.no_grad()
def evaluate(
    model: GenerativeModel,
    data: Dataset,
    samples: int = 2000,
    iwae_k: int = 1000,
    seed: int = 0,
    data_options: dict | None = None,
) -> tuple[dict[str, Any], Tensor]:
    """All metrics of one trained model, and the samples they were computed on.

    Sample-quality metrics compare m = min(samples, N/2) model samples with m examples from
    one random half of the real data; the floor is the same metric between the two halves.
    """
    info = data.info
    model.eval()
    metrics: dict[str, Any] = {"likelihood": model.likelihood}
    if model.likelihood != "none":
        try:
            nll = test_nll(model, data, iwae_k, seed)
        except NotImplementedError:
            metrics["likelihood"] = "none"
        else:
            metrics["nll"] = nll
            metrics["bits_per_dim"] = float(likelihood.bits_per_dim(nll, info.dim))
    toy = None
    if info.name in toys.DENSITIES:
        toy = toys.density(info.name, **_toy_options(data_options))
        metrics["entropy"] = toy.entropy()
        if "nll" in metrics:
            metrics["kl"] = float(likelihood.kl_from_nll(metrics["nll"], metrics["entropy"]))

    rng = np.random.default_rng(seed)
    real = real_pool(data)
    order = rng.permutation(len(real))
    half = len(real) // 2
    real_a, real_b = real[order[:half]], real[order[half : 2 * half]]
    n = max(min(samples, half), MODE_SAMPLES if toy is not None and hasattr(toy, "modes") else 0)
    gen = torch.Generator(device=model.device).manual_seed(seed)
    began = time.perf_counter()
    drawn = model.sample(n, gen=gen)
    if model.device.type == "cuda":
        torch.cuda.synchronize()
    metrics["sample_seconds"] = time.perf_counter() - began
    metrics["samples_per_s"] = n / max(metrics["sample_seconds"], 1e-9)
    drawn = drawn.detach().float().cpu()

    m = min(n, half)  # equal sizes: FD and the k-NN metrics are biased by sample size
    real_a, real_b = real_a[:m], real_b[:m]
    emb_a = features.embed(real_a, info, seed=0)
    emb_b = features.embed(real_b, info, seed=0)
    emb_fake = features.embed(_finite(drawn[:m]), info, seed=0)
    metrics["fd"] = frechet.frechet_distance(emb_fake, emb_a)
    metrics["fd_floor"] = frechet.frechet_distance(emb_b, emb_a)
    metrics.update(prdc.prdc(emb_a, emb_fake))
    if info.dim <= 2:
        metrics["mmd2"] = kernel.mmd2(emb_fake, emb_a)
    else:
        result = kernel.kid(emb_fake, emb_a, rng=rng, subset_size=min(1000, m))
        metrics["kid"], metrics["kid_std"] = result.mean, result.std
    if info.shape == (1, 8, 8):
        metrics["sharpness"] = total_variation(to_unit(drawn[:m], info.kind)) / total_variation(
            to_unit(real_a, info.kind)
        )
    if toy is not None and hasattr(toy, "modes"):
        coverage = modes.mode_coverage(drawn[:MODE_SAMPLES].numpy(), toy.modes, toy.std)
        metrics["modes_covered"] = int(coverage.modes_covered)
        metrics["modes_total"] = len(toy.modes)
        metrics["high_quality"] = float(coverage.high_quality)
    return metrics, drawn


def to_unit(x: Tensor, kind: str) -> Tensor:
    """Digit images of either view in [0, 1] (levels / 16), unrounded."""
    scale = 1.0 / 16.0 if kind == "categorical" else 17.0 / 16.0
    return (_finite(x.float()) * scale).clamp(0.0, 1.0)


def total_variation(x: Tensor) -> float:
    """Mean absolute difference between neighbouring pixels of (N, C, H, W) images.

    Blurry samples (a VAE's decoder means) score below the data; noisy ones above.
    """
    dy = (x[..., 1:, :] - x[..., :-1, :]).abs().mean()
    dx = (x[..., :, 1:] - x[..., :, :-1]).abs().mean()
    return float((dx + dy) / 2)


def _finite(x: Tensor) -> Tensor:
    """Non-finite samples (a diverged model) become zeros so the metrics still say how bad."""
    return torch.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)


def _toy_options(options: dict | None) -> dict:
    """The loader's options that shape the density (not the split sizes)."""
    return {k: v for k, v in (options or {}).items() if not k.startswith("n_")}
