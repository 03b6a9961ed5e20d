"""Agents that talk: a speaker, built from the language model's transformer blocks
(`generative.models.transformer`), that says a message of up to L tokens, and a listener that
reads it.

`Speaker` emits its message autoregressively (with the end token of `envs.messages`), as a
language model conditioned on what it sees; `Listener` encodes the message it hears with a GRU
(EGG's receivers are recurrent too) and scores the objects before it. `SignallingGame` trains
the pair on the Signalling world's games by either of EGG's two routes: end to end through a
Gumbel-softmax straight-through channel, or with the tokens as actions under PPO; a KL term
toward a language model (`prior`) keeps the speaker's words close to it (grounded speech).
`play` plays them in the batched world itself, through its observations and actions.

References:
    Kharitonov et al. 2019, "EGG: a toolkit for research on emergence of lanGuage in Games"
        (EMNLP demo), https://github.com/facebookresearch/EGG.
    Jang, Gu and Poole 2017, "Categorical reparameterization with Gumbel-softmax" (ICLR);
        Havrylov and Titov 2017, "Emergence of language with multi-agent games" (NeurIPS).
    Schulman et al. 2017, "Proximal policy optimization algorithms", arXiv:1707.06347.
    Lazaridou, Potapenko and Tieleman 2020, "Multi-agent communication meets natural language"
        (ACL); Lee, Cho and Kiela 2019, "Countering language drift via visual grounding" (EMNLP).
"""

from agents.talking.config import TalkConfig
from agents.talking.game import SignallingGame, games
from agents.talking.listener import Listener
from agents.talking.play import play
from agents.talking.speaker import Speaker, Utterance

__all__ = [
    "Listener",
    "SignallingGame",
    "Speaker",
    "TalkConfig",
    "Utterance",
    "games",
    "play",
]
