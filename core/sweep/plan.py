"""A sweep as plain data: the settings its runs share and the axes they vary along.

    base:            a run plan (dict) every run starts from
    configurations:  name -> changes to the base plan, e.g. {"roles": "five_neural"} or {"model": "nn"}
    seeds:           training seeds (initialisation, split and shuffling)
    folds:           K: run every fold of a K-fold split by site (None: the base plan's split)
    splits:          split kinds to run each configuration with, e.g. [site, temperature]
    grid:            setting -> values, e.g. {"train.lr": [0.01, 0.001], "network.hidden": [[32], [64, 32]]}

Every combination becomes one :class:`SweepTask`: a run plan as a dict, its axes, and the run
folder it is written to (``OUT/runs/<name>``). The sweep round-trips through YAML like a run plan.
"""
from __future__ import annotations

import copy
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..errors import HybridlabError
from ..plan import RunPlan
from ..validation import check_integer, check_keys

SWEEP_FILE = "sweep.yaml"
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
        raise HybridlabError(f"sweep grid key {key!r}: use SETTING or BLOCK.SETTING with BLOCK one of "
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

    def __post_init__(self):
        if not isinstance(self.base, dict):
            raise HybridlabError(f"sweep base must be a run plan (a mapping), got {self.base!r}")
        self.base = RunPlan.from_dict(self.base).to_dict()
        if not isinstance(self.configurations, dict):
            raise HybridlabError("sweep configurations must map a name to changes of the base plan")
        self.configurations = dict(self.configurations) or {"base": {}}
        for name, changes in self.configurations.items():
            if not isinstance(changes, dict):
                raise HybridlabError(f"sweep configuration {name!r}: changes must be a mapping, got {changes!r}")
        if isinstance(self.seeds, int) or not self.seeds:
            raise HybridlabError(f"sweep seeds must be a non-empty list of integers, got {self.seeds!r}")
        self.seeds = [check_integer(s, "seed", minimum=0) for s in self.seeds]
        if len(set(self.seeds)) != len(self.seeds):
            raise HybridlabError(f"sweep seeds repeat: {self.seeds}")
        if self.folds is not None:
            self.folds = check_integer(self.folds, "folds", minimum=2)
        if self.splits is not None and (isinstance(self.splits, str) or not self.splits):
            raise HybridlabError(f"sweep splits must be a non-empty list, got {self.splits!r}")
        if self.folds is not None and self.splits and any(s != "kfold" for s in self.splits):
            raise HybridlabError("sweep: folds run a k-fold split by site; leave out splits, or use splits: [kfold]")
        for key, values in self.grid.items():
            _grid_key(key)
            if not isinstance(values, list) or not values:
                raise HybridlabError(f"sweep grid {key!r}: give a non-empty list of values, got {values!r}")
        self.tasks()  # every run plan must be valid before anything runs

    def to_dict(self) -> dict:
        values = {"base": self.base, "configurations": self.configurations, "seeds": self.seeds}
        values.update({k: v for k, v in (("folds", self.folds), ("splits", self.splits), ("grid", self.grid)) if v})
        return copy.deepcopy(values)

    @classmethod
    def from_dict(cls, values: dict) -> "SweepPlan":
        if not isinstance(values, dict):
            raise HybridlabError(f"a sweep plan must be a mapping, got {type(values).__name__}")
        check_keys(values, {"base", "configurations", "seeds", "folds", "splits", "grid"}, "sweep plan")
        if "base" not in values:
            raise HybridlabError("sweep plan: 'base' (the run plan every run starts from) is missing")
        return cls(**values)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    @classmethod
    def read(cls, path: str | Path) -> "SweepPlan":
        path = Path(path)
        if not path.is_file():
            raise HybridlabError(f"{path}: no such sweep plan file")
        try:
            values = yaml.safe_load(path.read_text())
        except yaml.YAMLError as e:
            raise HybridlabError(f"{path}: not valid YAML ({str(e).splitlines()[0]})") from None
        try:
            return cls.from_dict(values)
        except HybridlabError as e:
            raise HybridlabError(f"{path}: {e}") from None

    def _variants(self) -> list[tuple[dict, dict]]:
        """(axes, changes) for each split and grid combination."""
        splits = ["kfold"] if self.folds else (self.splits or [None])
        folds = range(self.folds) if self.folds else [None]
        keys = list(self.grid)
        variants = []
        for split, fold, values in itertools.product(splits, folds, itertools.product(*self.grid.values())):
            axes, changes = {}, {}
            if split is not None:
                axes["split"] = split
                changes["split"] = {"kind": split}
            if fold is not None:
                axes["fold"] = fold
                changes["split"] = {"kind": "kfold", "folds": self.folds, "fold": fold}
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
                        raise HybridlabError(f"sweep configuration {configuration!r}: {e}") from None
                    name = safe_name(f"{label}__seed{seed}" + (f"__fold{axes['fold']}" if "fold" in axes else ""))
                    tasks.append(SweepTask(name, {"configuration": label, "seed": seed, **axes}, plan))
        names = [t.name for t in tasks]
        if len(set(names)) != len(names):
            raise HybridlabError("sweep: two runs would share a folder name; give configurations distinct names")
        return tasks
