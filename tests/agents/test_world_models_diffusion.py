"""The diffusion world model (DIAMOND): config checks, packing, imagination shapes and seeds,
learning on Wolfpack experience, and resume through `generative.train.fit`."""

from __future__ import annotations

import pytest
import torch

import envs
from agents.world_models.base import Segments, WorldModel
from agents.world_models.data import collect
from agents.world_models.diffusion import (
    DiffusionWorldConfig,
    DiffusionWorldModel,
)
from generative.data import Dataset
from generative.train import FitConfig, fit

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SMALL = {"channels": (8, 16), "embed_dim": 16, "head_channels": (4, 8), "head_dim": 16}
WOLFPACK, COMMONS = ((11, 11, 3), 7), ((15, 15, 3), 8)


def small_model(view_shape=(11, 11, 3), num_actions=7, **cfg) -> DiffusionWorldModel:
    torch.manual_seed(0)
    config = DiffusionWorldConfig(**{**SMALL, **cfg})
    return DiffusionWorldModel(view_shape, num_actions, 10, config)


@pytest.fixture(scope="module")
def wolfpack_data() -> tuple[Segments, Segments]:
    env = envs.make("wolfpack", batch_size=4, seed=0, max_steps=50)
    return collect(env, steps=1200, length=10, seed=0).split(0.25, seed=0)


def held_out_loss(model: DiffusionWorldModel, x: torch.Tensor) -> float:
    torch.manual_seed(123)  # the same noise levels and noise for every model compared
    with torch.no_grad():
        return float(model.loss(x)["loss"])


@pytest.fixture(scope="module")
def trained(wolfpack_data, one_torch_thread):
    train, val = wolfpack_data
    cfg = {"channels": (16, 32), "embed_dim": 32, "head_channels": (8, 16), "head_dim": 32}
    model = small_model(**cfg)
    x_train, x_val = model.examples(train), model.examples(val)
    before = held_out_loss(model, x_val)
    data = Dataset(model.info, x_train, x_val, x_val)
    fit(model, data, FitConfig(steps=300, batch_size=32, lr=2e-3, device="cpu"))
    return model, before, held_out_loss(model, x_val)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("context", 0),
        ("channels", ()),
        ("blocks", 0),
        ("embed_dim", 7),
        ("head_channels", (0,)),
        ("head_dim", 0),
        ("sigma_data", 0.0),
        ("p_mean", float("nan")),
        ("p_std", -1.0),
        ("sigma_min", 0.0),
        ("sigma_max", 1e-3),
        ("rho", 0.0),
        ("sampler", "heun"),
        ("steps", 0),
        ("ddpm_timesteps", 1),
        ("objective", "score"),
    ],
)
def test_config_rejects_bad_values_in_one_line(key, value):
    with pytest.raises(ValueError, match=key) as err:
        DiffusionWorldConfig(**{key: value})
    assert "\n" not in str(err.value)


