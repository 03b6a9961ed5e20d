"""The text baselines: count models equal to hand-computed smoothed counts (from a stream and
from windows, a maximum-likelihood fit), normalised predictions, the token API shared with the
transformer (loss, log_prob, ignored targets, sampling), an MLP that reads exactly `context`
tokens, a GRU whose carried state equals recomputation, each gradient model learning a
repeating pattern through `fit`, and the ladder unigram > bigram on Shakespeare."""

from __future__ import annotations

import math

import pytest
import torch

from generative import registry
from generative.data import DataInfo
from generative.models.language_model import LanguageModel
from generative.models.text_baselines import (
    GRULM,
    MLPLM,
    Bigram,
    BigramConfig,
    GRULMConfig,
    MLPLMConfig,
    Unigram,
    UnigramConfig,
)
from generative.text.shakespeare import load_corpus
from generative.text.tokenizers import CharTokenizer
from generative.train import FitConfig, build_optimizers, fit
from tests.generative.token_pattern import PATTERN, token_data

pytestmark = pytest.mark.usefixtures("one_torch_thread")

V = 11
"""Vocabulary of the tiny models."""

TINY = {
    "unigram": {},
    "bigram": {},
    "mlp": {"context": 3, "embed_dim": 8, "hidden": (32,)},
    "gru": {"num_layers": 2, "hidden_size": 32, "embed_dim": 8},
}
"""Small options of each family."""


def tiny(name: str, length: int = 9, vocab: int = V, **options: object) -> LanguageModel:
    """A small model of `name`; count models fitted to random tokens, so no row is uniform."""
    torch.manual_seed(0)
    info = DataInfo("toy", (length,), "tokens", num_categories=vocab)
    model = registry.make(name, info, {**TINY[name], **options}).eval()
    if registry.FAMILIES[name].fit == "closed_form":
        model.fit_exact(random_tokens(40, 6, vocab=vocab, seed=5))
    return model


def random_tokens(B: int, T: int, seed: int = 0, vocab: int = V) -> torch.Tensor:
    return torch.randint(0, vocab, (B, T), generator=torch.Generator().manual_seed(seed))


