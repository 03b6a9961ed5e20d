"""Our transformer language model against Hugging Face's GPT-2, side by side: training tokens per
second, and sampling tokens per second with and without the KV cache.

Run `python -m benchmarks.lm_speed [--threads N] [--rounds R] [--steps S]`. Needs the optional
peer: `pip install -c constraints.txt -e ".[bench]"` (Hugging Face `transformers`); without
it the benchmark says so in one line and exits with status 2.

Peer: `transformers.GPT2LMHeadModel` (Radford et al. 2019) built from a `GPT2Config` with our
configuration: the same layers, heads, width, context (`n_positions` = block size) and
vocabulary, no dropout, LayerNorm eps 1e-5, exact GELU (`activation_function="gelu"`; GPT-2's
default is the tanh approximation) and PyTorch's fused attention (`attn_implementation="sdpa"`,
as ours). GPT-2 has biases and ties its input and output embeddings, so ours is built with
`bias=True` (tied embeddings are its only layout): both have exactly the same parameters. Our
weights are copied into the peer (GPT-2's `Conv1D` stores the transposed matrices) and the two
models' logits are compared before timing, so both compute the same function from the same
start.

Training: the same random token batches (B windows of T = block size tokens, inputs and
next-token targets), the same loop for both: the loss (ours: `loss(x, y)`; the peer's: the
cross-entropy of its logits, what its own causal-LM loss computes once the labels are shifted),
`zero_grad`, `backward`, gradient clipping to norm 1.0, AdamW (lr 1e-3, betas
(0.9, 0.99), weight decay 0.1 on matrices and embeddings only, as nanoGPT). After warm-up steps
(not timed), every round times `--steps` steps of each model in turn (the order alternates),
so load from other processes hits both alike; the table gives the median round (wall clock),
and the ratio ours / peer is the median of the per-round ratios. The CPU time of this process
is given too (steadier on a shared machine).

Sampling: our `generate` from one start token to 256 new tokens (`--new-tokens`), with the
cache (one new position per step) and without it (the whole prefix recomputed every step),
temperature 1 from the same generator, so both draw the same tokens (checked). The peer's
`generate` (`do_sample=True`, `top_k=0`, with its cache) is a reference column. The context
must hold every token fed (`--block-size` >= `--new-tokens`): past it our model crops the
context, as nanoGPT, and refills the cache at every step, and GPT-2 cannot go past
`n_positions` at all.

Defaults: the transformer of experiments/lm_shakespeare.yaml (4 layers, 4 heads, width 128),
with a context of 256 so that the 256 new tokens fit, Tiny Shakespeare's 65 characters, batch
12, one torch thread (on a shared 2-core machine more threads mostly measure the contention).

Saves the numbers with the git SHA to benchmarks/results/lm_speed.json.

References:
    Radford et al. 2019, "Language models are unsupervised multitask learners" (GPT-2).
    Wolf et al. 2020, "Transformers: state-of-the-art natural language processing",
        arXiv:1910.03771, https://github.com/huggingface/transformers (`GPT2LMHeadModel`).
    Karpathy, nanoGPT, https://github.com/karpathy/nanoGPT (`configure_optimizers`).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from benchmarks.env_speed import git_sha
from generative.data import DataInfo
from generative.models.transformer import Transformer, TransformerConfig

RESULTS = Path(__file__).parent / "results" / "lm_speed.json"
INSTALL = 'pip install -c constraints.txt -e ".[bench]"  (or: pip install transformers)'


def load_transformers() -> ModuleType:
    """The `transformers` package, or one line on how to install it and exit status 2."""
    try:
        return importlib.import_module("transformers")
    except ImportError:
        print(f"benchmarks.lm_speed needs Hugging Face transformers: {INSTALL}", file=sys.stderr)
        raise SystemExit(2) from None


def build(args: argparse.Namespace, hf: ModuleType) -> tuple[Transformer, nn.Module]:
    """(ours, the peer GPT2LMHeadModel) with the same configuration and the same weights."""
    torch.manual_seed(0)
    info = DataInfo("bench", (args.block_size + 1,), "tokens", num_categories=args.vocab)
    cfg = TransformerConfig(
        n_layer=args.layers, n_head=args.heads, n_embd=args.width,
        block_size=args.block_size, dropout=0.0, bias=True,
    )  # fmt: skip
    ours = Transformer(info, cfg)
    peer_cfg = hf.GPT2Config(
        vocab_size=args.vocab, n_positions=args.block_size, n_embd=args.width,
        n_layer=args.layers, n_head=args.heads, n_inner=4 * args.width,
        activation_function="gelu", resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
        layer_norm_epsilon=1e-5, tie_word_embeddings=True, bos_token_id=0, eos_token_id=None,
        pad_token_id=0,
    )  # fmt: skip
    peer = hf.GPT2LMHeadModel._from_config(peer_cfg, attn_implementation="sdpa")
    copy_weights(ours, peer)
    return ours, peer


RENAMES = (
    ("tok_emb", "wte"), ("pos_emb", "wpe"), ("blocks", "h"), ("attn.qkv", "attn.c_attn"),
    ("attn.proj", "attn.c_proj"), ("mlp.fc", "mlp.c_fc"), ("mlp.proj", "mlp.c_proj"),
)  # fmt: skip
"""Our parameter names -> GPT2Model's (`ln_1`, `ln_2`, `ln_f` are named alike)."""


