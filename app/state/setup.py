"""The set-up form's state: data, model, parameter roles and training settings
(``param.Parameterized``, no widgets, so it is tested without a browser). It turns into a
:class:`core.RunPlan`; a plan (or a run's config.json) fills it again."""
from __future__ import annotations


import param

import core
from core.io import MAX_BYTES, load_json

from app.limits import ServerLimits
from app.state.rows import ParameterRow
from app.state.uploads import UPLOADED_PREFIX, Upload

__all__ = ["NETWORK_FIELDS", "PRESET_LABELS", "ParameterRow", "Setup", "TRAIN_FIELDS"]
PRESET_LABELS = {"all_global": "all global", "five_neural": "five neural", "all_neural": "all neural"}
#: the form's training settings: the names of TrainConfig / NetworkConfig fields
TRAIN_FIELDS = ("optimizer", "lr", "batch_size", "epochs", "patience", "loss", "weighting")
NETWORK_FIELDS = ("activation", "dropout")
_TRAIN, _NETWORK = core.TrainConfig(), core.NetworkConfig()


class Setup(param.Parameterized):
    """Everything the user sets before training: data, model, parameter roles and training settings."""

    model_name = param.Selector(default="soc", objects=core.model_names())
    data_name = param.Selector(default="lucas-synthetic", objects=core.builtin_names(),
                               doc="a built-in set, or the uploaded file (Upload.label, offered once one is read)")
    n_sites = param.Integer(default=None, allow_None=True, bounds=(20, None),
                            doc="size of a built-in synthetic set (empty: its default)")
    rows = param.List(default=[], item_type=ParameterRow)
    # training and network settings start at the engine's defaults (core.TrainConfig, core.NetworkConfig)
    optimizer = param.Selector(default=_TRAIN.optimizer, objects=core.CHOICES["optimizer"])
    lr = param.Number(default=_TRAIN.lr, bounds=(0, None))
    batch_size = param.Integer(default=_TRAIN.batch_size, bounds=(1, None))
    epochs = param.Integer(default=_TRAIN.epochs, bounds=(1, None))
    patience = param.Integer(default=_TRAIN.patience, bounds=(1, None))
    hidden = param.String(default=",".join(map(str, _NETWORK.hidden)), doc="hidden layer sizes, comma-separated")
    activation = param.Selector(default=_NETWORK.activation, objects=core.CHOICES["activation"])
    dropout = param.Number(default=_NETWORK.dropout, bounds=(0, 0.99))
    loss = param.Selector(default=_TRAIN.loss, objects=core.CHOICES["loss"])
    weighting = param.Selector(default=_TRAIN.weighting, objects=core.CHOICES["weighting"])
    split = param.Selector(default=core.SplitConfig().kind, objects=core.CHOICES["split"])
    block_size = param.Number(default=300.0, bounds=(0, None), inclusive_bounds=(False, True),
                              doc="side of the square blocks of the spatial split, km (the data's lat/lon columns)")
    seed = param.Integer(default=_TRAIN.seed, bounds=(0, None))
    ensemble = param.Integer(default=1, bounds=(1, 10),
                             doc="members: seeds SEED..SEED+N-1 trained together as one run on one split (the "
                                 "plan's train.members, one job of the pool); 2 or more give each parameter an "
                                 "agreement (docs/identifiability.md) and, with intervals, intervals from the "
                                 "members' spread (docs/uncertainty.md)")
    twins = param.Integer(default=0, bounds=(0, 8),
                          doc="twin experiments after an ensemble: synthetic twins of the data with a known parameter "
                              "field; the verdicts come from how well they are recovered (docs/identifiability.md)")
    intervals = param.Boolean(default=False, doc="hold out a share of the training sites (core.INTERVAL_CALIBRATION) "
                                                 "to calibrate 90 % prediction intervals (docs/uncertainty.md)")
    errors = param.List(default=[], doc="messages that block training")
    upload = param.ClassSelector(class_=Upload, doc="the user's uploaded file and its mapping")
    limits = param.ClassSelector(class_=ServerLimits, doc="what the server allows (epochs, network, data size)")

    def __init__(self, **params):
        params.setdefault("limits", ServerLimits())
        params.setdefault("upload", Upload(limits=params["limits"]))
        # models registered after import (a notebook's, a test's) are offered too
        type(self).param.model_name.objects = core.model_names()
        super().__init__(**params)
        self._load_model()
        given = {k: v for k, v in params.items() if k not in ("model_name", "rows", "upload", "limits")}
        if given:  # settings given explicitly win over the model's recommended ones
            self.param.update(**given)
        self.upload.param.watch(lambda *_: self.validate(), ["data", "error"])
        self.upload.param.watch(self._offer_upload, ["filename", "chosen"])

    def _offer_upload(self, event) -> None:
        """A file read (or a column map loaded) is offered and chosen; without one, built-in data."""
        label = self.upload.label
        self.param.data_name.objects = core.builtin_names() + ([label] if label else [])
        if label and (event.name == "chosen" or self.data_name.startswith(UPLOADED_PREFIX)):
            self.data_name = label
        elif self.data_name not in self.param.data_name.objects:
            self.data_name = self.spec.default_data or core.builtin_names()[0]

    @property
    def uses_upload(self) -> bool:
        """The data chosen are the uploaded file (with the mapping form's columns)."""
        return self.data_name.startswith(UPLOADED_PREFIX)

    @property
    def data_label(self) -> str:
        """The chosen data by name: the uploaded file's, or the built-in set's."""
        return self.upload.filename if self.uses_upload else self.data_name

    @property
    def spec(self) -> core.ModelSpec:
        return core.get_model(self.model_name)

    @param.depends("model_name", watch=True)
    def _load_model(self):
        spec = self.spec
        self.rows = [ParameterRow.from_parameter(p) for p in spec.parameters().set_roles(spec.default_roles)] \
            if spec.has_parameters else []
        if not self.uses_upload and spec.default_data:
            self.data_name = spec.default_data
        self.upload.spec = spec  # the mapping form's targets and forcing
        settings = core.default_settings(self.model_name)
        self.param.update(**{k: settings[k] for k in TRAIN_FIELDS + NETWORK_FIELDS if k in settings},
                          hidden=",".join(map(str, settings["hidden"])))
        for row in self.rows:
            row.param.watch(lambda *_: self.validate(), ["error"])
        self.validate()

    # -- roles -------------------------------------------------------------------------------------
    @property
    def presets(self) -> dict:
        return self.spec.parameters().presets

    def apply_preset(self, name: str) -> None:
        roles = self.presets.get(name)
        if roles is None:
            raise core.HybridlabError(f"model {self.model_name!r} has no preset {name!r}")
        for row in self.rows:
            if row.pname in roles:
                row.role = roles[row.pname]

    def apply_roles(self, roles: dict[str, str]) -> None:
        """Set the named rows' roles (e.g. those a role search found); other rows keep theirs."""
        for name, role in roles.items():
            self.row(name).role = role

    def row(self, name: str) -> ParameterRow:
        for r in self.rows:
            if r.pname == name:
                return r
        raise core.HybridlabError(f"unknown parameter {name!r}")

    @property
    def roles(self) -> dict:
        return {r.pname: r.role for r in self.rows}

    def preset_name(self) -> str:
        """The preset the current roles match, or 'custom'."""
        for name, roles in self.presets.items():
            if all(self.roles.get(k) == v for k, v in roles.items()):
                return name
        return "custom" if self.rows else ""

    # -- validation and the plan -------------------------------------------------------------------
    @param.depends("optimizer", "lr", "batch_size", "epochs", "patience", "hidden", "activation", "dropout",
                   "loss", "weighting", "split", "block_size", "data_name", "n_sites", "ensemble", watch=True)
    def validate(self) -> list[str]:
        errors = [f"{r.pname}: {r.error}" for r in self.rows if r.error]
        if self.ensemble > self.limits.ensemble_members:
            errors.append(f"an ensemble of {self.ensemble} members is over this server's limit of "
                          f"{self.limits.ensemble_members}")
        if self.uses_upload and self.upload.data is None:
            errors.append(self.upload.error or f"{self.upload.filename}: the column mapping does not load")
        if not errors:
            try:
                errors += self.limits.check_plan(self._plan())
            except core.HybridlabError as e:
                errors.append(str(e))
        self.errors = errors
        return errors

    @property
    def can_train(self) -> bool:
        return not self.errors

    def _changes(self) -> tuple[dict, dict]:
        """(bounds, fixed values) that differ from the model's declaration."""
        declared = self.spec.parameters()
        bounds, fixed = {}, {}
        for r in self.rows:
            p = declared[r.pname]
            if (r.lower, r.upper) != (p.lower, p.upper):
                bounds[r.pname] = [r.lower, r.upper]
            if r.role == "fixed" and r.value != p.fixed_value:
                fixed[r.pname] = r.value
        return bounds, fixed

    def _plan(self) -> core.RunPlan:
        bounds, fixed = self._changes()
        data = self.upload.data.source if self.uses_upload else \
            {"name": self.data_name, "n": self.n_sites, "seed": self.seed}
        return core.RunPlan.from_dict({
            "model": self.model_name, "data": data, "roles": self.roles or None, "bounds": bounds, "fixed": fixed,
            "split": {"kind": self.split, "calibration": core.INTERVAL_CALIBRATION if self.intervals else 0.0,
                      **({"block_size": self.block_size} if self.split == "spatial" else {})},
            "network": {"hidden": self.hidden, **{k: getattr(self, k) for k in NETWORK_FIELDS}},
            "train": {"seed": self.seed, "members": self.ensemble, **{k: getattr(self, k) for k in TRAIN_FIELDS}}})

    def plan(self) -> core.RunPlan:
        """The run plan for the current settings; raises HybridlabError naming what is invalid."""
        if self.validate():
            raise core.HybridlabError("; ".join(self.errors))
        return self._plan()

    def show_identifiability(self, result: dict | None) -> None:
        """Put each learned parameter's verdict and agreement on its row (``core.identify.analyse``
        output); None clears them."""
        entries = (result or {}).get("parameters", {})
        for row in self.rows:
            entry = entries.get(row.pname)
            row.reason = "" if entry is None else entry.get("reason", "")
            if entry is None:
                row.agreement = ""
            elif entry.get("same_start") and entry.get("twin_recovery") is None and \
                    not entry.get("reason", "").startswith("the fit failed"):
                row.agreement = "not tested (same start)"
            else:
                score = entry.get("score", entry["agreement"])
                row.agreement = f"{entry['verdict']} ({score:.2f})" if score is not None and score == score \
                    else entry["verdict"]

    def load_plan(self, plan: core.RunPlan) -> None:
        """Fill the form from a plan (e.g. a run's saved config.json): all of it, or nothing."""
        problems = self.limits.check_plan(plan)
        if problems:
            raise core.HybridlabError(f"cannot load this plan: {'; '.join(problems)}")
        before = {k: v for k, v in self.param.values().items()
                  if k not in ("name", "rows", "upload", "errors", "limits")}
        rows_before = [dict(r.param.values()) for r in self.rows]
        try:
            self._fill(plan)
        except (core.HybridlabError, ValueError) as e:
            self.param.update(**before)
            for row, values in zip(self.rows, rows_before):
                row.param.update(**{k: v for k, v in values.items() if k != "name"})
            raise core.HybridlabError(f"cannot load this plan: {e}") from None

    def _fill(self, plan: core.RunPlan) -> None:
        self.model_name = plan.model
        for p in plan.parameter_set():
            row = self.row(p.name)
            row.param.update(lower=p.lower, upper=p.upper, role=p.role, value=p.fixed_value)
        self.param.update(hidden=",".join(map(str, plan.network.hidden)), split=plan.split.kind,
                          intervals=plan.split.calibration > 0,
                          **({"block_size": plan.split.block_size} if plan.split.kind == "spatial" else {}),
                          seed=plan.train.seed, ensemble=plan.train.members,
                          **{k: getattr(plan.network, k) for k in NETWORK_FIELDS},
                          **{k: getattr(plan.train, k) for k in TRAIN_FIELDS})
        if plan.data.name is not None:
            self.param.update(data_name=plan.data.name, n_sites=plan.data.n)

    # -- files: a plan or config --------------------------------------------------------------------
    def load_config_file(self, filename: str, content: bytes) -> None:
        """Fill the form from a run's config.json or a plan (YAML/JSON); all or nothing. A problem
        is a HybridlabError whose message starts with the file's name."""
        if len(content) > MAX_BYTES:
            raise core.HybridlabError(f"{filename}: {len(content):,} bytes; a plan or config holds at most "
                                      f"{MAX_BYTES:,}")
        text = content.decode("utf-8", errors="replace")
        if filename.endswith(".json"):
            values = load_json(text, filename)
            if isinstance(values, dict) and "plan" in values:
                values = values["plan"]
            try:
                plan = core.RunPlan.from_dict(values)
            except core.HybridlabError as e:
                raise core.HybridlabError(f"{filename}: {e}") from None
        else:
            plan = core.RunPlan.from_text(text, filename)
        try:
            self.load_plan(plan)
        except core.HybridlabError as e:
            raise core.HybridlabError(f"{filename}: {e}") from None