def seeded(seed: int = 1) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def probs(model: LanguageModel, idx: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return model.logits(idx).softmax(-1)


STREAM = torch.tensor([0, 1, 0, 2, 0, 1])
"""Targets 1 0 2 0 1; pairs (0,1) (1,0) (0,2) (2,0) (0,1)."""


def test_count_models_equal_the_hand_computed_smoothed_counts_of_a_stream():
    info = DataInfo("toy", (6,), "tokens", num_categories=3)
    unigram = Unigram(info, UnigramConfig(alpha=1.0)).fit_exact(STREAM)
    bigram = Bigram(info, BigramConfig(alpha=1.0)).fit_exact(STREAM)
    x = torch.tensor([[0, 1, 2]])
    expected = torch.tensor([3, 3, 2]) / 8  # (n_w + 1) / (5 + 3)
    torch.testing.assert_close(probs(unigram, x), expected.expand(1, 3, 3))
    rows = torch.tensor([[1 / 6, 3 / 6, 2 / 6], [2 / 4, 1 / 4, 1 / 4], [2 / 4, 1 / 4, 1 / 4]])
    torch.testing.assert_close(probs(bigram, x), rows[None])  # row v: (n_vw + 1) / (n_v + 3)
    sequence = torch.tensor([[2, 0, 1, 1]])  # p(0 | 2) p(1 | 0) p(1 | 1)
    expected_log_p = math.log(2 / 4 * 3 / 6 * 1 / 4)
    assert bigram.log_prob(sequence).item() == pytest.approx(expected_log_p, rel=1e-6)


def test_windows_are_counted_one_by_one_never_across_their_boundary():
    info = DataInfo("toy", (3,), "tokens", num_categories=3)
    windows = STREAM.view(2, 3)  # [0 1 0] [2 0 1]: targets 1 0 0 1; pairs (0,1) (1,0) (2,0) (0,1)
    unigram = Unigram(info, UnigramConfig(alpha=1.0)).fit_exact(windows)
    bigram = Bigram(info, BigramConfig(alpha=1.0)).fit_exact(windows)
    x = torch.tensor([[0, 1, 2]])
    torch.testing.assert_close(probs(unigram, x)[0, 0], torch.tensor([3, 3, 1]) / 7)
    rows = torch.tensor([[1 / 5, 3 / 5, 1 / 5], [2 / 4, 1 / 4, 1 / 4], [2 / 4, 1 / 4, 1 / 4]])
    torch.testing.assert_close(probs(bigram, x)[0], rows)
    # a stream whose boundary target is ignored counts the same pairs
    targets = STREAM[1:].clone()
    targets[2] = -1  # the pair (0, 2) across the boundary
    same = Bigram(info, BigramConfig(alpha=1.0)).fit_exact(STREAM[:-1], targets)
    torch.testing.assert_close(same.table, bigram.table)


@pytest.mark.parametrize("name", ["unigram", "bigram"])
def test_the_unsmoothed_fit_is_the_maximum_of_the_likelihood(name):
    x = random_tokens(16, 12, seed=3, vocab=5)
    info = DataInfo("toy", (12,), "tokens", num_categories=5)
    model = registry.make(name, info, {"alpha": 1e-9}).fit_exact(x)
    model.loss(x)["loss"].backward()  # zero gradient at the maximum (the table is softmaxed)
    assert model.table.grad.abs().max() < 1e-6
    assert torch.allclose(model.table.exp().sum(-1), torch.tensor(1.0))  # rows normalised
    assert model.no_weight_decay() == {"table"}


@pytest.mark.parametrize("name", sorted(TINY))
def test_every_context_gives_probabilities_that_sum_to_one(name):
    model = tiny(name, length=4, vocab=3)
    x = torch.cartesian_prod(*[torch.arange(3)] * 4)  # (81, 4): every sequence
    with torch.no_grad():
        log_p = model.log_prob(x).view(3, 27)  # (first token, the rest)
    torch.testing.assert_close(log_p.logsumexp(1), torch.zeros(3))


@pytest.mark.parametrize("name", sorted(TINY))
def test_log_prob_sums_what_the_loss_averages_and_skips_ignored_targets(name):
    model, x = tiny(name), random_tokens(4, 9)
    with torch.no_grad():
        loss = model.loss(x)
        assert loss["bits_per_token"] == pytest.approx(loss["loss"].item() / math.log(2))
        log_p = model.log_prob(x)
        assert log_p.shape == (4,)
        assert (-log_p.sum() / (4 * 8)).item() == pytest.approx(loss["loss"].item(), rel=1e-5)
        inputs, targets = x[:, :-1], x[:, 1:].clone()
        targets[torch.rand(4, 8, generator=seeded()) < 0.4] = -1
        per_token = model.token_log_probs(inputs, targets)
        assert (per_token[targets < 0] == 0).all() and (per_token[targets >= 0] < 0).all()
        masked = model.loss(inputs, targets)["loss"]
        count = (targets >= 0).sum()
        assert (-model.log_prob(inputs, targets).sum() / count).item() == pytest.approx(
            masked.item(), rel=1e-5
        )
    with pytest.raises(ValueError, match=r"^y of shape \(4,\); targets must have x's shape"):
        model.loss(x, torch.zeros(4, dtype=torch.long))


@pytest.mark.parametrize("name", sorted(TINY))
def test_sample_starts_from_token_zero_and_repeats_under_a_seed(name):
    model = tiny(name)
    drawn = model.sample(5, gen=seeded())
    assert drawn.shape == (5, 9) and drawn.dtype == torch.long
    assert (drawn[:, 0] == 0).all() and drawn.min() >= 0 and drawn.max() < V
    assert torch.equal(drawn, model.sample(5, gen=seeded()))
    with pytest.raises(ValueError, match="unconditional"):
        model.sample(5, cond=torch.zeros(5, dtype=torch.long))


def test_a_bigram_samples_each_next_token_with_its_probability():
    model, n = tiny("bigram"), 20_000
    prefix = torch.full((n, 1), 4)
    drawn = model.generate(prefix, 1, gen=seeded())[:, 1]
    p = probs(model, prefix[:1])[0, 0]  # (V,)
    frequency = torch.bincount(drawn, minlength=V) / n
    assert ((frequency - p).abs() <= 4 * (p * (1 - p) / n).sqrt() + 1e-12).all(), (frequency, p)


def test_the_mlp_reads_exactly_its_context_and_pads_before_the_start():
    model, x = tiny("mlp", context=3), random_tokens(2, 9)
    changed = x.clone()
    changed[:, 3] = (x[:, 3] + 1) % V
    before, after = probs(model, x), probs(model, changed)
    assert torch.equal(before[:, :3], after[:, :3])  # earlier positions do not see it
    assert (before[:, 3:6] - after[:, 3:6]).abs().amax(-1).min() > 1e-4  # t = 3, 4, 5 read it
    assert torch.equal(before[:, 6:], after[:, 6:])  # t >= 6 read x_{t-2}..x_t only
    torch.testing.assert_close(probs(model, x[:, :1]), before[:, :1])  # x_0 and two pads
    with torch.no_grad():
        tail = model.next_token_logits(x)  # from the last 3 tokens
        torch.testing.assert_close(tail, model.logits(x)[:, -1])
    assert model.tok_emb.num_embeddings == V + 1 and model.out.out_features == V  # pad: no output


def test_the_mlp_loss_scores_only_counted_positions_as_the_full_pass_does():
    model, x = tiny("mlp"), random_tokens(4, 9)
    targets = torch.full_like(x, -1)
    targets[:, -1] = x[:, 0]  # one scored position per sequence, as modular addition
    targets[0, 2] = 3
    for y in (targets, None):
        fast = model.loss(x, y)["loss"]
        fast_grads = torch.autograd.grad(fast, list(model.parameters()))
        full = LanguageModel.loss(model, x, y)["loss"]  # logits at every position
        full_grads = torch.autograd.grad(full, list(model.parameters()))
        torch.testing.assert_close(fast, full)
        for a, b in zip(fast_grads, full_grads, strict=True):
            torch.testing.assert_close(a, b)


def test_the_mlp_activation_and_embedding_scale_are_options():
    plain, small = tiny("mlp"), tiny("mlp", activation="relu", embed_init_std=0.1)
    assert isinstance(plain.hidden[1], torch.nn.Tanh) and isinstance(small.hidden[1], torch.nn.ReLU)
    # the same random draws, the embeddings scaled: N(0, 0.1^2)
    torch.testing.assert_close(small.tok_emb.weight, 0.1 * plain.tok_emb.weight)
    torch.testing.assert_close(small.out.weight, plain.out.weight)
    assert float(small.tok_emb.weight.detach().std()) == pytest.approx(0.1, rel=0.3)


def test_gru_generation_carrying_its_state_equals_recomputing_the_prefix():
    model = tiny("gru")
    sequence = model.generate(random_tokens(3, 3), 20, gen=seeded())  # (3, 23)
    state = model.new_cache()
    with torch.no_grad():
        for t in range(3, sequence.shape[1]):
            carried = model.next_token_logits(sequence[:, :t], state)
            full = model.logits(sequence[:, :t])[:, -1]
            torch.testing.assert_close(carried, full, rtol=0, atol=1e-5)
            assert state.length == t
    with pytest.raises(ValueError, match="feed at least one new token"):
        model.next_token_logits(sequence[:, :4], state)


@pytest.mark.parametrize(
    ("temperature", "top_k", "top_p"), [(1.0, None, None), (0.7, 5, None), (1.5, None, 0.8)]
)
def test_the_carried_state_does_not_change_the_sampled_tokens(temperature, top_k, top_p):
    model, prefix = tiny("gru"), random_tokens(4, 3)
    options = {"temperature": temperature, "top_k": top_k, "top_p": top_p}
    carried = model.generate(prefix, 24, gen=seeded(), **options)
    recomputed = model.generate(prefix, 24, gen=seeded(), use_cache=False, **options)
    assert carried.shape == (4, 27) and torch.equal(carried[:, :3], prefix)
    assert torch.equal(carried, recomputed)


def test_count_models_reach_the_entropy_their_context_leaves_on_the_pattern():
    data = token_data()
    unigram = Unigram(data.info, UnigramConfig(alpha=1e-9)).fit_exact(data.train)
    bigram = Bigram(data.info, BigramConfig(alpha=1e-9)).fit_exact(data.train)
    with torch.no_grad():
        uni, bi = unigram.loss(data.val)["loss"].item(), bigram.loss(data.val)["loss"].item()
    assert uni == pytest.approx(0.25 * math.log(4) + 0.75 * math.log(8), abs=1e-4)  # 1 twice
    assert bi == pytest.approx(0.25 * math.log(2), abs=1e-4)  # after a 1: 4 or 5


@pytest.mark.slow
@pytest.mark.parametrize("name", ["mlp", "gru"])
def test_a_gradient_model_learns_the_repeating_pattern(name):
    data = token_data()
    torch.manual_seed(0)
    model = registry.make(name, data.info, TINY[name])
    start = model.loss(data.val)["loss"].item()
    cfg = FitConfig(steps=300, batch_size=16, lr=1e-2, log_every=100, device="cpu")
    model = fit(model, data, cfg).model
    with torch.no_grad():
        end = model.loss(data.val)["loss"].item()
    assert start > 2.0 and end < 0.05, (start, end)
    continued = model.generate(PATTERN[None, :2], 14, temperature=0.0)  # from 3, 1
    assert torch.equal(continued[0], PATTERN.repeat(2))


def test_weight_decay_spares_biases_only_and_freeze_stops_every_gradient():
    for name in ("mlp", "gru"):
        model = tiny(name)
        spared = model.no_weight_decay()
        assert spared == {n for n, p in model.named_parameters() if n.split(".")[-1][:4] == "bias"}
        (optimizer,) = build_optimizers(model, FitConfig(weight_decay=0.1)).values()
        assert [g["weight_decay"] for g in optimizer.param_groups] == [0.1, 0.0]
        assert model.freeze() is model and model.param_groups() == {"model": []}
        assert model.unfreeze() is model and all(p.requires_grad for p in model.parameters())


def test_on_shakespeare_a_bigram_beats_a_unigram_by_half_a_nat_per_character():
    corpus = load_corpus()  # fetched by `make setup`; CorpusMissing says how
    tokenizer = CharTokenizer.from_text(corpus.train)  # every validation character is in it
    train = torch.from_numpy(tokenizer.encode(corpus.train[:20_000]))  # a stream (N,)
    val = torch.from_numpy(tokenizer.encode(corpus.val[:20_000]))[None]  # one sequence
    info = DataInfo("shakespeare", (64,), "tokens", num_categories=tokenizer.vocab_size)
    nats = {}
    for name in ("unigram", "bigram"):
        model = registry.make(name, info).fit_exact(train)
        with torch.no_grad():
            nats[name] = model.loss(val)["loss"].item()
    assert 3.0 < nats["unigram"] < 3.6 and nats["bigram"] < nats["unigram"] - 0.5, nats


def test_bad_settings_are_one_line_errors_naming_the_key():
    with pytest.raises(ValueError, match=r"^alpha=0.0; must be a finite number > 0$"):
        BigramConfig(alpha=0.0)
    with pytest.raises(ValueError, match=r"^context=0; must be an integer from 1 to 1,024$"):
        MLPLMConfig(context=0)
    with pytest.raises(ValueError, match=r"^context=1024, embed_dim=2048, hidden=\(1024,\); "):
        MLPLMConfig(context=1024, embed_dim=2048, hidden=(1024,))
    with pytest.raises(ValueError, match=r"^activation='sigmoid'; allowed: elu, gelu, relu"):
        MLPLMConfig(activation="sigmoid")
    with pytest.raises(ValueError, match=r"^embed_init_std=0.0; must be a number in \(0, 100\]$"):
        MLPLMConfig(embed_init_std=0.0)
    with pytest.raises(ValueError, match=r"^num_layers=64, hidden_size=4096, embed_dim=64; "):
        GRULMConfig(num_layers=64, hidden_size=4096)
    with pytest.raises(ValueError, match=r"^num_categories=65536; a table of 4,294,967,296 "):
        Bigram(DataInfo("toy", (9,), "tokens", num_categories=2**16))
    with pytest.raises(ValueError, match=r"^num_categories=1048576, hidden_size=2048; "):
        GRULM(DataInfo("toy", (9,), "tokens", num_categories=2**20), GRULMConfig(hidden_size=2048))
    with pytest.raises(ValueError, match=r"^token ids must be in 0..10 \(targets may also be -1"):
        tiny("bigram").fit_exact(torch.tensor([0, 1, 11]))
    with pytest.raises(ValueError, match="mlp does not model continuous data"):
        registry.make("mlp", DataInfo("toy", (2,), "continuous"))
    with pytest.raises(ValueError, match=r"^top_k=0; must be"):
        tiny("gru").generate(random_tokens(2, 3), 4, top_k=0)
    assert isinstance(registry.make("mlp", tiny("mlp").info), MLPLM)
