"""HoloViews figures of a finished run, for notebooks: ``run.plots.scatter()``, ``.kge()``,
``.loss()``, ``.parameters()`` and ``.saturation()``. Each returns a HoloViews object, so it shows
in a notebook after ``hv.extension("bokeh")`` (or ``pn.extension()``) and can be composed with ``+``
and ``*`` or saved with ``hv.save``. The dashboard's views draw with the same helpers.

HoloViews is imported here only, when a figure is asked for, so the engine runs without it.
"""
from __future__ import annotations

import holoviews as hv
import numpy as np

from core.errors import HybridlabError
from core.formatting import label, number, short_repr, with_unit
from core.metrics import correlation, share_at_bound
from core.models import get_model, model_names



def use_bokeh(replace: bool = False) -> None:
    """Make Bokeh HoloViews' current renderer: always with ``replace`` (the dashboard), else only
    when no renderer is loaded yet (a notebook's choice stays). Loads the renderer alone, since
    ``hv.extension`` would also write notebook output. The one place hybridlab sets a backend."""
    if replace or hv.Store.current_backend not in hv.Store.renderers:
        import holoviews.plotting.bokeh  # noqa: F401

        hv.Store.set_current_backend("bokeh")


use_bokeh()

MAX_POINTS = 4000  # above this, point clouds are thinned to this many evenly spaced points
PARTS = ("kge", "r", "alpha", "beta")
SPLIT_COLORS = {"train": "#1f77b4", "val": "#ff7f0e"}


def _thin(*arrays):
    if len(arrays[0]) <= MAX_POINTS:
        return arrays
    keep = np.linspace(0, len(arrays[0]) - 1, MAX_POINTS).astype(int)
    return tuple(a[keep] for a in arrays)


def observed_vs_predicted(predictions, metrics: dict, target: str, split: str) -> hv.Overlay:
    """Observed (x) against predicted (y) of one target on one split, with the 1:1 line.
    predictions: a run's predictions table (``<target>_obs``, ``<target>_pred``, ``split``)."""
    rows = predictions["split"] == split
    observed, predicted = (predictions.loc[rows, f"{target}_{kind}"].to_numpy(dtype=float) for kind in ("obs", "pred"))
    ok = np.isfinite(observed) & np.isfinite(predicted)
    observed, predicted = _thin(observed[ok], predicted[ok])
    low, high = (float(v) for v in np.percentile(np.r_[observed, predicted], [0.2, 99.8])) if ok.any() else (0.0, 1.0)
    dims = [f"observed {label(target)}", f"predicted {label(target)}"]
    m = metrics[target][split]
    title = (f"{label(target)} {split}: KGE {number(m['kge'], 2)} r {number(m['r'], 2)} "
             f"α {number(m['alpha'], 2)} β {number(m['beta'], 2)}")
    points = hv.Points((observed, predicted), kdims=dims).opts(size=3, alpha=0.5, color=SPLIT_COLORS[split])
    line = hv.Curve([(low, low), (high, high)], kdims=dims[:1], vdims=dims[1:]).opts(color="black")
    return (points * line).opts(title=title, fontsize={"title": 9}, width=300, height=280)


def kge_parts(metrics: dict) -> hv.Bars:
    """KGE, r, α and β of every target on both splits (ideal 1). metrics: target -> split -> parts."""
    rows = [(label(target), part, split, value if value is not None and np.isfinite(value) else np.nan)
            for target, splits in metrics.items() for part in PARTS for split in ("train", "val")
            for value in [splits[split][part]]]
    bars = hv.Bars(rows, kdims=["target", "part", "split"], vdims=["value"])
    return bars.opts(title="KGE and its parts (ideal 1)", width=max(400, 260 * len(metrics)), height=300,
                     xrotation=90, color="split", cmap=SPLIT_COLORS, show_legend=True)


def loss_curves(history) -> hv.Overlay:
    """Train and validation loss over the epochs (log scale). history: rows or a DataFrame."""
    import pandas as pd

    frame = pd.DataFrame(history)
    curves = [hv.Curve((frame["epoch"], frame[column].where(frame[column] > 0)), "epoch", "loss", label=name)
              .opts(color=SPLIT_COLORS[split]) for column, name, split in
              (("train_loss", "train", "train"), ("val_loss", "validation", "val")) if column in frame]
    return hv.Overlay(curves).opts(logy=True, title="Loss", width=500, height=300, legend_position="top_right")


def parameter_histogram(values: np.ndarray, parameter) -> hv.Overlay:
    """Histogram of one neural parameter's per-sample values between its bounds (red).
    parameter: anything with ``name``, ``unit``, ``lower``, ``upper`` and ``scale``."""
    log = parameter.scale == "log"
    edges = (np.geomspace if log else np.linspace)(parameter.lower, parameter.upper, 41)
    counts, edges = np.histogram(values, bins=edges)
    histogram = hv.Histogram((edges, counts), kdims=[parameter.name], vdims=["samples"]).opts(logx=log, color="#2ca02c")
    bounds = hv.VLine(parameter.lower).opts(color="red") * hv.VLine(parameter.upper).opts(color="red")
    share = share_at_bound(values, parameter)
    return (histogram * bounds).opts(title=f"{with_unit(parameter.name, parameter.unit, brackets=True)}\n{number(100 * share, 0)} % at a bound",
                                     fontsize={"title": 9}, width=260, height=200)


