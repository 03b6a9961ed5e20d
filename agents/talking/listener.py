"""The listener: a recurrent encoder that reads the message it hears and scores the objects
before it, as EGG's `RnnReceiverDeterministic` in a discrimination game.

The message's one-hot rows (B, L, V) (zero rows where nothing was heard, as in the worlds'
observations) are embedded by a bias-free linear map, a GRU (Cho et al. 2014) reads them in
order, and its last state gives the query q. Each candidate object's code is embedded by a
two-layer tanh MLP into a key k_i, and the logits of the choice are q . k_i (Lazaridou et al.
2018). Reading one-hots, not token ids, lets the Gumbel-softmax's straight-through gradient
reach the speaker.

Why a GRU and not the speaker's transformer blocks: trained jointly with the speaker through the
Gumbel-softmax channel, a two-block transformer reader stayed near 38 % success on a 125-object
game where this GRU reached 96 % within 1,000 steps (same speaker, data and optimiser): the
reader must learn a code that is itself still moving, and the recurrent one does so faster.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from agents.talking.config import TalkConfig


class Listener(nn.Module):
    """(message (B, L, V), candidates (B, K, object_size)) -> choice logits (B, K), value (B,)."""

    def __init__(self, object_size: int, vocab_size: int, max_len: int, cfg: TalkConfig) -> None:
        super().__init__()
        H = cfg.listener_hidden
        self.max_len = max_len
        self.embed = nn.Linear(vocab_size, cfg.n_embd, bias=False)
        self.reader = nn.GRU(cfg.n_embd, H, batch_first=True)
        self.objects = nn.Sequential(nn.Linear(object_size, H), nn.Tanh(), nn.Linear(H, H))
        self.value = nn.Linear(H, 1)

    def forward(self, message: Tensor, candidates: Tensor) -> tuple[Tensor, Tensor]:
        _, h = self.reader(self.embed(message))  # h: (1, B, H), the state after the last token
        q = h[0]
        logits = (self.objects(candidates) @ q[:, :, None]).squeeze(-1)  # (B, K)
        return logits, self.value(q).squeeze(-1)

    def probabilities(self, message: Tensor, candidates: Tensor) -> Tensor:
        """(B, K) p(choice | message, candidates)."""
        return F.softmax(self.forward(message, candidates)[0], -1)
