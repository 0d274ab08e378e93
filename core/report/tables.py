"""Text summaries of runs for the terminal and for Markdown files."""
from __future__ import annotations

from core.formatting import number as _fmt


def metrics_table(metrics: dict) -> str:
    """Per-target table: KGE, r, alpha, beta, NSE, RMSE and n for train and validation, then the
    training summary, an ensemble's members, intervals, learned globals and parameter recovery."""
    cols = ("kge", "r", "alpha", "beta", "nse", "rmse", "n")
    header = f"{'target':<10} {'split':<6}" + "".join(f"{c:>9}" for c in cols)
    lines = [header, "-" * len(header)]
    for target, splits in metrics["targets"].items():
        for split in ("train", "val"):
            m = splits.get(split, {})
            lines.append(f"{target:<10} {split:<6}" + "".join(f"{_fmt(m.get(c)):>9}" for c in cols))
    lines.append(f"mean validation KGE: {_fmt(metrics.get('mean_val_kge'))}   {epochs_text(metrics)}   "
                 f"time: {metrics['train_seconds']:.1f} s ({metrics['seconds_per_epoch'] * 1000:.0f} ms/epoch)")
    lines += members_lines(metrics)
    lines += interval_lines(metrics)
    lines += globals_lines(metrics)
    lines += neural_lines(metrics)
    lines += [f"warning: {w}" for w in (metrics.get("diagnostics") or {}).get("warnings", [])]
    lines += recovery_lines(metrics)
    return "\n".join(lines)


def epochs_text(metrics: dict) -> str:
    """``epochs: 622 (best 522, early stopping)``, or for an ensemble ``epochs per member: 622
    (best 522), 580 (best 480), ...``."""
    members = metrics.get("member_epochs")
    if members:
        return "epochs per member: " + ", ".join(f"{m['epochs_run']} (best {m['best_epoch']})" for m in members)
    return f"epochs: {metrics['epochs_run']} (best {metrics['best_epoch']}, {metrics.get('stopped', '')})"


def globals_lines(metrics: dict) -> list[str]:
    """Every learned global parameter: its value and unit, for an ensemble the members' mean with
    their sd and min–max, its bounds, and a note where it sits at a bound (empty without any)."""
    learned = metrics.get("globals") or {}
    if not learned:
        return []
    lines = ["learned global parameters:"]
    for name, g in learned.items():
        unit = "" if g["unit"] in ("", "-") else f" {g['unit']}"
        value = f"{g['value']:.4g}{unit}"
        if "members" in g:
            value += (f"  (members' mean; sd {g['sd']:.2g}, min–max {g['min']:.4g}–{g['max']:.4g} over "
                      f"{g['n']} members)")
        line = f"  {name:<10} {value}  bounds [{g['lower']:g}, {g['upper']:g}]"
        if g.get("at_bound"):
            line += f"  AT THE {g['at_bound'].upper()} BOUND (within 1 % of the range)"
        if g.get("members_at_bound"):
            line += f"  ({g['members_at_bound']} of {g['n']} members at a bound)"
        lines.append(line)
    return lines


def neural_lines(metrics: dict) -> list[str]:
    """Every neural parameter's median and 5-95 % range over the sites, and a warning for one that
    sits at a bound at most sites or is the same at every site (empty without neural parameters)."""
    neural = metrics.get("neural") or {}
    if not neural:
        return []
    lines = ["neural parameters (over the sites):"]
    for name, n in neural.items():
        unit = "" if n["unit"] in ("", "-") else f" {n['unit']}"
        line = (f"  {name:<10} median {n['median']:.4g}{unit}, 5-95 % {n['p05']:.4g}–{n['p95']:.4g}  "
                f"bounds [{n['lower']:g}, {n['upper']:g}]  {100 * n['share_at_bound']:.0f} % of sites at a bound")
        if n["problem"] == "at_bound":
            line += "  PINNED AT A BOUND"
        elif n["problem"] == "constant":
            line += "  THE SAME AT EVERY SITE"
        lines.append(line)
    flagged = {k: n["problem"] for k, n in neural.items() if n["problem"]}
    if flagged:
        lines.append(f"warning: {', '.join(flagged)} did not learn a per-site field (pinned at a bound or the same "
                     f"at every site): widen the bounds, train longer, or make them global")
    return lines