def test_model_rejects_bad_shapes_and_sampling_overrides():
    with pytest.raises(ValueError, match="view_shape"):
        DiffusionWorldModel((11, 11), 7, 10)
    model = small_model()
    state = model.start(torch.rand(2, 4, 11, 11, 3), torch.zeros(2, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="views"):
        model.start(torch.rand(2, 3, 11, 11, 3), torch.zeros(2, 2, dtype=torch.long))
    with pytest.raises(ValueError, match="sampler"):
        model.imagine(state, torch.zeros(2, dtype=torch.long), None, sampler="heun")
    with pytest.raises(ValueError, match="steps=5000"):
        model.imagine(state, torch.zeros(2, dtype=torch.long), None, sampler="ddpm", steps=5000)


def test_ddpm_objective_samples_with_the_ddpm_sampler_only():
    with pytest.raises(ValueError, match="objective 'ddpm' samples with sampler 'ddpm'") as err:
        DiffusionWorldConfig(objective="ddpm")  # the default sampler is 'edm'
    assert "\n" not in str(err.value)
    model = small_model(objective="ddpm", sampler="ddpm")
    state = model.start(torch.rand(2, 4, 11, 11, 3), torch.zeros(2, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="EDM-trained"):
        model.imagine(state, torch.zeros(2, dtype=torch.long), None, sampler="edm")


class NoiseOracle(torch.nn.Module):
    """A stand-in for the U-Net that knows the clean next frame x0 and so returns the exact
    noise of any x_t: eps = (x_t - sqrt(ab_t) x0) / sqrt(1 - ab_t)."""

    def __init__(self, x0: torch.Tensor, alpha_bar: torch.Tensor) -> None:
        super().__init__()
        self.x0, self.alpha_bar = x0, alpha_bar

    def forward(self, inputs, t, actions):
        C = self.x0.shape[1]
        ab = self.alpha_bar[t].float().view(-1, 1, 1, 1)
        return (inputs[:, -C:] - ab.sqrt() * self.x0) / (1 - ab).sqrt()


def test_ddpm_objective_targets_the_noise_and_its_sampler_lands_on_x0(wolfpack_data):
    """With a network that predicts the noise exactly, the DDPM loss is zero and DDPM's
    sampler at 1, 3 or 1000 steps returns the clean next view (x0 is recovered at every step)."""
    model = small_model(objective="ddpm", sampler="ddpm")
    x = model.examples(wolfpack_data[1])[:6]
    views, actions, _, _ = model.unpack(x)
    x0 = model._to_model(views)[:, -1]  # (B, C, Hp, Wp) in [-1, 1]
    model.net = NoiseOracle(x0, model.alpha_bar)
    torch.manual_seed(0)
    assert float(model.loss(x)["denoise"]) < 1e-8
    state = model.start(views[:, :4], torch.zeros(6, 3, dtype=torch.long))
    for steps in (1, 3, 1000):
        gen = torch.Generator().manual_seed(steps)
        out = model.imagine(state, actions, gen, steps=steps)[1].views
        torch.testing.assert_close(out, views[:, -1], atol=1e-4, rtol=0)


@pytest.mark.slow
def test_ddpm_objective_training_lowers_its_held_out_loss(wolfpack_data, one_torch_thread):
    train, val = wolfpack_data
    model = small_model(objective="ddpm", sampler="ddpm")
    x_train, x_val = model.examples(train), model.examples(val)
    before = held_out_loss(model, x_val)
    fit(model, Dataset(model.info, x_train, x_val, x_val),
        FitConfig(steps=150, batch_size=32, lr=2e-3, device="cpu"))  # fmt: skip
    after = held_out_loss(model, x_val)
    assert after < 0.5 * before, (before, after)
    state = model.start(torch.rand(3, 4, 11, 11, 3), torch.zeros(3, 3, dtype=torch.long))
    a = torch.arange(3)
    first = model.imagine(state, a, torch.Generator().manual_seed(1), steps=3)[1]
    again = model.imagine(state, a, torch.Generator().manual_seed(1), steps=3)[1]
    torch.testing.assert_close(first.views, again.views, rtol=0, atol=0)
    assert first.views.shape == (3, 11, 11, 3)


def test_is_a_world_model_trained_in_one_stage(wolfpack_data):
    model = small_model()
    assert isinstance(model, WorldModel)
    assert (model.view_shape, model.num_actions, model.context, model.length) == (
        (11, 11, 3),
        7,
        4,
        10,
    )
    (stage,) = model.stages(wolfpack_data[1])
    assert stage.name == "diffusion" and stage.module is model
    torch.testing.assert_close(stage.data().train, model.examples(wolfpack_data[1]))


def test_examples_pack_context_next_view_and_transition(wolfpack_data):
    segments, _ = wolfpack_data
    model = small_model(context=3)
    x = model.examples(segments)
    N, T = len(segments), segments.length
    assert x.shape == (N * T, model.info.dim) and x.dtype == torch.float32
    views, actions, rewards, ends = model.unpack(x)
    views = views.reshape(N, T, 4, 11, 11, 3)
    real = torch.from_numpy(segments.views).float() / 255  # (N, T + 1, H, W, C)
    for t in (0, 1, 5):  # context t-2..t, earlier frames copies of the first
        expected = real[:, [max(t + d, 0) for d in (-2, -1, 0, 1)]]
        torch.testing.assert_close(views[:, t], expected)
    torch.testing.assert_close(actions.reshape(N, T), torch.from_numpy(segments.actions))
    torch.testing.assert_close(rewards.reshape(N, T), torch.from_numpy(segments.rewards))
    torch.testing.assert_close(ends.reshape(N, T), torch.from_numpy(segments.ends).float())


@pytest.mark.parametrize(("view_shape", "num_actions"), [WOLFPACK, COMMONS])
@pytest.mark.parametrize("sampler", ["edm", "ddpm"])
def test_imagine_shapes_range_and_state(view_shape, num_actions, sampler):
    model = small_model(view_shape, num_actions, context=2, sampler=sampler)
    n = 3
    views = torch.rand(n, 2, *view_shape)
    state = model.start(views, torch.tensor([[1], [2], [3]]))
    actions = torch.tensor([0, 1, num_actions - 1])
    new, out = model.imagine(state, actions, torch.Generator().manual_seed(0))
    assert out.views.shape == (n, *view_shape) and out.views.dtype == torch.float32
    assert out.views.min() >= 0 and out.views.max() <= 1
    assert out.rewards.shape == (n,) and out.ends.shape == (n,)
    assert ((out.ends >= 0) & (out.ends <= 1)).all()
    torch.testing.assert_close(new.views[:, 0], views[:, 1])
    torch.testing.assert_close(new.views[:, 1], out.views)
    assert new.actions.tolist() == [[0], [1], [num_actions - 1]]


@pytest.mark.slow  # the module's trained model: 300 steps, about 8 s once
@pytest.mark.parametrize("sampler", ["edm", "ddpm"])
def test_same_seed_same_imagination(trained, sampler):
    model = trained[0]
    state = model.start(torch.rand(4, 4, 11, 11, 3), torch.zeros(4, 3, dtype=torch.long))
    actions = torch.arange(4)

    def run(seed: int) -> torch.Tensor:
        _, out = model.imagine(state, actions, torch.Generator().manual_seed(seed), sampler=sampler)
        return out.views

    torch.testing.assert_close(run(0), run(0), rtol=0, atol=0)
    assert (run(0) - run(1)).abs().max() > 1e-3


@pytest.mark.slow
def test_zero_temperature_euler_is_deterministic(trained):
    model = trained[0]
    state = model.start(torch.rand(2, 4, 11, 11, 3), torch.zeros(2, 3, dtype=torch.long))
    views = [
        model.imagine(state, torch.tensor([1, 2]), torch.Generator().manual_seed(s), 0.0)[1].views
        for s in (0, 1)
    ]
    torch.testing.assert_close(views[0], views[1], rtol=0, atol=0)


@pytest.mark.slow
def test_training_lowers_the_held_out_loss(trained):
    _, before, after = trained
    assert after < 0.5 * before, (before, after)


@pytest.mark.slow
def test_one_step_ddpm_and_euler_both_return_the_denoiser_near_sigma_max(trained, wolfpack_data):
    """One step of either sampler is D(sigma_max z) (DDPM at its sigma_t* just below sigma_max)."""
    model = trained[0]
    views, _, _, _ = model.unpack(model.examples(wolfpack_data[1])[:8])
    state = model.start(views[:, :4], torch.zeros(8, 3, dtype=torch.long))
    outs = [
        model.imagine(
            state,
            torch.zeros(8, dtype=torch.long),
            torch.Generator().manual_seed(0),
            sampler=s,
            steps=1,
        )[1].views
        for s in ("edm", "ddpm")
    ]
    assert (outs[0] - outs[1]).abs().max() < 0.05


def test_sample_gives_packed_rows():
    model = small_model()
    x = model.sample(3, gen=torch.Generator().manual_seed(0))
    assert x.shape == (3, model.info.dim)
    views, actions, _, ends = model.unpack(x)
    assert (views[:, :4] == 0).all() and ((views >= 0) & (views <= 1)).all()
    assert ((actions >= 0) & (actions < 7)).all() and ((ends >= 0) & (ends <= 1)).all()


def test_resume_through_fit_equals_one_run(wolfpack_data, tmp_path):
    train, val = wolfpack_data
    cfg = {"channels": (4, 8), "embed_dim": 8, "head_channels": (4,), "head_dim": 8, "context": 2}
    x_train = small_model(**cfg).examples(train)[:64]
    x_val = small_model(**cfg).examples(val)[:16]

    def run(steps: int, model: DiffusionWorldModel, checkpoint=None) -> DiffusionWorldModel:
        data = Dataset(model.info, x_train, x_val, x_val)
        fit(model, data, FitConfig(steps=steps, batch_size=8, device="cpu"), checkpoint)
        return model

    whole = run(6, small_model(**cfg))
    path = tmp_path / "ckpt.pt"
    run(3, small_model(**cfg), path)
    resumed = run(6, small_model(**cfg), path)
    for (name, a), b in zip(whole.state_dict().items(), resumed.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=name)
