"""Greedy forward search over roles, from every learnable parameter global:

    step 0   all global, N seeds
    step k   each parameter still global tried as neural (N seeds each, in parallel on the
             executor); the one with the best mean validation KGE is kept if its gain over the
             current roles is larger than the spread of that gain over seeds

The gain is paired by seed (the same seed gives the same split and start), so its spread is the
sample sd of the per-seed differences; the search stops when mean gain <= that sd, or when no
parameter is left. Every step is an ordinary sweep in ``OUT/step-K`` (resumable, with its
identifiability); the path goes to ``OUT/role_search.json``, ``.md`` and ``.png``.
"""
from __future__ import annotations

import contextlib
import json
import math
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from core.errors import HybridlabError
from core.identify import JSON_FILE as IDENTIFIABILITY_FILE
from core.identify import after_sweep
from core.metrics import spread
from core.run.plan import RunPlan
from core.sweep import FINISHED, ExecutorOptions, SweepPlan, run_sweep
from core.roles.report import PATH_FILE, write_path, write_report
from core.formatting import short_repr

START = "all_global"
#: the configuration label of a step's candidate: ``neural=`` and the parameters neural, joined by +
NEURAL_PREFIX, NEURAL_JOIN = "neural=", "+"


@dataclass
class RoleStep:
    """One step of the path: the parameter made neural (None at the start), the mean and sd of the
    mean validation KGE over seeds, the paired gain over the previous step and its sd, the
    parameters neural after the step, the identifiability of each (verdict and agreement), and
    every candidate tried (parameter -> mean KGE)."""

    step: int
    parameter: str | None
    mean_val_kge: float
    sd_val_kge: float
    neural: list[str]
    gain: float | None = None
    gain_sd: float | None = None
    accepted: bool = True
    identifiability: dict = field(default_factory=dict)
    candidates: dict = field(default_factory=dict)


@dataclass
class RoleSearch:
    """The search as plain data: a base run plan (its roles are replaced), the seeds, and the
    parameters that may become neural (None: every parameter that is not fixed)."""

    base: dict
    seeds: list[int]
    candidates: list[str] | None = None

    def __post_init__(self):
        plan = RunPlan.from_dict(self.base)
        if not plan.spec.has_parameters:
            raise HybridlabError(f"model {short_repr(plan.model)} has no mechanistic parameters; a role search needs one")
        if len(self.seeds) < 2:
            raise HybridlabError(f"a role search needs at least 2 seeds to know the seed spread, got {len(self.seeds)}")
        learnable = [p.name for p in plan.parameter_set() if p.role != "fixed"]
        self.candidates = list(self.candidates or learnable)
        unknown = [name for name in self.candidates if name not in learnable]
        if unknown:
            raise HybridlabError(f"role search: {', '.join(unknown)} cannot be made neural; learnable parameters "
                                 f"of {short_repr(plan.model)}: {', '.join(learnable)}")
        self.base = plan.to_dict()

    def roles(self, neural: list[str]) -> dict[str, str]:
        """Roles with ``neural`` neural, the other candidates global and the rest as in the base plan."""
        roles = RunPlan.from_dict(self.base).parameter_set().roles
        return {**roles, **{name: "neural" if name in neural else "global" for name in self.candidates}}

    def sweep(self, configurations: dict[str, list[str]]) -> SweepPlan:
        """The sweep of one step: configuration name -> parameters neural. Global parameters start
        as the base plan says (by default at the model's defaults: from random starts the SOC model
        often fails to fit at all, which would drown the comparison of roles)."""
        return SweepPlan(base=self.base, seeds=list(self.seeds),
                         configurations={name: {"roles": self.roles(neural)} for name, neural in configurations.items()})


def _per_seed(table, configuration: str) -> dict[int, float]:
    done = table[(table["configuration"] == configuration) & (table["status"] == FINISHED)]
    return {int(seed): float(k) for seed, k in zip(done["seed"], done["mean_val_kge"]) if k is not None and
            math.isfinite(k)}


def _spread(values) -> tuple[float, float]:
    """(mean, sample sd) as the sweep summary computes them; NaN for no values."""
    found = spread(list(values))
    return (math.nan, math.nan) if not found.n else (found.mean, found.sd)


