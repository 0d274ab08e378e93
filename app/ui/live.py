"""Live training plots drawn with Bokeh directly: each refresh only replaces data sources and
titles, so a refresh costs milliseconds and the training thread keeps the CPU."""
from __future__ import annotations

import math

import numpy as np
from bokeh.models import ColumnDataSource, FactorRange, LinearColorMapper, Range1d
from bokeh.palettes import Category10_10, Viridis256
from bokeh.plotting import figure

from core import HistoryColumns
from core.formatting import label, number

from core.report import MAX_POINTS

PARTS = ("kge", "r", "alpha", "beta")
#: sites whose interval is drawn in an observed-vs-predicted plot
INTERVAL_SITES = 300
MIN_WIDTH = 170  # px of one scatter or bar plot; the plots of a row share the width of the window


class LossFigure:
    """Train and validation loss, and validation loss per target, over the epochs."""

    def __init__(self, targets: list[str]):
        self.targets = targets
        self.source = ColumnDataSource({k: [] for k in self._columns()})
        # explicit ranges, set from the data: Bokeh's automatic log range stays empty for the first epochs
        self.fig = figure(height=300, sizing_mode="stretch_width", title="Loss (1 − KGE by default; log scale)",
                          y_axis_type="log", x_range=Range1d(0, 10), y_range=Range1d(0.1, 10),
                          x_axis_label="epoch", y_axis_label="loss", tools="pan,wheel_zoom,box_zoom,reset,save")
        self.fig.line("epoch", "train_loss", source=self.source, line_width=2, color="#1f77b4", legend_label="train")
        self.fig.line("epoch", "val_loss", source=self.source, line_width=2, color="#ff7f0e",
                      legend_label="validation")
        for i, t in enumerate(targets):
            self.fig.line("epoch", HistoryColumns.val_loss(t), source=self.source, line_dash="dashed",
                          color=Category10_10[(i + 2) % 10], legend_label=f"val {label(t)}")
        self.fig.legend.location = "top_right"
        self.fig.legend.click_policy = "hide"

    def _columns(self):
        return ["epoch", "train_loss", "val_loss"] + [HistoryColumns.val_loss(t) for t in self.targets]

    def update(self, history: list[dict], stream: bool = True) -> None:
        """Send only the epochs not drawn yet (Bokeh streams them); a shorter history starts over.
        Without ``stream`` (a notebook's comm, where held stream events arrive twice) all is resent."""
        if not stream:
            self.source.data = self._columns_of(history)
        else:
            drawn = len(self.source.data["epoch"])
            if len(history) < drawn:
                self.source.data = {k: [] for k in self._columns()}
                drawn = 0
            if len(history) > drawn:
                self.source.stream(self._columns_of(history[drawn:]))
        self._fit_ranges(history)

    def _fit_ranges(self, history: list[dict]) -> None:
        if not history:
            return
        losses = [v for row in history for k in self._columns()[1:] if (v := row.get(k)) is not None
                  and math.isfinite(v) and v > 0]
        self.fig.x_range.update(start=0, end=max(10, history[-1]["epoch"] + 1))
        if losses:
            self.fig.y_range.update(start=min(losses) / 1.3, end=max(losses) * 1.3)

    def _columns_of(self, rows: list[dict]) -> dict:
        # log axis: zero or negative losses (MSE is never negative, 1 - KGE can be 0) are not drawn
        return {k: [v if (v := row.get(k, math.nan)) is not None and (k == "epoch" or v > 0) else math.nan
                    for row in rows] for k in self._columns()}


