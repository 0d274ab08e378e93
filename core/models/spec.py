"""What a model declares: :class:`ModelSpec` for mechanistic hybrids, :class:`NetworkSpec` for the
pure network. The CLI, the run execution and the dashboard ask a spec; none tests a model's name.
The science of each built-in model is in ``docs/science.md``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

from core.errors import DataError, HybridlabError
from core.hybrid.model import HybridModel, TrainableModel
from core.hybrid.pure_network import NeuralNetwork
from core.hybrid.network import NetworkConfig
from core.hybrid.parameters import ParameterSet
from core.formatting import short_repr


@dataclass(frozen=True)
class ResponseCurve:
    """A model output drawn against one forcing over a grid, per sample (a retention curve).

    Parameters
    ----------
    forcing, target : str
        Variable names.
    lower, upper : float
        The grid's ends.
    log : bool
        A logarithmic grid.
    group : str, optional
        The data column whose rows share one curve (a horizon's ``sample_id``).
    """

    forcing: str
    target: str
    lower: float
    upper: float
    log: bool = True
    group: str | None = None


@dataclass(frozen=True)
class ModelSpec:
    """A mechanistic model: its function, a factory for its parameter set, its variables, and what
    the dashboard and the reports can show for it.

    Parameters
    ----------
    name, description : str
        The registry name and one line about the model.
    function : callable or None
        ``f(**forcing, **parameters, **options) -> dict`` of tensors (None: the pure network).
    parameters : callable
        Returns a fresh :class:`ParameterSet` (with presets).
    forcing, targets : tuple of str
        Variable names the function takes and returns.
    default_data : str or None
        The built-in set it trains on by default.
    default_roles : str
        The preset used when a plan names no roles.
    nonnegative, positive : frozenset of str
        Variables whose data must be >= 0 / > 0.
    diagnostics : callable, optional
        ``f(outputs, parameters, observed) -> dict`` of numbers for metrics.json.
    units : dict
        Units of targets and forcing, e.g. ``{"soc": "g C kg-1"}``.
    optional_forcing, tracked : tuple of str
        Forcing used when the data have it; outputs followed over the epochs.
    options, defaults : dict
        Keyword options of the function; recommended training settings.
    derived : callable, optional
        Quantities derived from a trained model (e.g. AWC), with ``explain_feature`` for their
        Shapley dependence.
    saturation : (str, str), optional
        A pool target and its capacity parameter (SOC: MOC and q_max).
    response_curve : ResponseCurve, optional
        An output drawn against one forcing (a retention curve).
    explain_feature : str, optional
        The covariate whose Shapley dependence is drawn for derived quantities.
    combinations : dict
        Label -> (parameter, power) pairs that the targets constrain better than their parts.
    constraint : callable, optional
        A penalty on the outputs (opt-in through an option).
    aliases : dict
        Variable -> column names users' files commonly give it (case ignored), e.g. ``{"temp":
        ("MAT",)}``: the dashboard's column form proposes them.
    log_forcing : tuple of str
        Forcing spanning decades (suction h); the ``nn`` baseline is given its log10 (pF).
    """

    name: str
    description: str
    function: Callable | None
    parameters: Callable[[], ParameterSet]
    forcing: tuple[str, ...]
    targets: tuple[str, ...]
    default_data: str | None
    default_roles: str = "default"
    nonnegative: frozenset[str] = field(default_factory=frozenset)
    #: variables whose data must be strictly positive (the function divides by them or takes logs)
    positive: frozenset[str] = field(default_factory=frozenset)
    diagnostics: Callable | None = None
    #: forcing the function can do without (it has a default for them); used when the data have it
    optional_forcing: tuple[str, ...] = ()
    #: outputs whose validation mean is recorded in the training history each epoch (e.g. feasible)
    tracked: tuple[str, ...] = ()
    #: units of the targets and forcing (what maps and reports label them with)
    units: dict[str, str] = field(default_factory=dict)
    #: extra keyword options of the function with their defaults (not parameters; e.g. penalty weights)
    options: dict = field(default_factory=dict)
    #: optional ``f(parameters) -> dict`` of quantities derived from a sample's parameters alone
    derived: Callable | None = None
    #: recommended settings (keys of TrainConfig / NetworkConfig); explicit settings win
    defaults: dict = field(default_factory=dict)
    #: (target, parameter): the target is a pool filling a capacity given by the parameter
    saturation: tuple[str, str] | None = None
    response_curve: ResponseCurve | None = None
    #: predictor whose Shapley dependence of the derived quantities is shown first
    explain_feature: str | None = None
    #: label -> ((parameter, power), ...): products of powers the targets pin down
    combinations: dict = field(default_factory=dict)
    #: optional ``f(parameters, observed, **options) -> scalar tensor or None``: a loss term that uses
    #: the observations (target -> (n,) with NaN = missing) as information about the parameters
    constraint: Callable | None = None
    #: variable -> column names a file commonly gives it (case ignored), proposed by the column form
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: forcing spanning decades (suction h): the pure-network baseline sees its log10 (pF)
    log_forcing: tuple[str, ...] = ()

    def column_for(self, variable: str, columns) -> str | None:
        """The column of ``columns`` that names ``variable``: the name itself, then its
        :attr:`aliases`, each compared without case; None when there is none."""
        lowered = {}
        for column in columns:
            lowered.setdefault(str(column).lower(), column)
        for name in (variable, *self.aliases.get(variable, ())):
            if name.lower() in lowered:
                return lowered[name.lower()]
        return None

    @property
    def has_parameters(self) -> bool:
        return True

    def views(self) -> tuple[str, ...]:
        """The kinds of views this model offers (the dashboard shows the views of these kinds)."""
        offered = ["parameters"]
        offered += ["tracked"] if self.tracked else []
        offered += ["saturation"] if self.saturation else []
        offered += ["response_curve"] if self.response_curve else []
        offered += ["derived"] if self.derived else []
        return tuple(offered)

    def variables(self, data, wanted_targets: Sequence[str] | None) -> tuple[list[str], list[str]]:
        """(forcing, targets) of a run on ``data``: the model's own, restricted to what the data give."""
        targets = list(wanted_targets or [t for t in self.targets if t in data.targets])
        unknown = [t for t in targets if t not in self.targets]
        if unknown:
            raise HybridlabError(f"model {short_repr(self.name)} has no target {', '.join(unknown)}; "
                                 f"its targets: {', '.join(self.targets)}")
        if not targets:
            raise DataError(f"data {short_repr(data.name)} provides none of the targets of model {short_repr(self.name)} "
                            f"({', '.join(self.targets)}); map at least one in the column mapping")
        missing = [f for f in self.forcing if f not in data.forcing]
        if missing:
            raise DataError(f"model {short_repr(self.name)} needs forcing {', '.join(missing)}, which data "
                            f"{short_repr(data.name)} does not provide; map it in the column mapping")
        return list(self.forcing) + [f for f in self.optional_forcing if f in data.forcing], targets

    def all_forcing(self) -> list[str]:
        """Every forcing the model can use, required first (for column-mapping forms)."""
        return list(self.forcing) + list(self.optional_forcing)

    def check_options(self, given: dict) -> dict:
        """The function's options: declared defaults updated with ``given`` (numbers, names checked)."""
        from core.validation import check_number

        unknown = [k for k in given if k not in self.options]
        if unknown:
            raise HybridlabError(f"model {short_repr(self.name)} has no option {', '.join(map(repr, unknown))}; "
                                 f"options: {', '.join(self.options) or 'none'}")
        return {**self.options, **{k: check_number(v, f"option {short_repr(k)}") for k, v in given.items()}}

    def build(self, *, predictors: Sequence[str], forcing: Sequence[str], targets: Sequence[str],
              parameters: ParameterSet, network: NetworkConfig, options: dict) -> TrainableModel:
        """An untrained model for these variables and settings."""
        return HybridModel(predictors, forcing, targets, self.function, parameters, network,
                           options=self.check_options(options), tracked=self.tracked, constraint=self.constraint)


