"""The `emergent` command: run, report, list.

```
emergent run CONFIG [key=value ...] [--runs-dir DIR]
emergent run [CONFIG] --resume RUN_DIR
emergent sweep CONFIG [key=value ...] [--address ADDR] [--max-concurrent K]
emergent sweep --resume SWEEP_DIR|RUN_DIR [--address ADDR]
emergent report RUN_DIR|SWEEP_DIR
emergent list
```
Mistakes in the input print one line and exit with status 2; an interrupted run exits 130.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from emergent.errors import Interrupted, UserError

EXPERIMENTS = Path(__file__).resolve().parent.parent / "experiments"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own errors: one line, status 2
        self.exit(2, f"emergent: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="emergent", description="A laboratory for watching capabilities emerge.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="train an experiment config (or resume a run)")
    run.add_argument("config", nargs="?", help="experiment YAML, e.g. experiments/commons.yaml")
    run.add_argument(
        "overrides", nargs="*", help="key=value overrides, e.g. train.steps=2e5 seed=3"
    )
    run.add_argument(
        "--resume", metavar="RUN_DIR", help="continue this run from its last checkpoint"
    )
    run.add_argument(
        "--runs-dir", default="runs", help="where new run directories go (default: runs)"
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar")

    sweep = sub.add_parser(
        "sweep",
        help="a sweep: section's settings x seeds, or an experiment's own trials (a zoo's "
        "cells), as parallel Ray Tune trials",
    )
    sweep.add_argument("config", nargs="?", help="experiment YAML, with or without a sweep:")
    sweep.add_argument("overrides", nargs="*", help="key=value overrides, e.g. sweep.seeds=3")
    sweep.add_argument(
        "--resume", metavar="DIR", help="continue an interrupted sweep or parallel run"
    )
    sweep.add_argument(
        "--address", help="Ray cluster to use (auto, HOST:6379); default: start a local Ray"
    )
    sweep.add_argument("--max-concurrent", type=int, metavar="K", help="trials at once")
    sweep.add_argument(
        "--runs-dir", default="runs", help="where new sweep directories go (default: runs)"
    )
    sweep.add_argument("--quiet", action="store_true", help="no progress table")

    report = sub.add_parser("report", help="rebuild plots and report.md of a run directory")
    report.add_argument("run_dir")

    gallery = sub.add_parser(
        "gallery", help="a static site of every run's emergence, viewable offline in a browser"
    )
    gallery.add_argument("runs_dir", help="a runs directory, e.g. runs")
    gallery.add_argument(
        "--out", metavar="DIR", help="the site's folder (default: RUNS_DIR/gallery)"
    )
    gallery.add_argument(
        "--screenshots",
        metavar="DIR",
        help="also open every page in headless Chromium, save screenshots here, and fail on a "
        "broken image or link or a console error",
    )

    sub.add_parser("list", help="environments, agents and experiments")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command in ("run", "sweep") and _in_main_thread():
        # SIGINT stops a run and saves it, also when a script or a shell's background job
        # started it with SIGINT ignored (Python then leaves it ignored): `kill -INT` works
        # for every kind, as Ctrl-C does.
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        if args.command == "run":
            return cmd_run(args)
        if args.command == "sweep":
            return cmd_sweep(args)
        if args.command == "report":
            return cmd_report(args)
        if args.command == "gallery":
            return cmd_gallery(args)
        return cmd_list()
    except UserError as err:
        print(f"emergent: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # outside a run (a run saves and says how to resume)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        print("emergent: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`emergent list | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def cmd_run(args: argparse.Namespace) -> int:
    from emergent import kinds, rundir
    from emergent.sweep import config as sweep_config

    if args.config and "=" in args.config and not args.config.endswith((".yaml", ".yml")):
        args.overrides.insert(0, args.config)  # `emergent run --resume DIR key=value`
        args.config = None
    if args.config and sweep_config.is_sweep_file(args.config):
        raise UserError(f"{args.config} has a sweep: section; run it with `emergent sweep`")
    if args.resume and sweep_config.is_sweep_dir(args.resume):
        raise UserError(f"{args.resume} is a sweep; resume it with `emergent sweep --resume`")
    try:
        if args.resume:
            if args.config or args.overrides:
                check_same_config(args, rundir.read_config(Path(args.resume)))
            run_dir = kinds.resume(args.resume, quiet=args.quiet)
        else:
            if not args.config:
                raise UserError("run needs a CONFIG file (see `emergent list`) or --resume RUN_DIR")
            cfg = kinds.load(args.config, args.overrides)
            run_dir = kinds.start(cfg, args.runs_dir, quiet=args.quiet)
    except Interrupted as stop:
        # One more Ctrl-C while the process exits changes nothing.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        print(
            "emergent: interrupted; checkpoint saved. "
            f"Resume with: emergent run --resume {stop.run_dir}",
            file=sys.stderr,
        )
        return 130
    if (run_dir / "report.md").is_file():
        print(f"report: {run_dir / 'report.md'}")
    else:  # a zoo shared by several processes: the last one to finish writes it
        print(f"run dir: {run_dir} (its report comes when the other processes finish)")
    return 0


def check_same_config(args: argparse.Namespace, saved: dict) -> None:
    """With --resume, a CONFIG (and overrides) may be repeated but must match the run's."""
    from emergent import kinds

    if not args.config:
        raise UserError("--resume takes the run's own config; overrides need the CONFIG file too")
    wanted = _flatten(kinds.to_dict(kinds.load(args.config, args.overrides)))
    have = _flatten(saved)
    differ = sorted(k for k in wanted.keys() | have.keys() if wanted.get(k) != have.get(k))
    if differ:
        raise UserError(
            f"--resume: the config differs from the run's config.yaml in {', '.join(differ)}; "
            "resume without CONFIG, or start a new run"
        )


