"""The hybrid against the baselines on one data set: an experiment (:mod:`core.experiments`) whose
configurations are the hybrid and the trained baselines (``nn``, ``one_q10``), run over seeds
and folds as a sweep; its report fits every other baseline on the hybrid's own training rows of
each seed and fold, scores all of them on the same validation rows and writes ``results.json``
and ``results.md`` (:mod:`.report`).

    hybridlab experiment swrc --data points.parquet --columns points.columns.json \\
        --baselines nn,rf,rosetta3 --seeds 5 --folds 5 --out compare/
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Callable

import numpy as np

from core.datasets import HybridData
from core.errors import DataError, HybridlabError
from core.run.execute import load_plan_data
from core.experiments import Experiment, ExperimentOptions, run_experiment
from core.run.plan import RunPlan
from core.baselines.applicability import run_aoa
from core.baselines.awc import AwcQueries, FittedAwc, awc_queries, run_awc, with_queries
from core.baselines.awc import applies as awc_applies
from core.baselines.comparison import REFERENCE
from core.baselines.scoring import score_baseline
from core.baselines.spec import BaselineRows, BaselineSpec


@dataclass
class Comparison:
    """What a comparison runs: the hybrid's plan, the baselines (in the order asked for), the data
    loaded once, the run's forcing and targets (model names) and, for a retention model, the
    samples with an observed AWC (:mod:`core.baselines.awc`)."""

    plan: RunPlan
    baselines: list[BaselineSpec]
    data: HybridData
    forcing: list[str]
    targets: list[str]
    seconds: dict = field(default_factory=dict)
    awc: AwcQueries | None = None
    #: the data the fitted baselines see: ``data`` with the AWC query rows appended, where there are any
    fitting_data: HybridData | None = None

    def __post_init__(self):
        if self.fitting_data is None:
            self.fitting_data = self.data if self.awc is None else with_queries(self.data, self.awc)

    @property
    def scored(self) -> list[str]:
        """The targets, then the derived quantities every method is scored on (``awc``)."""
        return self.targets + (["awc"] if self.awc is not None else [])

    @property
    def trained(self) -> list[BaselineSpec]:
        return [b for b in self.baselines if b.trained]

    @property
    def fitted(self) -> list[BaselineSpec]:
        return [b for b in self.baselines if not b.trained]


def prepare(plan: RunPlan, baselines: list[BaselineSpec]) -> Comparison:
    """Load the plan's data once and check that every baseline applies, before anything trains."""
    spec = plan.spec
    if not spec.has_parameters:
        raise HybridlabError(f"model {plan.model} is the pure network; compare a mechanistic model "
                             f"(and give nn in --baselines)")
    data = load_plan_data(plan)
    forcing, targets = spec.variables(data, plan.targets)
    for baseline in baselines:
        reason = baseline.applies(spec, data, targets)
        if reason:
            raise HybridlabError(f"--baselines {baseline.name} does not apply here: {reason}")
    awc = awc_queries(spec, data) if awc_applies(spec, targets) else None
    return Comparison(plan, list(baselines), data, forcing, targets, awc=awc)


def configurations(comparison: Comparison, options: ExperimentOptions) -> dict[str, RunPlan]:
    """The hybrid and each trained baseline as a plan: the options' split kind, and their epochs
    and patience where given (None: the plan's)."""
    plan = comparison.plan.replace(split={**comparison.plan.split.to_dict(), **options.split_settings()})
    given = {k: v for k, v in (("epochs", options.epochs), ("patience", options.patience)) if v is not None}
    if given:
        plan = plan.replace(train={**plan.train.to_dict(), **given})
    plans = {REFERENCE: plan}
    for baseline in comparison.trained:
        plans[baseline.name] = baseline.configuration(plan, comparison.targets)
    return plans


