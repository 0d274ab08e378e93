"""Column names of the survey files, checked before any value is read: no name twice, no two
names that become one after normalising (``pH_H2O`` and ``pH(H2O)``, ``N`` and ``n``), in one file
or across the files joined, and no target's name among the covariates (a covariate ``OC`` would
give the network the answer). Each refusal is one line naming both columns.
"""
from __future__ import annotations

import re
from pathlib import Path

from core.errors import DataError
from core.formatting import short_repr

#: a column without a name in the header (its position, from 1)
UNNAMED = "(column {})"
#: names of targets and what is derived from them: never among the covariates
TARGET_NAMES = ("oc", "soc", "moc", "maoc", "poc", "mbc", "soc_density")


def normalised(name: str) -> str:
    """``pH_H2O`` and ``pH(H2O)`` -> ``ph_h2o``; ``N`` -> ``n``: the key two names collide on."""
    return re.sub(r"[^0-9a-z]+", "_", str(name).lower()).strip("_")


def header_names(names, path: Path) -> tuple[list[str], list[str]]:
    """The header's names, stripped, and those given to columns without one (``(column K)``).
    DataError when a name appears more than once."""
    names, unnamed = [str(n).strip() for n in names], []
    seen: dict[str, int] = {}
    for position, name in enumerate(names, 1):
        if not name:
            names[position - 1] = UNNAMED.format(position)
            unnamed.append(names[position - 1])
        elif name in seen:
            raise DataError(f"{path.name}: column name {short_repr(name)} appears more than once (columns "
                            f"{seen[name]} and {position}); rename one so that each column has its own name")
        else:
            seen[name] = position
    clash = set(unnamed) & set(seen)
    if clash:
        raise DataError(f"{path.name}: a column is named {short_repr(clash.pop())}, like a column without a name; "
                        f"rename it")
    return names, unnamed


def check_collisions(columns: dict[str, str], path: Path, taken: dict[str, str]) -> None:
    """``columns``: a file's column -> its name in the table. DataError when two of them, or one
    of them and a name in ``taken`` (normalised name -> what has it), normalise alike. ``taken``
    gets this file's names."""
    own: dict[str, str] = {}
    for column, name in columns.items():
        key = normalised(name)
        if key in own:
            raise DataError(f"{path.name}: columns {short_repr(own[key])} and {short_repr(column)} are one name "
                            f"({key!r}) once case and punctuation are set aside; rename one of them")
        if key in taken:
            raise DataError(f"{path.name}: column {short_repr(column)} is {taken[key]} once case and punctuation are "
                            f"set aside ({key!r}); rename one of them")
        own[key] = column
    taken.update({key: f"column {short_repr(column)} of {path.name}" for key, column in own.items()})


def check_not_targets(columns, path: Path) -> None:
    """A covariate named like a target (``OC``, ``MOC``, ``soc_density``) is refused."""
    for column in columns:
        if normalised(column) in TARGET_NAMES:
            raise DataError(f"{path.name}: covariate {short_repr(column)} has a target's name "
                            f"({normalised(column)!r}); a target among the predictors gives the network the answer: "
                            f"drop or rename it")


__all__ = ["TARGET_NAMES", "UNNAMED", "check_collisions", "check_not_targets", "header_names", "normalised"]
