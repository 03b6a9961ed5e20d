"""Token streams, exact windowed scoring, and the saved language model agents load."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest
import torch

from generative import registry
from generative.text.saved import SavedLMError, TextModel, load_lm, save_lm
from generative.text.streams import (
    estimate_loss,
    sequence_log_probs,
    stream_log_probs,
    token_dataset,
    windows,
)
from generative.text.tokenizers import BPETokenizer, CharTokenizer
from generative.train import FitConfig, fit

TEXT = "to be, or not to be, that is the question:\nwhether 'tis nobler in the mind\n" * 20
BLOCK = 16


@pytest.fixture(scope="module")
def once_trained() -> tuple:
    """A one-layer transformer trained briefly on TEXT, its config, tokenizer and ids."""
    tokenizer = CharTokenizer.from_text(TEXT)
    ids = tokenizer.encode(TEXT)
    data = token_dataset(ids, ids[:400], tokenizer.vocab_size, BLOCK)
    torch.manual_seed(0)
    config = registry.FAMILIES["transformer"].config(
        n_layer=1, n_head=2, n_embd=16, block_size=BLOCK
    )
    model = registry.make("transformer", data.info, config)
    fit(model, data, FitConfig(steps=20, batch_size=8, lr=1e-2, device="cpu"))
    return model.eval(), config, tokenizer, ids


@pytest.fixture
def trained(once_trained) -> tuple:
    """A copy of the trained model (tests may change it) with the rest."""
    model, *rest = once_trained
    return (copy.deepcopy(model), *rest)


def test_windows_predict_every_token_once_from_its_window():
    x, y = windows(torch.arange(10), 4)
    assert x.tolist() == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 0, 0]]
    assert y.tolist() == [[1, 2, 3, 4], [5, 6, 7, 8], [9, -1, -1, -1]]
    _, y = windows(torch.arange(10), 4, prefix_len=6)  # tokens 1..5 are read, not scored
    assert y.tolist() == [[-1, -1, -1, -1], [-1, 6, 7, 8], [9, -1, -1, -1]]
    x, y = windows(torch.arange(1), 4)  # one token: nothing to predict
    assert (y == -1).all() and x.shape == (1, 4)


def test_stream_scoring_is_exact_within_a_window_and_windowed_beyond(trained):
    model, _, _, ids = trained
    short = torch.as_tensor(ids[: BLOCK + 1])
    full = model.token_log_probs(short[None])[0].double()  # every token, full context
    assert torch.allclose(stream_log_probs(model, short, BLOCK), full, atol=1e-5)
    long = torch.as_tensor(ids[:200])
    per_token = stream_log_probs(model, long, BLOCK)
    assert per_token.shape == (199,)
    # the window restarts every BLOCK tokens: token BLOCK + 1 is read from one token only
    second = model.token_log_probs(long[None, BLOCK : 2 * BLOCK + 1])[0].double()
    assert torch.allclose(per_token[BLOCK : 2 * BLOCK], second, atol=1e-5)
    together = sequence_log_probs(model, [ids[:200], ids[:5], ids[:1]], BLOCK)
    assert together[0] == pytest.approx(float(per_token.sum()), rel=1e-9)
    assert together[2] == 0.0  # a single token is conditioned on, never scored


def test_estimate_loss_reads_the_same_windows_and_restores_the_mode(trained):
    model, _, _, ids = trained
    stream = torch.as_tensor(ids)
    model.train()
    first = estimate_loss(model, stream, BLOCK, 10)
    assert model.training and estimate_loss(model, stream, BLOCK, 10) == first
    assert 0 < first < math.log(model.info.num_categories) + 1


OTHERS = {"gru": {"num_layers": 1, "hidden_size": 16}, "bigram": {}}
"""Ladder families saved beside the transformer: a recurrent one and a closed-form one."""


@pytest.mark.parametrize("family", ["transformer", *OTHERS])
def test_a_saved_model_loads_and_scores_and_generates_as_before(tmp_path, trained, family):
    model, config, tokenizer, ids = trained
    if family != "transformer":
        if family not in registry.FAMILIES:
            pytest.skip(f"{family} is not registered")
        config = registry.FAMILIES[family].config(**OTHERS[family])
        model = registry.make(family, model.info, config).eval()
        if registry.FAMILIES[family].fit == "closed_form":
            model.fit_exact(torch.as_tensor(ids))
    save_lm(tmp_path / "lm", family, config, model, tokenizer, BLOCK)
    lm = load_lm(tmp_path / "lm")
    assert isinstance(lm, TextModel) and lm.family == family and lm.block_size == BLOCK
    for a, b in zip(lm.model.state_dict().values(), model.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    texts = ["to be, or not", "whether 'tis nobler in the mind to be " * 3]
    scores = lm.score(texts)
    expected = sequence_log_probs(model, [tokenizer.encode(t) for t in texts], BLOCK)
    assert torch.allclose(scores, expected) and (scores < 0).all()
    # a continuation is scored after its context, every one of its tokens counted
    joint = lm.score(["to be, or not"])[0]
    assert lm.score([", or not"], context="to be")[0] == pytest.approx(
        float(joint - lm.score(["to be"])[0]), abs=1e-4
    )
    once = lm.generate("to be", 40, temperature=0.8, seed=3)
    assert once == lm.generate("to be", 40, temperature=0.8, seed=3)
    assert 1 <= len(lm.encode(once)) <= 40 and set(once) <= set(TEXT)  # stops at the end token


def test_freeze_unfreeze_and_fine_tune_then_save_again(tmp_path, trained):
    model, config, tokenizer, _ = trained
    lm = TextModel(model, tokenizer, BLOCK, "transformer", json.loads(json.dumps(vars(config))))
    assert lm.num_parameters == sum(p.numel() for p in model.parameters())
    lm.freeze()
    assert not any(p.requires_grad for p in lm.model.parameters()) and not lm.model.training
    lm.unfreeze()
    before = float(lm.score([TEXT[:200]])[0])
    fit(lm.model, lm.dataset(TEXT), FitConfig(steps=20, batch_size=8, lr=1e-2, device="cpu"))
    after = float(lm.score([TEXT[:200]])[0])
    assert after > before  # fine-tuning on the text makes it likelier
    again = load_lm(lm.save(tmp_path / "tuned"))
    assert float(again.score([TEXT[:200]])[0]) == pytest.approx(after, rel=1e-6)


def test_a_bpe_model_round_trips_its_tokenizer(tmp_path):
    tokenizer = BPETokenizer.train([TEXT], 300)
    ids = tokenizer.encode(TEXT)
    data = token_dataset(ids, ids[:100], tokenizer.vocab_size, BLOCK)
    config = registry.FAMILIES["transformer"].config(n_layer=1, n_head=1, n_embd=8)
    model = registry.make("transformer", data.info, config).eval()
    save_lm(tmp_path, "transformer", config, model, tokenizer, BLOCK)
    lm = load_lm(tmp_path)
    assert lm.tokenizer == tokenizer and lm.decode(lm.encode(TEXT)) == TEXT
    assert len(lm.generate("to", 5, temperature=0)) >= 5


def test_an_empty_prefix_and_a_mismatched_tokenizer_are_refused(tmp_path, trained):
    model, config, tokenizer, _ = trained
    with pytest.raises(ValueError, match="tokenizer of 3 tokens"):
        save_lm(tmp_path, "transformer", config, model, CharTokenizer("ab"), BLOCK)
    save_lm(tmp_path, "transformer", config, model, tokenizer, BLOCK)
    with pytest.raises(ValueError, match="prefix is empty"):
        load_lm(tmp_path).generate("", 5)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("lm.json", None, "lm.json: missing"),
        ("lm.json", b"{", "lm.json: damaged"),
        ("lm.json", b'{"format": "other"}', "format 'other'"),
        ("weights.safetensors", None, "weights.safetensors: missing"),
        ("weights.safetensors", b"\x00" * 10, "weights.safetensors: damaged"),
        ("tokenizer.json", None, "tokenizer.json: missing"),
        ("tokenizer.json", b"[]", "tokenizer.json: not a saved tokenizer"),
        ("tokenizer.json", b'{"kind": "char", "chars": "ab"}', "tokenizer.json: 2 tokens"),
    ],
)
def test_a_damaged_or_missing_file_is_one_line_naming_it(
    tmp_path, trained, name, content, expected
):
    model, config, tokenizer, _ = trained
    save_lm(tmp_path, "transformer", config, model, tokenizer, BLOCK)
    if content is None:
        (tmp_path / name).unlink()
    else:
        (tmp_path / name).write_bytes(content)
    with pytest.raises(SavedLMError) as err:
        load_lm(tmp_path)
    assert expected in str(err.value) and "\n" not in str(err.value)


def test_weights_of_another_model_are_one_line(tmp_path, trained):
    model, config, tokenizer, _ = trained
    save_lm(tmp_path, "transformer", config, model, tokenizer, BLOCK)
    record = json.loads((tmp_path / "lm.json").read_text())
    record["options"]["n_embd"] = 32
    (tmp_path / "lm.json").write_text(json.dumps(record))
    with pytest.raises(SavedLMError, match="does not fit the model") as err:
        load_lm(tmp_path)
    assert "\n" not in str(err.value)


def test_token_dataset_refuses_a_stream_shorter_than_a_window():
    with pytest.raises(ValueError, match="val stream of 3 tokens"):
        token_dataset(np.arange(40) % 5, np.arange(3), 5, BLOCK)
