"""The speaker: a small transformer language model over message tokens, conditioned on what the
speaker sees, that says up to L tokens one at a time.

It has the language model's shape (`generative.models.transformer`: token and position
embeddings, pre-LayerNorm causal blocks, a final LayerNorm and the token embedding as output
layer). Its first position reads the start token (`envs.messages.EOS`, as the language model's
samples start from token 0) plus a projection of the speaker's observation, so a speaker built
from a trained language model (`from_language_model`, the projection starting at zero) says at
first exactly what the language model would. With an end token, token EOS ends the message and
the positions after it are EOS, not chosen (`Utterance.acts` is False there).

Three ways to pick each token: "greedy" (the most likely), "sample" (from the softmax) and
"gumbel", the straight-through Gumbel-softmax (Jang et al. 2017): the forward pass uses the
one-hot of argmax(logits + g), g ~ Gumbel(0, 1), and the backward pass the gradient of the
relaxed softmax((logits + g) / tau), so a listener's loss trains the speaker end to end.
"""

from __future__ import annotations

import copy
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from agents.talking.config import TalkConfig
from envs.messages import EOS
from generative.models.transformer import Block, Transformer, TransformerConfig

MODES = ("greedy", "sample", "gumbel")


class Utterance(NamedTuple):
    """What a batch of B speakers said, L positions each, over a vocabulary of V."""

    tokens: Tensor
    """(B, L) int64 tokens; EOS after the end token."""
    onehot: Tensor
    """(B, L, V) float one-hots of the tokens: straight-through (with the Gumbel-softmax's
    gradient) in "gumbel" mode, plain otherwise."""
    logits: Tensor
    """(B, L, V) the speaker's logits at each position, before the choice."""
    acts: Tensor
    """(B, L) bool: positions the speaker chose (with an end token, up to and including the
    first EOS; the rest are padding)."""