def learned_vs_true(*, learned: np.ndarray, true: np.ndarray, name: str, role: str) -> hv.Overlay:
    """A learned parameter against the truth the data carry, with the 1:1 line and Pearson r."""
    true, learned = _thin(np.asarray(true, float), np.asarray(learned, float))
    low, high = float(min(true.min(), learned.min())), float(max(true.max(), learned.max()))
    dims = [f"true {name}", f"learned {name}"]
    points = hv.Points((true, learned), kdims=dims).opts(size=2, alpha=0.4)
    line = hv.Curve([(low, low), (high, high)], kdims=dims[:1], vdims=dims[1:]).opts(color="black")
    return (points * line).opts(title=f"{name} ({role})\nr {number(correlation(true, learned), 2)}",
                                fontsize={"title": 9}, width=260, height=240)


def saturation_histograms(predictions, capacity_values: np.ndarray, target: str, capacity: str) -> list:
    """Histograms of a pool over its capacity (1: full), predicted and observed, with the share above 1."""
    ratio_name = f"{label(target)} / {label(capacity)}"
    plots = []
    for column, what, color in ((f"{target}_pred", "predicted", "#2ca02c"), (f"{target}_obs", "observed", "#9467bd")):
        ratio = predictions[column].to_numpy(dtype=float) / capacity_values
        ratio = ratio[np.isfinite(ratio)]
        if len(ratio) == 0:
            continue
        counts, edges = np.histogram(ratio, bins=50, range=(0, max(1.2, float(np.percentile(ratio, 99.5)))))
        share = float(np.mean(ratio > 1))
        plots.append((hv.Histogram((edges, counts), kdims=[f"{what} {ratio_name}"], vdims=["sites"]).opts(color=color)
                      * hv.VLine(1.0).opts(color="black")).opts(
            title=f"{what} {ratio_name}\n{number(100 * share, 1)} % above 1", width=340, height=240))
    return plots


class RunPlots:
    """The figures of one finished :class:`core.Run` (``run.plots``)."""

    def __init__(self, run):
        self.run = run

    def scatter(self, split: str | None = None) -> hv.Layout:
        """Observed vs predicted of every target; both splits, or only ``split`` ("train", "val")."""
        splits = ("train", "val") if split is None else (split,)
        if any(s not in ("train", "val") for s in splits):
            raise HybridlabError(f"split {short_repr(split)} is not one of 'train', 'val'")
        targets = self.run.metrics["targets"]
        return hv.Layout([observed_vs_predicted(self.run.predictions, targets, t, s) for s in splits
                          for t in targets]).cols(len(targets))

    def kge(self) -> hv.Bars:
        """KGE, r, α and β per target, train and validation."""
        return kge_parts(self.run.metrics["targets"])

    def loss(self) -> hv.Overlay:
        return loss_curves(self.run.result.history)

    def parameters(self) -> hv.Layout:
        """Histograms of the neural parameters, and learned vs true where the data carry the truth."""
        parameter_set = self.run.model.parameter_set
        truth = self.run.data.truth_columns()
        plots = [parameter_histogram(self.run.parameters[p.name].to_numpy(), p) for p in parameter_set if p.role == "neural"]
        plots += [learned_vs_true(learned=self.run.parameters[p.name].to_numpy(),
                                  true=self.run.data.frame[truth[p.name]].to_numpy(), name=p.name, role=p.role) for p in parameter_set if p.role != "fixed" and p.name in truth]
        if not plots:
            raise HybridlabError(f"run of model {short_repr(self.run.plan.model)} has no neural parameters and no true "
                                 "parameters in its data: nothing to plot")
        return hv.Layout(plots).cols(4)

    def saturation(self) -> hv.Layout:
        """The model's pool over its capacity (SOC: MOC / q_max), predicted and observed."""
        spec = get_model(self.run.plan.model)
        if not spec.saturation:
            offering = [name for name in model_names() if get_model(name).saturation]
            raise HybridlabError(f"model {short_repr(spec.name)} declares no saturation (a pool and its capacity); "
                                 f"models that do: {', '.join(offering)}")
        target, capacity = spec.saturation
        return hv.Layout(saturation_histograms(self.run.predictions, self.run.parameters[capacity].to_numpy(),
                                               target, capacity)).cols(2)


def interval_reliability(calibration: dict) -> list:
    """Per calibrated target (calibration.json): nominal level against the coverage observed on
    the validation sites (on the diagonal when the intervals are right), titled with the 90 %
    interval's coverage and width."""
    plots = []
    for target, entry in calibration["targets"].items():
        if not entry.get("calibrated"):
            continue
        levels = [row["level"] for row in entry["reliability"]]
        coverage = [row["coverage"] for row in entry["reliability"]]
        val = entry["scores_at_level"].get("val", {})
        dims = ["nominal level", "observed coverage (val)"]
        diagonal = hv.Curve([(0, 0), (1, 1)], kdims=dims[:1], vdims=dims[1:]).opts(color="black", line_width=1)
        curve = hv.Curve((levels, coverage), kdims=dims[:1], vdims=dims[1:]).opts(color=SPLIT_COLORS["val"])
        points = hv.Scatter((levels, coverage), kdims=dims[:1], vdims=dims[1:]).opts(
            color=SPLIT_COLORS["val"], size=6, tools=["hover"])
        title = (f"{label(target)}: 90 % covers {number(val.get('picp'), 2)}, width "
                 f"{number(val.get('width'), 2)} sd")
        plots.append((diagonal * curve * points).opts(title=title, fontsize={"title": 9}, width=300, height=280,
                                                      xlim=(0, 1), ylim=(0, 1)))
    return plots
