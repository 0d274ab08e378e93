"""The soil properties of each retention sample: texture (clay < 2 um, silt 2-50 um, sand
50-2000 um, in %), organic carbon (weight %), bulk density (g cm-3) and depth (cm).

Texture comes from clay/silt/sand columns (percent, or fractions when none is above 1, then
multiplied by 100) or from a cumulative particle-size curve: columns named by a size
(``psd_2um``, ``<50 um``, ``0.05mm``) holding the share finer than it, or UNSODA's two columns of
';'-joined sizes (um) and cumulative fractions. The curve is interpolated linearly in log size at
2 and 50 um and taken relative to its value at 2 mm where it reaches 2 mm (fine earth). A curve
that does not reach down to 2 um or up to 50 um, or that falls by more than MONOTONE_TOLERANCE,
gives no texture for that sample, counted and named. Organic matter (% by mass) becomes organic
carbon divided by ``--om-factor`` (default 1.724, the van Bemmelen factor).
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from core.errors import DataError
from core.datasets.surveys.names import normalised

OM_FACTOR = 1.724
MONOTONE_TOLERANCE = 0.02
CLAY_UM, SILT_UM, FINE_EARTH_UM = 2.0, 50.0, 2000.0
#: qualifier tokens set aside when recognising a property's name (``clay_pct_derived`` -> clay)
QUALIFIERS = {"pct", "percent", "derived", "content", "total", "mass", "wt", "fraction", "frac", "g", "cm3", "kg",
              "gcm3", "gkg", "by", "weight", "measured", "dry", "cm"}
PROPERTIES = {"clay": ("clay",), "silt": ("silt",), "sand": ("sand",),
              "om": ("om", "organic_matter", "som", "soil_organic_matter", "loi"),
              "oc": ("oc", "organic_carbon", "soc", "corg", "c_org", "toc", "soil_organic_carbon"),
              "bd": ("bd", "bulk_density", "rho_b", "dry_bulk_density", "db", "rhob"),
              "depth_upper": ("depth_upper", "upper_depth", "depth_top", "top_depth", "top", "upper", "depth_from"),
              "depth_lower": ("depth_lower", "lower_depth", "depth_bottom", "bottom_depth", "bottom", "lower",
                              "depth_to"),
              "depth": ("depth", "mid_depth", "depth_mid")}
_SIZE = re.compile(r"^\s*(?:(?:psd|p|passing|pass|finer|lt|<|d)[\s_<]*)?(?P<size>\d+(?:[.,]\d+)?)\s*"
                   r"(?P<unit>um|µm|μm|micron|mm)\s*$", re.IGNORECASE)


def _base(name: str) -> str:
    tokens = [t for t in normalised(name).split("_") if t and t not in QUALIFIERS]
    return "_".join(tokens)


def property_columns(columns, skip=()) -> dict[str, str]:
    """Property -> the column holding it (the first whose name, qualifiers aside, matches)."""
    found = {}
    for column in columns:
        if column in skip:
            continue
        base = _base(column)
        for name, spellings in PROPERTIES.items():
            if name not in found and base in spellings:
                found[name] = column
    return found


def in_g_per_kg(column: str) -> bool:
    """A name saying g kg-1 (``oc_g_kg``, ``OM (g/kg)``), where percent is the default."""
    return "g_kg" in normalised(column) or "gkg" in normalised(column)


def size_columns(columns) -> dict[str, float]:
    """Columns named by a particle size -> the size in um."""
    found = {}
    for column in columns:
        match = _SIZE.match(str(column))
        if match:
            size = float(match.group("size").replace(",", "."))
            found[column] = size * 1000 if match.group("unit").lower() == "mm" else size
    return found


def list_columns(columns) -> tuple[str, str] | None:
    """UNSODA's flattened curve: a column of ';'-joined sizes and one of cumulative fractions."""
    keys = {normalised(c): c for c in columns}
    sizes = next((c for k, c in keys.items() if "psd" in k and "size" in k), None)
    shares = next((c for k, c in keys.items() if "psd" in k and ("cum" in k or "fraction" in k) and "size" not in k),
                  None)
    return (sizes, shares) if sizes and shares else None


def curve_texture(sizes: np.ndarray, finer: np.ndarray) -> tuple[tuple[float, float, float] | None, str | None]:
    """((clay, silt, sand) in %, None) from one cumulative curve (sizes in um, share finer 0-1 or
    %), or (None, why not)."""
    keep = np.isfinite(sizes) & np.isfinite(finer) & (sizes > 0)
    sizes, finer = sizes[keep], finer[keep]
    if len(sizes) < 2:
        return None, "fewer than two points on the particle-size curve"
    order = np.argsort(sizes)
    sizes, finer = sizes[order], finer[order]
    if finer.max() > 1.5:
        finer = finer / 100
    if (np.diff(finer) < -MONOTONE_TOLERANCE).any():
        return None, "the cumulative particle-size curve falls with size"
    if sizes[0] > CLAY_UM or sizes[-1] < SILT_UM:
        return None, "the particle-size curve does not reach down to 2 um and up to 50 um"
    logs = np.log10(sizes)
    f2, f50 = np.interp(np.log10([CLAY_UM, SILT_UM]), logs, finer)
    total = float(np.interp(np.log10(FINE_EARTH_UM), logs, finer)) if sizes[-1] >= FINE_EARTH_UM else 1.0
    if total <= 0:
        return None, "the particle-size curve is zero at 2 mm"
    return (100 * f2 / total, 100 * (f50 - f2) / total, 100 * (total - f50) / total), None


def texture_from_fractions(frame: pd.DataFrame, notes: list[str], where: str) -> pd.DataFrame:
    """clay, silt, sand in %: fractions (no value above 1) multiplied by 100, said in ``notes``."""
    texture = frame[["clay", "silt", "sand"]]
    if texture.notna().any().any() and float(np.nanmax(texture.to_numpy(dtype=float))) <= 1.0:
        notes.append(f"{where}: clay, silt and sand read as fractions (none above 1), multiplied by 100")
        texture = texture * 100
    return texture


def organic_carbon(props: pd.DataFrame, columns: dict, om_factor: float, notes: list[str]) -> pd.Series | None:
    """Organic carbon in weight %: the OC column, else organic matter / om_factor."""
    if not om_factor > 0:
        raise DataError(f"--om-factor must be a positive number, got {om_factor!r}")
    if "oc" in props:
        oc = props["oc"] / (10 if in_g_per_kg(columns["oc"]) else 1)
        notes.append(f"organic carbon from {columns['oc']} (weight %"
                     + (", g kg-1 divided by 10)" if in_g_per_kg(columns["oc"]) else ")")
                     + (f"; {columns['om']} not used" if "om" in props else ""))
        return oc
    if "om" in props:
        om = props["om"] / (10 if in_g_per_kg(columns["om"]) else 1)
        notes.append(f"organic carbon = organic matter {columns['om']} (% by mass) / {om_factor:g} (--om-factor; "
                     f"{'the van Bemmelen factor' if om_factor == OM_FACTOR else 'given'})")
        return om / om_factor
    return None


__all__ = ["OM_FACTOR", "curve_texture", "in_g_per_kg", "list_columns", "organic_carbon", "property_columns",
           "size_columns", "texture_from_fractions"]