def copy_weights(ours: Transformer, peer: nn.Module) -> None:
    """Our parameters into the peer's (GPT-2's `Conv1D` weights are (in, out): transposed).

    Raises:
        RuntimeError: the two do not have the same parameters.
    """
    theirs = dict(peer.transformer.named_parameters())
    written = set()
    with torch.no_grad():
        for name, p in ours.named_parameters():
            for a, b in RENAMES:
                name = name.replace(a, b)
            conv = name.endswith(".weight") and ".c_" in name  # c_attn, c_proj, c_fc
            theirs[name].copy_(p.T if conv else p)
            written.add(name)
    if written != set(theirs) or len(list(peer.parameters())) != len(theirs):  # lm_head tied
        raise RuntimeError(f"parameters differ: {sorted(set(theirs) ^ written)}")


def adamw(model: nn.Module) -> torch.optim.AdamW:
    """nanoGPT's optimiser: weight decay 0.1 on parameters of 2 or more dimensions only."""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": 0.1},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=1e-3, betas=(0.9, 0.99))


def trainer(model: nn.Module, loss: Callable[[Tensor, Tensor], Tensor]) -> Callable:
    """A function that runs training steps of `model` on a list of (x, y) batches."""
    opt = adamw(model)
    model.train()

    def run(batches: list[tuple[Tensor, Tensor]]) -> float:
        for x, y in batches:
            value = loss(x, y)
            opt.zero_grad(set_to_none=True)
            value.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
        return float(value.detach())

    return run


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def side_by_side(jobs: dict[str, Callable[[], object]], rounds: int) -> dict[str, list]:
    """Each job `rounds` times, interleaved (the order alternates every round);
    per job the list of (wall, cpu) seconds."""
    times: dict[str, list] = {name: [] for name in jobs}
    for r in range(rounds):
        order = list(jobs) if r % 2 == 0 else list(reversed(jobs))
        for name in order:
            times[name].append(timed(jobs[name]))
    return times


def rates(times: list[tuple[float, float]], work: int) -> dict[str, float]:
    """Median work per wall second and per CPU second over the rounds."""
    return {
        "per_s": work / statistics.median(t[0] for t in times),
        "per_cpu_s": work / statistics.median(t[1] for t in times),
    }


