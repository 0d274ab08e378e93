"""``rosetta3``: the Rosetta3 pedotransfer function (Zhang & Schaap 2017; PyPI ``rosetta-soil``) as
the reference for the retention model. From sand, silt and clay (%), and bulk density (g cm⁻³)
where the hybrid has it as a predictor, Rosetta3 predicts van Genuchten parameters; theta is
then computed at the suction h (cm) of every validation point:

    theta(h) = theta_r + (theta_s - theta_r) / (1 + (alpha h)^n)^(1 - 1/n)

Rosetta gives log10(alpha) with alpha in 1/cm, log10(n) and log10(Ks) (Ks in cm/day, not used)
with ``estimate_type="log"``; its default (``"arith"``) would give alpha and n themselves.
It is not trained on the data: the same prediction is scored on each fold's validation points.
Texture given as fractions (sand + silt + clay near 1) is converted to percent.
"""
from __future__ import annotations

import numpy as np

from core.datasets import HybridData
from core.errors import DataError, HybridlabError
from core.formatting import short_repr
from core.models import ModelSpec
from core.baselines.spec import BaselineRows, BaselineSpec, find_column

TEXTURE = {"sand": ("sand",), "silt": ("silt",), "clay": ("clay",)}
BULK_DENSITY = ("bd", "bulk_density", "bulkdensity", "rho_b", "bdod")
#: Rosetta's models: 2 sand, silt, clay; 3 with bulk density
SSC, SSC_BD = 2, 3


def texture_columns(data: HybridData) -> dict[str, str]:
    """sand, silt, clay and (where the hybrid uses it as a predictor) bd -> the data's columns."""
    columns = {name: find_column(data, names, f"{name} content") for name, names in TEXTURE.items()}
    bd = find_column(data, BULK_DENSITY, "bulk density", required=False)
    if bd is not None and bd in data.predictors:
        columns["bd"] = bd
    return columns


def applies(model: ModelSpec, data: HybridData, targets: list[str]) -> str | None:
    if "theta" not in targets or "h" not in model.forcing:
        return f"it predicts retention curves (theta at suction h); model {short_repr(model.name)} has none"
    try:
        soil_inputs(data)
    except DataError as e:
        return str(e)
    return None


def _plain(value):
    """A numpy scalar as the Python value it holds (so a message shows 'b', not np.str_('b'))."""
    return value.item() if isinstance(value, np.generic) else value


def in_percent(texture: np.ndarray, ids: np.ndarray, where: str) -> np.ndarray:
    """(n, 3) sand, silt, clay in %; fractions (sums near 1) are scaled by 100; DataError naming the
    first sample (``ids``: (n,) its id) whose sum is neither near 100 nor near 1."""
    total = texture.sum(1)
    if np.nanmedian(total) < 2:
        texture, total = texture * 100.0, total * 100.0
    bad = np.flatnonzero(~((total > 90) & (total < 110)))
    if len(bad):
        raise DataError(f"{where}: sand + silt + clay is {total[bad[0]]:.4g} % for id {short_repr(_plain(ids[bad[0]]))} "
                        f"({len(bad)} rows outside 90-110 %); Rosetta3 needs the three fractions of the fine earth "
                        f"in % (or as shares of 1)")
    return texture


def soil_inputs(data: HybridData) -> np.ndarray:
    """(n, 3) sand, silt, clay in %, or (n, 4) with bulk density (g cm⁻³), for every row of ``data``."""
    columns = texture_columns(data)
    frame = data.frame
    texture = in_percent(frame[[columns[c] for c in ("sand", "silt", "clay")]].to_numpy(dtype=np.float64),
                         frame[data.id].to_numpy(), data.name)
    if "bd" not in columns:
        return texture
    return np.column_stack([texture, frame[columns["bd"]].to_numpy(dtype=np.float64)])


def rosetta_parameters(inputs: np.ndarray) -> np.ndarray:
    """(n, 4) theta_r, theta_s, alpha (1/cm), n of van Genuchten from Rosetta3 for (n, 3 or 4) inputs;
    NaN where Rosetta returns none (its code -1: inputs it cannot use). alpha and n are the mean
    of log10 over Rosetta's bootstrap ensemble (its classic estimate), taken back by 10**."""
    try:
        from rosetta import rosetta
    except ImportError:
        raise HybridlabError("--baselines rosetta3 needs the package rosetta-soil (pip install rosetta-soil)") from None
    mean, _, codes = rosetta(3, inputs.tolist(), estimate_type="log")
    mean = np.asarray(mean, dtype=np.float64)
    curves = np.column_stack([mean[:, 0], mean[:, 1], 10 ** mean[:, 2], 10 ** mean[:, 3]])
    curves[np.asarray(codes) < 0] = np.nan
    return curves


def van_genuchten(h: np.ndarray, theta_r, theta_s, alpha, n) -> np.ndarray:
    """theta (m³ m⁻³) at suction h (cm, >= 0); parameters (n,) each, alpha in 1/cm."""
    return theta_r + (theta_s - theta_r) * (1.0 + (alpha * np.maximum(h, 0.0)) ** n) ** (-(1.0 - 1.0 / n))


class RosettaFit:
    """Rosetta3's curves for the data's soils (computed once per distinct soil); ``predict``
    evaluates them at each row's h. ``model``: Rosetta's model, 2 (sand, silt, clay) or 3 (and bd)."""

    def __init__(self, rows: BaselineRows):
        self.rows = rows
        inputs = soil_inputs(rows.data)
        self.model = SSC_BD if inputs.shape[1] == 4 else SSC
        soils, index = np.unique(inputs, axis=0, return_inverse=True)
        self.curves = rosetta_parameters(soils)[index.reshape(-1)]

    def predict(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """{"theta": (n,)} at the suction of each row."""
        theta_r, theta_s, alpha, n = self.curves[rows].T
        return {"theta": van_genuchten(self.rows.forcing_values("h", rows), theta_r, theta_s, alpha, n)}


BASELINE = BaselineSpec(
    name="rosetta3", description="Rosetta3 pedotransfer function: van Genuchten curves from sand, silt, clay (and bd)",
    applies=applies, fit=RosettaFit, reference="rosetta-soil; Zhang & Schaap 2017, J. Hydrol. 547:39")
