"""One row of soil properties per retention sample, from a samples file or from the points file
itself (where each sample's properties repeat on its points and must agree): texture, organic
carbon, bulk density and depth (:mod:`.retention_samples`), each checked against its physical
range (outside: missing, counted and named).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from core.errors import DataError
from core.formatting import short_repr
from core.datasets.surveys.ranges import check_range
from core.datasets.surveys.retention_samples import (curve_texture, list_columns, organic_carbon, property_columns, size_columns,
                                texture_from_fractions)
from core.datasets.surveys.tables import Problems, numeric_column

#: name in the table -> (lowest, highest, unit)
RANGES = {"clay": (0, 100, "%"), "silt": (0, 100, "%"), "sand": (0, 100, "%"), "oc": (0, 60, "weight %"),
          "bd": (0.05, 2.65, "g cm-3"), "depth_cm": (0, 2000, "cm")}
TEXTURE_SOURCES = ("auto", "fractions", "curve")
#: a texture whose parts sum further than this from 100 % is named in the report
SUM_TOLERANCE = 5.0


def _number(frame: pd.DataFrame, column: str, where: str, mark: str, problems: Problems, notes: list[str],
            name: str) -> pd.Series:
    return numeric_column(frame[column], name=where, column=column, policy="nan", mark=mark, problems=problems,
                          notes=notes, table_name=name, numeric=True)


def _curves(frame: pd.DataFrame, where: str, mark: str, problems: Problems,
            notes: list[str]) -> pd.DataFrame | None:
    """clay, silt, sand (%) of each row from its particle-size curve, or None without a curve."""
    sizes = size_columns(frame.columns)
    listed = list_columns(frame.columns)
    if not sizes and not listed:
        return None
    if sizes:
        shares = pd.DataFrame({c: _number(frame, c, where, mark, problems, notes, c) for c in sizes})
        rows = ((np.array(list(sizes.values())), shares.loc[i].to_numpy(dtype=float)) for i in frame.index)
        notes.append(f"{where}: texture from the particle-size curve in {len(sizes)} columns "
                     f"({', '.join(map(str, list(sizes)[:6]))}), interpolated in log size at 2 and 50 um")
    else:
        rows = (_listed(frame.at[i, listed[0]], frame.at[i, listed[1]]) for i in frame.index)
        notes.append(f"{where}: texture from the particle-size curve in {listed[0]} (um) and {listed[1]} "
                     f"(cumulative), interpolated in log size at 2 and 50 um")
    texture, failed = [], {}
    for line, (size, finer) in zip(frame.index, rows):
        parts, why = curve_texture(size, finer) if size is not None else (None, None)
        texture.append(parts or (np.nan, np.nan, np.nan))
        if why:
            failed.setdefault(why, []).append(line)
    for why, lines in failed.items():
        notes.append(f"{where}: no texture for {len(lines)} row(s): {why} (rows "
                     f"{', '.join(map(str, lines[:5]))}{', ...' if len(lines) > 5 else ''})")
    return pd.DataFrame(texture, index=frame.index, columns=["clay", "silt", "sand"])


def _listed(sizes, shares) -> tuple[np.ndarray | None, np.ndarray | None]:
    if not isinstance(sizes, str) or not isinstance(shares, str):
        return None, None
    try:
        size = np.array([float(s) for s in sizes.split(";") if s.strip()])
        finer = np.array([float(s) for s in shares.split(";") if s.strip()])
    except ValueError:
        return None, None
    return (size, finer) if len(size) == len(finer) else (None, None)


def _texture(frame: pd.DataFrame, found: dict, props: dict, source: str, where: str, mark: str,
             problems: Problems, notes: list[str]) -> pd.DataFrame | None:
    if source not in TEXTURE_SOURCES:
        raise DataError(f"--texture-from must be one of {', '.join(TEXTURE_SOURCES)}, got {short_repr(source)}")
    given = all(k in props for k in ("clay", "silt", "sand"))
    if source in ("auto", "fractions") and given:
        notes.append(f"{where}: texture from {found['clay']}, {found['silt']}, {found['sand']}")
        return texture_from_fractions(pd.DataFrame({k: props[k] for k in ("clay", "silt", "sand")}), notes, where)
    curves = _curves(frame, where, mark, problems, notes) if source != "fractions" else None
    if curves is None and source != "auto":
        raise DataError(f"{where}: --texture-from {source}: no "
                        + ("clay, silt and sand columns" if source == "fractions" else
                           "particle-size curve (columns named by a size such as psd_2um, or psd sizes and "
                           "cumulative fractions)"))
    if curves is None:
        notes.append(f"{where}: no texture (no clay, silt and sand columns and no particle-size curve)")
    return curves


def _depth(props: dict) -> pd.Series | None:
    if "depth" in props:
        return props["depth"]
    if "depth_upper" in props and "depth_lower" in props:
        return (props["depth_upper"] + props["depth_lower"]) / 2
    return None


def row_properties(frame: pd.DataFrame, where: str, mark: str, skip: set, texture: str, om_factor: float,
                   problems: Problems, notes: list[str]) -> pd.DataFrame:
    """clay, silt, sand (%), oc (weight %), om (% by mass), bd (g cm-3), depth_cm (cm) of each row."""
    found = property_columns(frame.columns, skip)
    props = {name: _number(frame, column, where, mark, problems, notes, name) for name, column in found.items()}
    out = pd.DataFrame(index=frame.index)
    parts = _texture(frame, found, props, texture, where, mark, problems, notes)
    if parts is not None:
        out = out.join(parts)
    oc = organic_carbon(props, found, om_factor, notes)
    for name, values in (("oc", oc), ("om", props.get("om")), ("bd", props.get("bd")), ("depth_cm", _depth(props))):
        if values is not None:
            out[name] = values
    if "bd" in out and out["bd"].notna().any() and float(out["bd"].median()) > 100:
        raise DataError(f"{where}: bulk density {found['bd']} has median {out['bd'].median():g}: kg m-3? give it in "
                        f"g cm-3 (divide by 1000)")
    for name in [c for c in out.columns if c in RANGES]:
        out[name] = check_range(out[name], RANGES[name], name=where, column=found.get(name, name), table_name=name,
                                problems=problems)
    return out


def per_sample(rows: pd.DataFrame, ids: pd.Series, where: str, repeated: bool) -> pd.DataFrame:
    """One row per sample id. ``repeated``: the properties repeat on each of a sample's rows (a
    points file) and must agree; otherwise a sample id may appear once (a samples file)."""
    rows = rows.assign(sample_id=ids.to_numpy(dtype=object))
    spread = rows.groupby("sample_id").nunique() if repeated else pd.DataFrame()
    for column in spread.columns:
        if (spread[column] > 1).any():
            sample = spread.index[(spread[column] > 1).to_numpy()][0]
            lines = rows.index[(rows["sample_id"] == sample).to_numpy()][:3]
            raise DataError(f"{where}: sample {short_repr(sample)} has differing {column} on its rows "
                            f"({', '.join(map(str, lines))}); a sample's properties must agree on all its points")
    if not repeated:
        twice = ids[ids.duplicated(keep=False)]
        if len(twice):
            raise DataError(f"{where}: sample id {short_repr(twice.iloc[0])} appears more than once (rows "
                            f"{', '.join(map(str, twice.index[:3]))}); one row per sample")
    return rows.groupby("sample_id", sort=False).first()


def texture_sums(props: pd.DataFrame) -> list[str]:
    """A line naming the samples whose clay + silt + sand is not near 100 %."""
    if not {"clay", "silt", "sand"} <= set(props.columns):
        return []
    total = props[["clay", "silt", "sand"]].sum(axis=1, min_count=3)
    off = total[(total - 100).abs() > SUM_TOLERANCE]
    if off.empty:
        return []
    return [f"{len(off)} sample(s) whose clay + silt + sand is not within {SUM_TOLERANCE:g} of 100 % (e.g. "
            + ", ".join(f"{i}: {v:.1f}" for i, v in off.head(3).items()) + "); kept as given"]


__all__ = ["RANGES", "TEXTURE_SOURCES", "per_sample", "row_properties", "texture_sums"]
