"""One LimeSoDa data set (Schmidinger et al. 2025, the PyPI package ``limesoda``, CC BY-SA 4.0) made
into a table for ``train``: :func:`assemble_limesoda` (``hybridlab data limesoda NAME --out TABLE``).

LimeSoDa holds 31 field-scale sets (30 to 460 samples, one field or farm each) with SOC (or SOM),
pH and clay and each set's covariates, and the 10 folds the paper's benchmark used. The table has
one row per sample: ``soc`` in g C kg-1 (SOC % x 10; SOM % / ``om_factor`` x 10), the covariates
as predictors (the other targets, pH and clay, are not), and ``fold`` (1-10) as the id, so that
``--folds 10`` reproduces the stored folds and a site split holds out whole folds.

A field has one climate, so NPP and temperature are one value each: the SOC model can run only
where ``--mat`` and ``--map`` give them (NPP from the Miami model), and then the process layer
sees no forcing that varies between samples; the report says so.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.datasets.registry import DataSourceSpec
from core.datasets.surveys.fractions_forcing import CARBON_FRACTION, miami_npp
from core.datasets.surveys.lucas import Assembled
from core.datasets.surveys.names import normalised
from core.datasets.surveys.retention_samples import OM_FACTOR
from core.errors import DataError
from core.formatting import short_repr

OTHER_TARGETS = ("pH_target", "Clay_target")


@dataclass(frozen=True)
class LimeSoDaOptions:
    """How a LimeSoDa set is taken.

    Parameters
    ----------
    mat, map_mm : float, optional
        The field's mean annual temperature (degC) and precipitation (mm yr-1), for the SOC model.
    om_factor : float
        Organic matter / organic carbon, for the sets that give SOM.
    max_predictors : int
        Sets with more covariates (spectra) are refused above this.
    """

    mat: float | None = None
    map_mm: float | None = None
    om_factor: float = OM_FACTOR
    max_predictors: int = 200

    def check(self) -> "LimeSoDaOptions":
        if (self.mat is None) != (self.map_mm is None):
            raise DataError("--mat and --map go together: give both (for the SOC model) or neither (nn, rf)")
        if self.mat is not None and not -30 <= self.mat <= 35:
            raise DataError(f"--mat must be a mean annual temperature from -30 to 35 degC, got {short_repr(self.mat)}")
        if self.map_mm is not None and not 0 < self.map_mm <= 12000:
            raise DataError(f"--map must be a precipitation from 0 to 12000 mm yr-1, got {short_repr(self.map_mm)}")
        return self


def _load(name: str) -> dict:
    try:
        import LimeSoDa
    except ImportError:
        raise DataError("data limesoda needs the limesoda package: pip install limesoda") from None
    names = [n for n in LimeSoDa.list_datasets() if n != "Overview_Datasets"]
    if name not in names:
        raise DataError(f"data limesoda: no set {short_repr(name)}; sets: {', '.join(names)}")
    return LimeSoDa.load_dataset(name)


def _carbon(frame: pd.DataFrame, name: str, options: LimeSoDaOptions, notes: list[str]) -> pd.Series:
    if "SOC_target" in frame:
        notes.append(f"{name}: soc = SOC_target (% by mass) x 10 g C kg-1")
        return frame["SOC_target"].astype(float) * 10.0
    if "SOM_target" in frame:
        notes.append(f"{name}: soc = SOM_target (% by mass) / {options.om_factor:g} x 10 g C kg-1 (--om-factor)")
        return frame["SOM_target"].astype(float) / options.om_factor * 10.0
    raise DataError(f"{name}: neither SOC_target nor SOM_target among its columns")


def assemble_limesoda(name: str, options: LimeSoDaOptions | None = None) -> Assembled:
    """One LimeSoDa set as a table with its stored folds.

    Parameters
    ----------
    name : str
        The set, e.g. ``BB.250``.
    options : LimeSoDaOptions, optional
        Climate for the SOC model, OM factor, the most covariates taken.

    Returns
    -------
    Assembled
        The table, its column map and the report's lines.
    """
    options, notes = (options or LimeSoDaOptions()).check(), []
    data = _load(name)
    frame = data["Dataset"].reset_index(drop=True)
    covariates = [c for c in frame.columns if not c.endswith("_target")]
    if len(covariates) > options.max_predictors:
        raise DataError(f"{name}: {len(covariates)} covariates (spectra) exceed {options.max_predictors}; choose a set "
                        f"with fewer, or reduce them first")
    predictors = {f"x_{normalised(c)}": frame[c].astype(float) for c in covariates}
    table = pd.DataFrame({"fold": np.asarray(data["Folds"]).astype(int), "soc": _carbon(frame, name, options, notes),
                          **predictors})
    columns = {"id": "fold", "targets": {"soc": "soc"}, "forcing": {}, "predictors": list(predictors),
               "units": {"soc": "g C kg-1", "fold": "the paper's 10-fold CV fold (1-10)"}}
    if options.mat is not None:
        table["temp"] = float(options.mat)
        table["npp"] = float(miami_npp(pd.Series([options.mat]), pd.Series([options.map_mm]), CARBON_FRACTION)[0])
        columns["forcing"] = {"temp": "temp", "npp": "npp"}
        columns["units"].update(temp="degC (--mat)", npp="g C m-2 yr-1 (Miami model of --mat, --map, x 0.5)")
        notes.append(f"temp {options.mat:g} degC and npp {table['npp'].iloc[0]:.4g} g C m-2 yr-1 (Miami model of "
                     f"--mat and --map, x {CARBON_FRACTION:g} g C per g dry matter) at every sample: the SOC model "
                     f"gets no forcing that varies within the field")
    else:
        notes.append("no --mat/--map: the table trains nn and rf; the SOC model needs temp and npp")
    lines = [f"{len(table)} samples of LimeSoDa {name} (Schmidinger et al. 2025, CC BY-SA 4.0), folds "
             f"{table['fold'].min()}-{table['fold'].max()} as id (train --split kfold --folds 10 uses them)",
             *notes, f"predictors ({len(predictors)}): {', '.join(covariates)}; pH_target and Clay_target left out",
             f"soc {table['soc'].min():.3g} to {table['soc'].max():.3g} g C kg-1 (median {table['soc'].median():.3g})"]
    return Assembled(table, columns, lines)


#: ``hybridlab data limesoda``: the survey in the data source registry
DATA = DataSourceSpec(name="limesoda", kind="survey", description=__doc__, load=assemble_limesoda)

__all__ = ["LimeSoDaOptions", "assemble_limesoda"]
