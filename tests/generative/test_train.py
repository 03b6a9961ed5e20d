"""The training loop's EMA warm-up and mixed precision, on a model whose trajectory is known."""

from __future__ import annotations

import math

import pytest
import torch
from torch import Tensor, nn

from generative.base import GenerativeModel
from generative.data import DataInfo, Dataset
from generative.train import (
    FitConfig,
    Windows,
    _lr_scale,
    build_optimizers,
    ema_decay,
    fit,
    resolve_amp,
)

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


def test_a_fit_stopped_mid_epoch_and_mid_log_window_resumes_to_the_same_numbers(tmp_path):
    """Stopped at step 25 with its checkpoint at 21 (neither an epoch's end nor a log row's
    step), the resumed fit draws the same batches and logs the same rows as one never stopped."""
    from generative import registry

    data = registry.load_data("moons", seed=0, n_train=200, n_val=20, n_test=20)
    cfg = FitConfig(steps=40, batch_size=64, log_every=5, checkpoint_every=7, seed=3)

    def fresh() -> GenerativeModel:
        torch.manual_seed(0)
        return registry.make("vae", data.info, {"latent_dim": 2, "hidden": [16]})

    never_stopped = fit(fresh(), data, cfg, checkpoint=tmp_path / "a.pt")

    def stop_at_25(row: dict) -> None:
        if row["step"] == 25:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fit(fresh(), data, cfg, checkpoint=tmp_path / "b.pt", on_log=stop_at_25)
    resumed = fit(fresh(), data, cfg, checkpoint=tmp_path / "b.pt")

    assert [row["step"] for row in resumed.history] == list(range(5, 41, 5))
    assert resumed.history == never_stopped.history  # rows before the checkpoint kept too
    for a, b in zip(
        resumed.model.state_dict().values(), never_stopped.model.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b)


# --- token streams and nanoGPT's schedule --------------------------------------------------


def nanogpt_get_lr(it: int, lr: float, min_lr: float, warmup: int, decay_iters: int) -> float:
    """nanoGPT's `train.py:get_lr`, verbatim but for the names."""
    if it < warmup:
        return lr * (it + 1) / (warmup + 1)
    if it > decay_iters:
        return min_lr
    decay_ratio = (it - warmup) / (decay_iters - warmup)
    coeff = 0.5 * (1.0 + math.cos(math.pi * decay_ratio))
    return min_lr + coeff * (lr - min_lr)


def test_the_schedule_is_nanogpts_and_the_defaults_keep_the_plain_cosine():
    cfg = FitConfig(
        steps=2000, lr=1e-3, lr_min=1e-4, warmup_steps=100, lr_schedule="cosine", device="cpu"
    )
    for step in (0, 1, 50, 99, 100, 101, 1000, 1999):
        expected = nanogpt_get_lr(step, 1e-3, 1e-4, 100, 2000)
        assert 1e-3 * _lr_scale(cfg, step) == pytest.approx(expected, rel=1e-12)
    plain = FitConfig(steps=300, lr_schedule="cosine")
    for step in range(300):  # bit for bit the earlier formula: earlier runs keep their numbers
        assert _lr_scale(plain, step) == 0.5 * (1 + math.cos(math.pi * step / 300))
    warm = FitConfig(steps=10, warmup_steps=4)
    assert [_lr_scale(warm, k) for k in range(6)] == [0.2, 0.4, 0.6, 0.8, 1.0, 1.0]


def test_new_fit_settings_are_bounded_in_one_line():
    with pytest.raises(ValueError, match=r"^lr_min=0.01; must be at most lr=0.001$"):
        FitConfig(lr_min=0.01)
    with pytest.raises(ValueError, match=r"^warmup_steps=11; must be at most steps=10$"):
        FitConfig(steps=10, warmup_steps=11)
    with pytest.raises(ValueError, match=r"^beta2=1.0; must be a number in \[0, 1\)$"):
        FitConfig(beta2=1.0)


def test_beta2_reaches_adamw_and_a_players_own_betas_win():
    model = Drift()
    (optimizer,) = build_optimizers(model, FitConfig(beta2=0.99)).values()
    assert optimizer.param_groups[0]["betas"] == (0.9, 0.99)
    (optimizer,) = build_optimizers(model, FitConfig()).values()
    assert optimizer.param_groups[0]["betas"] == (0.9, 0.999)  # torch's default, as before


def test_windows_are_nanogpts_get_batch_on_the_fits_generator():
    stream = torch.arange(1000)
    windows = Windows(stream, 65, 12, torch.Generator().manual_seed(5))
    x, y = windows.next()
    # nanoGPT: ix = torch.randint(len(data) - block_size, (batch_size,)), x = data[i:i+64]
    ix = torch.randint(1000 - 64, (12,), generator=torch.Generator().manual_seed(5))
    assert y is None and x.shape == (12, 65)
    assert torch.equal(x, torch.stack([stream[i : i + 65] for i in ix]))
    with pytest.raises(ValueError, match="at least 65 tokens"):
        Windows(stream[:64], 65, 12, torch.Generator())


def test_a_token_stream_fit_stopped_mid_log_window_resumes_to_the_same_numbers(tmp_path):
    from generative import registry
    from generative.text.streams import token_dataset

    stream = torch.as_tensor([(3 * i + i // 7) % 11 for i in range(3000)])
    data = token_dataset(stream, stream[:200], 11, 16)
    cfg = FitConfig(
        steps=30, batch_size=4, log_every=5, checkpoint_every=7, warmup_steps=5,
        lr_min=1e-4, lr_schedule="cosine", beta2=0.99, weight_decay=0.1, seed=2, device="cpu",
    )  # fmt: skip

    def fresh() -> GenerativeModel:
        torch.manual_seed(0)
        options = {"n_layer": 1, "n_head": 1, "n_embd": 8, "block_size": 16}
        return registry.make("transformer", data.info, options)

    never_stopped = fit(fresh(), data, cfg, checkpoint=tmp_path / "a.pt")

    def stop_at_20(row: dict) -> None:
        if row["step"] == 20:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fit(fresh(), data, cfg, checkpoint=tmp_path / "b.pt", on_log=stop_at_20)
    resumed = fit(fresh(), data, cfg, checkpoint=tmp_path / "b.pt")
    assert resumed.steps == 16  # from the checkpoint at step 14
    assert resumed.history == never_stopped.history
    for a, b in zip(
        resumed.model.state_dict().values(), never_stopped.model.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b)