class ScatterFigure:
    """Observed vs predicted of one target and split. Above MAX_POINTS points it is rasterised on a
    server, and thinned to MAX_POINTS evenly spaced points in a notebook, where data go as lists:
    Bokeh's binary buffers (images, arrays) are lost on a notebook's comm when pushed from a callback."""

    def __init__(self, target: str, split: str, n_points: int, notebook: bool = False):
        self.target, self.split = target, split
        self.raster = n_points > MAX_POINTS and not notebook
        self.fig = figure(height=260, sizing_mode="stretch_width", min_width=MIN_WIDTH, title=f"{label(target)} {split}", x_axis_label="observed",
                          y_axis_label="predicted", tools="pan,wheel_zoom,box_zoom,reset,save",
                          x_range=Range1d(0, 1), y_range=Range1d(0, 1))
        self.fig.title.text_font_size = "9pt"
        if self.raster:
            self.source = ColumnDataSource({"image": [np.full((2, 2), np.nan)], "x": [0], "y": [0], "dw": [1], "dh": [1]})
            mapper = LinearColorMapper(palette=Viridis256, nan_color=(0, 0, 0, 0))
            self.fig.image("image", x="x", y="y", dw="dw", dh="dh", source=self.source, color_mapper=mapper)
        else:
            self.source = ColumnDataSource({"o": [], "p": []})
            self.fig.scatter("o", "p", source=self.source, size=3, alpha=0.5,
                             color="#1f77b4" if split == "train" else "#ff7f0e")
        self.line = ColumnDataSource({"x": [0, 1], "y": [0, 1]})
        self.fig.line("x", "y", source=self.line, color="black")
        # a calibrated run's 90 % intervals over a sample of sites (filled when the run finishes)
        self.bars = ColumnDataSource({"o": [], "lower": [], "upper": []})
        self.fig.segment(x0="o", y0="lower", x1="o", y1="upper", source=self.bars, color="#555555", alpha=0.35)

    def update(self, snapshot) -> None:
        d = snapshot.predictions
        rows = (d["split"] == self.split).to_numpy()
        o = d[f"{self.target}_obs"].to_numpy()[rows]
        p = d[f"{self.target}_pred"].to_numpy()[rows]
        ok = np.isfinite(o) & np.isfinite(p)
        m = snapshot.targets[self.target][self.split]
        # two lines: one line of all four numbers is wider than the plot
        coverage = f"\n90 % interval covers {number(m['picp'], 2)}" if "picp" in m else ""
        self.fig.title.text = (f"{label(self.target)} {self.split}: KGE {number(m['kge'], 2)}\n"
                               f"r {number(m['r'], 2)}  α {number(m['alpha'], 2)}  β {number(m['beta'], 2)}{coverage}")
        self._interval_bars(d, rows)
        if not ok.any():
            return
        lo, hi = (float(v) for v in np.percentile(np.r_[o[ok], p[ok]], [0.2, 99.8]))
        hi = hi if hi > lo else lo + 1.0
        if self.raster:
            counts, _, _ = np.histogram2d(p[ok], o[ok], bins=80, range=[[lo, hi], [lo, hi]])
            img = np.where(counts > 0, np.log10(counts + 1), np.nan)
            self.source.data = {"image": [img], "x": [lo], "y": [lo], "dw": [hi - lo], "dh": [hi - lo]}
        else:
            o, p = o[ok], p[ok]
            if len(o) > MAX_POINTS:
                keep = np.linspace(0, len(o) - 1, MAX_POINTS).astype(int)
                o, p = o[keep], p[keep]
            self.source.data = {"o": o.tolist(), "p": p.tolist()}
        self.line.data = {"x": [lo, hi], "y": [lo, hi]}
        pad = 0.02 * (hi - lo)
        self.fig.x_range.update(start=lo - pad, end=hi + pad)
        self.fig.y_range.update(start=lo - pad, end=hi + pad)


    def _interval_bars(self, predictions, rows: np.ndarray) -> None:
        """Vertical bars from lower to upper bound at up to INTERVAL_SITES sites (none without bounds)."""
        if f"{self.target}_lower" not in predictions:
            if len(self.bars.data["o"]):
                self.bars.data = {"o": [], "lower": [], "upper": []}
            return
        columns = [predictions[f"{self.target}_{kind}"].to_numpy()[rows] for kind in ("obs", "lower", "upper")]
        known = np.flatnonzero(np.isfinite(columns[0]))
        keep = known[np.linspace(0, len(known) - 1, min(INTERVAL_SITES, len(known))).astype(int)] if len(known) else known
        self.bars.data = {key: values[keep].tolist() for key, values in zip(("o", "lower", "upper"), columns)}