def recovery_lines(metrics: dict) -> list[str]:
    """Learned against true parameters, where the data carry the truth (empty otherwise)."""
    rec = metrics.get("parameter_recovery")
    if not rec:
        return []
    lines = ["parameter recovery (learned vs true):"]
    for name, r in rec.items():
        if "learned" in r:
            lines.append(f"  {name:<10} global  learned {r['learned']:.4g}  true {r['true']:.4g}  "
                         f"rel. error {100 * r['rel_error']:.2f} %")
        else:
            lines.append(f"  {name:<10} neural  r {_fmt(r['r'])}  RMSE {_fmt(r['rmse'], 4)}  "
                         f"(validation r {_fmt(r.get('r_val'))})")
    return lines


def members_lines(metrics: dict) -> list[str]:
    """An ensemble run's members: what the table above is (the members' mean), each member's
    validation KGE and epochs, their mean ± sd, any member that failed and a warning naming any
    member far below the others (none for a single run)."""
    members = metrics.get("members")
    if not members:
        return []
    summary = metrics["member_summary"]["mean_val_kge"]
    lines = [f"ensemble of {len(members)} members: the table is the members' mean prediction; members' mean "
             f"validation KGE {_fmt(summary['mean'])} ± {_fmt(summary['sd'])} (mean ± sd)"]
    lines += [f"  member {m['member']} (seed {m['seed']}): mean validation KGE {_fmt(m['mean_val_kge'])}, "
              f"{m['epochs_run']} epochs (best {m['best_epoch']}, {m['stopped']})" for m in members]
    lines += [f"  {failure['error']}" for failure in metrics.get("failed_members") or []]
    lines += [f"warning: outlier {outlier['reason']}" for outlier in metrics.get("outlier_members") or []]
    return lines


def interval_lines(metrics: dict) -> list[str]:
    """A calibrated run's intervals on the validation sites: coverage, width (in sd of the
    observations) and CRPS per target, with MC-dropout's beside them where measured."""
    level = metrics.get("interval_level")
    if level is None:
        return []
    lines = [f"{level:.0%} prediction intervals ({metrics.get('interval_source')}, calibrated on "
             f"{metrics.get('n_calibration')} rows of held-out training sites), validation sites:"]
    for target, splits in metrics["targets"].items():
        val = splits.get("val", {})
        if "picp" not in val:
            lines.append(f"  {target:<8} no interval (too few calibration observations: calibration.json)")
            continue
        line = (f"  {target:<8} coverage {_fmt(val['picp'])}  width {_fmt(val['interval_width'])} sd  "
                f"CRPS {_fmt(val['crps'], 4)}")
        if "mc_dropout_picp" in val:
            line += (f"   MC-dropout: coverage {_fmt(val['mc_dropout_picp'])}  width "
                     f"{_fmt(val['mc_dropout_interval_width'])} sd  CRPS {_fmt(val['mc_dropout_crps'], 4)}")
        lines.append(line)
    return lines


def interval_markdown(spread: dict, targets) -> list[str]:
    """Markdown lines: per configuration and target, validation coverage, width and CRPS (mean ±
    sd over seeds) of the ensemble's and MC-dropout's intervals; empty when no run has them.
    spread: configuration -> a sweep summary's entry (``targets`` -> ``val_picp`` ...)."""
    from core.formatting import plus_minus

    def cell(entry: dict, key: str, digits: int = 2) -> str:
        return plus_minus(entry.get(key), digits) if entry.get(key, {}).get("n") else "–"

    rows = []
    for name, entry in spread.items():
        for target in targets:
            t = entry["targets"].get(target, {})
            if t.get("val_picp", {}).get("n"):
                rows.append(f"| {name} | {target.upper()} | {cell(t, 'val_picp')} | {cell(t, 'val_interval_width')} | "
                            f"{cell(t, 'val_crps', 3)} | {cell(t, 'val_mc_dropout_picp')} | "
                            f"{cell(t, 'val_mc_dropout_interval_width')} | {cell(t, 'val_mc_dropout_crps', 3)} |")
    if not rows:
        return []
    return ["", "## Prediction intervals (90 %, validation sites; mean ± sd over seeds)", "",
            "Calibrated by normalised split-conformal prediction on held-out training sites (docs/uncertainty.md). "
            "Width in sd of the observed values; CRPS in the target's units (lower is better).", "",
            "| configuration | target | coverage | width | CRPS | MC-dropout coverage | MC-dropout width | "
            "MC-dropout CRPS |", "|---|---|---|---|---|---|---|---|", *rows]
