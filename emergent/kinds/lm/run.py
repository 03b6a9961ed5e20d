"""A language-model ladder end to end: the tokenizer, then one trial per model, then the report.

The tokenizer is built from the corpus the first time a trial needs it (deterministically:
the same text gives the same tokenizer) and kept as `tokenizer.json` in the run directory;
every model reads the same tokens. Each model is a trial in `models/<label>/`:

```
models/<label>/
  checkpoints/fit.pt   the fit's state (gradient-trained models), resumed after a kill
  metrics.jsonl        "train" rows (the fit's log) and "val" rows (the validation estimate)
  tensorboard/         the same scalars
  lm/                  the trained model, loadable with `generative.text.saved.load_lm`
  samples.txt          samples of `eval.sample_chars` characters after `eval.prompt`
  result.json          the exact validation loss and the timings: written last, so a
                       model is finished exactly when its result.json is there
```

A resumed run skips finished models and continues the open one from its checkpoint;
`emergent sweep` on the config trains the models in parallel.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from emergent import cells, rundir
from emergent.errors import UserError
from emergent.kinds.lm.config import CorpusConfig, LMEntry, LMExperiment, parse
from emergent.kinds.lm.report import build, read_result
from emergent.logger import numeric
from emergent.modelfit import check_device, checkpoint_step, fit_in_cell, fit_logger
from emergent.sweep.trial import Trial
from generative import registry
from generative.data import Dataset
from generative.text import shakespeare
from generative.text.saved import save_lm
from generative.text.streams import estimate_loss, stream_log_probs, token_dataset
from generative.text.tokenizers import BPETokenizer, CharTokenizer, load_tokenizer
from generative.train import FitConfig

TOKENIZER_FILE = "tokenizer.json"
SAMPLE_HEADER = "----- sample {} -----"


def preflight(cfg: LMExperiment) -> None:
    """The device, and the corpus: missing, it is one line saying how to fetch it."""
    check_device(cfg.train.device)
    corpus_text(cfg.corpus)


def corpus_text(corpus: CorpusConfig) -> tuple[str, str]:
    """The training and validation text (each cut to `corpus.max_chars` when set)."""
    try:
        split = shakespeare.load_corpus()
    except shakespeare.CorpusMissing as err:
        raise UserError(str(err)) from None
    cut = corpus.max_chars or None
    return split.train[:cut], split.val[:cut]


@dataclass(frozen=True)
class Tokens:
    """The run's tokenizer and the corpus as token streams."""

    tokenizer: CharTokenizer | BPETokenizer
    data: Dataset
    """train and val streams (N,) int64; `info.shape` = (block_size + 1,)."""
    val_text: str


def tokens(cfg: LMExperiment, run_dir: Path) -> Tokens:
    """The run's tokenizer (built and saved on first use) and the encoded corpus."""
    path = run_dir / TOKENIZER_FILE
    if not path.is_file():
        train, val = corpus_text(cfg.corpus)
        tokenizer = build_tokenizer(cfg, train, val)
        tmp = path.with_name(f".{path.name}.tmp")
        tokenizer.save(tmp)
        tmp.replace(path)  # parallel trials build the same file: either copy wins
    stat = path.stat()
    tokenizer, train, val, val_text = encoded(
        path, stat.st_mtime_ns, stat.st_size, cfg.corpus, shakespeare.corpus_dir()
    )
    try:
        data = token_dataset(train, val, tokenizer.vocab_size, cfg.block_size, cfg.corpus.name)
    except ValueError as err:
        raise UserError(f"corpus: {err}; raise corpus.max_chars or lower block_size") from None
    return Tokens(tokenizer, data, val_text)


@lru_cache(maxsize=1)
def encoded(
    path: Path, mtime_ns: int, size: int, corpus: CorpusConfig, where: Path
) -> tuple[CharTokenizer | BPETokenizer, np.ndarray, np.ndarray, str]:
    """The tokenizer saved at `path` and the corpus encoded with it, kept for the next
    model's trial in this process (BPE encodes the corpus in seconds); the file's time and
    size and the corpus's folder are part of the key."""
    try:
        tokenizer = load_tokenizer(path)
    except ValueError as err:
        raise UserError(f"{err}; delete it to build the tokenizer again") from None
    train, val = corpus_text(corpus)
    return tokenizer, tokenizer.encode(train), tokenizer.encode(val), val


def build_tokenizer(cfg: LMExperiment, train: str, val: str) -> CharTokenizer | BPETokenizer:
    """Characters: the alphabet of the whole corpus, as nanoGPT's `prepare.py` (a few rare
    characters of a cut corpus may occur in validation only). BPE: merges learned on the
    training text alone."""
    if cfg.tokenizer.kind == "char":
        return CharTokenizer.from_text(train + val)
    return BPETokenizer.train([train], cfg.tokenizer.vocab_size)


def trials(cfg: LMExperiment, run_dir: Path) -> list[Trial]:
    """One trial per model, in the ladder's order."""
    return [model_trial(cfg, run_dir, entry) for entry in cfg.models]


def model_dir(run_dir: Path, label: str) -> Path:
    return run_dir / "models" / label


def model_trial(cfg: LMExperiment, run_dir: Path, entry: LMEntry) -> Trial:
    cell = model_dir(run_dir, entry.label)
    return cells.result_trial(
        f"models/{entry.label}",
        cell,
        f"[{cfg.name}] {entry.label} ({entry.model.name})",
        lambda quiet: train_and_measure(cfg, cell, entry, tokens(cfg, run_dir), quiet),
    )