def speedup(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> float:
    """a's speed over b's: the median over rounds of b's time / a's time, wall clock."""
    return statistics.median(tb[0] / ta[0] for ta, tb in zip(a, b, strict=True))


def training_times(ours: Transformer, peer: nn.Module, args: argparse.Namespace) -> dict:
    """(wall, cpu) seconds of each round of `args.steps` training steps, per model, after
    `args.warmup` untimed steps; both train on the same random batches."""
    B, T = args.batch_size, args.block_size
    gen = torch.Generator().manual_seed(0)
    data = torch.randint(args.vocab, (args.warmup + args.steps, B, T + 1), generator=gen)
    batches = [(w[:, :-1].contiguous(), w[:, 1:].contiguous()) for w in data]  # (B, T) each
    train = {
        "ours": trainer(ours, lambda x, y: ours.loss(x, y)["loss"]),
        "peer": trainer(
            peer, lambda x, y: F.cross_entropy(peer(x).logits.flatten(0, 1), y.flatten())
        ),
    }
    for run in train.values():
        run(batches[: args.warmup])
    timed_batches = batches[args.warmup :]
    jobs = {name: (lambda run=run: run(timed_batches)) for name, run in train.items()}
    return side_by_side(jobs, args.rounds)


def sampling_times(
    ours: Transformer, peer: nn.Module, args: argparse.Namespace
) -> tuple[dict, bool]:
    """(wall, cpu) seconds of each sampling round: ours with the cache ("cache") and without
    ("recompute"), and the peer with its cache ("peer cache"); and whether our two drew the
    same tokens."""
    ours.eval(), peer.eval()
    n, start = args.new_tokens, torch.zeros(args.samples, 1, dtype=torch.long)
    drawn = {}

    def ours_sample(use_cache: bool) -> None:
        out = ours.generate(start, n, gen=torch.Generator().manual_seed(2), use_cache=use_cache)
        drawn[use_cache] = out

    def peer_sample() -> None:
        peer.generate(start, max_new_tokens=n, min_new_tokens=n, do_sample=True, top_k=0,
                      use_cache=True, attention_mask=torch.ones_like(start))  # fmt: skip

    jobs = {
        "cache": lambda: ours_sample(True),
        "recompute": lambda: ours_sample(False),
        "peer cache": peer_sample,
    }
    for job in jobs.values():  # one-off costs
        job()
    times = side_by_side(jobs, args.sample_rounds)
    return times, bool(torch.equal(drawn[True], drawn[False]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--width", type=int, default=128, help="n_embd")
    parser.add_argument("--block-size", type=int, default=256, help="context = training T")
    parser.add_argument("--vocab", type=int, default=65, help="Tiny Shakespeare's characters")
    parser.add_argument("--batch-size", type=int, default=12)
    parser.add_argument("--steps", type=int, default=10, help="training steps per timed run")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps per model first")
    parser.add_argument("--rounds", type=int, default=5, help="timed runs per model (median)")
    parser.add_argument("--new-tokens", type=int, default=256, help="tokens per sample")
    parser.add_argument("--samples", type=int, default=1, help="sequences sampled together")
    parser.add_argument("--sample-rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args()
    if args.block_size < args.new_tokens:
        parser.error(f"--block-size {args.block_size} must hold --new-tokens {args.new_tokens}")
    hf = load_transformers()
    hf.logging.set_verbosity_error()  # config and padding notices that do not apply here
    torch.set_num_threads(args.threads)
    ours, peer = build(args, hf)
    params = sum(p.numel() for p in ours.parameters())

    B, T, n, S = args.batch_size, args.block_size, args.new_tokens, args.samples
    probe = torch.randint(args.vocab, (2, T), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        gap = (ours.eval().logits(probe) - peer.eval()(probe).logits).abs().max().item()
    times = training_times(ours, peer, args)
    training = {name: rates(t, args.steps * B * T) for name, t in times.items()}
    train_ratio = speedup(times["ours"], times["peer"])
    train_cpu_ratio = training["ours"]["per_cpu_s"] / training["peer"]["per_cpu_s"]
    stimes, same = sampling_times(ours, peer, args)
    sampling = {name: rates(t, n * S) for name, t in stimes.items()}
    cache_ratio = speedup(stimes["cache"], stimes["recompute"])
    cache_cpu_ratio = sampling["cache"]["per_cpu_s"] / sampling["recompute"]["per_cpu_s"]

    print(
        f"GPT-2 shape: {args.layers} layers, {args.heads} heads, width {args.width}, context "
        f"{T}, vocabulary {args.vocab}, biases, tied embeddings; {params:,} parameters each "
        f"(equal); max |logit difference| with the same weights {gap:.1e}. CPU, "
        f"{args.threads} torch thread(s), torch {torch.__version__}, transformers "
        f"{hf.__version__}."
    )
    print(f"{'measure':<38}{'ours':>12}{'peer':>12}{'ours/peer':>11}{'cpu ratio':>11}")
    print(
        f"{f'training tokens/s (batch {B} x {T})':<38}"
        f"{training['ours']['per_s']:>12,.0f}{training['peer']['per_s']:>12,.0f}"
        f"{train_ratio:>11.2f}{train_cpu_ratio:>11.2f}"
    )
    print(
        f"{'measure':<38}{'cache':>12}{'recompute':>12}{'cache/rec':>11}{'cpu ratio':>11}"
        f"{'peer cache':>12}"
    )
    print(
        f"{f'sampling tokens/s ({S} x {n} new)':<38}"
        f"{sampling['cache']['per_s']:>12,.0f}{sampling['recompute']['per_s']:>12,.0f}"
        f"{cache_ratio:>11.2f}{cache_cpu_ratio:>11.2f}{sampling['peer cache']['per_s']:>12,.0f}"
    )
    print(
        f"Median of {args.rounds} interleaved rounds of {args.steps} steps (after "
        f"{args.warmup} warm-up steps) and of {args.sample_rounds} sampling rounds, wall "
        "clock; ratios are medians of per-round ratios; cpu ratio: per CPU-second of this "
        f"process. Cached and recomputed samples identical: {'yes' if same else 'NO'}. "
        "Targets: training >= 1.0x the peer, cached sampling >= 5x recompute."
    )

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "git_sha": git_sha(),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "torch": torch.__version__,
        "transformers": hf.__version__,
        "settings": {k: v for k, v in vars(args).items()},
        "parameters": params,
        "max_logit_difference": gap,
        "training_tokens_per_s": training,
        "training_ratio": train_ratio,
        "training_cpu_ratio": train_cpu_ratio,
        "sampling_tokens_per_s": sampling,
        "cache_ratio": cache_ratio,
        "cache_cpu_ratio": cache_cpu_ratio,
        "cached_equals_recomputed": same,
        "timing": "median of interleaved rounds, wall clock and CPU time of this process",
    }
    RESULTS.write_text(json.dumps(record, indent=2) + "\n")
    print(f"saved {RESULTS}")


if __name__ == "__main__":
    main()
