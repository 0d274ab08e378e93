"""Views: functions from dashboard state (history rows, snapshots, runs) to HoloViews objects."""
from __future__ import annotations

import math

import holoviews as hv
import numpy as np
import pandas as pd

MAX_POINTS = 4000  # above this, scatter plots are rasterised (2-D histogram image)
LABEL = {"soc": "SOC", "moc": "MOC", "poc": "POC", "mbc": "MBC"}


def _fmt(v) -> str:
    return "–" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{v:.2f}"


def empty(message: str) -> hv.Text:
    return hv.Text(0.5, 0.5, message).opts(xaxis=None, yaxis=None, toolbar=None, height=200, responsive=True)


def loss_curves(history: list[dict], targets: list[str]) -> hv.NdOverlay:
    """Total train/validation loss and validation loss per target over the epochs."""
    series = {"train": "train_loss", "validation": "val_loss"}
    series.update({f"val {LABEL.get(t, t)}": f"val_loss_{t}" for t in targets})
    frames = []
    h = pd.DataFrame(history)
    for name, col in series.items():
        if col in h:
            frames.append(pd.DataFrame({"epoch": h["epoch"], "loss": h[col], "series": name}))
    long = pd.concat(frames) if frames else pd.DataFrame({"epoch": [0], "loss": [np.nan], "series": ["train"]})
    curves = {name: hv.Curve(g, "epoch", "loss").opts(line_width=2 if name in ("train", "validation") else 1,
                                                       line_dash="solid" if name in ("train", "validation") else "dashed")
              for name, g in long.groupby("series", sort=False)}
    return hv.NdOverlay(curves, kdims="series").opts(
        title="Loss (1 − KGE by default)", responsive=True, height=300, legend_position="top_right", framewise=True)


def scatter(snapshot, target: str, split: str) -> hv.Element:
    """Observed vs predicted for one target and split, 1:1 line, KGE parts in the title.

    Above MAX_POINTS points the scatter is rasterised into an 80 x 80 image of log counts, so
    large data sets cost the same to draw as small ones."""
    title = f"{LABEL.get(target, target)} {split}"
    empty_plot = (hv.Points([], kdims=["observed", "predicted"]) * hv.Curve([])).opts(title=title, height=260, width=300)
    if snapshot is None:
        return empty_plot
    d = snapshot.predictions
    d = d[d["split"] == split]
    o, p = d[f"{target}_obs"].to_numpy(), d[f"{target}_pred"].to_numpy()
    ok = np.isfinite(o) & np.isfinite(p)
    m = snapshot.targets[target][split]
    title = f"{title}: KGE {_fmt(m['kge'])}  r {_fmt(m['r'])}  α {_fmt(m['alpha'])}  β {_fmt(m['beta'])}"
    if not ok.any():
        return empty_plot.opts(title=title)
    lo, hi = (float(v) for v in np.percentile(np.r_[o[ok], p[ok]], [0.2, 99.8]))
    hi = hi if hi > lo else lo + 1
    if ok.sum() > MAX_POINTS:
        counts, _, _ = np.histogram2d(o[ok], p[ok], bins=80, range=[[lo, hi], [lo, hi]])
        img = np.where(counts.T > 0, np.log10(counts.T + 1), np.nan)
        el = hv.Image(img[::-1], bounds=(lo, lo, hi, hi), kdims=["observed", "predicted"], vdims=["log10 count"]).opts(
            cmap="viridis", clipping_colors={"NaN": "white"})
    else:
        el = hv.Points((o[ok], p[ok]), kdims=["observed", "predicted"]).opts(
            size=3, alpha=0.5, color="#1f77b4" if split == "train" else "#ff7f0e")
    line = hv.Curve([(lo, lo), (hi, hi)]).opts(color="black", line_width=1)
    return (el * line).opts(title=title, fontsize={"title": 9}, height=260, width=300, framewise=True)


def kge_parts(snapshot, target: str) -> hv.Bars:
    """KGE, r, alpha and beta of one target, train vs validation (ideal 1)."""
    s = snapshot.targets[target] if snapshot is not None else None
    rows = []
    for comp in ("kge", "r", "alpha", "beta"):
        for split in ("train", "val"):
            v = s[split][comp] if s is not None else None
            rows.append((comp, split, v if v is not None and math.isfinite(v) else 0.0))
    df = pd.DataFrame(rows, columns=["part", "split", "value"])
    low = min(0.0, float(df["value"].min()))
    return hv.Bars(df, ["part", "split"], "value").opts(
        title=f"{LABEL.get(target, target)}: KGE parts (ideal 1)", width=300, height=230, ylim=(low, 1.6), framewise=True,
        color="split", cmap={"train": "#1f77b4", "val": "#ff7f0e"}, tools=["hover"], show_legend=False)