#: the pure network's option prefix: ``log10_h = 1`` feeds log10(h)
LOG_OPTION = "log10_"


def _no_parameters() -> ParameterSet:
    return ParameterSet([])


@dataclass(frozen=True)
class NetworkSpec(ModelSpec):
    """The pure network: no mechanistic parameters; it fits whatever targets the data provide and
    sees every forcing column as an input beside the predictors. Its options ``log10_<forcing>``
    (0 or 1) give it the log10 of that forcing instead (suction h as pF: ``log10_h``)."""

    function: Callable | None = None
    parameters: Callable[[], ParameterSet] = _no_parameters
    forcing: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    default_data: str | None = None

    @property
    def has_parameters(self) -> bool:
        return False

    def views(self) -> tuple[str, ...]:
        return ()

    def variables(self, data, wanted_targets: Sequence[str] | None) -> tuple[list[str], list[str]]:
        targets = list(wanted_targets or data.targets)
        missing = [t for t in targets if t not in data.targets]
        if missing:
            raise DataError(f"data {short_repr(data.name)} has no target {', '.join(missing)}")
        return list(data.forcing), targets

    def all_forcing(self) -> list[str]:
        return []

    def check_options(self, given: dict) -> dict:
        """``log10_<forcing>``: 0 or 1 each; one line for any other option or value."""
        from core.validation import check_number

        unknown = [k for k in given if not (isinstance(k, str) and k.startswith(LOG_OPTION) and len(k) > len(LOG_OPTION))]
        if unknown:
            raise HybridlabError(f"model {short_repr(self.name)} has no option {', '.join(map(repr, unknown))}; "
                                 f"options: {LOG_OPTION}<forcing> (0 or 1), e.g. {LOG_OPTION}h")
        checked = {k: check_number(v, f"option {short_repr(k)}") for k, v in given.items()}
        bad = [k for k, v in checked.items() if v not in (0, 1)]
        if bad:
            raise HybridlabError(f"option {short_repr(bad[0])} of model {short_repr(self.name)} is 0 or 1, "
                                 f"got {given[bad[0]]!r}")
        return checked

    def build(self, *, predictors, forcing, targets, parameters, network, options) -> TrainableModel:
        logged = [k[len(LOG_OPTION):] for k, v in self.check_options(options).items() if v == 1]
        absent = [f for f in logged if f not in forcing]
        if absent:
            raise DataError(f"option {LOG_OPTION}{absent[0]} of model {short_repr(self.name)}: the run has no forcing "
                            f"{short_repr(absent[0])} (forcing: {', '.join(forcing) or 'none'})")
        return NeuralNetwork(predictors, forcing, targets, network, log_forcing=logged)
