"""RLlib PPO: the run machinery end to end, resume, per-agent modules, checkpoints, learning."""

from __future__ import annotations

import dataclasses
import io
import json
import subprocess
import sys

import numpy as np
import pytest
import ray
import torch
import yaml

import agents
import envs
from agents.finite import nonfinite
from agents.ppo_policy import plain
from agents.rllib_policy import RLlibPolicy, build_modules
from agents.rllib_ppo import TRAIN_FORMAT, nonfinite_loss
from agents.rllib_ppo_config import RLlibPPOConfig
from agents.rllib_state import MARK, decode, encode
from agents.spec import env_spec
from emergent import kinds, rundir
from emergent.errors import UserError
from emergent.rollout import random_policy, run_episodes
from generative.checkpoint import CheckpointError
from tests.conftest import TINY_MAP

TINY = {"num_agents": 2, "map": TINY_MAP, "view_radius": 2, "max_steps": 40}
SMALL = {  # one local env runner, small networks and batches
    "num_env_runners": 0,
    "train_batch_size": 320,
    "minibatch_size": 160,
    "num_epochs": 2,
    "conv_channels": (8,),
    "hidden_sizes": (16,),
    "lr": 1e-3,
}


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray for the whole file (the trainers use it and leave it running)."""
    ray.init(
        address="local",
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        logging_level="error",
    )
    yield
    ray.shutdown()


class Hooks:
    def __init__(self) -> None:
        self.updates: list[tuple[int, dict[str, float]]] = []

    def on_step(self, agent_steps: int, mean_return: float | None) -> bool:
        return True

    def on_update(self, agent_steps: int, stats: dict[str, float]) -> None:
        self.updates.append((agent_steps, stats))


def rows(run_dir) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.slow
def test_run_writes_metrics_checkpoints_report_and_resume_continues(local_ray, tmp_path):
    raw = {
        "name": "tiny_rllib",
        "seed": 0,
        "env": {"name": "commons", **TINY},
        "agent": {
            "kind": "rllib_ppo",
            **{k: list(v) if isinstance(v, tuple) else v for k, v in SMALL.items()},
        },
        "train": {
            "steps": 640,
            "num_envs": 2,
            "eval_every": 320,
            "eval_envs": 2,
            "checkpoint_every": 320,
            "device": "cpu",
        },
    }
    run_dir = kinds.start(kinds.parse(raw), tmp_path / "runs", quiet=True)

    logged = rows(run_dir)
    train = [r for r in logged if r["kind"] == "train"]
    assert [r["step"] for r in train] == [320, 640]
    assert {"mean_return", "policy_loss", "vf_loss", "entropy", "learning_rate"} <= set(train[0])
    evals = [(r["step"], r["policy"]) for r in logged if r["kind"] == "eval"]
    assert evals == [(0, "random"), (320, "learned"), (640, "learned")]
    found = rundir.checkpoints(run_dir)
    assert [step for step, _ in found] == [320, 640]
    for step, path in found:  # one plain file each, read without unpickling anything
        saved = torch.load(path, map_location="cpu", weights_only=True)
        assert (saved["format"], saved["agent_steps"]) == (TRAIN_FORMAT, step)
    assert not list(run_dir.rglob("*.pkl"))
    assert (run_dir / "report.md").is_file()
    policy = agents.load_policy("rllib_ppo", run_dir / "checkpoints" / "policy.pt", "cpu")
    assert policy.act(np.zeros((4, 5, 5, 3), np.uint8), np.random.default_rng(0)).shape == (4,)

    # As if the run had been stopped at its last checkpoint and given a larger budget.
    rundir.write_state(run_dir, status="interrupted", agent_steps=640)
    config = yaml.safe_load((run_dir / "config.yaml").read_text())
    config["train"]["steps"] = 1280
    (run_dir / "config.yaml").write_text(yaml.safe_dump(config))
    kinds.resume(run_dir, quiet=True)
    steps = [r["step"] for r in rows(run_dir) if r["kind"] == "train"]
    assert steps == [320, 640, 960, 1280]  # continued from 640, not restarted from 0
    assert [step for step, _ in rundir.checkpoints(run_dir)] == [960, 1280]  # pruned to 2
    assert rundir.read_state(run_dir) == {"status": "done", "agent_steps": 1280}


@pytest.mark.slow
def test_per_agent_modules_and_an_rllib_checkpoint_restore_the_same_policy(local_ray, tmp_path):
    env = envs.make("spread", batch_size=2, seed=0)
    options = {**SMALL, "policies": "per_agent", "train_batch_size": 300, "minibatch_size": 150}
    trainer = agents.make("rllib_ppo", seed=0, device="cpu", **options)
    hooks = Hooks()
    try:
        policy = trainer.train(env, 300, hooks)
        assert [step for step, _ in hooks.updates] == [trainer.agent_steps] == [300]
        ids = {"player_0", "player_1", "player_2"}
        assert set(trainer.algo.learner_group.get_weights()) == ids == set(policy.modules)
        first, second = (policy.modules[f"player_{k}"].state_dict() for k in (0, 1))
        assert any(not np.array_equal(first[k], second[k]) for k in first)  # own weights

        obs = env.reset(seed=4).reshape(6, 18)  # (B·A, obs) copy-major
        greedy = policy.act(obs, deterministic=True)
        assert greedy.shape == (6,) and set(greedy) <= set(range(5))
        with pytest.raises(ValueError, match="multiple of 3"):
            policy.act(obs[:5])

        path = tmp_path / "checkpoints" / "step_000000000300.pt"
        trainer.save_checkpoint(path)
        trainer.save_checkpoint(path)  # the same step again replaces it in place
        assert path.is_file() and not list(path.parent.glob(".*"))  # no temporary file left
        saved = torch.load(path, map_location="cpu", weights_only=True)  # no unpickling
        assert (saved["format"], saved["agent_steps"]) == (TRAIN_FORMAT, 300)
        assert not list(tmp_path.rglob("*.pkl"))
        restored = agents.make("rllib_ppo", seed=0, device="cpu", **options)
        try:
            assert restored.load_checkpoint(path) == 300
            again = restored.policy
            for module_id in ids:
                a, b = policy.modules[module_id].state_dict(), again.modules[module_id].state_dict()
                assert all(np.array_equal(a[k], b[k]) for k in a)
            # The learner (weights, each module's Adam moments and step) and the env runner's
            # connectors and counters are RLlib's own state again, value for value.
            before, after = (t.algo.get_state() for t in (trainer, restored))
            for part in ("learner_group", "env_runner", "training_iteration"):
                np.testing.assert_equal(after[part], before[part])
            optimizers = after["learner_group"]["learner"]["optimizer"]
            assert set(optimizers) == {f"{m}_default_optimizer" for m in ids}
            moments = optimizers["player_0_default_optimizer"]["state"]["state"]
            assert moments and all(m["step"] > 0 and m["exp_avg"].any() for m in moments.values())
            assert after["env_runner"]["num_env_steps_sampled_lifetime"] == 100
            hooks = Hooks()
            restored.train(env, 600, hooks)
            assert [step for step, _ in hooks.updates] == [600]  # continues from 300
        finally:
            restored.close()

        policy.save(tmp_path / "policy.pt")
        loaded = RLlibPolicy.load(tmp_path / "policy.pt", "cpu")
        np.testing.assert_array_equal(loaded.act(obs, deterministic=True), greedy)
        sampled = [p.act(obs, np.random.default_rng(1)) for p in (policy, loaded)]
        np.testing.assert_array_equal(*sampled)
    finally:
        trainer.close()


def test_bad_checkpoints_are_one_line_errors(tmp_path):
    trainer = agents.make("rllib_ppo", seed=0, device="cpu", **SMALL)
    options = plain(dataclasses.asdict(trainer.options))
    path = tmp_path / "step_000000000002.pt"

    def fails(error: type[Exception], match: str) -> None:
        with pytest.raises(error, match=match) as err:
            trainer.load_checkpoint(path)
        assert "\n" not in str(err.value)

    fails(CheckpointError, "not found")
    path.write_bytes(b"not a checkpoint")
    fails(CheckpointError, "corrupt or unreadable")
    torch.save({"format": "other"}, path)
    fails(CheckpointError, "format 'other'")
    torch.save({"format": TRAIN_FORMAT, "options": {**options, "lr": 0.5}}, path)
    fails(ValueError, "other agent options")
    parts = {"env_runner": {}, "metrics_logger": {}}
    torch.save({"format": TRAIN_FORMAT, "options": options, "rllib": parts}, path)
    fails(CheckpointError, r"incomplete \(no learner_group\)")
    bad = {"env_runner": {MARK: "ndarray", "dtype": "|O", "data": torch.zeros(1)}}
    torch.save({"format": TRAIN_FORMAT, "options": options, "rllib": bad}, path)
    fails(CheckpointError, "corrupt .an array entry of dtype object")
    sound = {
        "format": TRAIN_FORMAT,
        "options": options,
        "rllib": {"env_runner": {}, "learner_group": {}, "metrics_logger": {}},
        "world": {"name": "spread", **dataclasses.asdict(envs.make("spread").cfg)},
        "spec": {},
        "envs_per_env_runner": 1,
        "agent_steps": 300,
        "mean_return": None,
    }
    torch.save({**sound, "agent_steps": "300"}, path)
    fails(CheckpointError, r"'agent_steps' is '300' \(a str\), not a non-negative integer")
    torch.save(sound, path)
    commons = envs.make("commons", **TINY)
    with pytest.raises(ValueError, match=r"world 'spread' \(this run: 'commons'\)") as err:
        trainer.load_checkpoint(path, commons)  # refused before RLlib is built
    assert "\n" not in str(err.value) and str(path) in str(err.value)
    assert trainer.algo is None
    torch.save({"format": "emergent.sb3_ppo.train.v2"}, path)
    fails(ValueError, r"written by learner 'sb3_ppo' \(this run: 'rllib_ppo'\)")
    path.unlink()
    path.mkdir()  # what emergent wrote before: RLlib's pickled checkpoint directory
    fails(CheckpointError, "is a directory")


def test_a_non_finite_learner_loss_is_found_in_the_results():
    result = {"learners": {"__all_modules__": {}, "shared": {"policy_loss": 0.1, "vf_loss": 1.0}}}
    assert nonfinite_loss(result) is None
    result["learners"]["shared"]["vf_loss"] = float("inf")
    name, value = nonfinite_loss(result)
    assert str(nonfinite("rllib_ppo", name, value, 960, 3, "lr")) == (
        "rllib_ppo: the vf_loss of module 'shared' became inf at agent-step 960 (update 3); "
        "lower agent.lr or check the rewards"
    )


def leaves(value):
    """`value`'s structure with each leaf replaced by its type and dtype."""
    if isinstance(value, dict):
        return {key: leaves(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(leaves(item) for item in value)
    return type(value), getattr(value, "dtype", None)


def test_rllib_state_comes_back_exactly_from_a_weights_only_file_and_objects_are_refused():
    state = {  # the kinds of values Algorithm.get_state() holds
        "rl_module": {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "on": np.array([True])},
        "optimizer": {0: {"step": 2.0, "exp_avg": np.ones(2)}, "groups": [{"betas": (0.9, 0.99)}]},
        "counters": [np.int64(7), np.float64(np.nan), np.array(1.5), 3, None, "mean", False],
        "filter": np.arange(3, dtype=">i4"),  # another byte order
    }
    buffer = io.BytesIO()
    torch.save({**encode(state), "tensor": encode(torch.ones(2, requires_grad=True))}, buffer)
    buffer.seek(0)
    back = decode(torch.load(buffer, weights_only=True))
    assert torch.equal(back.pop("tensor"), torch.ones(2))
    assert leaves(back) == leaves(state)  # the same containers, NumPy types and dtypes
    np.testing.assert_equal(back, state)

    refused = [
        ({"a": [{1, 2}]}, r"builtins.set at '/a\[0\]'"),
        ({"a": {"b": np.array(["x"])}}, "NumPy <U1 value at '/a/b'"),
        ({"a": {("k",): 1}}, r"key \('k',\) at '/a'"),
        ({MARK: 1}, "key '__emergent_numpy__'"),
    ]
    for value, message in refused:
        with pytest.raises(TypeError, match=message):
            encode(value)


@pytest.mark.slow
def test_a_damaged_rllib_checkpoint_is_a_checkpoint_error(local_ray, tmp_path):
    env = envs.make("spread", batch_size=1, seed=0)
    options = {**SMALL, "train_batch_size": 150, "minibatch_size": 150, "num_epochs": 1}
    trainer = agents.make("rllib_ppo", seed=0, device="cpu", **options)
    try:
        trainer.train(env, 150, Hooks())
        trainer.save_checkpoint(tmp_path / "step.pt")
    finally:
        trainer.close()
    saved = torch.load(tmp_path / "step.pt", weights_only=True)
    weights = saved["rllib"]["learner_group"]["learner"]["rl_module"]["shared"]
    next(iter(weights.values()))["data"] = torch.zeros(7)  # a tensor of another shape
    torch.save(saved, tmp_path / "misfit.pt")
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes((tmp_path / "step.pt").read_bytes()[:1000])
    restored = agents.make("rllib_ppo", seed=0, device="cpu", **options)
    try:
        with pytest.raises(CheckpointError, match="does not fit the algorithm"):
            restored.load_checkpoint(tmp_path / "misfit.pt")
        with pytest.raises(CheckpointError, match="corrupt or unreadable"):
            restored.load_checkpoint(truncated)
    finally:
        restored.close()


@pytest.mark.slow
def test_box_actions_train_and_act_within_the_bounds(local_ray):
    env = envs.make("spread", batch_size=1, seed=0, continuous_actions=True)
    options = {**SMALL, "train_batch_size": 150, "minibatch_size": 150, "num_epochs": 1}
    trainer = agents.make("rllib_ppo", seed=0, device="cpu", **options)
    try:
        policy = trainer.train(env, 150, Hooks())
    finally:
        trainer.close()
    obs = env.reset(seed=0).reshape(3, 18)
    sampled = policy.act(obs, np.random.default_rng(0))
    assert sampled.shape == (3, 5) and sampled.dtype == np.float32
    assert sampled.min() >= 0.0 and sampled.max() <= 1.0  # Box(0, 1, (5,))
    module = policy.modules["shared"]
    inputs = module.forward_inference({"obs": torch.as_tensor(obs)})["action_dist_inputs"]
    mean = inputs[:, :5].detach().numpy()  # RLlib's normalised space [-1, 1] -> [0, 1]
    expected = np.clip((mean + 1.0) / 2.0, 0.0, 1.0)
    np.testing.assert_allclose(policy.act(obs, deterministic=True), expected, rtol=1e-6)


@pytest.mark.slow
def test_shared_policy_learns_to_harvest_far_better_than_random(local_ray):
    env = envs.make("commons", batch_size=4, seed=0, **TINY)
    trainer = agents.make("rllib_ppo", seed=0, device="cpu", **{**SMALL, "hidden_sizes": (32,)})
    try:
        policy = trainer.train(env, 12_800, Hooks())
    finally:
        trainer.close()
    assert set(policy.modules) == {"shared"}
    eval_env = envs.make("commons", batch_size=16, seed=123, **TINY)
    rng = np.random.default_rng(0)
    learned = run_episodes(eval_env, lambda obs: policy.act(obs, rng), seed=5).returns.mean()
    baseline = run_episodes(
        eval_env, random_policy(eval_env.action_space, rng), seed=5
    ).returns.mean()
    assert learned > 1.5 * baseline, (learned, baseline)


@pytest.mark.parametrize(
    ("options", "word"),
    [
        ({"policies": "every"}, "policies"),
        ({"num_env_runners": -1}, "num_env_runners"),
        ({"envs_per_env_runner": 0}, "envs_per_env_runner"),
        ({"gamma": 1.5}, "gamma"),
        ({"vf_clip_param": 0.0}, "vf_clip_param"),
        ({"train_batch_size": 100, "minibatch_size": 200}, "minibatch_size"),
        ({"hidden_sizes": ()}, "hidden_sizes"),
        ({"activation": "gelu"}, "activation"),
        ({"lambda_": 0.9}, "lambda_"),
    ],
)
def test_bad_options_raise_one_line_value_errors(options, word):
    with pytest.raises(ValueError, match=word) as err:
        agents.make("rllib_ppo", **options)
    assert "\n" not in str(err.value)


def test_config_files_name_the_bad_key():
    raw = {"name": "x", "env": {"name": "spread"}, "agent": {"kind": "rllib_ppo", "policy": 1}}
    with pytest.raises(UserError, match="'agent.policy'; did you mean 'policies'"):
        kinds.parse(raw)
    raw["agent"] = {"kind": "rllib_ppo", "policies": "per_agent", "envs_per_env_runner": None}
    assert kinds.parse(raw).agent.options.policies == "per_agent"


def test_importing_the_packages_does_not_import_ray():
    code = "import sys, agents, envs, emergent.config; print('ray' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_action_probabilities_are_softmax_of_the_module_logits():
    env = envs.make("spread", batch_size=2, seed=0)
    spec = env_spec(env)
    options = RLlibPPOConfig(**{**SMALL, "policies": "per_agent"})
    policy = RLlibPolicy(build_modules(spec, options), spec, options)
    obs = env.reset(seed=4).reshape(6, -1)
    probs = policy.action_probabilities(obs)
    assert probs.dtype == np.float64 and probs.shape == (6, 5)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(probs.argmax(axis=1), policy.act(obs, deterministic=True))
    with pytest.raises(ValueError, match="multiple of 3"):
        policy.action_probabilities(obs[:5])
