"""Text summaries of runs for the terminal and for Markdown files."""
from __future__ import annotations

from .formatting import number as _fmt


def metrics_table(metrics: dict) -> str:
    """Per-target table: KGE, r, alpha, beta, NSE, RMSE and n for train and validation."""
    cols = ("kge", "r", "alpha", "beta", "nse", "rmse", "n")
    header = f"{'target':<10} {'split':<6}" + "".join(f"{c:>9}" for c in cols)
    lines = [header, "-" * len(header)]
    for target, splits in metrics["targets"].items():
        for split in ("train", "val"):
            m = splits.get(split, {})
            lines.append(f"{target:<10} {split:<6}" + "".join(f"{_fmt(m.get(c)):>9}" for c in cols))
    lines.append(f"mean validation KGE: {_fmt(metrics.get('mean_val_kge'))}   "
                 f"epochs: {metrics['epochs_run']} (best {metrics['best_epoch']}, {metrics.get('stopped', '')})   "
                 f"time: {metrics['train_seconds']:.1f} s ({metrics['seconds_per_epoch'] * 1000:.0f} ms/epoch)")
    lines += members_lines(metrics)
    rec = metrics.get("parameter_recovery")
    if rec:
        lines.append("parameter recovery (learned vs true):")
        for name, r in rec.items():
            if "learned" in r:
                lines.append(f"  {name:<10} global  learned {r['learned']:.4g}  true {r['true']:.4g}  "
                             f"rel. error {100 * r['rel_error']:.2f} %")
            else:
                lines.append(f"  {name:<10} neural  r {_fmt(r['r'])}  RMSE {_fmt(r['rmse'], 4)}  "
                             f"(validation r {_fmt(r.get('r_val'))})")
    return "\n".join(lines)


def members_lines(metrics: dict) -> list[str]:
    """An ensemble run's members: what the table above is (the members' mean), each member's
    validation KGE and epochs, their mean ± sd, and any member that failed (none for a single run)."""
    members = metrics.get("members")
    if not members:
        return []
    summary = metrics["member_summary"]["mean_val_kge"]
    lines = [f"ensemble of {len(members)} members: the table is the members' mean prediction; members' mean "
             f"validation KGE {_fmt(summary['mean'])} ± {_fmt(summary['sd'])} (mean ± sd)"]
    lines += [f"  member {m['member']} (seed {m['seed']}): mean validation KGE {_fmt(m['mean_val_kge'])}, "
              f"{m['epochs_run']} epochs (best {m['best_epoch']}, {m['stopped']})" for m in members]
    lines += [f"  {failure['error']}" for failure in metrics.get("failed_members") or []]
    return lines
