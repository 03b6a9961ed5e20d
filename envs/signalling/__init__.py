"""Signalling: the Lewis referential game (`signalling`, version 1).

Source: Lewis 1969, "Convention"; the referential games of Lazaridou, Peysakhovich and Baroni
2017 (ICLR) and Lazaridou et al. 2018 (ICLR), with the attribute x value objects of Kottur et
al. 2017 (EMNLP).

A speaker sees a target object, a vector of n_attributes attributes each with one of n_values
values, and sends a message of L tokens from a vocabulary of V, one token per step. A listener
sees K candidate objects (the target and K - 1 distinct distractors, uniform over all
n_values ** n_attributes objects, in random order) and the message, then picks one. Both are
rewarded when it is the target. A protocol can only be perfect when V ** L >= the number of
objects the speaker must tell apart.

Agents: A = 2 * pairs, interleaved: agent 2p is the speaker and agent 2p + 1 the listener of
pair p (one pair by default: agent 0 speaks, agent 1 listens). Pairs play independent games.
Both roles share one observation space and one action space, so one parameter-shared policy
(SB3 through `envs.adapters.sb3`) can learn both, told apart by the role bits.

Spaces (per agent):
    observation: Box(0, 1, (D,), float32), the concatenation of (`rules.obs_slices`):
        role (2) one-hot, [1, 0] speaker, [0, 1] listener; phase (L + 1) one-hot of the step
        about to be played, all zero after the game; target (n_attributes * n_values): the
        target's one-hot values, attribute after attribute, speakers only; candidates
        (K * n_attributes * n_values), listeners only; message (L * V): one-hot of each
        token sent so far, zero rows for positions not yet spoken, seen by both roles (the
        listener chooses at step L + 1 with the whole message in view). Parts a role does
        not see are zeros.
    action: Discrete(max(V, K)). At steps 1 .. L a speaker's action a sends token a mod V;
        at step L + 1 a listener's action a picks candidate a mod K. Every other action (a
        listener while the speaker talks, a speaker at the choice) is ignored. The wrap-around
        keeps every action meaningful, so a listener that ignores the message succeeds with
        probability exactly 1/K whatever its action distribution.

Rewards: at step L + 1 both players of a pair get success_reward (1) if the listener picked
the target and failure_reward (0) otherwise; 0 at every earlier step.

Events (per step, (B, A) int32; speaker columns 2p, listener columns 2p + 1):
    "success": 1 for both players of a pair at step L + 1 if the pick was the target.
    "token": the speaker's token + 1 at steps 1 .. L, else 0 (always 0 for listeners), so
        the message of an episode is the speaker column's nonzero entries minus 1, in order.
    "choice": the listener's pick + 1 at step L + 1, else 0 (always 0 for speakers).
    "attr_0" .. "attr_{n_attributes-1}": the target's value of each attribute + 1, for the
        speaker at step L + 1, else 0, so the meaning of each message can be read back.
`emergent.metrics.communication` reads these (success rate, message entropy, mutual
information, topographic similarity).

Messages follow `envs.messages`: with `end_token`, token 0 ends a message and the positions
after it are 0; `channel` "cut" or "scrambled" changes what the listener hears (nothing, or a
uniformly random token for each one said) for ablations of trained agents, never what the
speaker said (its observation and the events). `held_out` objects (attribute combinations,
chosen by `split_seed`) are kept out of the games of split "train" and are the only ones in the
games of split "held_out", a generalisation test (Chaabouni et al. 2020).

Episodes last L + 1 steps and end by termination (the game is over; nothing to bootstrap),
every copy on the same step. Defaults: 2 attributes x 4 values (16 objects), L = 2, V = 4
(16 messages), K = 4 candidates; see `SignallingConfig`.

Version history: v1, first version. The end token, the channel modes and the held-out split
are settings whose defaults play v1's game unchanged.
"""

from envs.core import Rules
from envs.signalling import render, rules
from envs.signalling.config import SignallingConfig

RULES = Rules(
    name="signalling",
    reset=rules.reset,
    step=rules.step,
    observe=rules.observe,
    render=render.render,
    spaces=rules.spaces,
    event_names=rules.event_names,
    terminates=True,
)


__all__ = ["RULES", "SignallingConfig"]
