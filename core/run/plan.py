"""A run plan: everything that defines one run, as plain data.

A :class:`RunPlan` names the model (by its registered name), the roles, bounds and fixed values
of its parameters, the model's options, the data source (a built-in set by name, size and seed,
or a file with its column map), the split, the network and the training settings. It is
validated when it is made, round-trips through ``to_dict``/``from_dict``, JSON and YAML, crosses
process boundaries as a dict and is stored in every run folder as ``plan.yaml``::

    model: soc
    roles: five_neural
    data: {name: lucas-synthetic, n: 2000, seed: 0}
    train: {epochs: 50}

Settings left out take the model's recommended values (``ModelSpec.defaults``), and those the
model leaves open the report's (:class:`TrainConfig`, :class:`NetworkConfig`).
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from core.datasets import builtin_names
from core.io.documents import dump_yaml, load_yaml, read_document
from core.errors import HybridlabError
from core.models import ModelSpec, get_model
from core.hybrid.network import NetworkConfig
from core.hybrid.parameters import ParameterSet
from core.training.splits import SplitConfig
from core.training.config import MAX_SEED, TrainConfig
from core.validation import check_integer, check_keys, check_number
from core.formatting import short_repr

PLAN_FILE = "plan.yaml"
#: the most sites (or profiles) a built-in synthetic set is generated with (the LUCAS-like default: 16,743)
MAX_BUILTIN_SITES = 2_000_000


@dataclass
class DataSource:
    """Where a run's data come from: a built-in set or a CSV/Parquet file.

    Parameters
    ----------
    name : str, optional
        A built-in set (:func:`core.builtin_names`).
    n : int, optional
        Sites (or profiles) of a built-in synthetic set; None: its default size.
    seed : int
        Seed of a built-in synthetic set.
    path : str, optional
        A CSV/Parquet file instead of a built-in set.
    columns : dict, optional
        The file's column map (id, predictors, forcing, targets).
    predictors : list of str, optional
        Use only these covariates (None: all the data offer).
    drop_incomplete : bool, optional
        For a file: rows that lack a forcing or predictor value are left out of training, with a
        note naming the columns (True, the default), or refused (False). None for a built-in set.
    sha256 : str, optional
        For a file: its SHA-256 when it was read for this plan (hybridlab records it in every run's
        config.json); a file that no longer has it is refused, so a plan never trains changed data
        unnoticed. Leave it out to train the file as it is.
    """

    name: str | None = None
    n: int | None = None
    seed: int = 0
    path: str | None = None
    columns: dict | None = None
    predictors: list[str] | None = None
    drop_incomplete: bool | None = None
    sha256: str | None = None

    def __post_init__(self):
        if (self.name is None) == (self.path is None):
            raise HybridlabError("data: give either a built-in 'name' or a file 'path', not both or neither")
        if self.name is not None and self.name not in builtin_names():
            raise HybridlabError(f"data: unknown built-in data {short_repr(self.name)}; built-in: {', '.join(builtin_names())}")
        if self.path is not None:
            if not isinstance(self.path, str) or not self.path:
                raise HybridlabError(f"data: path must be a file name, got {short_repr(self.path)}")
            if not isinstance(self.columns, dict):
                raise HybridlabError(f"data: file {self.path} needs a column map ('columns': id, targets, forcing, "
                                     "predictors)")
        self._check_drop_incomplete()
        if self.sha256 is not None and (self.path is None or not isinstance(self.sha256, str)
                                        or not re.fullmatch("[0-9a-f]{64}", self.sha256)):
            raise HybridlabError(f"data: sha256 must be the 64 hex digits of a file's SHA-256, got "
                                 f"{short_repr(self.sha256)}" + ("" if self.path else " (and only with a 'path')"))
        if self.n is not None:
            self.n = check_integer(self.n, "data: number of sites n", minimum=2, maximum=MAX_BUILTIN_SITES)
        self.seed = check_integer(self.seed, "data: seed", minimum=0, maximum=MAX_SEED)
        if self.predictors is not None:
            if not isinstance(self.predictors, list) or not all(isinstance(c, str) for c in self.predictors):
                raise HybridlabError(f"data: predictors must be a list of column names, got {short_repr(self.predictors)}")

    def _check_drop_incomplete(self) -> None:
        """True or false for a file (default true); None for a built-in set, which has no gaps."""
        if self.drop_incomplete is not None and not isinstance(self.drop_incomplete, bool):
            raise HybridlabError(f"data: drop_incomplete must be true or false, got {short_repr(self.drop_incomplete)}")
        if self.path is None:
            self.drop_incomplete = None
        elif self.drop_incomplete is None:
            self.drop_incomplete = True

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, values: dict) -> "DataSource":
        if not isinstance(values, dict):
            raise HybridlabError(f"data must be a mapping (name, n, seed or path, columns), got {short_repr(values)}")
        check_keys(values, [f.name for f in fields(cls)], "data")
        return cls(**values)

    @property
    def label(self) -> str:
        return self.name or Path(self.path).name


def default_settings(model: str) -> dict:
    """Training and network settings to start from for a model, as one flat mapping: the report's
    defaults (TrainConfig, NetworkConfig) updated with the model's own recommendations.

    Parameters
    ----------
    model : str
        A registered model's name.

    Returns
    -------
    dict
        Setting name (``lr``, ``epochs``, ``hidden``, ...) -> value.
    """
    settings = {**TrainConfig().to_dict(), **NetworkConfig().to_dict(), **get_model(model).defaults}
    settings["hidden"] = tuple(settings["hidden"])
    return settings


def _settings(model: str, given, cls):
    """A settings object: ``given`` as is, or a mapping over the model's recommendations."""
    if isinstance(given, cls):
        return given
    if given is not None and not isinstance(given, dict):
        raise HybridlabError(f"{cls.__name__} settings must be a mapping, got {short_repr(given)}")
    names = {f.name for f in fields(cls)}
    recommended = {k: v for k, v in default_settings(model).items() if k in names}
    check_keys(given or {}, names, "network" if cls is NetworkConfig else "train")
    return cls.from_dict({**recommended, **(given or {})})


