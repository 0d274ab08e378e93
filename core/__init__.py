"""hybridlab engine: hybrid models where a neural network predicts the parameters of a
process-based model, trained end to end with PyTorch. It knows nothing of the dashboard.

Public API (the dashboard uses nothing else):

- parameters: :class:`Parameter`, :class:`ParameterSet`
- models: :class:`ModelSpec`, :func:`get_model`, :func:`model_names`, :func:`register_model`,
  :class:`HybridModel`, :class:`NeuralNetwork` (both :class:`TrainableModel`)
- data: :class:`HybridData`, :func:`load_data`, :func:`builtin_names`
- a run: :class:`RunPlan` (plain data) -> :func:`execute` -> :class:`Run` -> run folder
  (:func:`write_run`, :func:`load_run`); :class:`RunObserver` follows a run as it trains
- settings: :class:`TrainConfig`, :class:`NetworkConfig`, :class:`SplitConfig` and their
  :data:`CHOICES`; :data:`INTERVAL_CALIBRATION`, the share of sites held out to calibrate intervals
"""
from .threads import set_wait_policy as _set_wait_policy

_set_wait_policy()  # before anything below imports torch: OpenMP reads it when torch loads

from .datasets import HybridData, builtin_names, load_data
from .errors import DataError, HybridlabError, ParameterError
from .evaluation import Snapshot
from .json_files import json_safe, write_json
from .metrics import share_at_bound
from .run import Run
from .execute import RunContext, RunObserver, execute, load_plan_data
from .hybrid import HybridModel, ModelOutput, NeuralNetwork, TrainableModel
from .losses import LOSS_KINDS, WEIGHTINGS
from .models import NEURAL_NETWORK, ModelSpec, ResponseCurve, get_model, model_names, register_model
from .network import ACTIVATIONS, NetworkConfig
from .parameters import ROLES, Parameter, ParameterSet
from .plan import DataSource, RunPlan, default_settings
from .splits import INTERVAL_CALIBRATION, SPLIT_KINDS, SplitConfig
from .loaded_run import LoadedRun, load_run
from .store import list_runs, run_config, write_run
from .training import OPTIMIZERS, HistoryColumns, Tensors, TrainConfig, predict, train

__version__ = "0.1.0"

#: the allowed values of every setting with a fixed set of choices
CHOICES = {"optimizer": list(OPTIMIZERS), "activation": list(ACTIVATIONS), "loss": list(LOSS_KINDS),
           "weighting": list(WEIGHTINGS), "split": list(SPLIT_KINDS), "role": list(ROLES)}

__all__ = [
    "CHOICES", "INTERVAL_CALIBRATION", "DataError", "DataSource", "HistoryColumns", "HybridData", "HybridModel", "HybridlabError",
    "LoadedRun", "ModelOutput", "ModelSpec", "NEURAL_NETWORK", "NetworkConfig", "NeuralNetwork", "Parameter",
    "ParameterError", "ParameterSet", "ROLES", "ResponseCurve", "Run", "RunContext", "RunObserver", "RunPlan",
    "SPLIT_KINDS", "Snapshot", "SplitConfig", "Tensors", "TrainConfig", "TrainableModel", "builtin_names",
    "default_settings", "execute", "load_plan_data", "write_json", "get_model", "json_safe", "list_runs", "load_data", "load_run", "model_names",
    "predict", "register_model", "run_config", "share_at_bound", "train", "write_run",
]
