"""A talking-agents experiment end to end: the pair trained (once, or once per KL weight beta
with grounding), measured in the world, then the report.

```
pairs/<label>/            label "agents", or "beta=<b>" with grounding
  checkpoints/fit.pt      the fit's state, resumed after a kill
  metrics.jsonl           "train" rows (the fit's log) and "eval" rows (the world played)
  result.json             the final measurements: written last, so a trial is finished
                          exactly when it is there
prior/                    with grounding: the character language model of Shakespeare
  lm/                     loadable with `generative.text.saved.load_lm`
  result.json             its validation loss
```

With grounding the first trial to need the language model trains it, the others wait for it
(a lock file), so `emergent sweep` may run the betas in parallel.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch

from agents.talking import SignallingGame, games
from emergent import cells, rundir
from emergent.errors import UserError
from emergent.kinds.communication import measure
from emergent.kinds.communication.config import CommunicationExperiment
from emergent.kinds.communication.report import build, read_result
from emergent.logger import numeric
from emergent.modelfit import check_device, checkpoint_step, fit_in_cell, fit_logger
from emergent.sweep.trial import Trial
from envs.signalling.split import attributes
from generative.data import Dataset
from generative.models.transformer import Transformer, TransformerConfig
from generative.text.saved import SavedLMError, load_lm, save_lm
from generative.text.shakespeare import CorpusMissing, load_corpus
from generative.text.streams import estimate_loss, token_dataset
from generative.text.tokenizers import CharTokenizer
from generative.train import FitConfig

VAL_GAMES = 1_000
"""Held-out games kept as the fit's validation split (the fit itself does not read them)."""


def preflight(cfg: CommunicationExperiment) -> None:
    check_device(cfg.train.device)


def labels(cfg: CommunicationExperiment) -> list[str]:
    if cfg.grounding is None:
        return ["agents"]
    return [f"beta={beta:g}" for beta in cfg.grounding.betas]


def pair_dir(run_dir: Path, label: str) -> Path:
    return run_dir / "pairs" / label


def trials(cfg: CommunicationExperiment, run_dir: Path) -> list[Trial]:
    betas = (None,) if cfg.grounding is None else cfg.grounding.betas
    out = []
    for label, beta in zip(labels(cfg), betas, strict=True):
        cell = pair_dir(run_dir, label)
        out.append(
            cells.result_trial(
                f"pairs/{label}",
                cell,
                f"[{cfg.name}] speaker and listener ({label})",
                lambda quiet, cell=cell, beta=beta: train_and_measure(
                    cfg, run_dir, cell, beta, quiet
                ),
            )
        )
    return out


def train_and_measure(
    cfg: CommunicationExperiment, run_dir: Path, cell: Path, beta: float | None, quiet: bool
) -> dict:
    """Train the pair in `cell` (resuming its checkpoint), playing the world every
    `eval.every` steps, then measure it (`measure`)."""
    with cells.cpu_threads(cfg.games.threads):
        prior, tokenizer = (None, None) if beta is None else ensure_prior(cfg, run_dir, quiet)
        env = (
            cfg.env if prior is None else dataclasses.replace(cfg.env, vocab_size=prior.vocab_size)
        )
        agent = cfg.agent if beta is None else dataclasses.replace(cfg.agent, kl_beta=beta)
        torch.manual_seed(cfg.seed)
        game = SignallingGame(env, agent, prior, speaker_from_prior=prior is not None)
        train = games(measure.world(env, "train"), cfg.games.games, cfg.seed)
        val = games(measure.world(env, "held_out"), VAL_GAMES, cfg.seed + 1)
        data = Dataset(game.info, train, val, val)
        resume_step = checkpoint_step(cell)
        logger = fit_logger(cell, resume_step)
        budget = FitConfig(**{**cfg.train.__dict__, "seed": cfg.seed})
        clock = cells.TrainClock(cell, resume_step)
        eval_seed = cfg.seed + 2

        def on_log(row: dict) -> None:
            logger.log({**row, "kind": "train", "elapsed_s": clock.seconds})
            if row["step"] % cfg.eval.every == 0 or row["step"] == budget.steps:
                with clock.paused():
                    found = measure.successes(game, env, cfg.eval.games, eval_seed)
                    logger.log({"step": row["step"], "kind": "eval", **found})

        label = cell.name
        try:
            fit_in_cell(
                game,
                data,
                budget,
                cell,
                where=label,
                quiet=quiet,
                on_log=on_log,
                description=f"{cfg.name} · {label}",
            )
        finally:
            logger.close()
        seconds = clock.seconds
        game.eval()
        result = {
            "label": label,
            "beta": beta,
            "training": agent.training,
            "steps": budget.steps,
            "seconds": seconds,
            "parameters": sum(p.numel() for p in game.param_groups()["model"]),
            "vocab_size": env.vocab_size,
            "threads": torch.get_num_threads(),
            **measure.successes(game, env, cfg.eval.games, eval_seed),
            **measure.language(game, env, cfg.seed),
        }
        for channel in measure.CHANNELS:
            result[f"cic_{channel}"] = measure.causal_influence(
                game, env, cfg.eval.cic_states, channel, cfg.seed
            )
        if prior is not None:
            result.update(grounded(game, env, tokenizer))
        return result


