"""hybridlab engine: hybrid models where a neural network predicts the parameters of a
process-based model, trained end to end with PyTorch.

Public API (the dashboard uses nothing else):

- parameters: :class:`Parameter`, :class:`ParameterSet`
- models: :class:`HybridModel`, :class:`NeuralNetwork`, :func:`get_model`, :func:`model_names`
- data: :class:`HybridData`, :func:`load_data`, :func:`builtin_names`
- training: :class:`TrainConfig`, :class:`NetworkConfig`, :class:`SplitConfig`, :func:`train`
- runs: :class:`RunConfig`, :func:`train_run`, :func:`load_run`
- metrics: :func:`core.metrics.kge`
"""
from .datasets import HybridData, builtin_names, load_data
from .errors import DataError, HybridlabError, ParameterError
from .hybrid import HybridModel, ModelOutput, NeuralNetwork
from .models import NEURAL_NETWORK, ModelSpec, get_model, model_names
from .network import NetworkConfig
from .parameters import ROLES, Parameter, ParameterSet
from .runs import LoadedRun, Run, RunConfig, Snapshot, default_settings, load_run, train_run
from .splits import SPLIT_KINDS, SplitConfig
from .training import Tensors, TrainConfig, predict, train

__version__ = "0.1.0"

__all__ = [
    "DataError", "HybridData", "HybridModel", "HybridlabError", "LoadedRun", "ModelOutput", "ModelSpec",
    "NEURAL_NETWORK", "NetworkConfig", "NeuralNetwork", "Parameter", "ParameterError", "ParameterSet",
    "ROLES", "Run", "RunConfig", "Snapshot", "default_settings", "SPLIT_KINDS", "SplitConfig", "Tensors", "TrainConfig", "builtin_names",
    "get_model", "load_data", "load_run", "model_names", "predict", "train", "train_run",
]