class Speaker(nn.Module):
    """Observation (B, meaning_size) -> a message of `max_len` tokens from `vocab_size`."""

    def __init__(
        self,
        meaning_size: int,
        vocab_size: int,
        max_len: int,
        cfg: TalkConfig,
        end_token: bool = True,
    ) -> None:
        super().__init__()
        self.vocab_size, self.max_len, self.end_token = vocab_size, max_len, end_token
        shape = TransformerConfig(
            n_layer=cfg.n_layer, n_head=cfg.n_head, n_embd=cfg.n_embd, block_size=max_len + 1
        )
        self.tok_emb = nn.Embedding(vocab_size, shape.n_embd)  # also the output layer (tied)
        self.pos_emb = nn.Embedding(max_len + 1, shape.n_embd)
        self.blocks = nn.ModuleList(Block(shape) for _ in range(shape.n_layer))
        self.ln_f = nn.LayerNorm(shape.n_embd)
        self.meaning = nn.Linear(meaning_size, shape.n_embd)
        self.value = nn.Linear(shape.n_embd, 1)  # PPO's baseline at each position
        for name, p in self.named_parameters():  # GPT-2's initialisation, as the LM's
            if p.dim() >= 2:
                nn.init.normal_(p, 0.0, 0.02)
            elif name.endswith("bias"):
                nn.init.zeros_(p)

    @classmethod
    def from_language_model(
        cls, lm: Transformer, meaning_size: int, max_len: int, end_token: bool = True
    ) -> Speaker:
        """A speaker with a copy of `lm`'s embeddings, blocks and final norm (its vocabulary
        and width), and a zero projection of the meaning: at first it speaks as `lm` does.

        Raises:
            ValueError: `max_len` + 1 positions exceed the language model's block size.
        """
        lm_cfg = lm.cfg
        if max_len + 1 > lm_cfg.block_size:
            raise ValueError(
                f"message_length={max_len}: the language model reads at most "
                f"{lm_cfg.block_size - 1} tokens after its start token"
            )
        talk = TalkConfig(n_layer=lm_cfg.n_layer, n_head=lm_cfg.n_head, n_embd=lm_cfg.n_embd)
        speaker = cls(meaning_size, lm.vocab_size, max_len, talk, end_token)
        speaker.tok_emb = copy.deepcopy(lm.tok_emb)
        speaker.pos_emb = nn.Embedding.from_pretrained(
            lm.pos_emb.weight[: max_len + 1].detach().clone(), freeze=False
        )
        speaker.blocks = copy.deepcopy(lm.blocks)
        speaker.ln_f = copy.deepcopy(lm.ln_f)
        nn.init.zeros_(speaker.meaning.weight)
        nn.init.zeros_(speaker.meaning.bias)
        return speaker.requires_grad_(True)

    def _hidden(self, x: Tensor) -> Tensor:
        """(B, T, D) input embeddings -> (B, T, D) final hidden states."""
        for block in self.blocks:
            x = block(x)
        return self.ln_f(x)

    def _next(self, x: Tensor, past: list[tuple[Tensor, Tensor]]) -> Tensor:
        """The final hidden state (B, D) of one new position with input `x` (B, D), attending
        to the keys and values of the positions before it in `past` (one (k, v) pair per
        block, (B, nh, T, hs) each; extended here). The blocks' own computation, one position
        at a time: the keys are concatenated, not written into a buffer in place, so the
        Gumbel-softmax's gradient flows through every earlier position."""
        h = x[:, None]  # (B, 1, D)
        for i, block in enumerate(self.blocks):
            attn = block.attn
            B, _, D = h.shape
            qkv = attn.qkv(block.ln_1(h)).view(B, 1, 3, attn.n_head, D // attn.n_head)
            q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # (B, nh, 1, hs) each
            if i < len(past):
                k, v = torch.cat([past[i][0], k], 2), torch.cat([past[i][1], v], 2)
                past[i] = (k, v)
            else:
                past.append((k, v))
            y = F.scaled_dot_product_attention(q, k, v)  # the new position sees every key
            h = h + attn.proj(y.transpose(1, 2).reshape(B, 1, D))
            if block.mlp is not None:
                h = h + block.mlp(block.ln_2(h))
        return self.ln_f(h[:, 0])

    def _start(self, meanings: Tensor) -> Tensor:
        """(B, D) the first position: start token, position 0 and the meaning."""
        return self.tok_emb.weight[EOS] + self.pos_emb.weight[0] + self.meaning(meanings)

    def forward(
        self,
        meanings: Tensor,
        mode: str = "sample",
        temperature: float = 1.0,
        gen: torch.Generator | None = None,
        straight_through: bool = True,
    ) -> Utterance:
        """Say a message for each of B observations (B, meaning_size), token by token.

        Args:
            mode: "greedy", "sample" or "gumbel" (see the module docstring).
            temperature: the Gumbel-softmax's tau (gumbel mode only).
            gen: the generator of the sampling noise (None: torch's global one).
        """
        if mode not in MODES:
            raise ValueError(f"mode={mode!r}; must be one of {', '.join(MODES)}")
        B, V, L = meanings.shape[0], self.vocab_size, self.max_len
        x = self._start(meanings)  # (B, D), the input at position 0
        past: list[tuple[Tensor, Tensor]] = []
        ended = torch.zeros(B, dtype=torch.bool, device=meanings.device)
        eos = F.one_hot(torch.tensor(EOS, device=meanings.device), V).float()  # (V,)
        tokens, onehots, logits, acts = [], [], [], []
        for t in range(L):
            h = self._next(x, past)  # (B, D)
            logit = F.linear(h, self.tok_emb.weight)  # (B, V)
            if mode == "greedy":
                token = logit.argmax(-1)
                hot = F.one_hot(token, V).float()
            else:
                u = torch.rand(logit.shape, generator=gen, device="cpu").to(logit.device)
                gumbel = -torch.log(-torch.log(u.clamp(1e-10, 1.0 - 1e-7)))
                token = (logit.detach() + gumbel).argmax(-1)  # a sample of softmax(logit)
                hot = F.one_hot(token, V).float()
                if mode == "gumbel":
                    soft = F.softmax((logit + gumbel) / temperature, -1)
                    hot = hot - soft.detach() + soft if straight_through else soft
            if self.end_token:
                token = torch.where(ended, EOS, token)
                hot = torch.where(ended[:, None], eos, hot)
            acts.append(~ended)
            tokens.append(token)
            onehots.append(hot)
            logits.append(logit)
            if self.end_token:
                ended = ended | (token == EOS)
            x = hot @ self.tok_emb.weight + self.pos_emb.weight[t + 1]
        return Utterance(
            torch.stack(tokens, 1),
            torch.stack(onehots, 1),
            torch.stack(logits, 1),
            torch.stack(acts, 1),
        )

    def score(self, meanings: Tensor, tokens: Tensor) -> tuple[Tensor, Tensor]:
        """The logits (B, L, V) and value estimates (B, L) at every position of given messages
        (B, L) (teacher forcing: position t reads the tokens before it)."""
        x = self.tok_emb(tokens[:, :-1]) + self.pos_emb.weight[1 : self.max_len]
        h = self._hidden(torch.cat([self._start(meanings)[:, None], x], 1))  # (B, L, D)
        return F.linear(h, self.tok_emb.weight), self.value(h).squeeze(-1)