def parameter_histograms(snapshot, rows) -> list | hv.Text:
    """Histogram of every neural parameter across samples, bounds as red lines."""
    neural = [r for r in rows if r.role == "neural"]
    if snapshot is None or not neural:
        return empty("histograms of neural parameters appear during training" if neural else "no neural parameters")
    plots = []
    for r in neural:
        v = snapshot.parameters[r.pname].to_numpy()
        edges = np.linspace(r.lower, r.upper, 41) if r.scale == "linear" else np.geomspace(r.lower, r.upper, 41)
        counts, edges = np.histogram(v, bins=edges)
        hist = hv.Histogram((edges, counts), kdims=[r.pname], vdims=["samples"]).opts(logx=r.scale == "log", color="#2ca02c")
        bounds = hv.VLine(r.lower).opts(color="red") * hv.VLine(r.upper).opts(color="red")
        share = float(np.mean((_unit(v, r) < 0.01) | (_unit(v, r) > 0.99)))
        plots.append((hist * bounds).opts(title=f"{r.pname} ({r.unit}): {100 * share:.0f} % at a bound",
                                          fontsize={"title": 9}, width=260, height=200))
    return plots


def _unit(v, r):
    if r.scale == "log":
        return (np.log(v) - math.log(r.lower)) / (math.log(r.upper) - math.log(r.lower))
    return (v - r.lower) / (r.upper - r.lower)


def global_curves(history: list[dict], rows) -> list | hv.Text:
    """Global parameters over the epochs against their bounds."""
    glob = [r for r in rows if r.role == "global"]
    if not history or not glob:
        return empty("global parameters appear after the first epoch" if glob else "no global parameters")
    h = pd.DataFrame(history)
    plots = []
    for r in glob:
        if f"global_{r.pname}" not in h:
            continue
        c = hv.Curve(h, "epoch", (f"global_{r.pname}", r.pname)).opts(color="#9467bd", line_width=2)
        plots.append((c * hv.HLine(r.lower).opts(color="red") * hv.HLine(r.upper).opts(color="red")).opts(
            title=f"{r.pname} = {h[f'global_{r.pname}'].iloc[-1]:.4g} {r.unit}", fontsize={"title": 9},
            logy=r.scale == "log", width=260, height=200))
    return plots if plots else empty("no global parameters")


def parameter_map(snapshot, data, name: str) -> hv.Element:
    """Map (lon/lat) of one parameter per site."""
    if snapshot is None or data is None or name not in snapshot.parameters:
        return empty("choose a parameter; the map appears during training")
    if not {"lat", "lon"} <= set(data.frame.columns):
        return empty("these data have no lat/lon columns")
    df = pd.DataFrame({"lon": data.frame["lon"].to_numpy(), "lat": data.frame["lat"].to_numpy(),
                       name: snapshot.parameters[name].to_numpy()})
    return hv.Points(df, ["lon", "lat"], name).opts(color=name, cmap="viridis", colorbar=True, size=2,
                                                    title=f"{name} per site", width=520, height=420, tools=["hover"])


def learned_vs_true(snapshot, data, rows) -> list | hv.Text:
    """Learned against true parameters where the data carry ``true_<name>``."""
    if snapshot is None or data is None:
        return empty("learned vs true appears during training")
    plots = []
    for r in rows:
        col = f"true_{r.pname}"
        if r.role == "fixed" or col not in data.frame:
            continue
        t, v = data.frame[col].to_numpy(), snapshot.parameters[r.pname].to_numpy()
        if len(t) > MAX_POINTS:
            idx = np.random.default_rng(0).choice(len(t), MAX_POINTS, replace=False)
            t, v = t[idx], v[idx]
        rr = np.corrcoef(t, v)[0, 1] if np.std(v) > 0 and np.std(t) > 0 else float("nan")
        lo, hi = float(min(t.min(), v.min())), float(max(t.max(), v.max()))
        dims = [f"true {r.pname}", f"learned {r.pname}"]  # own dimension names: no axis linking across plots
        plots.append((hv.Points((t, v), kdims=dims).opts(size=2, alpha=0.4) *
                      hv.Curve([(lo, lo), (hi, hi)], kdims=dims[:1], vdims=dims[1:]).opts(color="black")).opts(
            title=f"{r.pname} ({r.role}): r {_fmt(rr)}", fontsize={"title": 9}, width=260, height=240))
    return plots if plots else empty("these data carry no true parameters")