def _flatten(tree: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def cmd_sweep(args: argparse.Namespace) -> int:
    from emergent import kinds
    from emergent.sweep import config as sweep_config
    from emergent.sweep import run as sweep

    if args.config and "=" in args.config and not args.config.endswith((".yaml", ".yml")):
        args.overrides.insert(0, args.config)
        args.config = None
    if args.max_concurrent is not None and args.max_concurrent < 1:
        raise UserError(f"--max-concurrent {args.max_concurrent}; must be at least 1")
    if args.resume:
        if args.config or args.overrides:
            raise UserError("--resume takes only the directory (and --address, --max-concurrent)")
        if sweep_config.is_sweep_dir(args.resume):
            if args.max_concurrent:
                raise UserError("--resume of a sweep takes its own max_concurrent; drop it")
            outcome = sweep.resume(args.resume, args.address, quiet=args.quiet)
        else:
            outcome = sweep.run_parallel(
                args.resume, args.address, args.max_concurrent, quiet=args.quiet
            )
    elif not args.config:
        raise UserError("sweep needs a CONFIG (see `emergent list`) or --resume DIR")
    elif sweep_config.makes_a_sweep(args.config, args.overrides):
        cfg = sweep_config.load(args.config, args.overrides)
        outcome = sweep.start(cfg, args.runs_dir, args.address, args.max_concurrent, args.quiet)
    else:  # an experiment's own trials (a zoo's cells, a grid's points) in parallel
        cfg = kinds.load(args.config, args.overrides)
        outcome = sweep.start_parallel(
            cfg, args.runs_dir, args.address, args.max_concurrent, args.quiet
        )
    status, message = outcome.summary()
    print(message, file=sys.stderr if status else sys.stdout)
    return status


def cmd_report(args: argparse.Namespace) -> int:
    from emergent import kinds
    from emergent.sweep import config as sweep_config
    from emergent.sweep import report as sweep_report

    if sweep_config.is_sweep_dir(args.run_dir):
        print(f"report: {sweep_report.build(Path(args.run_dir))}")
        return 0
    print(f"report: {kinds.report(Path(args.run_dir))}")
    return 0


def cmd_gallery(args: argparse.Namespace) -> int:
    from emergent import browser, gallery

    index = gallery.build(Path(args.runs_dir), args.out)
    print(f"gallery: {index}")
    problems = gallery.broken_links(index.parent)
    if args.screenshots:
        try:
            problems += browser.check_site(index.parent, Path(args.screenshots))
        except (OSError, RuntimeError) as err:
            raise UserError(f"gallery --screenshots: Chromium failed ({err})") from None
        print(f"screenshots: {args.screenshots}")
    for problem in problems:
        print(f"emergent: gallery: {problem}", file=sys.stderr)
    return 1 if problems else 0


def cmd_list() -> int:
    import agents
    import envs
    from emergent import kinds
    from emergent.sweep.config import is_sweep_file
    from generative import registry

    print("experiment kinds (kind: in a config):")
    for name, kind in kinds.KINDS.items():
        print(f"  {name:<16} {kind.summary}")
    print("worlds (env.name):")
    for name in sorted(envs.WORLDS):
        print(f"  {name:<16} {envs.WORLDS[name].doc}")
    print(
        f"  {'dream':<16} A world model's dream (env.world_model: its run directory), to train "
        "in; evaluated in the real world it models."
    )
    print("learners (agent.kind):")
    for name in sorted(agents.LEARNERS):
        print(f"  {name:<16} {agents.LEARNERS[name].doc}")
    print("generative families (model.name):")
    for name in sorted(registry.FAMILIES):
        family = registry.FAMILIES[name]
        likelihood = {"exact": "exact likelihood", "bound": "likelihood bound"}
        traits = [family.group, likelihood.get(family.likelihood, "no likelihood")]
        if family.fit == "closed_form":
            traits.append("closed-form fit")
        print(f"  {name:<16} {', '.join(traits)}; models {', '.join(family.data_kinds)} data")
    paths = sorted(EXPERIMENTS.glob("*.yaml"))
    width = max((len(str(p.relative_to(EXPERIMENTS.parent))) for p in paths), default=0) + 1
    for title, chosen in (
        ("experiments (emergent run):", [p for p in paths if not is_sweep_file(p)]),
        ("sweeps (emergent sweep):", [p for p in paths if is_sweep_file(p)]),
    ):
        print(title)
        for path in chosen:
            print(f"  {str(path.relative_to(EXPERIMENTS.parent)):<{width}} {_summary(path)}")
    return 0


def _summary(path: Path, width: int = 100) -> str:
    """The experiment's leading comment, cut at a word boundary to fit one line."""
    words = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        words += line.lstrip("# ").split()
    text = " ".join(words)
    if len(text) <= width:
        return text
    return text[: text.rfind(" ", 0, width - 1)].rstrip(",;:") + " …"


if __name__ == "__main__":
    sys.exit(main())
