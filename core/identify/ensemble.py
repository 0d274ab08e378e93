"""An ensemble: the finished members (seeds, folds) of one sweep configuration, read back from
their run folders as one (members, sites) array per parameter."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from core.io.documents import read_document
from core.errors import HybridlabError
from core.run.integrity import MARKER, verify
from core.hybrid.parameters import ParameterSet
from core.run.plan import RunPlan
from core.run.store import MEMBERS_TABLE, is_run_folder
from core.run.execute import load_plan_data
from core.sweep import FINISHED, RUNS, SWEEP_FILE, read_table
from core.identify.scores import fitting_members
from core.formatting import short_repr


@dataclass
class Ensemble:
    """configuration: its label in the sweep; plan: the first member's plan; parameter_set: roles
    and bounds; members: run names; values: parameter -> (members, rows) learned values in the
    parameter's units; recovery: parameter -> per-member r of learned vs true (NaN where the
    data carry no truth); fits: per-member mean validation KGE; target_fits: the same per target."""

    configuration: str
    plan: RunPlan
    parameter_set: ParameterSet
    members: list[str]
    values: dict[str, np.ndarray]
    ids: np.ndarray
    recovery: dict[str, list[float]] = field(default_factory=dict)
    fits: list[float] = field(default_factory=list)
    #: target -> per-member validation KGE
    target_fits: dict[str, list[float]] = field(default_factory=dict)
    #: the data the members were trained on, when at hand (else :meth:`truth` loads them by plan)
    data: object = None
    #: whether some members are the members of one ensemble run, and so share its split and batch order
    shared_split: bool = False

    def fitting(self) -> np.ndarray:
        """Mask (members,) of the members that fit as well as the others (:func:`fitting_members`)."""
        return fitting_members(self.fits) if self.fits else np.ones(len(self.members), dtype=bool)

    @classmethod
    def from_runs(cls, configuration: str, runs: list) -> "Ensemble":
        """An ensemble of finished runs in memory, one per seed: :class:`core.run.result.Run` (or
        anything with its ``plan``, ``parameters`` and ``metrics``), e.g. from
        :func:`core.run.execute.execute` in a notebook or the dashboard's ensemble."""
        members = [member for run in runs for member in _expand(
            f"{configuration}__seed{run.plan.train.seed}", run.plan, run.parameters, run.metrics,
            lambda run=run: run.members_table)]
        ensemble = _from_members(configuration, members)
        if ensemble is not None:
            ensemble.data = getattr(runs[0], "data", None)
            ensemble.shared_split = len(members) > len(runs)
        return ensemble

    def learned(self) -> list:
        """The learned (global and neural) parameters."""
        return [p for p in self.parameter_set if p.role in ("global", "neural")]

    def truth(self) -> pd.DataFrame | None:
        """The data's ``true_<parameter>`` columns in the members' row order, None if there are none."""
        data = self.data if self.data is not None else load_plan_data(self.plan)
        columns = data.truth_columns()
        if not columns or len(data.frame) != self.ids.shape[0]:
            return None
        return pd.DataFrame({name: data.frame[column].to_numpy(dtype=float) for name, column in columns.items()})


def _expand(name: str, plan: RunPlan, parameters: pd.DataFrame, metrics: dict, members_table) -> list[tuple]:
    """(name, plan, parameters, metrics) of each member of a run: the run itself, or each finished
    member of an ensemble run (``members_table()`` gives its members.parquet)."""
    if plan.train.members == 1:
        return [(name, plan, parameters, metrics)]
    table = members_table()
    members = []
    for entry in metrics.get("members") or []:
        own = plan.replace(train=replace(plan.train, seed=entry["seed"], members=1))
        rows = table[table["member"] == entry["member"]].drop(columns=["member", "seed"]).reset_index(drop=True)
        members.append((f"{name}#member{entry['member']}", own, rows, entry))
    return members


