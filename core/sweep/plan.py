"""A sweep as plain data: the settings its runs share and the axes they vary along.

    base:            a run plan (dict) every run starts from
    configurations:  name -> changes to the base plan, e.g. {"roles": "five_neural"} or {"model": "nn"}
    seeds:           training seeds (initialisation, split and shuffling)
    folds:           K: run every fold of a K-fold split by site (None: the base plan's split)
    splits:          split kinds to run each configuration with, e.g. [site, temperature]
    grid:            setting -> values, e.g. {"train.lr": [0.01, 0.001], "network.hidden": [[32], [64, 32]]}
    pack_seeds:      train consecutive seeds of one configuration as one ensemble run (default false)

Every combination becomes one :class:`SweepTask`: a run plan as a dict, its axes, and the run
folder it is written to (``OUT/runs/<name>``). With ``pack_seeds``, the tasks
that differ only in consecutive seeds are trained together as the members of one ensemble run
(:meth:`SweepPlan.packs`, ``train.members``), written to one folder; the sweep's table keeps one
row per seed. Packed members share the split of their first seed. The sweep round-trips through
YAML like a run plan.
"""
from __future__ import annotations

import copy
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path


from core.io.documents import dump_yaml, read_document
from core.errors import HybridlabError
from core.run.plan import RunPlan
from core.validation import check_integer, check_keys
from core.formatting import short_repr

SWEEP_FILE = "sweep.yaml"
#: the most runs a sweep may expand to unless told otherwise (``--max-runs``)
MAX_RUNS = 10_000
#: blocks of a run plan that a grid key may address as BLOCK.SETTING
GRID_BLOCKS = ("train", "network", "split", "options")


@dataclass
class SweepTask:
    """One run of a sweep: name (its folder under OUT/runs), axes (configuration, seed, fold,
    split and grid values) and the run plan as a dict."""

    name: str
    axes: dict
    plan: dict


def _merge(base: dict, changes: dict) -> dict:
    """A deep copy of ``base`` with ``changes`` laid over it (nested dicts merged key by key; a
    None value removes the key, so that the model's default applies)."""
    merged = copy.deepcopy(base)
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict) and key != "roles":
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _grid_key(key: str) -> tuple[str, str]:
    block, sep, setting = key.partition(".")
    if not sep:
        block, setting = ("network", key) if key in ("hidden", "activation", "dropout") else ("train", key)
    if block not in GRID_BLOCKS or not setting:
        raise HybridlabError(f"sweep grid key {short_repr(key)}: use SETTING or BLOCK.SETTING with BLOCK one of "
                             f"{', '.join(GRID_BLOCKS)}")
    return block, setting


def _value_label(value) -> str:
    if isinstance(value, (list, tuple)):
        return "x".join(str(v) for v in value)
    return str(value)


def safe_name(text: str) -> str:
    """A folder name: letters, digits, '.', '-', '_' and '=' only."""
    return re.sub(r"[^A-Za-z0-9._=-]+", "-", text).strip("-") or "run"