def _identifiability(out: Path, configuration: str, neural: list[str]) -> dict:
    path = out / IDENTIFIABILITY_FILE
    if not path.is_file():
        return {}
    entry = json.loads(path.read_text())["configurations"].get(configuration, {})
    parameters = entry.get("parameters", {})
    return {name: {"verdict": parameters[name]["verdict"], "agreement": parameters[name]["agreement"]}
            for name in neural if name in parameters}


def configuration_label(neural: list[str]) -> str:
    """The sweep configuration of a candidate: ``neural=a+b`` (``all_global`` for none)."""
    return NEURAL_PREFIX + NEURAL_JOIN.join(neural) if neural else START


def neural_in(label: str) -> list[str]:
    """The parameters neural in a configuration named by :func:`configuration_label`."""
    return label.removeprefix(NEURAL_PREFIX).split(NEURAL_JOIN) if label.startswith(NEURAL_PREFIX) else []


class _Search:
    """The state of a running search: the open executor, the path so far, the current roles and
    the per-seed KGE of the current roles."""

    def __init__(self, search: RoleSearch, out: Path, executor, stop_event, on_step, on_row):
        self.search, self.out, self.executor = search, out, executor
        self.stop_event, self.on_step, self.on_row = stop_event, on_step, on_row
        self.path: list[RoleStep] = []
        self.neural: list[str] = []
        self.current: dict[int, float] = {}

    def run_step(self, k: int, configurations: dict[str, list[str]]):
        folder = self.out / f"step-{k}"
        outcome = run_sweep(self.search.sweep(configurations), folder, executor=self.executor,
                            stop_event=self.stop_event, on_row=self.on_row, after=[after_sweep],
                            title=f"Role search, step {k}")
        return outcome, folder

    def start(self) -> bool:
        outcome, folder = self.run_step(0, {START: []})
        self.current = _per_seed(outcome.table, START)
        if outcome.interrupted or not self.current:
            return False
        mean, sd = _spread(self.current.values())
        self.record(RoleStep(0, None, mean, sd, [], identifiability={}))
        return True

    def step(self, k: int, remaining: list[str]) -> str | None:
        """Try each remaining parameter as neural; the parameter kept, or None to stop."""
        labels = {name: configuration_label(self.neural + [name]) for name in remaining}
        outcome, folder = self.run_step(k, {labels[name]: self.neural + [name] for name in remaining})
        if outcome.interrupted:
            return None
        scores = {name: _per_seed(outcome.table, labels[name]) for name in remaining}
        means = {name: _spread(s.values())[0] for name, s in scores.items() if s}
        if not means:
            return None
        best = max(means, key=means.get)
        mean, sd = _spread(scores[best].values())
        gain, gain_sd = _spread(scores[best][seed] - self.current[seed] for seed in scores[best]
                                if seed in self.current)
        accepted = bool(gain > 0 and gain > gain_sd)
        neural = self.neural + [best] if accepted else list(self.neural)
        self.record(RoleStep(k, best, mean, sd, neural, gain, gain_sd, accepted,
                             _identifiability(folder, labels[best], self.neural + [best]), means))
        if accepted:
            self.neural, self.current = neural, scores[best]
            return best
        return None

    def record(self, step: RoleStep) -> None:
        self.path.append(step)
        write_path(self.out, self.search, self.path)
        if self.on_step is not None:
            self.on_step(step)


def run_role_search(search: RoleSearch, out: str | Path, options: ExecutorOptions | None = None,
                    on_step: Callable[[RoleStep], None] | None = None, stop_event: threading.Event | None = None,
                    on_row: Callable[[dict], None] | None = None, executor=None) -> list[RoleStep]:
    """Run the search into ``out`` (resumable: finished runs of each step are reused); returns the
    path. on_step(step) is called as each step is decided; on_row(row) as each run finishes.
    executor: one that is open already (anything with :meth:`core.compute.executor.Executor.map`, such as
    the dashboard's training pool); it stays open. Default: a new one from ``options``."""
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not (out / PATH_FILE).is_file():
        raise HybridlabError(f"{out}: the folder holds files that are not a role search; choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    opened = executor if executor is not None else (options or ExecutorOptions()).executor()
    with contextlib.nullcontext() if executor is not None else opened:
        state = _Search(search, out, opened, stop_event, on_step, on_row)
        if state.start():
            remaining = list(search.candidates)
            k = 1
            while remaining and not (stop_event is not None and stop_event.is_set()):
                kept = state.step(k, remaining)
                if kept is None:
                    break
                remaining.remove(kept)
                k += 1
    write_report(out, search, state.path)
    return state.path