class KGEPartsFigure:
    """KGE, r, alpha and beta of one target, train vs validation (ideal 1)."""

    def __init__(self, target: str):
        self.target = target
        factors = [(part, split) for part in PARTS for split in ("train", "val")]
        self.source = ColumnDataSource({"x": factors, "top": [0.0] * len(factors),
                                        "color": ["#1f77b4", "#ff7f0e"] * len(PARTS)})
        self.fig = figure(height=230, sizing_mode="stretch_width", min_width=MIN_WIDTH, x_range=FactorRange(*factors), y_range=Range1d(-0.5, 1.6),
                          title=f"{label(target)}: KGE parts (ideal 1)\ntrain blue, val orange", tools="save")
        self.fig.xaxis.major_label_text_font_size = "0pt"  # the split under each bar: the colour says it
        self.fig.vbar(x="x", top="top", width=0.9, color="color", source=self.source)
        self.fig.line([-1, 100], [1, 1], color="black", line_dash="dashed")

    def update(self, snapshot) -> None:
        s = snapshot.targets[self.target]
        tops = []
        for part in PARTS:
            for split in ("train", "val"):
                v = s[split][part]
                tops.append(v if v is not None and math.isfinite(v) else 0.0)
        self.source.data = dict(self.source.data, top=tops)
        self.fig.y_range.start = min(-0.5, min(tops) - 0.1)


class LivePlots:
    """The training tab's live plots of a session: built for a run's targets at its first
    snapshot, then updated in place whenever the session's ``snapshot`` or ``history`` changes
    (a watcher: what is drawn is the session's, never a copy)."""

    def __init__(self, session):
        import panel as pn

        self.session = session
        self.loss_container = pn.Column(sizing_mode="stretch_width")
        self.container = pn.Column(pn.pane.Markdown("Observed vs predicted plots appear during training."),
                                   sizing_mode="stretch_width")
        self.loss: LossFigure | None = None
        self.figures: list = []
        self.panes: list = []
        self.refreshes = 0
        session.param.watch(self._changed, ["snapshot", "history"])

    @property
    def targets(self) -> list[str] | None:
        """The targets the plots are built for (None before the first snapshot)."""
        return None if self.loss is None else self.loss.targets

    def _build(self, snapshot) -> None:
        import panel as pn

        targets = list(snapshot.targets)
        self.loss = LossFigure(targets)
        scatter = {(t, s): ScatterFigure(t, s, int(snapshot.targets[t][s]["n"]), in_notebook()) for t in targets
                   for s in ("train", "val")}
        bars = [KGEPartsFigure(t) for t in targets]
        self.figures = list(scatter.values()) + bars
        panes = {figure_: pn.pane.Bokeh(figure_.fig, sizing_mode="stretch_width", min_width=MIN_WIDTH)
                 for figure_ in self.figures}
        panes[self.loss] = pn.pane.Bokeh(self.loss.fig, sizing_mode="stretch_width")
        self.panes = list(panes.values())
        self.loss_container.objects = [panes[self.loss]]
        self.container.objects = [
            wrap(*(panes[scatter[(t, "train")]] for t in targets), css_classes=["scatter-plots"]),
            wrap(*(panes[scatter[(t, "val")]] for t in targets)),
            wrap(*(panes[b] for b in bars))]

    def _changed(self, *events) -> None:
        """The session's snapshot or history changed (one call per sync)."""
        import panel as pn

        names = {event.name for event in events}
        snapshot = self.session.snapshot
        if "snapshot" in names and snapshot is not None:
            if list(snapshot.targets) != self.targets:
                self._build(snapshot)
                names.add("history")  # a new loss figure: draw the epochs so far
            for figure_ in self.figures:
                figure_.update(snapshot)
            self.refreshes += 1
        if "history" in names and self.loss is not None:
            self.loss.update(self.session.history, stream=not in_notebook())
        if in_notebook() and self.panes:
            # changes made to Bokeh models directly reach a notebook only when pushed
            pn.io.push_notebook(*self.panes)


def in_notebook() -> bool:
    """True outside a Bokeh server session (a notebook cell, or no page at all)."""
    import panel as pn

    return pn.state.curdoc is None or pn.state.curdoc.session_context is None



def wrap(*objects, **options):
    """One row per target group: the plots share the width of the window (Panel's FlexBox, which
    would wrap them, collapses Bokeh figures inside Tabs)."""
    import panel as pn

    return pn.Row(*objects, sizing_mode="stretch_width", **options)
