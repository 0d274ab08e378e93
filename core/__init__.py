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
from core.compute.threads import set_wait_policy as _set_wait_policy

_set_wait_policy()  # before anything below imports torch: OpenMP reads it when torch loads

from core.datasets import HybridData, builtin_names, load_data
from core.errors import DataError, HybridlabError, ParameterError
from core.run.evaluation import Snapshot
from core.io.json_files import json_safe, write_json
from core.metrics import share_at_bound
from core.run.result import Run
from core.run.execute import RunContext, RunObserver, execute, load_plan_data
from core.hybrid.model import HybridModel, ModelOutput, TrainableModel
from core.hybrid.pure_network import NeuralNetwork
from core.training.losses import LOSS_KINDS, WEIGHTINGS
from core.models import NEURAL_NETWORK, ModelSpec, ResponseCurve, get_model, model_names, register_model
from core.hybrid.network import ACTIVATIONS, NetworkConfig
from core.hybrid.parameters import ROLES, Parameter, ParameterSet
from core.run.plan import DataSource, RunPlan, default_settings
from core.training.splits import INTERVAL_CALIBRATION, SPLIT_KINDS, SplitConfig
from core.run.loaded import LoadedRun, load_run
from core.run.store import list_runs, run_config, write_run
from core.training.loop import OPTIMIZERS, HistoryColumns, Tensors, TrainConfig, predict, train

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