def moc_saturation(snapshot) -> list | hv.Text:
    """Predicted and observed MOC / q_max with a line at 1 and the share above it (report Figure 8)."""
    if snapshot is None or "q_max" not in snapshot.parameters or "moc_pred" not in snapshot.predictions:
        return empty("MOC / q_max histograms appear while the SOC model trains")
    q = snapshot.parameters["q_max"].to_numpy()
    plots = []
    for col, what, color in (("moc_pred", "predicted", "#2ca02c"), ("moc_obs", "observed", "#9467bd")):
        r = snapshot.predictions[col].to_numpy() / q
        r = r[np.isfinite(r)]
        if len(r) == 0:
            continue
        counts, edges = np.histogram(r, bins=50, range=(0, max(1.2, float(np.percentile(r, 99.5)))))
        share = float(np.mean(r > 1))
        plots.append((hv.Histogram((edges, counts), kdims=[f"{what} MOC / q_max"], vdims=["sites"]).opts(color=color) *
                      hv.VLine(1.0).opts(color="black")).opts(
            title=f"{what} MOC / q_max: {100 * share:.1f} % above 1", width=380, height=240))
    return plots


def infeasible_curve(history: list[dict]) -> hv.Curve | hv.Text:
    if not history or "val_mean_feasible" not in history[-1]:
        return empty("share of infeasible sites appears while the SOC model trains")
    h = pd.DataFrame(history)
    h["infeasible %"] = 100 * (1 - h["val_mean_feasible"])
    return hv.Curve(h, "epoch", "infeasible %").opts(
        title=f"infeasible validation sites: {h['infeasible %'].iloc[-1]:.1f} %", width=380, height=240,
        color="#d62728")


def retention_curves(run, sample_ids: list[int]) -> hv.Overlay | hv.Text:
    """Measured points and fitted retention curves of chosen horizons (retention model, finished run)."""
    if run is None or "sample_id" not in run.data.frame:
        return empty("retention curves appear when a retention run has finished")
    import torch

    from core.models.swrc import lebeau_konrad

    frame = run.data.frame
    h_grid = np.logspace(0, 6.5, 150)
    layers = []
    for sid in sample_ids:
        pts = frame[frame["sample_id"] == sid]
        if pts.empty:
            continue
        x = torch.tensor(pts[run.model.predictors].to_numpy(np.float32)[:1])
        with torch.inference_mode():
            params = {k: v.double() for k, v in run.model.parameter_values(x).items()}
        theta = lebeau_konrad(torch.tensor(h_grid), **params)["theta"].numpy()
        layers.append(hv.Scatter((pts["h_cm"], pts["theta"]), kdims=["h (cm)"], vdims=["theta"], label=f"sample {sid}").opts(size=5))
        layers.append(hv.Curve((h_grid, theta), kdims=["h (cm)"], vdims=["theta"]).opts(line_width=2))
    if not layers:
        return empty("no such horizons")
    return hv.Overlay(layers).opts(logx=True, title="retention curves (points: measured, lines: hybrid)",
                                   width=560, height=320, legend_position="right")


def awc_histogram(awc: np.ndarray | None) -> hv.Histogram | hv.Text:
    if awc is None:
        return empty("the AWC distribution appears when a retention run has finished")
    counts, edges = np.histogram(awc, bins=40)
    return hv.Histogram((edges, counts), kdims=["AWC (m³ m⁻³)"], vdims=["horizons"]).opts(
        title=f"AWC = θ(pF 1.8) − θ(pF 4.2): median {np.median(awc):.3f}", width=380, height=260)


def shap_dependence(explanation, feature: str = "oc") -> hv.Scatter | hv.Text:
    if explanation is None:
        return empty("Shapley dependence appears when a retention run has finished")
    j = list(explanation.feature_names).index(feature)
    return hv.Scatter((explanation.data[:, j], explanation.values[:, j]), kdims=[feature],
                      vdims=[f"SHAP value of {feature} for AWC"]).opts(
        title=f"Shapley dependence of AWC on {feature}: mean |SHAP| {np.mean(np.abs(explanation.values[:, j])):.4f}",
        size=4, width=420, height=300) * hv.HLine(0).opts(color="black")


def compare_overlay(records: list[dict], labels: list[str]) -> hv.Overlay | hv.Text:
    """Validation loss of the selected runs over the epochs."""
    chosen = [r for r in records if r["label"] in labels]
    if not chosen:
        return empty("select finished runs to overlay their validation loss")
    return hv.Overlay([hv.Curve(r["run"].history, "epoch", "val_loss", label=r["label"]) for r in chosen]).opts(
        title="validation loss of selected runs", responsive=True, height=300, legend_position="top_right")
