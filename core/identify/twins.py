"""Twin experiments: how well the configuration of an ensemble recovers a parameter field that is
known, on synthetic twins of the data it was trained on (:mod:`.twin_data`).

For one ensemble and N twins, each twin is written as a Parquet file with its column map, and the
same configuration is trained on every twin with the given seeds, as one ordinary sweep:

    FOLDER/data/twin-<k>-<hash>.parquet   the twin tables (hash: of the table, so a changed
                                          ensemble makes new twins and new runs)
    FOLDER/twins.json                     how each twin was made (kind, noise)
    FOLDER/sweep/                         the sweep of the twins (resumes like any sweep)

Twins alternate between the kinds of :data:`.twin_data.TWIN_KINDS`, random first.
"""
from __future__ import annotations

import hashlib
import io
import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from core.errors import HybridlabError
from core.run.integrity import sha256
from core.io.json_files import write_json
from core.metrics import correlation, log_combination, unit_position
from core.io.outputs import write_file
from core.sweep import ExecutorOptions, SweepPlan, run_sweep
from core.identify.ensemble import Ensemble, sweep_ensembles
from core.identify.fit import fit_failure
from core.identify import twin_data

#: the most twins and members per twin one check may ask for
MAX_TWINS, MAX_MEMBERS = 20, 10
#: the least value of a twin target that must be positive (noise could push it to 0 or below)
POSITIVE_FLOOR = 1e-6


@dataclass
class TwinDesign:
    """twins: how many twins; members: seeds trained on each (0, 1, ...); pack_seeds: train a
    twin's members as one ensemble run; seed: of the twins' random fields and noise."""

    twins: int = 4
    members: int = 3
    pack_seeds: bool = True
    seed: int = 0

    def __post_init__(self):
        from core.validation import check_integer

        self.twins = check_integer(self.twins, "--twins", minimum=1, maximum=MAX_TWINS)
        self.members = check_integer(self.members, "--twin-members", minimum=2, maximum=MAX_MEMBERS)


def _parquet(table) -> tuple[bytes, str]:
    """The twin table as Parquet bytes and their SHA-256."""
    buffer = io.BytesIO()
    table.to_parquet(buffer, index=False)
    return buffer.getvalue(), hashlib.sha256(buffer.getvalue()).hexdigest()


def _twin_file(folder: Path, index: int, table) -> tuple[Path, str]:
    """The twin's file, written once (through :mod:`core.io.outputs`) and named by its content's
    digest; an existing one must still hold exactly that content (its truth decides verdicts)."""
    content, digest = _parquet(table)
    path = folder / "data" / f"twin-{index + 1}-{digest[:10]}.parquet"
    if not path.is_file():
        write_file(path, lambda temp: temp.write_bytes(content))
    elif sha256(path) != digest:
        raise HybridlabError(f"{path}: not the twin file written for this ensemble (its checksum differs from the "
                             f"one its name records); it was changed after it was written: remove {folder} to make "
                             f"the twins again")
    return path, digest


def _fitted_values(ensemble: Ensemble) -> dict[str, np.ndarray]:
    kept = ensemble.fitting()
    return {name: values[kept] for name, values in ensemble.values.items()}


def _data(ensemble: Ensemble):
    """The data the members were trained on (read once, then kept on the ensemble)."""
    from core.run.execute import load_plan_data

    if ensemble.data is None:
        ensemble.data = load_plan_data(ensemble.plan)
    return ensemble.data


def make_twins(ensemble: Ensemble, folder: Path, design: TwinDesign) -> tuple[list[str], dict]:
    """Write the twin tables of ``ensemble`` into FOLDER/data; returns their paths and how they
    were made (noise per target; per twin its kind and file)."""
    plan = ensemble.plan
    data = _data(ensemble)
    if len(data.frame) != ensemble.ids.shape[0]:
        raise HybridlabError(f"configuration {ensemble.configuration}: its data have {len(data.frame)} rows but the "
                             f"members hold {ensemble.ids.shape[0]}; twins need the data the members were trained on")
    fitted = _fitted_values(ensemble)
    mean_fields = {name: values.mean(axis=0) for name, values in fitted.items()}
    outputs = twin_data.mechanistic_outputs(plan, data, mean_fields)
    noise = {target: twin_data.noise_model(data.frame[data.targets[target]].to_numpy(dtype=float), outputs[target],
                                           target in plan.spec.nonnegative) for target in outputs}
    (folder / "data").mkdir(parents=True, exist_ok=True)
    paths, made = [], {}
    for index in range(design.twins):
        kind = twin_data.TWIN_KINDS[index % len(twin_data.TWIN_KINDS)]
        rng = np.random.default_rng([design.seed, index])
        truth = twin_data.twin_parameters(ensemble.parameter_set, fitted, data, kind, rng)
        clean = twin_data.mechanistic_outputs(plan, data, truth)
        floors = {**{t: 0.0 for t in plan.spec.nonnegative}, **{t: POSITIVE_FLOOR for t in plan.spec.positive}}
        table = twin_data.twin_table(data, clean, noise, truth, rng, floors=floors)
        path, digest = _twin_file(folder, index, table)
        paths.append(str(path.resolve()))
        made[f"twin-{index + 1}"] = {"kind": kind, "file": path.name, "sha256": digest}
    return paths, {"noise": noise, "twins": made}


def twin_sweep(ensemble: Ensemble, paths: list[str], design: TwinDesign) -> SweepPlan:
    """One sweep: the ensemble's configuration on every twin (configurations twin-1 ... twin-N)
    with seeds 0 .. members-1."""
    plan = ensemble.plan
    data = _data(ensemble)
    targets = plan.spec.variables(data, plan.targets)[1]
    source = {"path": paths[0], "columns": twin_data.column_map(data, targets)}
    base = replace(plan, data=source, train=replace(plan.train, members=1)).to_dict()
    configurations = {f"twin-{k + 1}": {"data": {"path": path}} for k, path in enumerate(paths)}
    return SweepPlan(base=base, configurations=configurations, seeds=list(range(design.members)),
                     pack_seeds=design.pack_seeds)


