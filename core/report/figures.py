"""PNG figures of runs and experiments (matplotlib, no display needed).

Figures are :class:`matplotlib.figure.Figure` objects made without pyplot, so writing them
neither touches pyplot's global list of figures (the dashboard writes them from threads of its
server) nor changes the backend of a notebook that imports hybridlab.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from core.formatting import label as _label
from core.formatting import number


def subplots(nrows: int = 1, ncols: int = 1, figsize=None, **kwargs):
    """(figure, axes) as ``pyplot.subplots`` gives them, without pyplot (matplotlib is imported
    here: it costs 0.4 s, which every command would pay otherwise)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    return fig, fig.subplots(nrows, ncols, **kwargs)


def _save(fig, path: Path, title: str = "") -> Path:
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    return path


def _title(t, split, m):
    f = lambda v: number(v, 2)  # noqa: E731
    return f"{_label(t)} {split} (n={m['n']})\nKGE {f(m['kge'])}  r {f(m['r'])}  α {f(m['alpha'])}  β {f(m['beta'])}"


def observed_vs_predicted(predictions: pd.DataFrame, metrics: dict, path: Path, title: str = "") -> Path:
    """Train (top) and validation (bottom) scatter per target with the 1:1 line."""
    targets = list(metrics["targets"])
    fig, axes = subplots(2, len(targets), figsize=(3.4 * len(targets), 6.6), squeeze=False)
    for j, t in enumerate(targets):
        for i, split in enumerate(("train", "val")):
            ax = axes[i, j]
            d = predictions[predictions["split"] == split]
            o, p = d[f"{t}_obs"].to_numpy(), d[f"{t}_pred"].to_numpy()
            ok = np.isfinite(o) & np.isfinite(p)
            if ok.sum() > 5000:
                ax.hexbin(o[ok], p[ok], gridsize=60, bins="log", cmap="viridis", mincnt=1)
            else:
                ax.scatter(o[ok], p[ok], s=6, alpha=0.5, color="tab:blue" if split == "train" else "tab:orange")
            if ok.any():
                lo, hi = np.nanpercentile(np.r_[o[ok], p[ok]], [0.5, 99.5])
                ax.plot([lo, hi], [lo, hi], color="k", lw=1)
                ax.set_xlim(lo, hi)
                ax.set_ylim(lo, hi)
            ax.set_title(_title(t, split, metrics["targets"][t][split]), fontsize=9)
            ax.set_xlabel("observed")
            ax.set_ylabel("predicted")
    return _save(fig, path, title)


def kge_bars(configurations: dict[str, dict], path: Path, split: str = "val",
             parts: tuple[str, ...] = ("kge", "r", "alpha", "beta")) -> Path:
    """Bars of KGE and its parts per target and configuration at the mean over seeds and folds,
    with ± 1 sd error bars. configurations: name -> {"targets": {target: {"val_kge": {"mean", "sd", "n"}, ...}}}
    (a sweep summary's configurations)."""
    names = list(configurations)
    targets = list(dict.fromkeys(t for c in configurations.values() for t in c["targets"]))
    fig, axes = subplots(1, len(parts), figsize=(4 * len(parts), 3.8), squeeze=False)
    width = 0.8 / max(len(names), 1)
    for ax, part in zip(axes[0], parts):
        for k, name in enumerate(names):
            spreads = [configurations[name]["targets"].get(t, {}).get(f"{split}_{part}") or {} for t in targets]
            means = [np.nan if s.get("mean") is None else s["mean"] for s in spreads]
            sds = [0.0 if not s.get("sd") else s["sd"] for s in spreads]
            ax.bar(np.arange(len(targets)) + k * width - 0.4 + width / 2, means, width, yerr=sds, capsize=3,
                   label=name)
        ax.axhline(1, color="k", lw=0.8, ls="--")
        ax.set_xticks(range(len(targets)), [_label(t) for t in targets])
        ax.set_title(f"{part} ({split}), mean ± sd")
    axes[0][0].set_ylim(bottom=max(-1.0, axes[0][0].get_ylim()[0]))
    axes[0][-1].legend(fontsize=8)
    return _save(fig, path)


