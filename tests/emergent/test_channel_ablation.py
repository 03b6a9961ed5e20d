"""The channel ablation of the RL kind and the causal influence of communication (CIC) measured
by intervening on the messages listeners hear."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

import envs
from agents.protocols import Policy
from emergent import kinds
from emergent.kinds.rl.run import channel_ablations
from emergent.logger import read_rows
from emergent.rollout import random_policy, run_episodes
from emergent.worlds import interventions
from emergent.worlds.base import channel_label
from envs.signalling.config import SignallingConfig
from envs.signalling.rules import obs_slices
from envs.speaker_listener.config import SpeakerListenerConfig
from tests.conftest import tiny_raw

# 16 objects, messages of 2 tokens from 4, and 16 candidates: a listener can name each message.
GAME = SignallingConfig(message_length=2, vocab_size=4, num_candidates=16)


class MessageReader:
    """A hand-built listener: reads the one-hot message block of a signalling observation and
    picks `decode(tokens)` for sure (or uniformly at random with `ignore`); speakers uniform."""

    def __init__(self, cfg: SignallingConfig, decode=None, ignore: bool = False) -> None:
        self.cfg, self.decode, self.ignore = cfg, decode, ignore

    def action_probabilities(self, obs: np.ndarray) -> np.ndarray:
        parts, n = obs_slices(self.cfg), self.cfg.num_actions
        block = obs[:, parts["message"]].reshape(len(obs), self.cfg.message_length, -1)
        tokens = np.where(block.any(axis=-1), block.argmax(axis=-1), -1)  # (N, L), -1 unheard
        probs = np.full((len(obs), n), 1.0 / n)
        listening = obs[:, parts["role"].start + 1] == 1.0
        if not self.ignore:
            probs[listening] = np.eye(n)[self.decode(tokens[listening])]
        return probs

    def act(self, obs, rng=None, deterministic=False):
        return self.action_probabilities(obs).argmax(axis=-1)

    def save(self, path):
        raise NotImplementedError

    @classmethod
    def load(cls, path, device="auto"):
        raise NotImplementedError


def listener_steps(cfg: SignallingConfig, batch_size: int = 64, channel: str = "open"):
    cfg = dataclasses.replace(cfg, channel=channel)
    env = envs.make("signalling", batch_size=batch_size, seed=0, **dataclasses.asdict(cfg))
    act = random_policy(env.action_space, np.random.default_rng(0))
    recorder = interventions.ListenerRecorder(act, interventions.SIGNALLING, cfg, env.num_agents)
    return recorder, run_episodes(env, recorder, seed=1)


def cic(policy: Policy, cfg: SignallingConfig, steps) -> float:
    rng = np.random.default_rng(0)
    return interventions.causal_influence(
        policy.action_probabilities, steps, interventions.SIGNALLING, cfg, rng
    )


@pytest.mark.parametrize(
    ("decode", "ignore", "bits"),
    [
        (None, True, 0.0),  # ignores the message
        (lambda m: 4 * m[:, 0] + m[:, 1], False, 4.0),  # 16 messages, 16 distinct choices
        (lambda m: m[:, 0], False, 2.0),  # reads the first token only: 4 distinguishable
    ],
    ids=["ignores", "reads_all", "reads_first_token"],
)
def test_cic_is_zero_when_ignoring_and_log2_of_the_distinguishable_messages(decode, ignore, bits):
    policy = MessageReader(GAME, decode, ignore)
    assert isinstance(policy, Policy)
    recorder, _ = listener_steps(GAME)
    ((obs, listeners),) = recorder.steps  # the listeners' choice at step L only
    assert obs.shape == (64, 2, GAME.obs_size) and listeners.tolist() == [1]
    assert cic(policy, GAME, recorder.steps) == pytest.approx(bits, abs=1e-9)
    cut, _ = listener_steps(GAME, channel="cut")  # states of a cut channel: the same answer
    assert cic(policy, GAME, cut.steps) == pytest.approx(bits, abs=1e-9)
    for mode in ("cut", "scrambled"):  # messages sent through that channel: no influence
        closed = dataclasses.replace(GAME, channel=mode)
        assert cic(policy, closed, recorder.steps) == pytest.approx(0.0, abs=1e-9)


def test_writing_in_the_heard_message_gives_back_the_observation():
    recorder, log = listener_steps(GAME, batch_size=8)
    ((obs, listeners),) = recorder.steps
    said = log.events["token"][:, : GAME.message_length, 0] - 1  # (B, L) the speakers' tokens
    written = interventions.signalling_intervene(obs[:, 1], said, GAME)
    np.testing.assert_array_equal(written, obs[:, 1])
    silent = interventions.signalling_intervene(obs[:, 1], np.full_like(said, -1), GAME)
    assert not silent[:, obs_slices(GAME)["message"]].any()


def test_cic_counts_choices_not_actions_with_the_same_effect():
    game = SignallingConfig(message_length=1, vocab_size=8, num_candidates=4)  # 8 actions
    probs = np.eye(8)[[1, 5, 6]]
    np.testing.assert_array_equal(
        interventions.signalling_choice(probs, game), np.eye(4)[[1, 1, 2]]
    )
    policy = MessageReader(game, lambda m: m[:, 0])  # action = token: picks token mod 4
    recorder, _ = listener_steps(game)
    assert cic(policy, game, recorder.steps) == pytest.approx(2.0, abs=1e-9)  # not 3 bits


def test_speaker_listener_intervention_writes_the_heard_token_and_cic_reads_moves():
    env = envs.make("speaker_listener", batch_size=16, seed=0)
    cfg = SpeakerListenerConfig()
    act = random_policy(env.action_space, np.random.default_rng(0))
    recorder = interventions.ListenerRecorder(
        act, interventions.SPEAKER_LISTENER, cfg, env.num_agents
    )
    log = run_episodes(env, recorder, seed=1)
    assert len(recorder.steps) == cfg.max_cycles - 1  # the listener hears from step 1 on
    for t, (obs, listeners) in enumerate(recorder.steps, start=1):
        assert listeners.tolist() == [1]
        said = log.events["token"][:, t - 1, 0] - 1  # (B,) the token heard at step t
        written = interventions.speaker_listener_intervene(obs[:, 1], said[:, None], cfg)
        np.testing.assert_array_equal(written, obs[:, 1])
    move = np.zeros((3, 15))
    move[[0, 1, 2], [2, 7, 12]] = 1.0  # move 2 with each of the 3 tokens
    np.testing.assert_array_equal(
        interventions.speaker_listener_move(move, cfg), np.eye(5)[[2, 2, 2]]
    )


def test_candidate_messages_are_distinct_and_deliverable():
    rng = np.random.default_rng(0)
    everything = interventions.candidate_messages(4, 2, end_token=False, rng=rng)
    assert everything.shape == (16, 2)
    padded = interventions.candidate_messages(3, 2, end_token=True, rng=rng)
    assert padded.tolist() == [[0, 0], [1, 0], [1, 1], [1, 2], [2, 0], [2, 1], [2, 2]]
    for vocab, length in ((8, 5), (1024, 32)):  # more than MAX_MESSAGES: a sample of them
        sample = interventions.candidate_messages(vocab, length, end_token=False, rng=rng)
        assert sample.shape == (interventions.MAX_MESSAGES, length)
        assert sample.min() >= 0 and sample.max() < vocab


def test_only_a_world_trained_with_an_open_channel_is_ablated():
    commons = kinds.parse(tiny_raw())
    assert channel_ablations(commons) == ()  # talk_vocab = 0: no channel to cut
    talking = kinds.parse({**tiny_raw(), "env": {**tiny_raw()["env"], "talk_vocab": 2}})
    assert channel_ablations(talking) == ("cut", "scrambled")
    spread = kinds.parse({**tiny_raw(), "env": {"name": "spread"}})
    assert channel_ablations(spread) == ()  # no channel setting
    closed = kinds.parse({**SIGNALLING_RUN, "env": {"name": "signalling", "channel": "cut"}})
    assert channel_ablations(closed) == ()


SIGNALLING_RUN = {
    "name": "tiny_signalling",
    "seed": 0,
    "env": {"name": "signalling"},
    "agent": {"kind": "ppo", "num_steps": 3, "hidden_sizes": [16]},
    "train": {
        "steps": 96,
        "num_envs": 8,
        "eval_every": 48,
        "eval_envs": 8,
        "checkpoint_every": 96,
    },
}


def test_the_final_evaluation_adds_cut_and_scrambled_rows_and_the_report_compares_them(tmp_path):
    run_dir = Path(kinds.start(kinds.parse(SIGNALLING_RUN), tmp_path, quiet=True))
    rows = [r for r in read_rows(run_dir / "metrics.jsonl") if r["kind"] == "eval"]
    by_policy = {}
    for row in rows:
        by_policy.setdefault(row["policy"], []).append(row)
    cut, scrambled = (by_policy[channel_label(m)] for m in ("cut", "scrambled"))
    assert len(cut) == len(scrambled) == 1  # the final evaluation only
    assert cut[0]["step"] == scrambled[0]["step"] == by_policy["learned"][-1]["step"] == 96
    assert set(cut[0]) | {"cic", "snd"} == set(scrambled[0]) == set(by_policy["learned"][-1])
    assert all(0.0 <= r["cic"] <= np.log2(16) for r in by_policy["learned"] + scrambled)
    for mode in ("cut", "scrambled"):
        assert (run_dir / "episodes" / f"eval_{channel_label(mode)}_{96:012d}.npz").is_file()
    report = (run_dir / "report.md").read_text()
    assert "## The channel ablation" in report
    assert "| learned, channel cut |" in report and "Cutting the channel changes" in report


def test_a_recurrent_policy_is_ablated_without_cic_and_says_why_once(tmp_path, capsys):
    raw = {**SIGNALLING_RUN, "agent": {**SIGNALLING_RUN["agent"], "recurrent": True}}
    run_dir = Path(kinds.start(kinds.parse(raw), tmp_path, quiet=True))
    rows = [r for r in read_rows(run_dir / "metrics.jsonl") if r["kind"] == "eval"]
    assert {r["policy"] for r in rows} >= {channel_label("cut"), channel_label("scrambled")}
    assert not any("cic" in r for r in rows)
    printed = capsys.readouterr()
    assert (printed.out + printed.err).count("no causal influence of communication") == 1
