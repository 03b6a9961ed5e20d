"""Experiment kinds: one table from `kind:` names to records, and the flow of one run over it.

Each kind is one subpackage (`emergent/kinds/<kind>/`: its config, run, report and plots) that
exports one `Kind` record; adding a kind is that folder plus one line in `KINDS`. Everything
that depends on the kind (parsing a config, `emergent run`, `--resume`, `emergent report`, run
directories, `emergent list`, sweeps) goes through this table; kinds never import each other.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from emergent import config as config_mod
from emergent import emergence, plotstyle, rundir
from emergent.errors import Interrupted, UserError
from emergent.kinds import (
    communication,
    diffusion,
    gen_zoo,
    generative,
    grokking,
    induction_heads,
    lm,
    pair_curves,
    rl,
    scale_metrics,
    world_model,
)
from emergent.kinds.record import Kind
from emergent.sweep.trial import OnResult, run_local

KINDS: dict[str, Kind] = {
    "rl": rl.KIND,
    "generative": generative.KIND,
    "gen_zoo": gen_zoo.KIND,
    "pair_curves": pair_curves.KIND,
    "diffusion": diffusion.KIND,
    "lm": lm.KIND,
    "grokking": grokking.KIND,
    "induction_heads": induction_heads.KIND,
    "scale_metrics": scale_metrics.KIND,
    "communication": communication.KIND,
    "world_model": world_model.KIND,
}
DEFAULT = "rl"


def kind_named(name: Any) -> Kind:
    if name not in KINDS:
        raise UserError(f"config: kind {name!r} is not known; allowed: {', '.join(KINDS)}")
    return KINDS[name]


def kind_of(cfg: Any) -> Kind:
    """The record of a validated config."""
    for kind in KINDS.values():
        if type(cfg) is kind.config:
            return kind
    raise TypeError(f"{type(cfg).__name__} is no experiment kind's config")


def parse(raw: dict) -> Any:
    """Validate a raw config mapping (YAML already read) into the config of its `kind`."""
    return kind_named(raw.get("kind", DEFAULT)).parse(raw)


def to_dict(cfg: Any) -> dict:
    """The resolved config as plain YAML-ready data (what `config.yaml` holds)."""
    return kind_of(cfg).to_dict(cfg)


def load(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> Any:
    """Read a YAML experiment file, apply `key=value` overrides, and validate."""
    return parse(config_mod.read_raw(path, overrides, "experiments"))


def read_run(run_dir: Path) -> tuple[Kind, Any]:
    """The kind and validated config of an existing run directory."""
    cfg = parse(rundir.read_config(run_dir))
    return kind_of(cfg), cfg


def start(cfg: Any, runs_dir: str | Path, quiet: bool = False) -> Path:
    """Run a new experiment in a new run directory under `runs_dir`; return the directory."""
    kind = kind_of(cfg)
    kind.preflight(cfg)
    run_dir = rundir.create(runs_dir, cfg.name, kind.to_dict(cfg))
    return run(kind, cfg, run_dir, quiet)


def resume(run_dir: str | Path, quiet: bool = False) -> Path:
    """Continue an interrupted run from what it left on disk (its last checkpoints)."""
    run_dir = Path(run_dir)
    kind, cfg = read_run(run_dir)
    if rundir.read_state(run_dir).get("status") == "done":
        raise UserError(f"run {str(run_dir)!r} already finished; start a new run instead")
    kind.preflight(cfg)
    return run(kind, cfg, run_dir, quiet)


def report(run_dir: str | Path) -> Path:
    """Rebuild plots/ and report.md of a run directory from what is on disk."""
    run_dir = Path(run_dir)
    kind, cfg = read_run(run_dir)
    with plotstyle.styled():
        path = kind.report(run_dir, cfg)
        analyse_emergence(kind, cfg, run_dir)
    return path


def run(
    kind: Kind, cfg: Any, run_dir: Path, quiet: bool = False, on_result: OnResult | None = None
) -> Path:
    """Every unfinished trial of the run in this process, then `finish` (the report).

    Ctrl-C stops it with what was finished kept (`Interrupted`, exit 130); a second process
    running the same directory at the same time is refused (`rundir.lock`)."""
    with rundir.lock(run_dir):
        try:
            with plotstyle.styled():
                run_local(kind.trials(cfg, run_dir), quiet, on_result)
            finish(kind, cfg, run_dir, quiet)
        except KeyboardInterrupt:
            rundir.write_state(run_dir, status="interrupted")
            raise Interrupted(run_dir) from None
    return run_dir


def finish(kind: Kind, cfg: Any, run_dir: Path, quiet: bool = False) -> None:
    """Once every trial is done: the kind's closing pieces and its report."""
    with plotstyle.styled():
        kind.finish(cfg, run_dir, quiet)
        analyse_emergence(kind, cfg, run_dir)


def analyse_emergence(kind: Kind, cfg: Any, run_dir: Path) -> None:
    """The report's Emergence section, plots/emergence.png and emergence.json, from the
    kind's `emergence` analysis (its training losses where it names none)."""
    found = (kind.emergence or emergence.losses)(run_dir, cfg)  # None: nothing logged yet
    if found is not None:
        emergence.write(run_dir, found)