def split_rows(comparison: Comparison, member) -> BaselineRows:
    """The hybrid's own train and validation rows of one finished run (its predictions' split), as
    positions in :attr:`Comparison.fitting_data`."""
    predictions = member.predictions
    data = comparison.data
    same = len(predictions) == len(data.frame) and np.array_equal(
        predictions["id"].astype(str).to_numpy(), data.frame[data.id].astype(str).to_numpy())
    if not same:
        raise DataError(f"{member.path}: its rows differ from data {data.name} as read now; the file changed since "
                        f"the run was trained: use a new --out")
    split = predictions["split"].astype(str).to_numpy()
    derived = None
    if comparison.awc is not None:
        derived = FittedAwc(comparison.awc, comparison.awc.rows_of(np.flatnonzero(split == "val")), len(data.frame))
    return BaselineRows(data=comparison.fitting_data, predictors=list(data.predictors),
                        forcing=comparison.forcing, targets=comparison.targets, train=np.flatnonzero(split == "train"),
                        val=np.flatnonzero(split == "val"), seed=member.seed, model=comparison.plan.model,
                        derived=derived)


def trained_records(members: dict, awc: AwcQueries | None = None) -> list[dict]:
    """One record per trained configuration, run and target: its validation metrics from
    metrics.json, and its AWC on the validation samples where ``awc`` is given."""
    records = []
    for name, runs in members.items():
        for run in runs:
            base = {"method": name, "seed": run.seed, "fold": run.fold, "seconds": run.metrics.get("train_seconds")}
            for target, splits in run.metrics["targets"].items():
                aoa = run_aoa(run.metrics, target)
                records.append({**base, "target": target, **(splits.get("val") or {}), **({"aoa": aoa} if aoa else {})})
            derived = run_awc(awc, run) if awc is not None else {}
            records += [{**base, "target": target, **entry} for target, entry in derived.items()]
    return records


def fitted_records(comparison: Comparison, hybrid_runs: list, log: Callable[[str], None]) -> list[dict]:
    """Every fitted baseline on every hybrid run's split: one record per run and target."""
    records = []
    for baseline in comparison.fitted:
        start = time.perf_counter()
        for run in hybrid_runs:
            scores = score_baseline(baseline, split_rows(comparison, run))
            records += [{"method": baseline.name, "target": target, "seed": run.seed, "fold": run.fold, **entry}
                        for target, entry in scores.items()]
        comparison.seconds[baseline.name] = time.perf_counter() - start
        log(f"{baseline.name}: fitted and scored on {len(hybrid_runs)} splits in {comparison.seconds[baseline.name]:.1f} s")
    return records


def report(comparison: Comparison, log: Callable[[str], None], out: Path, members: dict, summary: dict,
           options: ExperimentOptions, seconds: float) -> dict:
    """The experiment's report step: fitted baselines, the table, results.json and results.md."""
    from core.baselines.report import write_results

    if REFERENCE not in members:
        raise HybridlabError(f"no run of the hybrid finished; see {out / 'summary.md'}")
    start = time.perf_counter()
    records = trained_records(members, comparison.awc) + fitted_records(comparison, members[REFERENCE], log)
    total = seconds + time.perf_counter() - start
    return write_results(out, comparison, records, options, total)


def run_comparison(plan: RunPlan, baselines: list[BaselineSpec], out: str | Path, options: ExperimentOptions,
                   executor=None, *, log: Callable[[str], None] = print, on_row=None, on_plan=None,
                   stop_event=None) -> dict:
    """Train the hybrid and the trained baselines over ``options``' seeds and folds, fit the other
    baselines on the same rows, and write the comparison.

    Parameters
    ----------
    plan : RunPlan
        The hybrid's run (model, roles, data, settings); its split kind is used without --folds.
    baselines : list of BaselineSpec
        From :func:`core.baselines.parse_baselines`.
    out : str or Path
        The results folder (the sweep's runs, ``results.json``, ``results.md``).
    options : ExperimentOptions
        Seeds, folds, members, calibration; ``epochs`` / ``patience`` None keep the plan's.

    Returns
    -------
    dict
        results.json's content.
    """
    comparison = prepare(plan, baselines)
    experiment = Experiment(name="compare", description=f"{plan.model} against {', '.join(b.name for b in baselines)}",
                            plans=partial(configurations, comparison), report=partial(report, comparison, log))
    return run_experiment(experiment, out, options, executor, on_row=on_row, log=log, stop_event=stop_event,
                          on_plan=on_plan)
