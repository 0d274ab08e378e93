"""The learned q_max of the SOC hybrid's runs against the MOC capacity envelope of Georgiou et al.
(2022): 0.86 x silt+clay (%) g C kg-1 for high-activity (2:1) clays, 0.48 x for low-activity (1:1).

    python docs/scripts/qmax_envelope.py TABLE.parquet RUN_FOLDER [RUN_FOLDER ...]

TABLE is the ``hybridlab data fractions`` table the runs trained on; each RUN_FOLDER a run of
``train`` or ``experiment`` (its parameters.parquet, metrics.json). Prints, per run and as mean ± sd
over the runs: median q_max, the share of sites at its upper bound (within 1 % of the range), the
share above the envelope, the median of predicted MOC / q_max (below about 0.3 the Langmuir term is
linear and q_max is not identified), and the share of observed MOC / q_max above 1, with a
histogram of observed MOC / q_max.
"""
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

SLOPE = {0.0: 0.86, 1.0: 0.48}


def one_run(table: pd.DataFrame, run: Path) -> dict:
    params = pd.read_parquet(run / "parameters.parquet")
    metrics = json.loads((run / "metrics.json").read_text())
    q = metrics["neural"]["q_max"] if "q_max" in metrics.get("neural", {}) else None
    sites = table.groupby("site_id").agg(silt_clay=("silt_clay", "mean"), lm=("lm", "max"), moc=("moc", "mean"))
    per = params.groupby("id")["q_max"].median().rename("q_max").to_frame().join(sites, how="inner")
    envelope = per["silt_clay"] * per["lm"].map(SLOPE)
    known = envelope.notna()
    upper = q["upper"] if q else float(per["q_max"].max())
    lower = q["lower"] if q else float(per["q_max"].min())
    ratio = (per["moc"] / per["q_max"]).dropna()
    return {"q_max_median": float(per["q_max"].median()),
            "at_upper": float((per["q_max"] >= upper - 0.01 * (upper - lower)).mean()),
            "above_envelope": float((per.loc[known, "q_max"] > envelope[known]).mean()),
            "pred_ratio_median": metrics["diagnostics"]["moc_qmax_ratio"]["predicted"]["median"],
            "obs_ratio_above_1": float((ratio > 1).mean()), "ratio": ratio.to_numpy()}


def main(argv: list[str]) -> None:
    table = pd.read_parquet(argv[0])
    rows = [one_run(table, Path(run)) for run in argv[1:]]
    keys = [k for k in rows[0] if k != "ratio"]
    for run, row in zip(argv[1:], rows):
        print(Path(run).name, "  ".join(f"{k} {row[k]:.3g}" for k in keys))
    print("mean ± sd", "  ".join(f"{k} {np.mean([r[k] for r in rows]):.3g} ± {np.std([r[k] for r in rows], ddof=1):.2g}"
                                 for k in keys))
    counts, edges = np.histogram(np.concatenate([r["ratio"] for r in rows]), bins=[0, .1, .2, .3, .5, .75, 1, 1.5, 2, np.inf])
    print("observed MOC / q_max (site-runs):", ", ".join(f"{a:g}-{b:g}: {c}" for a, b, c in zip(edges, edges[1:], counts)))


if __name__ == "__main__":
    main(sys.argv[1:])
