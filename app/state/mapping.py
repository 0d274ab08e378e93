"""The column-mapping form's state: which column of an uploaded table is the id, each target and
forcing of the chosen model, and the predictors (``param.Parameterized``, no widgets). It turns into
the mapping ``core.load_file`` takes (as ``train --columns MAP.json``) and is filled from one (a
``*.columns.json`` of ``hybridlab data lucas``)."""
from __future__ import annotations

import param

import core

#: a target or forcing left unmapped
NONE = "(none)"
#: id columns recognised by name, best first; else the file's first column
MAP_KEYS = {"id", "targets", "forcing", "predictors", "units"}  # units: documentation only
ID_NAMES = ("site_id", "point_id", "profile_id", "site", "point", "profile", "id")


class ColumnChoice(param.Parameterized):
    """The column of one model variable (a target or a forcing)."""

    variable = param.String(doc="the model's name for it, e.g. 'temp'")
    kind = param.Selector(default="target", objects=["target", "forcing"])
    column = param.Selector(default=NONE, objects=[NONE], doc="the file's column, or NONE")


class ColumnMapping(param.Parameterized):
    """The form: id column, a ColumnChoice per target and forcing of the model, the predictors
    (empty: all other numeric columns, ``"*"``). ``changed`` fires once per change of any part."""

    columns = param.List(default=[], item_type=str, doc="the file's columns")
    id_column = param.Selector(default=None, objects=[], allow_None=True)
    choices = param.List(default=[], item_type=ColumnChoice)
    predictors = param.ListSelector(default=[], objects=[])
    changed = param.Event(doc="any part of the form changed")

    def __init__(self, **params):
        super().__init__(**params)
        self._kept: dict[str, str] = {}  # variable -> column, of every model the form mapped this file for

    @param.depends("columns", "choices", "id_column", "predictors", watch=True)
    def _changed(self, *_):
        self.param.trigger("changed")

    def to_dict(self) -> dict:
        """The mapping as ``core.load_file`` (and ``train --columns``) takes it."""
        pick = {kind: {c.variable: c.column for c in self.choices if c.kind == kind and c.column != NONE}
                for kind in ("target", "forcing")}
        return {"id": self.id_column, "targets": pick["target"], "forcing": pick["forcing"],
                "predictors": list(self.predictors) or "*"}

    def fill(self, columns: list[str], spec: core.ModelSpec, given: dict | None = None) -> None:
        """Set the form for ``columns`` and ``spec``'s variables: from ``given`` (a mapping) where it
        names them, else the columns named like the variables; one ``changed`` at the end."""
        given = given or {}
        # a new model keeps the columns of the variables it shares with the models before it
        same = self.columns == list(columns)
        kept = self._kept = {**self._kept, **{c.variable: c.column for c in self.choices}} if same else {}
        named = {**{f"target:{k}": v for k, v in (given.get("targets") or {}).items()},
                 **{f"forcing:{k}": v for k, v in (given.get("forcing") or {}).items()}}
        choices = []
        roles = (("target", spec.targets), ("forcing", spec.all_forcing())) if spec is not None else ()
        for kind, variables in roles:
            for variable in variables:
                if given:
                    column = named.get(f"{kind}:{variable}", NONE)
                else:  # kept from an earlier model, else the variable's name or an alias the model gives
                    column = kept.get(variable) or spec.column_for(variable, columns) or NONE
                choice = ColumnChoice(variable=variable, kind=kind)
                choice.param.column.objects = [NONE, *columns]
                choice.column = column if column in columns else NONE
                choice.param.watch(lambda *_: self.param.trigger("changed"), "column")
                choices.append(choice)
        id_column = given.get("id") or (self.id_column if self.id_column in columns else None) or \
            next((c for c in ID_NAMES if c in columns), columns[0] if columns else None)
        predictors = given.get("predictors", list(self.predictors) if same else [])
        self.param.id_column.objects = list(columns)
        self.param.predictors.objects = list(columns)
        self.param.update(columns=list(columns), choices=choices, id_column=id_column,  # one 'changed'
                          predictors=[] if predictors == "*" else [c for c in predictors if c in columns])
        if not choices:  # a model without targets or forcing (nn): the same form again, loaded again
            self.param.trigger("changed")

    def clear(self) -> None:
        self.param.update(columns=[], choices=[], id_column=None, predictors=[])


def mapping_problems(mapping, columns: list[str] | None) -> list[str]:
    """Why a column map (e.g. a ``*.columns.json``) cannot fill the form for a file of ``columns``:
    not an object, unknown keys, blocks of the wrong type, columns not in the file (None: not
    checked)."""
    if not isinstance(mapping, dict):
        return ["must be a JSON object with keys id, targets, forcing, predictors"]
    problems = [f"unknown key(s) {', '.join(sorted(map(str, set(mapping) - MAP_KEYS)))}; use id, targets, forcing, "
                "predictors"] if set(mapping) - MAP_KEYS else []
    named = [(mapping.get("id"), "id")]
    for kind in ("targets", "forcing"):
        block = mapping.get(kind) or {}
        if isinstance(block, dict):
            named += [(column, f"{kind.rstrip('s')} {name}") for name, column in block.items()]
        else:
            problems.append(f"'{kind}' must map model names to column names")
    predictors = mapping.get("predictors", "*")
    if isinstance(predictors, list):
        named += [(column, "predictor") for column in predictors]
    elif predictors != "*":
        problems.append("'predictors' must be a list of column names or \"*\"")
    unknown = [f"{column!r} ({role})" for column, role in named if column is not None and
               (not isinstance(column, str) or (columns is not None and column not in columns))]
    if unknown:
        problems.append(f"column(s) {', '.join(unknown)} not in the file")
    return problems
