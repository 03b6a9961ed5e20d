"""The training loop's EMA warm-up and mixed precision, on a model whose trajectory is known."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor, nn

from generative.base import GenerativeModel
from generative.data import DataInfo, Dataset
from generative.train import FitConfig, ema_decay, fit, resolve_amp

INFO = DataInfo("line", (1,), "continuous")


class Drift(GenerativeModel):
    """loss = w: Adam (no decay, no clipping at |g| = 1) moves w by -lr every step, exactly
    up to Adam's epsilon, so the EMA of the weights has a closed form. Records the autocast
    state it saw."""

    def __init__(self) -> None:
        super().__init__(INFO)
        self.w = nn.Parameter(torch.zeros(()))
        self.seen: list[torch.dtype | None] = []

    def loss(
        self, x: Tensor, y: Tensor | None = None, group: str = "model", *, step: int | None = None
    ) -> dict[str, Tensor]:
        on = torch.is_autocast_enabled("cpu")
        self.seen.append(torch.get_autocast_dtype("cpu") if on else None)
        return {"loss": self.w + 0 * x.sum()}

    def sample(self, n: int, cond: Tensor | None = None, gen: torch.Generator | None = None):
        return self.w.detach().expand(n, 1)


def data() -> Dataset:
    x = torch.zeros(8, 1)
    return Dataset(INFO, x, x, x)


def expected_ema(steps: int, lr: float, decay: float, warmup: bool) -> float:
    ema, w = 0.0, 0.0
    for k in range(steps):
        w -= lr
        d = ema_decay(decay, k, warmup)
        ema = d * ema + (1 - d) * w
    return ema


@pytest.mark.parametrize("warmup", [True, False])
def test_ema_follows_the_warm_up_schedule(warmup):
    cfg = FitConfig(steps=40, batch_size=4, lr=0.1, ema=0.999, ema_warmup=warmup, device="cpu")
    result = fit(Drift(), data(), cfg)
    assert result.model.w.item() == pytest.approx(-4.0, abs=1e-4)
    assert result.ema_model.w.item() == pytest.approx(
        expected_ema(40, 0.1, 0.999, warmup), abs=1e-4
    )
    # what the warm-up is for: a short run's average is not stuck at the initial weights
    moved = result.ema_model.w.item() / result.model.w.item()
    assert (moved > 0.5) if warmup else (moved < 0.03)


def test_ema_decay_ramps_up_to_the_configured_value():
    assert ema_decay(0.999, 0) == pytest.approx(0.1)  # 1 / 10 after the first update
    assert ema_decay(0.999, 90) == pytest.approx(91 / 100)
    assert ema_decay(0.9, 10_000) == 0.9 and ema_decay(0.9, 0, warmup=False) == 0.9


def test_amp_runs_the_loss_under_autocast_and_auto_is_off_on_cpu():
    model = Drift()
    fit(model, data(), FitConfig(steps=2, batch_size=4, amp="bf16", device="cpu"))
    assert model.seen == [torch.bfloat16, torch.bfloat16]
    model = Drift()
    fit(model, data(), FitConfig(steps=2, batch_size=4, amp="auto", device="cpu"))
    assert model.seen == [None, None] and resolve_amp("auto", torch.device("cpu")) is None
    with pytest.raises(ValueError, match="amp='fp8'; allowed: off, auto, bf16, fp16"):
        FitConfig(amp="fp8")