def moc_saturation(*, parameters: pd.DataFrame, predictions: pd.DataFrame, path: Path, title: str = "") -> Path:
    """Histograms of predicted MOC/q_max and observed MOC/q_max, line at 1, share above 1 (Figure 8)."""
    q = parameters["q_max"].to_numpy()
    pred = predictions["moc_pred"].to_numpy() / q
    obs = predictions["moc_obs"].to_numpy() / q
    fig, axes = subplots(1, 2, figsize=(10, 3.6))
    for ax, r, what in ((axes[0], pred, "predicted MOC / q_max"), (axes[1], obs, "observed MOC / q_max")):
        r = r[np.isfinite(r)]
        ax.hist(r, bins=60, color="tab:green" if "pred" in what else "tab:purple")
        ax.axvline(1.0, color="k", lw=1)
        share = float(np.mean(r > 1)) if len(r) else float("nan")
        ax.set_title(f"{what}: {100 * share:.1f} % above 1 (n={len(r)})", fontsize=10)
        ax.set_xlabel(what)
    return _save(fig, path, title)


def parameter_recovery(*, parameters: pd.DataFrame, truth: pd.DataFrame, names: list[str], path: Path,
                       title: str = "") -> Path:
    """Learned vs true per parameter (validation sites in orange)."""
    fig, axes = subplots(1, len(names), figsize=(3.3 * len(names), 3.4), squeeze=False)
    for ax, name in zip(axes[0], names):
        val = parameters["split"].to_numpy() == "val"
        t, v = truth[f"true_{name}"].to_numpy(), parameters[name].to_numpy()
        ax.scatter(t[~val], v[~val], s=3, alpha=0.3, label="train")
        ax.scatter(t[val], v[val], s=3, alpha=0.3, color="tab:orange", label="val")
        lo, hi = min(t.min(), v.min()), max(t.max(), v.max())
        ax.plot([lo, hi], [lo, hi], color="k", lw=1)
        r = np.corrcoef(t, v)[0, 1] if v.std() > 0 else float("nan")
        ax.set_title(f"{name}: r {r:.2f}", fontsize=10)
        ax.set_xlabel("true")
        ax.set_ylabel("learned")
    axes[0][0].legend(fontsize=8, markerscale=3)
    return _save(fig, path, title)


def learned_vs_true(*, learned: np.ndarray, true: np.ndarray, label: str, path: Path, title: str = "") -> Path:
    """One learned-vs-true scatter (e.g. of a parameter combination) with r and the 1:1 line."""
    fig, ax = subplots(figsize=(4.2, 4.0))
    ax.scatter(true, learned, s=3, alpha=0.3)
    lo, hi = min(true.min(), learned.min()), max(true.max(), learned.max())
    ax.plot([lo, hi], [lo, hi], color="k", lw=1)
    ax.set_xlabel(f"true {label}")
    ax.set_ylabel(f"learned {label}")
    ax.set_title(f"{title + ': ' if title else ''}r {np.corrcoef(true, learned)[0, 1]:.2f}", fontsize=10)
    return _save(fig, path)


def retention_curves(frame: pd.DataFrame, run, path: Path, n: int = 6, seed: int = 0) -> Path:
    """Measured (h, theta) of a few validation horizons with the fitted curve and learned parameters."""
    import torch

    from core.models.swrc import lebeau_konrad

    val_ids = set(run.data.frame[run.data.id].iloc[run.val_rows])
    hz = frame[frame[run.data.id].isin(val_ids)].drop_duplicates("sample_id")
    pick = hz.sample(min(n, len(hz)), random_state=seed)
    fig, axes = subplots(1, len(pick), figsize=(3.2 * len(pick), 3.3), squeeze=False)
    preds = run.model.predictors
    h_grid = np.logspace(0, 6.5, 200)
    for ax, (_, row) in zip(axes[0], pick.iterrows()):
        pts = frame[frame["sample_id"] == row["sample_id"]]
        with torch.inference_mode():
            x = torch.tensor(row[preds].to_numpy(dtype=np.float32)[None, :])
            params = run.model.parameter_values(x)
        curve = lebeau_konrad(torch.tensor(h_grid), **{k: v.double() for k, v in params.items()})["theta"].numpy()
        ax.semilogx(pts["h_cm"], pts["theta"], "o", ms=4, label="measured")
        ax.semilogx(h_grid, curve, "-", label="hybrid")
        p = {k: float(v[0]) for k, v in params.items()}
        ax.set_title(f"sample {int(row['sample_id'])}: clay {row['clay']:.0f} %, oc {row['oc']:.1f} %\n"
                     f"θs {p['theta_s']:.2f} hm {p['h_m']:.0f} σ {p['sigma']:.2f} θo {p['theta_o']:.3f}", fontsize=8)
        ax.set_xlabel("suction h (cm)")
    axes[0][0].set_ylabel("θ (m³ m⁻³)")
    axes[0][0].legend(fontsize=8)
    return _save(fig, path)


