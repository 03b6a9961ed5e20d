"""World models (`agents.world_models`): recorded experience, the MDN-RNN's mixture, the
VAE + MDN-RNN model trained by the generative loop, its open-loop measurements, save and load."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.distributions import Categorical, MixtureSameFamily, Normal

import agents.world_models as world_models
import envs
from agents.world_models.base import Segments, WorldModel
from agents.world_models.data import collect
from agents.world_models.evaluate import (
    copy_last_errors,
    off_palette,
    open_loop,
    reward_scores,
)
from agents.world_models.mdn_rnn import mixture_log_prob, sample_mixture
from generative.checkpoint import CheckpointError
from generative.train import FitConfig, fit

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def wolfpack(batch_size: int = 4, max_steps: int = 40) -> envs.BatchedEnv:
    return envs.make("wolfpack", batch_size=batch_size, seed=0, max_steps=max_steps)


@pytest.fixture(scope="module")
def segments() -> Segments:
    return collect(wolfpack(8, 64), 16_000, 16, seed=0)


@pytest.fixture(scope="module")
def trained(segments):
    """A small V + M fitted on random play in Wolfpack (about 10 s on one core)."""
    torch.manual_seed(0)
    train, held_out = segments.split(0.2, 0, group=2)
    model = world_models.make(
        "vae_rnn",
        segments.view_shape,
        7,
        16,
        latent_dim=16,
        channels=(16, 32),
        hidden=(128,),
        rnn_hidden=64,
    )
    budgets = {
        "vae": FitConfig(steps=800, batch_size=64),
        "rnn": FitConfig(steps=500, batch_size=32),
    }
    for stage in model.stages(train):
        fit(stage.module, stage.data(), budgets[stage.name])
    return model.eval(), held_out


# -- experience --------------------------------------------------------------------------------


def test_collect_cuts_every_agent_stream_into_segments_that_replay_the_world():
    env = wolfpack(batch_size=3, max_steps=10)
    found = collect(env, 96, 4, seed=5)  # 2 episodes x 2 segments x 6 streams x 4 steps
    assert found.views.shape == (3 * 2 * 2 * 2, 5, 11, 11, 3)
    assert found.views.dtype == np.uint8 and found.actions.dtype == np.int64
    # the first segment of every stream starts at the reset of seed 5, agent-major within copies
    first = env.reset(seed=5).reshape(6, 11, 11, 3)
    np.testing.assert_array_equal(found.views[:6, 0], first)
    # a segment's last view is the next segment's first (the same episode, cut at T = 4)
    np.testing.assert_array_equal(found.views[:6, -1], found.views[6:12, 0])
    again = collect(wolfpack(batch_size=3, max_steps=10), 96, 4, seed=5)
    np.testing.assert_array_equal(found.views, again.views)
    np.testing.assert_array_equal(found.actions, again.actions)


def test_collect_refuses_segments_longer_than_an_episode_and_worlds_without_views():
    with pytest.raises(ValueError, match="max_steps"):
        collect(wolfpack(max_steps=10), 100, 11, seed=0)
    with pytest.raises(ValueError, match="views"):
        collect(envs.make("spread", batch_size=2, seed=0), 100, 5, seed=0)


def test_segments_round_trip_and_split_by_whole_groups(tmp_path, segments):
    path = tmp_path / "s.npz"
    segments.save(path)
    back = Segments.load(path)
    np.testing.assert_array_equal(back.views, segments.views)
    np.testing.assert_array_equal(back.rewards, segments.rewards)
    train, val = segments.split(0.25, seed=1, group=2)
    assert len(train) + len(val) == len(segments) and len(train) % 2 == 0 and len(val) % 2 == 0
    # every held-out pair is two agents of one copy at one moment: recorded together
    marked = Segments(segments.views, segments.actions, segments.rewards.copy(), segments.ends)
    marked.rewards[:, 0] = np.arange(len(segments))
    _, val = marked.split(0.25, seed=1, group=2)
    first, second = val.rewards[0::2, 0], val.rewards[1::2, 0]
    assert (first % 2 == 0).all() and (second == first + 1).all()
    with pytest.raises(ValueError, match="groups"):
        segments.subset(slice(0, 3)).split(0.5, 0, group=2)


# -- the mixture ---------------------------------------------------------------------------------


def test_mixture_log_prob_equals_torch_distributions():
    g = torch.Generator().manual_seed(0)
    logits, mu = torch.randn(6, 4, 5, generator=g), torch.randn(6, 4, 5, generator=g)
    log_sigma = torch.randn(6, 4, 5, generator=g) * 0.5
    z = torch.randn(6, 4, generator=g)
    reference = MixtureSameFamily(Categorical(logits=logits), Normal(mu, log_sigma.exp()))
    torch.testing.assert_close(mixture_log_prob(z, logits, mu, log_sigma), reference.log_prob(z))


def test_sampling_follows_the_weights_and_temperature_sharpens_them():
    logits = torch.log(torch.tensor([0.7, 0.3])).expand(20_000, 1, 2)
    mu = torch.tensor([-5.0, 5.0]).expand(20_000, 1, 2)
    log_sigma = torch.full((20_000, 1, 2), np.log(0.1))
    gen = torch.Generator().manual_seed(0)
    z = sample_mixture(logits, mu, log_sigma, 1.0, gen)
    assert (z < 0).float().mean().item() == pytest.approx(0.7, abs=0.02)
    assert z[z < 0].std().item() == pytest.approx(0.1, rel=0.05)
    cold = sample_mixture(logits, mu, log_sigma, 0.25, gen)  # weights 0.7^4 : 0.3^4
    assert (cold < 0).float().mean().item() == pytest.approx(0.7**4 / (0.7**4 + 0.3**4), abs=0.02)
    assert cold[cold < 0].std().item() == pytest.approx(0.05, rel=0.05)


# -- the model -------------------------------------------------------------------------------------


def test_families_and_settings_are_checked_in_one_line():
    with pytest.raises(KeyError, match="known: vae_rnn"):
        world_models.make("gan", (11, 11, 3), 7, 16)
    with pytest.raises(ValueError, match="unknown option"):
        world_models.make("vae_rnn", (11, 11, 3), 7, 16, latent=3)
    with pytest.raises(ValueError, match="latent_dim"):
        world_models.make("vae_rnn", (11, 11, 3), 7, 16, latent_dim=0)


def test_imagination_has_the_world_shapes_and_replays_from_a_seed(segments):
    model = world_models.make("vae_rnn", segments.view_shape, 7, 16, latent_dim=8).eval()
    assert isinstance(model, WorldModel)
    views = torch.from_numpy(segments.views[:5, :1]).float() / 255
    runs = []
    for _ in range(2):
        state = model.start(views, torch.zeros(5, 0, dtype=torch.long))
        gen = torch.Generator().manual_seed(3)
        state, out = model.imagine(state, torch.arange(5), gen, temperature=1.15)
        runs.append(out)
    assert runs[0].views.shape == (5, 11, 11, 3) and runs[0].rewards.shape == (5,)
    assert runs[0].views.min() >= 0 and runs[0].views.max() <= 1
    assert ((runs[0].ends >= 0) & (runs[0].ends <= 1)).all()
    torch.testing.assert_close(runs[0].views, runs[1].views)
    with pytest.raises(ValueError, match="temperature"):
        model.imagine(state, torch.arange(5), gen, temperature=0.0)


def test_a_trained_model_predicts_better_than_copying_and_uses_the_actions(trained):
    model, held_out = trained
    errors = open_loop(model, held_out, 10, seed=0)["mse"]
    shuffled = open_loop(model, held_out, 10, seed=0, shuffled=True)["mse"]
    copy = copy_last_errors(held_out, 10)
    assert errors[-1] < 0.8 * copy[-1]  # ten steps ahead it beats "nothing changes" clearly
    assert shuffled.sum() > 1.1 * errors.sum()  # and it needs the real actions for that
    assert (np.diff(copy) > -0.01).all()  # the baseline itself worsens with the horizon


def test_reward_scores_compare_rounded_rewards(trained):
    model, held_out = trained
    scores = reward_scores(model, held_out, seed=0)
    rewarded = float((held_out.rewards != 0).mean())
    assert scores["rewarded_fraction"] == pytest.approx(rewarded)
    assert scores["reward_accuracy"] >= 1 - rewarded - 0.01


def test_save_and_load_rebuild_the_same_dream(tmp_path, trained):
    model, held_out = trained
    world_models.save(tmp_path / "wm.pt", model, "vae_rnn", {"name": "wolfpack", "options": {}})
    saved = world_models.load(tmp_path / "wm.pt")
    assert saved.family == "vae_rnn" and saved.world == {"name": "wolfpack", "options": {}}
    a = open_loop(model, held_out, 3, seed=1)["mse"]
    b = open_loop(saved.model, held_out, 3, seed=1)["mse"]
    np.testing.assert_allclose(a, b)
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="corrupt"):
        world_models.load(tmp_path / "bad.pt")
    data = torch.load(tmp_path / "wm.pt", weights_only=True)
    data["weights"].pop(next(iter(data["weights"])))
    torch.save(data, tmp_path / "cut.pt")
    with pytest.raises(CheckpointError, match="damaged"):
        world_models.load(tmp_path / "cut.pt")


def test_the_palette_decoder_draws_only_the_colours_the_views_use(segments):
    small = {"latent_dim": 4, "channels": (8,), "hidden": (16,), "rnn_hidden": 8}
    model = world_models.make("vae_rnn", segments.view_shape, 7, 16, decoder="palette", **small)
    data = model.stages(segments)[0].data()
    colours = np.unique(segments.views.reshape(-1, 3), axis=0)
    assert int(model.colours) == len(colours) + (0 if (colours == 0).all(1).any() else 1)
    assert data.train.shape[1] == 1 and data.train.max() < int(model.colours)
    # V's data round-trips to the views: each cell's index is its own colour's
    first = torch.from_numpy(segments.views[:3, 0]).float() / 255
    drawn = model.palette[model.images(first).long()[:, 0]][:, :11, :11]
    torch.testing.assert_close(drawn, first)
    state = model.eval().start(first[:, None], torch.zeros(3, 0, dtype=torch.long))
    _, out = model.imagine(state, torch.zeros(3, dtype=torch.long), torch.Generator())
    seen = {tuple(c) for c in (out.views.reshape(-1, 3) * 255).round().int().tolist()}
    assert seen <= {tuple(c) for c in colours.tolist()} | {(0, 0, 0)}
    few = world_models.make("vae_rnn", segments.view_shape, 7, 16, decoder="palette",
                            palette_size=3)  # fmt: skip
    with pytest.raises(ValueError, match="colours, more than palette_size=3"):
        few.fit_palette(segments)


def test_off_palette_is_zero_for_the_worlds_colours_and_grows_with_blur(segments):
    palette = torch.from_numpy(np.unique(segments.views.reshape(-1, 3), axis=0)).float() / 255
    views = torch.from_numpy(segments.views[:8, 0]).float() / 255
    assert off_palette(views, palette).max().item() == 0.0
    blurred = (views + views.roll(1, dims=1)) / 2  # half of each cell from its neighbour
    noisy = views + 0.1 * torch.randn(views.shape, generator=torch.Generator().manual_seed(0))
    assert off_palette(blurred, palette).mean() > 0.001
    assert off_palette(noisy, palette).mean().item() == pytest.approx(0.01, rel=0.3)
