"""Predictions of a saved run for new rows: every parameter, derived quantities and the targets,
optionally on a grid of forcing values (a retention run as a pedotransfer function)."""
from __future__ import annotations

from itertools import product

import numpy as np
import pandas as pd
import torch

from core.uncertainty.calibration import interval_columns
from core.datasets.files import FIRST_DATA_ROW
from core.errors import DataError
from core.formatting import short_repr
from core.hybrid.members import ensemble_mean
from core.models import get_model
from core.training.tensors import Tensors
from core.training.loop import predict
from core.spatial.applicability import add_applicability


def _column(frame: pd.DataFrame, column: str) -> torch.Tensor:
    return torch.tensor(frame[column].to_numpy(dtype=np.float64), dtype=torch.float32)


def _forcing(frame: pd.DataFrame, config: dict, values: dict) -> torch.Tensor:
    """(n, f) forcing: a fixed value where ``values`` gives one, else the frame's column."""
    n = len(frame)
    forcing_columns = config["columns"]["forcing"]
    blocks = [torch.full((n,), values[f], dtype=torch.float32) if f in values else _column(frame, forcing_columns[f])
              for f in config["model"]["forcing"]]
    return torch.stack(blocks, 1) if blocks else torch.zeros(n, 0)


def _check_columns(frame: pd.DataFrame, config: dict, at: dict) -> None:
    model = config["model"]
    unknown = [k for k in at if k not in model["forcing"]]
    if unknown:
        raise DataError(f"--at: {', '.join(unknown)} is not a forcing of this run "
                        f"({', '.join(model['forcing']) or 'none'})")
    needed = list(config["columns"]["predictors"]) + [config["columns"]["forcing"][f] for f in model["forcing"]
                                                     if f not in at]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise DataError(f"input lacks column(s) {', '.join(missing)} that the run was trained with")
    for column in needed:
        if pd.api.types.is_numeric_dtype(frame[column]):
            continue
        values = pd.to_numeric(frame[column], errors="coerce")
        text = frame[column].notna() & values.isna()
        if text.any():
            row = int(np.flatnonzero(text.to_numpy())[0])
            # numbered as a spreadsheet shows a file (the header is row 1), as train numbers them
            raise DataError(f"input column {short_repr(column)}: row {row + FIRST_DATA_ROW} holds "
                            f"{short_repr(frame[column].iloc[row])}, "
                            f"not a number")


class FittedRun:
    """What a fitted run offers, trained just now (:class:`core.run.result.Run`) or read back from its folder
    (:class:`core.run.loaded.LoadedRun`), as scikit-learn's fitted estimators do: :meth:`predict`
    for new rows. A class that mixes it in has ``model`` (the trained model), ``config`` (what
    config.json holds) and ``calibration`` (calibration.json, or None)."""

    def predict(self, frame: pd.DataFrame, at: dict[str, list[float]] | None = None,
                interval: float | None = None) -> pd.DataFrame:
        """Parameters, derived quantities and predictions for new rows.

        Parameters
        ----------
        frame : pandas.DataFrame
            Rows with the predictor and forcing columns the run was trained with.
        at : dict, optional
            Forcing name -> values: predictions on that grid instead of the frame's forcing.
        interval : float, optional
            A level (e.g. 0.9): each calibrated target's bounds beside its prediction.

        Returns
        -------
        pandas.DataFrame
            One row per input row (see :func:`predict_table`); the same for a run in memory and
            for its folder read back. A run with an area of applicability adds ``di`` (its
            dissimilarity index, dimensionless) and ``aoa`` (True inside it).
        """
        table = predict_table(self.model, self.config, frame, at, interval=interval, calibration=self.calibration)
        return add_applicability(table, frame, getattr(self, "applicability", None))


def predict_table(model, config: dict, frame: pd.DataFrame, at: dict[str, list[float]] | None = None,
                  interval: float | None = None, calibration: dict | None = None) -> pd.DataFrame:
    """One row per input row: every mechanistic parameter, quantities the model derives from them
    (e.g. ``awc``), and ``<target>_pred``. With ``at`` (forcing name -> values, e.g.
    ``{"h": [100, 15000]}``) the forcing comes from that grid instead of the table, giving columns
    ``<target>[<forcing>=<value>]`` for every combination. For an ensemble run every value is the
    members' mean, with the members' sd as ``<target>_sd`` and ``<parameter>_sd``. With
    ``interval`` (a level, e.g. 0.9) and the run's ``calibration`` (calibration.json), each
    calibrated target also gets ``<target>_lower`` and ``<target>_upper``; targets without one are
    named in ``result.attrs["interval_notes"]``."""
    if interval is not None and at:
        raise DataError("--interval and --at: intervals are calibrated on the observed forcing; give one or the other")
    at = {k: [float(v) for v in values] for k, values in (at or {}).items()}
    _check_columns(frame, config, at)
    n = len(frame)
    x = torch.tensor(frame[config["columns"]["predictors"]].to_numpy(dtype=np.float64),
                     dtype=torch.float32).reshape(n, -1)
    result = pd.DataFrame(index=frame.index)
    grid = [dict(zip(at, combination)) for combination in product(*at.values())] if at else [{}]
    targets = config["model"]["targets"]
    for values in grid:
        out, spread = predict(model, Tensors(x, _forcing(frame, config, values), torch.zeros(n, 0))), {}
        if out.predictions.dim() == 3:  # an ensemble: the members' mean, and their sd beside it
            out, spread = ensemble_mean(out, targets)
        label = ",".join(f"{k}={v:g}" for k, v in values.items())
        for j, target in enumerate(targets):
            result[f"{target}[{label}]" if label else f"{target}_pred"] = out.predictions[:, j].double().numpy()
            if target in spread and not label:
                result[f"{target}_sd"] = spread[target]
    for name, values in out.parameters.items():
        result[name] = values.double().numpy()
        if name in spread:
            result[f"{name}_sd"] = spread[name]
    spec = get_model(config["model"]["name"])
    if interval is not None:
        tensors = Tensors(x, _forcing(frame, config, {}), torch.zeros(n, 0))
        bounds, notes = interval_columns(model, tensors, targets, calibration, interval)
        for target in targets:
            if f"{target}_lower" in bounds:
                position = result.columns.get_loc(f"{target}_pred") + 1
                result.insert(position, f"{target}_upper", bounds[f"{target}_upper"])
                result.insert(position, f"{target}_lower", bounds[f"{target}_lower"])
        result.attrs["interval_notes"] = notes
    if spec.derived is not None:
        with torch.inference_mode():
            for name, values in spec.derived({k: v.double() for k, v in out.parameters.items()}).items():
                result[name] = values.numpy()
    return result