def run_twins(ensemble: Ensemble, folder: str | Path, design: TwinDesign, options: ExecutorOptions | None = None, *,
              combinations: dict | None = None, executor=None, on_row=None) -> dict:
    """Make the twins of ``ensemble``, train them (resuming) and score them (:func:`twin_scores`;
    combinations: label -> parts to score as well)."""
    folder = Path(folder)
    paths, made = make_twins(ensemble, folder, design)
    write_json(folder / "twins.json", made)
    run_sweep(twin_sweep(ensemble, paths, design), folder / "sweep", options, executor=executor, on_row=on_row,
              title=f"Twins of {ensemble.configuration}")
    ensembles = {e.configuration: e for e in sweep_ensembles(folder / "sweep")}
    scores = twin_scores({name: ensembles.get(name) for name in made["twins"]}, made, combinations)
    return {**scores, "noise": made["noise"]}


def twin_calls(ensemble: Ensemble, folder: str | Path, design: TwinDesign, combinations: dict | None = None
               ) -> tuple[list[dict], dict]:
    """The twins of ``ensemble`` as items for :func:`train_twin`, one per twin, each training its
    members as one ensemble run (for a pool or an executor's ``map``); and how they were made."""
    paths, made = make_twins(ensemble, Path(folder), design)
    sweep = twin_sweep(ensemble, paths, design)
    items = []
    for (name, changes), info in zip(sweep.configurations.items(), made["twins"].values()):
        plan = {**sweep.base, "data": {**sweep.base["data"], **changes["data"]},
                "train": {**sweep.base["train"], "seed": 0, "members": design.members}}
        items.append({"twin": name, "plan": plan, "made": info, "combinations": combinations or {}})
    return items, made


def train_twin(item: dict, stop_event=None) -> dict:
    """Train one twin (an item of :func:`twin_calls`) in memory and score it: a
    :func:`twin_scores` result for that twin alone."""
    from core.run.execute import execute

    run = execute(item["plan"], stop_event=stop_event)
    twin = Ensemble.from_runs(item["twin"], [run])
    return twin_scores({item["twin"]: twin}, {"twins": {item["twin"]: item["made"]}}, item["combinations"])


def merge_twin_scores(results: list[dict], noise: dict | None = None) -> dict:
    """One :func:`twin_scores` result from those of single twins."""
    merged = {"twins": {}, "parameters": {}, "combinations": {}, "noise": noise or {}}
    for result in results:
        merged["twins"].update(result["twins"])
        for key in ("parameters", "combinations"):
            for name, per_twin in result[key].items():
                merged[key].setdefault(name, {}).update(per_twin)
    return merged


#: mean distance of two uniform draws on [0, 1]: the error of a global start that learned nothing
RANDOM_START_ERROR = 1.0 / 3.0


def _member_recovery(twin: Ensemble, kept: np.ndarray, truth) -> dict[str, float]:
    """Mean over the fitting members of one twin: r of learned vs true per neural parameter; for a
    global one whose members start at random points (``global_start: random``),
    1 - mean |error| / (1/3) on the unit scale, clipped at 0 (0: no closer than a random start).
    Globals that start at their defaults are not scored: their twin value is the fitted one, which
    a default start that never moved "recovers" without any information."""
    scores = {}
    for parameter in twin.learned():
        values = twin.values[parameter.name][kept]
        true = truth[parameter.name].to_numpy(dtype=float)
        if parameter.role == "neural":
            rs = [correlation(member, true) for member in values]
            scores[parameter.name] = float(np.nanmean(rs)) if np.isfinite(rs).any() else math.nan
        elif twin.plan.train.global_start == "random":
            error = np.abs(unit_position(values[:, 0], parameter) - unit_position(true[:1], parameter)[0])
            scores[parameter.name] = float(max(0.0, 1 - np.mean(error) / RANDOM_START_ERROR))
    return scores


def _combination_recovery(twin: Ensemble, kept: np.ndarray, truth, parts) -> float:
    true = log_combination(truth, parts)
    rs = [correlation(member, true) for member in log_combination({n: twin.values[n][kept] for n, _ in parts}, parts)]
    return float(np.nanmean(rs)) if np.isfinite(rs).any() else math.nan


def twin_scores(twins: dict[str, Ensemble | None], made: dict, combinations: dict | None = None) -> dict:
    """{"twins": per twin {kind, members, failed}, "parameters": name -> per-twin scores,
    "combinations": label -> per-twin scores}; a twin whose fit failed (or that did not finish:
    None) scores nothing. combinations: label -> [[name, power], ...] to score as well."""
    result = {"twins": {}, "parameters": {}, "combinations": {}}
    for name, twin in twins.items():
        info = made["twins"][name]
        entry = {"kind": info["kind"], "members": 0}
        if twin is None:
            result["twins"][name] = {**entry, "failed": "fewer than 2 members finished"}
            continue
        kept = twin.fitting()
        entry.update(members=int(kept.sum()), failed=fit_failure(twin, kept))
        result["twins"][name] = entry
        if entry["failed"]:
            continue
        truth = twin.truth()
        for parameter, score in _member_recovery(twin, kept, truth).items():
            result["parameters"].setdefault(parameter, {})[name] = score
        for label, parts in (combinations or {}).items():
            score = _combination_recovery(twin, kept, truth, [tuple(p) for p in parts])
            result["combinations"].setdefault(label, {})[name] = score
    return result