def _members(folder: Path) -> list[tuple]:
    verify(folder)  # the files a verdict is read from are those written with the run
    plan = RunPlan.read(folder / "plan.yaml")
    parameters = pd.read_parquet(folder / "parameters.parquet")
    metrics = read_document(folder / "metrics.json")
    return _expand(folder.name, plan, parameters, metrics, lambda: pd.read_parquet(folder / MEMBERS_TABLE))


def _from_members(configuration: str, members: list[tuple]) -> Ensemble | None:
    """members: (name, plan, parameters table, metrics) each; None for the pure network."""
    if len(members) < 2:
        raise HybridlabError(f"configuration {short_repr(configuration)}: an ensemble needs at least 2 members, got "
                             f"{len(members)}")
    plan = members[0][1]
    if not plan.spec.has_parameters:
        return None
    parameter_set = plan.parameter_set()
    ids = members[0][2]["id"].to_numpy()
    for name, _, parameters, _ in members[1:]:
        if len(parameters) != len(ids) or not np.array_equal(parameters["id"].to_numpy(), ids):
            raise HybridlabError(f"configuration {short_repr(configuration)}: run {name} was trained on other rows than "
                                 f"{members[0][0]}; an ensemble compares members on the same sites")
    values = {p.name: np.stack([m[2][p.name].to_numpy(dtype=float) for m in members])
              for p in parameter_set if p.role in ("global", "neural")}
    truth = [metrics.get("parameter_recovery") or {} for _, _, _, metrics in members]
    recovery = {name: [float((entry.get(name) or {}).get("r") or np.nan) for entry in truth]
                for name in dict.fromkeys(n for entry in truth for n, e in entry.items() if "r" in e)}
    fits = [float(metrics.get("mean_val_kge") or np.nan) for _, _, _, metrics in members]
    target_fits = {target: [_val_kge(metrics, target) for _, _, _, metrics in members]
                   for target in (members[0][3].get("targets") or {})}
    return Ensemble(configuration, plan, parameter_set, [m[0] for m in members], values, ids, recovery, fits,
                    target_fits)


def _val_kge(metrics: dict, target: str) -> float:
    value = (((metrics.get("targets") or {}).get(target) or {}).get("val") or {}).get("kge")
    return float(value) if value is not None else np.nan


def _ensemble(configuration: str, folders: list[Path]) -> Ensemble | None:
    members = [member for folder in folders for member in _members(folder)]
    ensemble = _from_members(configuration, members)
    if ensemble is not None:
        ensemble.shared_split = len(members) > len(folders)
    return ensemble


def sweep_ensembles(out: str | Path) -> list[Ensemble]:
    """One ensemble per configuration of the sweep in ``out`` with at least 2 finished members
    (seeds x folds, as separate runs or as the members of ensemble runs); configurations of the
    pure network are left out (no parameters)."""
    out = Path(out)
    table = read_table(out)
    if not (out / SWEEP_FILE).is_file() or table is None:
        if is_run_folder(out):
            raise HybridlabError(f"{out}: is one run; identifiability needs an ensemble, so give the folder of a "
                                 f"sweep with at least 2 seeds (hybridlab sweep --seeds 5 ...)")
        raise HybridlabError(f"{out}: not a hybridlab sweep folder (no {SWEEP_FILE} and sweep.parquet)")
    ensembles = []
    finished = table[table["status"] == FINISHED]
    for configuration, group in finished.groupby("configuration", sort=False):
        names = group["run"].fillna(group["name"]) if "run" in group else group["name"]
        # a finished run whose marker no longer matches its files is named (by _members), not left out
        folders = [out / RUNS / name for name in dict.fromkeys(names)
                   if is_run_folder(out / RUNS / name) or (out / RUNS / name / MARKER).is_file()]
        if sum(len(_members(folder)) for folder in folders) >= 2:
            ensemble = _ensemble(str(configuration), folders)
            if ensemble is not None:
                ensembles.append(ensemble)
    return ensembles