@dataclass
class SweepPlan:
    base: dict
    configurations: dict[str, dict] = field(default_factory=dict)
    seeds: list[int] = field(default_factory=lambda: [0])
    folds: int | None = None
    splits: list[str] | None = None
    grid: dict[str, list] = field(default_factory=dict)
    pack_seeds: bool = False
    #: refuse a sweep of more runs (checked from the sizes, before any run plan is built); not saved
    max_runs: int = field(default=MAX_RUNS, repr=False, compare=False)

    def run_count(self) -> int:
        """How many runs the sweep expands to, from its sizes alone."""
        count = max(len(self.configurations), 1) * len(self.seeds) * (self.folds or 1) * len(self.splits or [None])
        for values in self.grid.values():
            count *= len(values)
        return count

    def __post_init__(self):
        self.max_runs = check_integer(self.max_runs, "--max-runs", minimum=1)
        if not isinstance(self.pack_seeds, bool):
            raise HybridlabError(f"sweep pack_seeds must be true or false, got {short_repr(self.pack_seeds)}")
        if not isinstance(self.base, dict):
            raise HybridlabError(f"sweep base must be a run plan (a mapping), got {short_repr(self.base)}")
        self.base = RunPlan.from_dict(self.base).to_dict()
        if not isinstance(self.configurations, dict):
            raise HybridlabError("sweep configurations must map a name to changes of the base plan")
        self.configurations = dict(self.configurations) or {"base": {}}
        for name, changes in self.configurations.items():
            if not isinstance(changes, dict):
                raise HybridlabError(f"sweep configuration {short_repr(name)}: changes must be a mapping, got {short_repr(changes)}")
        if isinstance(self.seeds, int) or not self.seeds:
            raise HybridlabError(f"sweep seeds must be a non-empty list of integers, got {short_repr(self.seeds)}")
        self.seeds = [check_integer(s, "seed", minimum=0) for s in self.seeds]
        if len(set(self.seeds)) != len(self.seeds):
            raise HybridlabError(f"sweep seeds repeat: {self.seeds}")
        if self.folds is not None:
            self.folds = check_integer(self.folds, "folds", minimum=2)
        if self.splits is not None and (isinstance(self.splits, str) or not self.splits):
            raise HybridlabError(f"sweep splits must be a non-empty list, got {short_repr(self.splits)}")
        if self.folds is not None and self.splits and (len(self.splits) > 1 or self.splits[0] not in ("kfold", "spatial")):
            raise HybridlabError("sweep: folds run a k-fold split by site (or by block); leave out splits, or use "
                                 "splits: [kfold] or [spatial]")
        if not isinstance(self.grid, dict):
            raise HybridlabError(f"sweep grid must map a setting to a list of values, got {short_repr(self.grid)}")
        for key, values in self.grid.items():
            _grid_key(key)
            if not isinstance(values, list) or not values:
                raise HybridlabError(f"sweep grid {short_repr(key)}: give a non-empty list of values, got {short_repr(values)}")
        if self.run_count() > self.max_runs:
            raise HybridlabError(f"the sweep expands to {self.run_count():,} runs, more than the limit of {self.max_runs:,}; "
                                 f"use fewer seeds, configurations or grid values, or raise --max-runs")
        self.tasks()  # every run plan must be valid before anything runs

    def to_dict(self) -> dict:
        values = {"base": self.base, "configurations": self.configurations, "seeds": self.seeds}
        values.update({k: v for k, v in (("folds", self.folds), ("splits", self.splits), ("grid", self.grid)) if v})
        if self.pack_seeds:
            values["pack_seeds"] = True
        return copy.deepcopy(values)

    @classmethod
    def from_dict(cls, values: dict, max_runs: int = MAX_RUNS) -> "SweepPlan":
        if not isinstance(values, dict):
            raise HybridlabError(f"a sweep plan must be a mapping, got {type(values).__name__}")
        check_keys(values, {"base", "configurations", "seeds", "folds", "splits", "grid", "pack_seeds"}, "sweep plan")
        if "base" not in values:
            raise HybridlabError("sweep plan: 'base' (the run plan every run starts from) is missing")
        return cls(**values, max_runs=max_runs)

    def to_yaml(self) -> str:
        return dump_yaml(self.to_dict())

    @classmethod
    def read(cls, path: str | Path, max_runs: int = MAX_RUNS) -> "SweepPlan":
        path = Path(path)
        if not path.is_file():
            raise HybridlabError(f"{path}: no such sweep plan file")
        values = read_document(path)
        try:
            return cls.from_dict(values, max_runs)
        except HybridlabError as e:
            raise HybridlabError(f"{path}: {e}") from None

    def _variants(self) -> list[tuple[dict, dict]]:
        """(axes, changes) for each split and grid combination."""
        base_kind = (self.base.get("split") or {}).get("kind")
        # folds run a k-fold by site, or by block where the base or the splits ask for a spatial split
        fold_kind = "spatial" if "spatial" in (self.splits or [base_kind]) else "kfold"
        splits = [fold_kind] if self.folds else (self.splits or [None])
        folds = range(self.folds) if self.folds else [None]
        keys = list(self.grid)
        variants = []
        for split, fold, values in itertools.product(splits, folds, itertools.product(*self.grid.values())):
            axes, changes = {}, {}
            if split is not None:
                axes["split"] = split
                changes["split"] = {"kind": split}
                if split == "spatial" and base_kind != "spatial":  # not another kind's 5 folds: a block hold-out
                    changes["split"].update(folds=None, fold=0)
            if fold is not None:
                axes["fold"] = fold
                changes["split"] = {"kind": fold_kind, "folds": self.folds, "fold": fold}
            for key, value in zip(keys, values):
                block, setting = _grid_key(key)
                axes[key] = value
                changes.setdefault(block, {})[setting] = value
            variants.append((axes, changes))
        return variants

    def tasks(self) -> list[SweepTask]:
        """Every run of the sweep, in a fixed order (configuration, variant, seed)."""
        tasks = []
        for configuration, changes in self.configurations.items():
            for axes, variant in self._variants():
                implied = ("fold", "split") if self.folds else ("fold",)
                label = "-".join([configuration, *(f"{k.split('.')[-1]}={_value_label(v)}" for k, v in axes.items()
                                                   if k not in implied)])
                for seed in self.seeds:
                    plan = _merge(_merge(self.base, changes), variant)
                    plan = _merge(plan, {"train": {"seed": seed}})
                    try:
                        plan = RunPlan.from_dict(plan).to_dict()
                    except HybridlabError as e:
                        raise HybridlabError(f"sweep configuration {short_repr(configuration)}: {e}") from None
                    name = safe_name(f"{label}__seed{seed}" + (f"__fold{axes['fold']}" if "fold" in axes else ""))
                    tasks.append(SweepTask(name, {"configuration": label, "seed": seed, **axes}, plan))
        names = [t.name for t in tasks]
        if len(set(names)) != len(names):
            raise HybridlabError("sweep: two runs would share a folder name; give configurations distinct names")
        return tasks


