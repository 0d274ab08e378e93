"""``network_reco``: the flux network's own night-time partitioned ecosystem respiration
(FLUXNET2015 / ONEFlux ``RECO_NT_*``, µmol m⁻² s⁻¹, the target's unit) scored on the same
validation rows as the hybrid. It is not trained. ``RECO_NT_VUT_REF`` is preferred, then
``RECO_NT_VUT_MEAN``, then ``reco_network`` (what ``hybridlab data fluxnet`` names it), then the first
other ``RECO_NT_*`` column; FLUXNET's missing value -9999 is
missing, and rows without a value are left out of its scores (counted in ``n_unpredicted``)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from core.datasets import HybridData
from core.models import ModelSpec
from core.baselines.spec import BaselineRows, BaselineSpec

PREFIX = "reco_nt_"
PREFERRED = ("reco_nt_vut_ref", "reco_nt_vut_mean", "reco_network")
MISSING = -9999.0


def reco_column(data: HybridData) -> str | None:
    """The network's Reco column of ``data`` (never the column mapped as the target), or None."""
    taken = set(data.targets.values())
    found = {str(c).lower(): str(c) for c in data.frame.columns
             if (str(c).lower().startswith(PREFIX) or str(c).lower() in PREFERRED) and c not in taken}
    for name in PREFERRED:
        if name in found:
            return found[name]
    return found[sorted(found)[0]] if found else None


def applies(model: ModelSpec, data: HybridData, targets: list[str]) -> str | None:
    if "reco" not in targets:
        return "it scores the network's partitioned respiration against a reco target; the run has none"
    column = reco_column(data)
    if column is None:
        mapped = ", ".join(c for c in data.targets.values())
        return (f"data {data.name} have no RECO_NT_* column besides the target's ({mapped}); export the FLUXNET "
                f"file's RECO_NT_VUT_REF with the table")
    if column in data.predictors:
        return (f"{column} is one of the hybrid's predictors, so the hybrid sees the network's answer; leave it out "
                f"of 'predictors' in the column map")
    return None


class NetworkReco:
    """The file's Reco column as a prediction of ``reco``."""

    def __init__(self, rows: BaselineRows):
        self.rows, self.column = rows, reco_column(rows.data)

    def predict(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        values = pd.to_numeric(self.rows.data.frame[self.column].iloc[rows], errors="coerce").to_numpy(dtype=np.float64)
        return {"reco": np.where(values <= MISSING + 0.5, np.nan, values)}


BASELINE = BaselineSpec(name="network_reco", description="the flux network's night-time partitioned Reco (RECO_NT_*)",
                        applies=applies, fit=NetworkReco, reference="Reichstein et al. 2005; Pastorello et al. 2020")