@dataclass
class RunPlan:
    """One run as plain data (see the module docstring); round-trips through YAML and JSON.

    Parameters
    ----------
    model : str
        A registered model.
    data : DataSource or dict, optional
        None: the model's default data.
    roles : str or dict, optional
        A preset name or parameter -> role (None: the model's default preset).
    bounds : dict
        Parameter -> (lower, upper).
    fixed : dict
        Parameter -> value (its role becomes fixed).
    options : dict
        Keyword options of the model function.
    targets : list of str, optional
        The targets to fit (None: all the data provide).
    split : SplitConfig or dict, optional
    network : NetworkConfig or dict, optional
    train : TrainConfig or dict, optional
        Settings left out take the model's recommended values.
    stratum : str, optional
        A column of the data whose classes (land cover, country) the validation scores are also
        reported by, or comma-separated 0/1 indicator columns (:mod:`core.run.strata`).
    applicability : bool
        Measure the run's dissimilarity index and area of applicability (default; about 2 s for
        17,000 sites and 168 predictors). False: the run has none, so ``predict`` and ``map`` give
        no ``di``/``aoa`` (for timing training alone, or studies that never map).
    """

    model: str = "respiration"
    data: DataSource | dict | None = None
    roles: str | dict | None = None
    bounds: dict = field(default_factory=dict)
    fixed: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)
    targets: list[str] | None = None
    split: SplitConfig | dict | None = None
    network: NetworkConfig | dict | None = None
    train: TrainConfig | dict | None = None
    stratum: str | None = None
    applicability: bool = True

    def __post_init__(self):
        if self.roles is not None and not isinstance(self.roles, (str, dict)):
            raise HybridlabError(f"roles must be a preset name or a mapping of parameter to role, got {short_repr(self.roles)}")
        spec = self.spec
        if self.data is None:
            if not spec.default_data:
                raise HybridlabError(f"model {short_repr(self.model)} has no built-in data; give a data source")
            self.data = DataSource(name=spec.default_data)
        elif isinstance(self.data, dict):
            self.data = DataSource.from_dict(self.data)
        self.split = self.split if isinstance(self.split, SplitConfig) else SplitConfig.from_dict(self.split)
        self.network = _settings(self.model, self.network, NetworkConfig)
        self.train = _settings(self.model, self.train, TrainConfig)
        for block in ("bounds", "fixed", "options"):
            if not isinstance(getattr(self, block) or {}, dict):
                raise HybridlabError(f"{block} must be a mapping of parameter or option to value, got "
                                     f"{short_repr(getattr(self, block))}")
        self.bounds = {name: _bound_pair(name, value) for name, value in dict(self.bounds or {}).items()}
        self.fixed = {name: check_number(value, f"fixed value of {short_repr(name)}") for name, value in
                      dict(self.fixed or {}).items()}
        self.options = dict(self.options or {})
        if self.targets is not None:
            if isinstance(self.targets, str) or not all(isinstance(t, str) for t in self.targets):
                raise HybridlabError(f"targets must be a list of target names, got {short_repr(self.targets)}")
            self.targets = list(self.targets)
        if self.stratum is not None and (not isinstance(self.stratum, str) or not self.stratum.strip()):
            raise HybridlabError(f"stratum must be a column name, got {short_repr(self.stratum)}")
        if not isinstance(self.applicability, bool):
            raise HybridlabError(f"applicability must be true or false, got {short_repr(self.applicability)}")
        self.parameter_set()
        spec.check_options(self.options)

    @property
    def spec(self) -> ModelSpec:
        return get_model(self.model)

    def parameter_set(self) -> ParameterSet:
        """The model's parameters with this plan's roles, bounds and fixed values applied."""
        spec = self.spec
        parameters = spec.parameters()
        if spec.has_parameters:
            parameters.set_roles(self.roles if self.roles is not None else spec.default_roles)
        elif self.roles or self.bounds or self.fixed:
            raise HybridlabError(f"model {short_repr(self.model)} has no mechanistic parameters to give roles, bounds "
                                 "or fixed values")
        for name, (lower, upper) in self.bounds.items():
            parameters.update(name, lower=lower, upper=upper)
        for name, value in self.fixed.items():
            parameters.update(name, role="fixed", value=value)
        return parameters

    # -- plain data ------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"model": self.model, "data": self.data.to_dict(),
                "roles": dict(self.roles) if isinstance(self.roles, dict) else self.roles,
                "bounds": {k: list(v) for k, v in self.bounds.items()}, "fixed": dict(self.fixed),
                "options": dict(self.options), "targets": self.targets, "split": self.split.to_dict(),
                "network": self.network.to_dict(), "train": self.train.to_dict(),
                **({"stratum": self.stratum} if self.stratum is not None else {}),
                **({} if self.applicability else {"applicability": False})}

    @classmethod
    def from_dict(cls, values: dict) -> "RunPlan":
        if not isinstance(values, dict):
            raise HybridlabError(f"a run plan must be a mapping, got {type(values).__name__}")
        check_keys(values, [f.name for f in fields(cls)], "run plan")
        if "model" not in values:
            raise HybridlabError("run plan: 'model' is required")
        return cls(**values)

    def to_yaml(self) -> str:
        return dump_yaml(self.to_dict())

    @classmethod
    def from_text(cls, text: str, where: str = "run plan") -> "RunPlan":
        """A plan from YAML (or JSON, which is YAML too)."""
        values = load_yaml(text, where)
        try:
            return cls.from_dict(values)
        except HybridlabError as e:
            raise HybridlabError(f"{where}: {e}") from None

    @classmethod
    def read(cls, path: str | Path) -> "RunPlan":
        """A plan from a YAML/JSON file, a run folder (its ``plan.yaml``) or a run's ``config.json``."""
        path = Path(path)
        if path.is_dir():
            path = path / PLAN_FILE
        if not path.is_file():
            raise HybridlabError(f"{path}: no such plan file")
        values = read_document(path)
        if path.suffix == ".json":
            if isinstance(values, dict) and "plan" in values:  # a run's config.json
                values = values["plan"]
            try:
                return cls.from_dict(values)
            except HybridlabError as e:
                raise HybridlabError(f"{path}: {e}") from None
        try:
            return cls.from_dict(values)
        except HybridlabError as e:
            raise HybridlabError(f"{path}: {e}") from None

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(self.to_yaml())
        return path

    def replace(self, **changes) -> "RunPlan":
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)


def _bound_pair(name: str, value) -> tuple[float, float]:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise HybridlabError(f"bounds of {short_repr(name)} must be [lower, upper], got {short_repr(value)}")
    return (check_number(value[0], f"lower bound of {short_repr(name)}"), check_number(value[1], f"upper bound of {short_repr(name)}"))