@dataclass
class SweepPack:
    """Tasks trained as one ensemble run: its folder name, the run plan (``train.members`` = the
    number of tasks, ``train.seed`` = the first task's seed) and the tasks it stands for, in
    member order."""

    name: str
    plan: dict
    tasks: list[SweepTask]


def pack_tasks(tasks: list[SweepTask]) -> list[SweepPack]:
    """Group tasks (in :meth:`SweepPlan.tasks` order) whose plans differ only in consecutive
    seeds into packs; a task whose plan already trains members stays alone."""
    packs: list[SweepPack] = []
    for task in tasks:
        last = packs[-1] if packs else None
        if last is not None and _continues(last, task):
            last.tasks.append(task)
            continue
        packs.append(SweepPack(task.name, task.plan, [task]))
    for pack in packs:
        if len(pack.tasks) > 1:
            seeds = [t.axes["seed"] for t in pack.tasks]
            pack.name = pack.tasks[0].name.replace(f"__seed{seeds[0]}", f"__seeds{seeds[0]}-{seeds[-1]}", 1)
            pack.plan = _merge(pack.tasks[0].plan, {"train": {"members": len(seeds)}})
    return packs


def _continues(pack: SweepPack, task: SweepTask) -> bool:
    first = pack.tasks[0]
    if (first.plan["train"].get("members", 1) != 1 or task.plan["train"].get("members", 1) != 1
            or task.axes["seed"] != pack.tasks[-1].axes["seed"] + 1):
        return False
    other = {key: value for key, value in task.axes.items() if key != "seed"}
    mine = {key: value for key, value in first.axes.items() if key != "seed"}
    return other == mine and _merge(task.plan, {"train": {"seed": first.axes["seed"]}}) == first.plan