def train_and_measure(
    cfg: LMExperiment, cell: Path, entry: LMEntry, text: Tokens, quiet: bool
) -> dict:
    """Fit one model (closed form, or gradient steps resuming its checkpoint), then measure it
    exactly on the validation text, draw its samples and save it."""
    data = text.data
    budget = entry.budget(cfg.train, cfg.seed)
    torch.manual_seed(cfg.seed)
    try:
        model = registry.make(entry.model.name, data.info, entry.model.options)
    except ValueError as err:
        raise UserError(f"models.{entry.label}: {err}") from None
    if registry.FAMILIES[entry.model.name].fit == "closed_form":
        began = time.perf_counter()
        model.fit_exact(data.train)
        steps, seconds = 0, time.perf_counter() - began
    else:
        model, steps, seconds = gradient_fit(cfg, cell, entry, model, data, budget, quiet)
    model.eval()
    began = time.perf_counter()
    log_probs = stream_log_probs(model, data.val, cfg.block_size)  # (N - 1,) nats
    eval_seconds = time.perf_counter() - began
    nats = float(-log_probs.sum())
    first = text.tokenizer.decode(data.val[:1].numpy())
    chars = len(text.val_text) - len(first)  # the first token is read, not predicted
    write_samples(cfg, cell, model, text)
    save_lm(
        cell / "lm", entry.model.name, entry.model.options, model, text.tokenizer, cfg.block_size
    )
    return {
        "label": entry.label,
        "model": entry.model.name,
        "parameters": sum(p.numel() for p in model.parameters()),
        "steps": steps,
        "train_seconds": seconds,
        "eval_seconds": eval_seconds,
        "vocab_size": text.tokenizer.vocab_size,
        "train_tokens": len(data.train),
        "val_tokens": len(log_probs),
        "val_chars": chars,
        "val_nats_per_token": nats / len(log_probs),
        "val_nats_per_char": nats / chars,
        "val_bits_per_char": nats / chars / math.log(2),
        "threads": torch.get_num_threads(),
        "device": str(model.device),
    }


def gradient_fit(
    cfg: LMExperiment,
    cell: Path,
    entry: LMEntry,
    model: torch.nn.Module,
    data: Dataset,
    budget: FitConfig,
    quiet: bool,
) -> tuple[torch.nn.Module, int, float]:
    """`fit` in `cell` with its checkpoint; every log row also gets the validation estimate
    ("val" rows) and the training seconds so far (`elapsed_s`, summed over the sessions of
    a resumed fit, the estimates left out). Returns the model to measure (its EMA copy when
    `train.ema` > 0), the steps and the training seconds."""
    resume_step = checkpoint_step(cell)
    logger = fit_logger(cell, resume_step)
    clock = cells.TrainClock(cell, resume_step)

    def on_log(row: dict) -> None:
        logger.log({**row, "kind": "train", "elapsed_s": clock.seconds})
        if cfg.eval.val_windows:
            with clock.paused():
                loss = estimate_loss(model, data.val, cfg.block_size, cfg.eval.val_windows)
            logger.log({"step": row["step"], "kind": "val", "loss": loss})

    try:
        result = fit_in_cell(
            model,
            data,
            budget,
            cell,
            where=f"models.{entry.label}",
            quiet=quiet,
            on_log=on_log,
            description=f"{cfg.name} · {entry.label}",
        )
    finally:
        logger.close()
    return result.ema_model, budget.steps, clock.seconds


def write_samples(cfg: LMExperiment, cell: Path, model: torch.nn.Module, text: Tokens) -> None:
    """`eval.samples` continuations of `eval.prompt`, `eval.sample_chars` characters each,
    into samples.txt (each under a `SAMPLE_HEADER` line); the same seed gives the same text."""
    if not cfg.eval.samples:
        rundir.write_text_atomic(cell / "samples.txt", "")
        return
    try:
        prompt = text.tokenizer.encode(cfg.eval.prompt)
    except ValueError as err:
        raise UserError(f"config: eval.prompt: {err}") from None
    start = torch.as_tensor(prompt, dtype=torch.long).expand(cfg.eval.samples, -1)  # (S, T0)
    vocab = text.tokenizer.vocab_size
    top_k = min(cfg.eval.top_k, vocab) or None
    gen = torch.Generator().manual_seed(cfg.seed)
    # every token is at least one character (characters, or BPE over ASCII text)
    out = model.generate(
        start, cfg.eval.sample_chars, temperature=cfg.eval.temperature, top_k=top_k, gen=gen
    )
    samples = [
        text.tokenizer.decode(row[len(prompt) :].cpu().numpy())[: cfg.eval.sample_chars]
        for row in out
    ]
    body = "".join(f"{SAMPLE_HEADER.format(i)}\n{s}\n" for i, s in enumerate(samples))
    rundir.write_text_atomic(cell / "samples.txt", body)


def finish(cfg: LMExperiment, run_dir: Path, quiet: bool) -> None:
    rundir.write_state(run_dir, status="done")
    build(run_dir, cfg)


def results(run_dir: Path) -> dict[str, float]:
    """Each model's numbers as `<label>/<key>`, and `val_nats_per_char`: the first
    transformer's, or the best model's when the ladder has none."""
    cfg = parse(rundir.read_config(run_dir))
    found: dict[str, float] = {}
    headline: list[tuple[bool, float]] = []
    for entry in cfg.models:
        result = read_result(model_dir(run_dir, entry.label) / "result.json")
        if result is None:
            continue
        row = numeric(result)
        found.update({f"{entry.label}/{key}": value for key, value in row.items()})
        headline.append((entry.model.name == "transformer", row["val_nats_per_char"]))
    transformers = [value for is_transformer, value in headline if is_transformer]
    if transformers or headline:
        found["val_nats_per_char"] = (transformers or [min(v for _, v in headline)])[0]
    return found