@torch.no_grad()
def grounded(game: SignallingGame, env, tokenizer: CharTokenizer) -> dict:
    """The speaker's greedy messages for the training objects under the prior: perplexity per
    chosen character, KL(speaker || prior) per character, and the first few messages as text."""
    objects = measure.objects_of(env, "train")
    values = torch.from_numpy(attributes(env, objects))
    utt = game.speaker(game.codes(values.to(game.device)), "greedy")
    kl, nll, count = game.prior_terms(utt)
    texts = [tokenizer.decode(m[: int(a.sum())]) for m, a in zip(utt.tokens, utt.acts, strict=True)]
    return {
        "perplexity": math.exp(float(nll.sum() / count)),
        "kl_per_token": float(kl.sum() / count),
        "message_length": float(count / len(objects)),
        "examples": [
            {"object": values[i].tolist(), "message": texts[i]} for i in range(min(8, len(texts)))
        ],
    }


def prior_dir(run_dir: Path) -> Path:
    return run_dir / "prior"


@contextmanager
def waiting_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on `path`, waiting for whoever holds it (trials of one run)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_prior(
    cfg: CommunicationExperiment, run_dir: Path, quiet: bool
) -> tuple[Transformer, CharTokenizer]:
    """The run's language model of Shakespeare, trained on first use (one trial trains it,
    the others wait), frozen."""
    home = prior_dir(run_dir)
    with waiting_lock(run_dir / "prior.lock"):
        if not (home / "result.json").is_file():
            train_prior(cfg, home, quiet)
    try:
        text_model = load_lm(home / "lm")
    except SavedLMError as err:
        raise UserError(f"{err}; delete {home} to train the language model again") from None
    return text_model.model.freeze(), text_model.tokenizer


def train_prior(cfg: CommunicationExperiment, home: Path, quiet: bool) -> None:
    """Train the character transformer of `grounding.prior` on the corpus's training works
    (nanoGPT's recipe: AdamW, betas (0.9, 0.99), weight decay 0.1, warm-up then cosine to
    lr / 10, clipping 1.0, no dropout, no biases), save it and its validation loss."""
    if cfg.grounding is None:
        raise UserError(f"{cfg.name}: a language model is trained only with grounding")
    spec = cfg.grounding.prior
    try:
        corpus = load_corpus()
    except CorpusMissing as err:
        raise UserError(f"grounding: {err}") from None
    tokenizer = CharTokenizer.from_text(corpus.train + corpus.val, end_token=None)
    data = token_dataset(
        tokenizer.encode(corpus.train),
        tokenizer.encode(corpus.val),
        tokenizer.vocab_size,
        spec.block_size,
        "shakespeare",
    )
    options = TransformerConfig(
        n_layer=spec.n_layer,
        n_head=spec.n_head,
        n_embd=spec.n_embd,
        block_size=spec.block_size,
        bias=False,
    )
    torch.manual_seed(cfg.seed)
    model = Transformer(data.info, options)
    budget = FitConfig(
        steps=spec.steps,
        batch_size=spec.batch_size,
        lr=spec.lr,
        lr_min=spec.lr / 10,
        lr_schedule="cosine",
        warmup_steps=min(100, spec.steps // 10),
        weight_decay=0.1,
        beta2=0.99,
        grad_clip=1.0,
        log_every=max(spec.steps // 20, 1),
        seed=cfg.seed,
        device=cfg.train.device,
    )
    home.mkdir(parents=True, exist_ok=True)
    fit_in_cell(
        model,
        data,
        budget,
        home,
        where="prior",
        quiet=quiet,
        description=f"{cfg.name} · language model",
    )
    model.eval()
    val = estimate_loss(model, data.val, spec.block_size, 256)
    save_lm(home / "lm", "transformer", options, model, tokenizer, spec.block_size)
    rundir.write_text_atomic(
        home / "result.json",
        json.dumps({"val_nats_per_char": val, "vocab_size": tokenizer.vocab_size}, indent=1),
    )


def finish(cfg: CommunicationExperiment, run_dir: Path, quiet: bool) -> None:
    rundir.write_state(run_dir, status="done")
    build(run_dir, cfg)


def results(run_dir: Path) -> dict[str, float]:
    """The finished trials' numbers, `<label>/<key>`; `success_train` is the first trial's."""
    found: dict[str, float] = {}
    cells_dir = run_dir / "pairs"
    for cell in sorted(cells_dir.iterdir()) if cells_dir.is_dir() else []:
        result = read_result(cell / "result.json")
        if result is None:
            continue
        found.update({f"{cell.name}/{k}": v for k, v in numeric(result).items()})
        found.setdefault("success_train", float(result["success_train"]))
    return found
