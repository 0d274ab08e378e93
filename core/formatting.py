"""How numbers and names are written in tables, figures and the dashboard (one place for all)."""
from __future__ import annotations

import math

#: display names of model variables; anything else is shown as it is
LABELS = {"soc": "SOC", "moc": "MOC", "poc": "POC", "mbc": "MBC", "doc": "DOC", "reco": "Reco",
          "q_max": "q_max", "awc": "AWC", "theta": "θ"}


def label(name: str) -> str:
    """Display name of a target or parameter (``soc`` -> ``SOC``)."""
    return LABELS.get(name, name)


def with_unit(text: str, unit: str, brackets: bool = False) -> str:
    """``text`` followed by its unit (``"1.82 g kg-1"``, or ``"q_max (g kg-1)"`` with brackets); a
    dimensionless unit (``""``, ``"-"``, ``"1"``) adds nothing."""
    if unit in ("", "-", "1", None):
        return text
    return f"{text} ({unit})" if brackets else f"{text} {unit}"


def is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def number(value, digits: int = 3) -> str:
    """A metric for a table: fixed decimals, integers as they are, ``-`` for missing or non-finite."""
    if is_missing(value):
        return "–"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return f"{value:.{digits}f}"


#: the longest message or value shown in one line (the rest is cut, marked with …)
MAX_MESSAGE = 400


def short_text(text: str, length: int = MAX_MESSAGE) -> str:
    """``text`` on one line, cut to ``length`` characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= length else text[:length - 1] + "…"


def short_repr(value, length: int = 60) -> str:
    """repr of a value as an error message shows it: at most ``length`` characters (``reprlib``),
    so a huge value in a plan never makes a huge message."""
    import reprlib

    shortener = reprlib.Repr()
    shortener.maxstring = shortener.maxother = length
    shortener.maxlist = shortener.maxdict = shortener.maxtuple = shortener.maxset = 6
    shortener.maxlevel = 3
    return short_text(shortener.repr(value), length + 20)


def plus_minus(spread: dict | None, digits: int = 3) -> str:
    """"mean ± sd" of a spread dict (``mean``, ``sd``, ``n``); the mean alone for one value, "–" for none."""
    if not spread or not spread.get("n"):
        return "–"
    if spread["n"] == 1:
        return number(spread["mean"], digits)
    return f"{number(spread['mean'], digits)} ± {number(spread['sd'], digits)}"