def awc_distribution(table: pd.DataFrame, names: list[str], path: Path) -> Path:
    """Histograms of AWC per horizon: truth and each run."""
    fig, ax = subplots(figsize=(6, 3.6))
    bins = np.linspace(table[["awc_true", *[f"awc_{n}" for n in names]]].min().min(),
                       table[["awc_true", *[f"awc_{n}" for n in names]]].max().max(), 40)
    ax.hist(table["awc_true"], bins=bins, histtype="step", lw=2, color="k", label="true")
    for n in names:
        ax.hist(table[f"awc_{n}"], bins=bins, histtype="step", lw=1.5, label=n)
    ax.set_xlabel("AWC = θ(pF 1.8) − θ(pF 4.2) (m³ m⁻³)")
    ax.set_ylabel("horizons")
    ax.legend(fontsize=8)
    return _save(fig, path)


def shap_dependence(explanations: dict, path: Path) -> Path:
    """Shapley dependence plots side by side: SHAP value of one feature vs its value, per run."""
    fig, axes = subplots(1, len(explanations), figsize=(4.4 * len(explanations), 3.6), sharey=True, squeeze=False)
    for ax, (name, (expl, feature)) in zip(axes[0], explanations.items()):
        j = list(expl.feature_names).index(feature)
        ax.scatter(expl.data[:, j], expl.values[:, j], s=8, alpha=0.6)
        ax.axhline(0, color="k", lw=0.8)
        ax.set_title(f"{name}: mean |SHAP| {np.mean(np.abs(expl.values[:, j])):.4f}", fontsize=10)
        ax.set_xlabel(f"{feature}")
    axes[0][0].set_ylabel("SHAP value for AWC")
    return _save(fig, path)


def interval_reliability(calibration: dict, path: Path, title: str = "") -> Path:
    """Per calibrated target: the reliability diagram of its intervals on the validation sites
    (nominal level vs observed coverage, top) and the PIT histogram of its predictive normal
    (bottom; flat when the spread is right, U-shaped when too narrow, humped when too wide)."""
    entries = {t: e for t, e in calibration["targets"].items() if e.get("calibrated")}
    fig, axes = subplots(2, max(len(entries), 1), figsize=(3.2 * max(len(entries), 1), 6.2), squeeze=False)
    for j, (target, entry) in enumerate(entries.items()):
        levels = [row["level"] for row in entry["reliability"]]
        coverage = [row["coverage"] for row in entry["reliability"]]
        top, bottom = axes[0, j], axes[1, j]
        top.plot([0, 1], [0, 1], color="k", lw=1)
        top.plot(levels, coverage, marker="o", color="tab:orange")
        scores = entry["scores_at_level"].get("val", {})
        top.set_title(f"{_label(target)}: {number(scores.get('picp'), 2)} of val in the "
                      f"{calibration['level']:.0%} interval", fontsize=9)
        top.set_xlabel("nominal level")
        top.set_ylabel("observed coverage (val)")
        counts = np.asarray(entry["pit"], dtype=float)
        bottom.bar(np.arange(len(counts)) / len(counts), counts, width=1 / len(counts), align="edge",
                   color="tab:blue", alpha=0.7)
        if counts.sum():
            bottom.axhline(counts.sum() / len(counts), color="k", lw=1)
        bottom.set_xlabel("PIT (val)")
        bottom.set_ylabel("sites")
    return _save(fig, path, title)
