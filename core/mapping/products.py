"""What a published map says about itself: CF units (UDUNITS strings, ``1`` for dimensionless),
each band's meaning and the interval level, and the run's provenance (model, roles, the data and
its checksum, the date, hybridlab's version). :mod:`core.mapping.output` writes them into the
GeoTIFF's tags and the NetCDF/Zarr attributes; :mod:`core.mapping.stac` into the STAC item.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from importlib import metadata

#: unicode superscripts in the models' unit strings -> UDUNITS exponents
_SUPERSCRIPTS = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")
#: unit symbols the models write -> their UDUNITS spelling
_SYMBOLS = {"°C": "degC", "µmol": "umol", "μmol": "umol", "yr": "year"}


def cf_units(unit: str) -> str:
    """A model's unit string as a CF ``units`` attribute (a UDUNITS string).

    Parameters
    ----------
    unit : str
        As the models write it: ``"-"`` or ``""`` (dimensionless), ``"g C kg⁻¹"``, ``"µmol m⁻² s⁻¹"``,
        ``"kg g⁻¹ yr⁻¹ (beta=2)"``.

    Returns
    -------
    str
        ``"1"`` for a dimensionless quantity; otherwise the unit with ASCII exponents and UDUNITS
        symbols (``g kg-1``, ``umol m-2 s-1``, ``kg g-1 year-1``). The element a mass refers to
        (``C`` for carbon) and notes in parentheses are left out: UDUNITS would read ``C`` as
        coulomb; they belong in the long name (:func:`unit_note`).
    """
    if unit.strip() in ("", "-", "1"):
        return "1"
    text = re.sub(r"\([^)]*\)", " ", unit).translate(_SUPERSCRIPTS)
    tokens = [_symbol(token) for token in text.split() if token != "C"]
    return " ".join(tokens) or "1"


def _symbol(token: str) -> str:
    """One factor of a unit (``m-2``, ``yr``) in its UDUNITS spelling, its exponent kept."""
    base, power = re.fullmatch(r"(.*?)(-?\d+)?", token).groups()
    return _SYMBOLS.get(base, base) + (power or "")


def unit_note(unit: str) -> str:
    """What :func:`cf_units` leaves out of ``unit``, for the long name: ``"mass of carbon"`` for
    ``g C``, a note in parentheses as it is; empty when nothing is left out."""
    notes = ["mass of carbon"] if "C" in unit.split() else []
    notes += [note.strip() for note in re.findall(r"\(([^)]*)\)", unit)]
    return "; ".join(notes)


def hybridlab_version() -> str:
    """The installed hybridlab's version (its package metadata)."""
    try:
        return metadata.version("hybridlab")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "not installed (source tree)"


def provenance(run, interval: float | None, masked: bool) -> dict[str, str]:
    """The run behind a map, as flat text fields (GeoTIFF tags and NetCDF attributes hold text).

    Parameters
    ----------
    run : FittedRun
        The mapped run (its ``config``: config.json; ``path``: its folder).
    interval : float, optional
        The level of the mapped prediction intervals (None: none mapped).
    masked : bool
        Whether pixels outside the area of applicability are nodata.

    Returns
    -------
    dict
        ``hybridlab_version``, ``date_created`` (UTC, ISO 8601), ``model``, ``roles`` (JSON:
        parameter -> global / neural / fixed), ``run``, ``data`` (JSON: the built-in set with its
        size and seed, or the file), ``data_sha256`` (of the data file when it was read; text
        saying why not otherwise), ``interval_level`` and ``masked_outside_aoa``.
    """
    config = run.config
    data = dict(config.get("data") or {})
    checksum = data.pop("sha256", None)
    data.pop("columns", None)  # the column map is in the run's config.json
    if checksum is None:
        checksum = ("none: built-in synthetic data, regenerated from its name, n and seed" if "name" in data
                    else "none: the run was trained before hybridlab recorded it")
    return {"hybridlab_version": hybridlab_version(),
            "date_created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "model": config["model"]["name"],
            "roles": json.dumps({p["name"]: p["role"] for p in config["model"]["parameters"]}),
            "run": str(run.path) if getattr(run, "path", None) else "in memory",
            "data": json.dumps(data, default=str), "data_sha256": checksum,
            "interval_level": "none" if interval is None else f"{interval:g}",
            "masked_outside_aoa": "yes" if masked else "no"}


def band_meaning(name: str, base: str, description: str, interval: float | None) -> str:
    """The long name of a map band: what ``base`` is (``description``) and which part of it the
    band holds (prediction, bounds of the ``interval`` level, members' sd, value)."""
    part = name.removeprefix(base).lstrip("_") or "value"
    parts = {"pred": "prediction", "sd": "standard deviation across the ensemble's members",
             "lower": f"lower bound of the calibrated {interval:g} prediction interval" if interval else "lower bound",
             "upper": f"upper bound of the calibrated {interval:g} prediction interval" if interval else "upper bound",
             "value": "value per pixel"}
    return f"{base}: {description}, {parts.get(part, part)}" if description else f"{base}, {parts.get(part, part)}"


__all__ = ["band_meaning", "cf_units", "hybridlab_version", "provenance", "unit_note"]
