"""The language model: causal attention, a KV cache equal to recomputation (past the block size
too), sampling that draws the same tokens with and without the cache, an exact likelihood
consistent with its loss, tied embeddings, weight decay on matrices only, and a tiny model that
learns a repeating pattern through `fit`."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from generative import registry
from generative.data import DataInfo
from generative.models.transformer import (
    SMALL_GELU,
    KVCache,
    Transformer,
    TransformerConfig,
    gelu,
    pad_sequences,
    sample_token,
)
from generative.train import FitConfig, build_optimizers, fit
from tests.generative.token_pattern import PATTERN, token_data

pytestmark = pytest.mark.usefixtures("one_torch_thread")

V = 11
"""Vocabulary of the tiny models."""


def tiny(block_size: int = 8, **options: object) -> Transformer:
    torch.manual_seed(0)
    cfg = TransformerConfig(n_layer=2, n_head=2, n_embd=16, block_size=block_size, **options)
    info = DataInfo("toy", (block_size + 1,), "tokens", num_categories=V)
    return Transformer(info, cfg).eval()


def random_tokens(B: int, T: int, seed: int = 0) -> torch.Tensor:
    return torch.randint(0, V, (B, T), generator=torch.Generator().manual_seed(seed))


def seeded(seed: int = 1) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_a_later_token_never_changes_earlier_logits():
    model, x = tiny(), random_tokens(3, 8)
    changed = x.clone()
    changed[:, 5] = (x[:, 5] + 1) % V
    with torch.no_grad():
        before, after = model.logits(x), model.logits(changed)
    torch.testing.assert_close(before[:, :5], after[:, :5], rtol=0, atol=0)
    assert (before[:, 5:] - after[:, 5:]).abs().amax() > 1e-3


def test_cached_logits_equal_recomputation_through_a_generation_past_the_block_size():
    model = tiny(block_size=8)
    sequence = model.generate(random_tokens(3, 3), 25, gen=seeded())  # (3, 28)
    cache = KVCache(model.cfg.n_layer, model.cfg.block_size)
    with torch.no_grad():
        for t in range(3, sequence.shape[1]):
            cached = model.next_token_logits(sequence[:, :t], cache)
            full = model.logits(sequence[:, max(0, t - 8) : t])[:, -1]
            torch.testing.assert_close(cached, full, rtol=0, atol=1e-5)
            assert cache.length == min(t, 8)  # one new position per step until the cache is full


def test_feeding_tokens_one_at_a_time_equals_one_pass():
    model, x = tiny(), random_tokens(2, 8)
    cache = KVCache(model.cfg.n_layer, model.cfg.block_size)
    with torch.no_grad():
        pieces = [model.logits(x[:, :3], cache), model.logits(x[:, 3:4], cache)]
        pieces.append(model.logits(x[:, 4:], cache))  # several new tokens after cached ones
        torch.testing.assert_close(torch.cat(pieces, 1), model.logits(x), rtol=0, atol=1e-5)
    with pytest.raises(ValueError, match="9 positions .8 cached . 1 new. exceed block_size=8"):
        model.logits(x[:, :1], cache)


@pytest.mark.parametrize(
    ("temperature", "top_k", "top_p"),
    [(1.0, None, None), (0.7, 5, None), (1.5, None, 0.8), (1.0, 3, 0.9), (0.0, None, None)],
)
def test_the_cache_does_not_change_the_sampled_tokens(temperature, top_k, top_p):
    model, prefix = tiny(block_size=8), random_tokens(4, 3)
    options = {"temperature": temperature, "top_k": top_k, "top_p": top_p}
    cached = model.generate(prefix, 24, gen=seeded(), **options)
    recomputed = model.generate(prefix, 24, gen=seeded(), use_cache=False, **options)
    assert cached.shape == (4, 27) and torch.equal(cached[:, :3], prefix)
    assert torch.equal(cached, recomputed)
    again = model.generate(prefix, 24, gen=seeded(), **options)
    assert torch.equal(cached, again)


def test_generate_returns_an_ordinary_tensor_that_can_be_changed_and_trained_on():
    model = tiny()
    out = model.generate(random_tokens(2, 3), 5, gen=seeded())  # sampled in inference mode
    assert not out.is_inference()
    out[:, 0] = 1  # in place, outside inference mode
    model.train()
    model.loss(out)["loss"].backward()
    assert model.tok_emb.weight.grad is not None


def test_gelu_is_the_exact_gelu_on_small_and_large_inputs_and_leaves_the_flags_alone():
    enabled = torch.backends.mkldnn.enabled
    for n in (7, SMALL_GELU, SMALL_GELU + 1):  # PyTorch's own kernel, then oneDNN's
        x = torch.randn(n, generator=seeded()) * 4
        torch.testing.assert_close(gelu(x), F.gelu(x), rtol=1e-5, atol=1e-5)  # float32 erf
        assert torch.backends.mkldnn.enabled == enabled


def test_no_dropout_modules_without_dropout():
    def dropouts(model: Transformer) -> int:
        return sum(isinstance(m, torch.nn.Dropout) for m in model.modules())

    assert dropouts(tiny()) == 0 and dropouts(tiny(dropout=0.1)) == 2 * 2 + 1


def test_top_k_one_and_a_tiny_top_p_are_greedy():
    model, prefix = tiny(), random_tokens(4, 2)
    greedy = model.generate(prefix, 12, temperature=0.0)
    assert torch.equal(model.generate(prefix, 12, top_k=1, gen=seeded()), greedy)
    assert torch.equal(model.generate(prefix, 12, top_p=1e-6, gen=seeded()), greedy)
    assert not torch.equal(model.generate(prefix, 12, temperature=5.0, gen=seeded()), greedy)


@pytest.mark.parametrize(("top_k", "top_p"), [(None, None), (3, None), (None, 0.7)])
def test_sampled_frequencies_match_the_filtered_softmax(top_k, top_p):
    logits = torch.tensor([2.0, 1.0, 0.5, 0.0, -1.0, -3.0])
    probs = logits.softmax(-1)
    if top_k is not None:
        probs = torch.where(logits >= logits.topk(top_k).values[-1], probs, 0.0)
    if top_p is not None:  # the most likely tokens until their mass reaches top_p: 0.57, 0.78
        probs = torch.where(probs.cumsum(-1) - probs < top_p, probs, 0.0)
    probs = probs / probs.sum()
    n = 20_000
    u = torch.rand(n, generator=seeded())
    drawn = sample_token(logits.expand(n, -1), 1.0, top_k, top_p, u)
    frequency = torch.bincount(drawn, minlength=6) / n
    tolerance = 4 * (probs * (1 - probs) / n).sqrt() + 1e-12
    assert ((frequency - probs).abs() <= tolerance).all(), (frequency, probs)


def test_a_stop_token_ends_each_sequence_and_pads_it():
    model, prefix = tiny(), random_tokens(6, 2)
    stop = 4
    out = model.generate(prefix, 300, temperature=2.0, stop_token=stop, gen=seeded())
    free = model.generate(prefix, 300, temperature=2.0, gen=seeded())
    new = out[:, 2:]
    assert new.shape[1] < 300 and (new[:, -1] == stop).all()  # all stopped, so it ended early
    for row, unstopped in zip(new, free[:, 2:], strict=True):
        first = int((row == stop).nonzero()[0])
        assert (row[first:] == stop).all()
        assert torch.equal(row[: first + 1], unstopped[: first + 1])  # same draws until then


def test_log_prob_sums_what_the_loss_averages_and_skips_ignored_targets():
    model, x = tiny(), random_tokens(4, 9)
    with torch.no_grad():
        loss = model.loss(x)
        assert loss["bits_per_token"] == pytest.approx(loss["loss"].item() / math.log(2))
        log_p = model.log_prob(x)
        assert log_p.shape == (4,)
        assert (-log_p.sum() / (4 * 8)).item() == pytest.approx(loss["loss"].item(), rel=1e-5)
        inputs, targets = x[:, :-1], x[:, 1:].clone()
        targets[torch.rand(4, 8, generator=seeded()) < 0.4] = -1
        count = (targets >= 0).sum()
        per_token = model.token_log_probs(inputs, targets)
        assert (per_token[targets < 0] == 0).all() and (per_token[targets >= 0] < 0).all()
        masked = model.loss(inputs, targets)["loss"]
        assert (-model.log_prob(inputs, targets).sum() / count).item() == pytest.approx(
            masked.item(), rel=1e-5
        )
    with pytest.raises(ValueError, match=r"^y of shape \(4,\); targets must have x's shape"):
        model.loss(x, torch.zeros(4, dtype=torch.long))  # class labels are not targets


def test_score_reads_the_prefix_and_skips_the_padding():
    model = tiny()
    sequences = [random_tokens(1, n, seed=n)[0] for n in (4, 6, 9)]
    tokens, lengths = pad_sequences(sequences, pad=7)
    assert tokens.shape == (3, 9) and lengths.tolist() == [4, 6, 9] and tokens[0, 4:].eq(7).all()
    with torch.no_grad():
        scores = model.score(tokens, lengths, prefix_len=2)
        expected = [model.token_log_probs(s[None])[0, 1:].sum() for s in sequences]
    torch.testing.assert_close(scores, torch.stack(expected), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="prefix_len=0; must be at least 1"):
        model.score(tokens, lengths, prefix_len=0)


def test_the_output_layer_is_the_transposed_token_embedding():
    model, x = tiny(), random_tokens(2, 8) % 5  # tokens 5..10 never appear
    matrices = [n for n, p in model.named_parameters() if p.shape == (V, model.cfg.n_embd)]
    assert matrices == ["tok_emb.weight"]
    with torch.no_grad():
        model.tok_emb.weight[9] = 0.0
    assert (model.logits(x)[..., 9] == 0).all()  # no output weights of its own, no bias
    model.loss(x)["loss"].backward()
    assert model.tok_emb.weight.grad[10].abs().sum() > 0  # unseen, trained through the output


def test_weight_decay_spares_biases_and_layer_norm_gains_only():
    model = tiny()
    small = {n for n, p in model.named_parameters() if p.dim() < 2}
    assert model.no_weight_decay() == small and "ln_f.weight" in small
    (optimizer,) = build_optimizers(model, FitConfig(weight_decay=0.1)).values()
    decayed, spared = optimizer.param_groups
    names = {id(p): n for n, p in model.named_parameters()}
    assert decayed["weight_decay"] == 0.1 and spared["weight_decay"] == 0.0
    assert {names[id(p)] for p in spared["params"]} == small
    assert {"tok_emb.weight", "pos_emb.weight"} <= {names[id(p)] for p in decayed["params"]}
    # one step with lr x weight_decay = 1 zeroes decayed weights before Adam adds +-lr
    cfg = FitConfig(steps=1, batch_size=4, lr=0.1, weight_decay=10.0, grad_clip=0, device="cpu")
    fit(model, token_data(n=8, length=9), cfg)
    for name, p in model.named_parameters():
        if name in small and name.endswith("weight"):
            assert (p - 1).abs().max() <= 0.1 + 1e-4, name  # gains start at 1, stay near it
        elif name not in small:
            assert p.abs().max() <= 0.1 + 1e-4, name


def test_a_model_without_spared_parameters_keeps_one_param_group():
    info = DataInfo("toy", (2,), "continuous")
    vae = registry.make("vae", info, {"hidden": (8,), "latent_dim": 2})
    (optimizer,) = build_optimizers(vae, FitConfig(weight_decay=0.1)).values()
    assert len(optimizer.param_groups) == 1
    assert optimizer.param_groups[0]["params"] == list(vae.parameters())


def test_a_tiny_model_learns_a_repeating_pattern():
    data = token_data()
    torch.manual_seed(0)
    model = Transformer(data.info, TransformerConfig(n_layer=1, n_head=2, n_embd=32, block_size=16))
    start = model.loss(data.val)["loss"].item()
    cfg = FitConfig(steps=300, batch_size=16, lr=3e-3, log_every=100, device="cpu")
    model = fit(model, data, cfg).model
    with torch.no_grad():
        end = model.loss(data.val)["loss"].item()
    assert start > 2.0 and end < 0.1, (start, end)
    continued = model.generate(PATTERN[None, :2], 14, temperature=0.0)  # from 3, 1
    assert torch.equal(continued[0], PATTERN.repeat(2))


def test_the_attention_only_model_has_no_mlp():
    model = tiny(mlp=False)
    names = [n for n, _ in model.named_parameters()]
    assert not [n for n in names if "mlp" in n or "ln_2" in n]
    D, L = 16, 2
    per_block = 2 * D + (3 * D * D + 3 * D) + (D * D + D)  # ln_1, qkv, proj
    expected = V * D + 8 * D + L * per_block + 2 * D  # embeddings, blocks, ln_f
    assert sum(p.numel() for p in model.parameters()) == expected
    x = random_tokens(2, 8)
    changed = x.clone()
    changed[:, 6] = (x[:, 6] + 1) % V
    torch.testing.assert_close(model.logits(x)[:, :6], model.logits(changed)[:, :6])


def test_the_attention_maps_are_the_probabilities_the_forward_pass_uses():
    model = tiny(mlp=False)
    x = random_tokens(3, 8)
    maps = model.attention_maps(x)
    assert [tuple(m.shape) for m in maps] == [(3, 2, 8, 8)] * 2
    for m in maps:
        torch.testing.assert_close(m.sum(-1), torch.ones(3, 2, 8))
        assert (m.triu(1) == 0).all()  # causal: nothing from the future
    h = model.tok_emb(x) + model.pos_emb(torch.arange(8))  # (B, T, D)
    for block, probs in zip(model.blocks, maps, strict=True):
        attn, normed = block.attn, block.ln_1(h)
        _, _, v = attn.qkv(normed).split(16, dim=2)
        v = v.view(3, 8, 2, 8).transpose(1, 2)  # (B, nh, T, hs)
        manual = attn.proj((probs @ v).transpose(1, 2).reshape(3, 8, 16))
        torch.testing.assert_close(manual, attn(normed), atol=1e-6, rtol=1e-5)
        h = block(h)
    before = model.logits(x)
    model.attention_maps(x)
    torch.testing.assert_close(model.logits(x), before, atol=0, rtol=0)


def test_sample_starts_from_token_zero_and_fills_the_data_length():
    model = tiny()
    drawn = model.sample(5, gen=seeded())
    assert drawn.shape == (5, 9) and drawn.dtype == torch.long
    assert (drawn[:, 0] == 0).all() and drawn.min() >= 0 and drawn.max() < V
    assert torch.equal(drawn, model.sample(5, gen=seeded()))
    with pytest.raises(ValueError, match="unconditional"):
        model.sample(5, cond=torch.zeros(5, dtype=torch.long))


def test_freeze_stops_every_gradient_and_unfreeze_restores_them():
    model = tiny()
    assert model.freeze() is model
    assert not any(p.requires_grad for p in model.parameters())
    assert model.param_groups() == {"model": []}
    assert model.unfreeze() is model and all(p.requires_grad for p in model.parameters())


def test_bad_settings_are_one_line_errors_naming_the_key():
    with pytest.raises(ValueError, match=r"^n_embd=30; must be divisible by n_head=4$"):
        TransformerConfig(n_embd=30, n_head=4)
    with pytest.raises(ValueError, match=r"^n_layer=0; must be an integer from 1 to 64$"):
        TransformerConfig(n_layer=0)
    with pytest.raises(ValueError, match=r"^block_size=100000; must be an integer from 1 to"):
        TransformerConfig(block_size=100_000)
    with pytest.raises(ValueError, match=r"^dropout=1.0; must be a number in \[0, 1\)$"):
        TransformerConfig(dropout=1.0)
    with pytest.raises(ValueError, match=r"^n_layer=8, n_embd=16384; .* at most 1,073,741,824"):
        TransformerConfig(n_layer=8, n_embd=16_384, n_head=16)
    for categories in (None, 1, 2**21):
        with pytest.raises(ValueError, match=rf"^num_categories={categories}; must be"):
            Transformer(DataInfo("toy", (9,), "tokens", num_categories=categories))
    with pytest.raises(ValueError, match="transformer does not model continuous data"):
        registry.make("transformer", DataInfo("toy", (2,), "continuous"))
    model, prefix = tiny(), random_tokens(2, 3)
    for key, value in (("temperature", -1.0), ("top_k", 0), ("top_p", 0.0), ("stop_token", V)):
        with pytest.raises(ValueError, match=rf"^{key}={value}; must be"):
            model.generate(prefix, 4, **{key: value})


def test_the_registry_builds_it_and_the_zoo_finds_no_dataset_for_it():
    info = DataInfo("toy", (9,), "tokens", num_categories=V)
    model = registry.make("transformer", info, {"n_layer": 1, "n_embd": 8, "n_head": 2})
    assert isinstance(model, Transformer) and model.cfg.n_layer == 1
    assert all(registry.view_for("transformer", name) is None for name in registry.DATA_KINDS)
