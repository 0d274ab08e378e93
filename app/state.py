"""Dashboard state as param.Parameterized classes; no widgets here, so it can be tested without a browser.

One set of these objects exists per browser session. The training thread never touches them
directly: it writes into a lock-protected inbox, and :meth:`TrainingSession.sync`, called by the
page's periodic callback in the session's own thread, moves what arrived into the parameters.
"""
from __future__ import annotations

import io
import json
import math
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd
import param

import core
from core.datasets import load_file, read_table
from core.experiments.reference import VALIDATION_KGE

UPLOAD_LIMIT_MB = 50
UPLOADED = "uploaded file"
PRESET_LABELS = {"all_global": "all global", "five_neural": "five neural", "all_neural": "all neural"}


class ParameterRow(param.Parameterized):
    """One mechanistic parameter in the table: role toggle, bounds, fixed value, validation message."""

    pname = param.String(doc="parameter name")
    description = param.String()
    unit = param.String()
    scale = param.String()
    default = param.Number()
    role = param.Selector(default="global", objects=list(core.ROLES))
    lower = param.Number()
    upper = param.Number()
    value = param.Number(doc="value when fixed")
    allowed_roles = param.List(default=list(core.ROLES))
    choices = param.Parameter(default=None)
    error = param.String(default="", doc="why the row is invalid; empty when valid")

    @classmethod
    def from_parameter(cls, p: core.Parameter) -> "ParameterRow":
        return cls(pname=p.name, description=p.description, unit=p.unit, scale=p.scale, default=p.default,
                   role=p.role, lower=p.lower, upper=p.upper, value=p.fixed_value,
                   allowed_roles=list(p.allowed_roles), choices=p.choices)

    def to_parameter(self) -> core.Parameter:
        """The core Parameter for this row; raises ParameterError when the row is invalid."""
        default = min(max(self.default, self.lower), self.upper) if self.lower < self.upper else self.default
        return core.Parameter(self.pname, self.description, self.unit, default, self.lower, self.upper,
                              scale=self.scale, role=self.role,
                              value=self.value if self.role == "fixed" else None,
                              allowed_roles=tuple(self.allowed_roles),
                              choices=tuple(self.choices) if self.choices else None)

    @param.depends("role", "lower", "upper", "value", watch=True, on_init=True)
    def validate(self) -> str:
        try:
            self.to_parameter()
            self.error = ""
        except core.ParameterError as e:
            self.error = str(e)
        return self.error


class Setup(param.Parameterized):
    """Everything the user sets before training: data, model, parameter roles and training settings."""

    model_name = param.Selector(default="soc", objects=core.model_names())
    data_name = param.Selector(default="lucas-synthetic", objects=core.builtin_names() + [UPLOADED])
    n_sites = param.Integer(default=None, allow_None=True, bounds=(20, None),
                            doc="size of a built-in synthetic set (empty: its default)")
    rows = param.List(default=[], item_type=ParameterRow)
    optimizer = param.Selector(default="rmsprop", objects=["rmsprop", "adam", "adamw"])
    lr = param.Number(default=0.01, bounds=(0, None))
    batch_size = param.Integer(default=2048, bounds=(1, None))
    epochs = param.Integer(default=1000, bounds=(1, None))
    patience = param.Integer(default=100, bounds=(1, None))
    hidden = param.String(default="256,128,64,32", doc="hidden layer sizes, comma-separated")
    activation = param.Selector(default="sigmoid", objects=["sigmoid", "tanh", "relu", "gelu", "silu"])
    dropout = param.Number(default=0.3, bounds=(0, 0.99))
    loss = param.Selector(default="kge", objects=["kge", "nse", "mse"])
    weighting = param.Selector(default="mean", objects=["mean", "uncertainty"])
    split = param.Selector(default="site", objects=list(core.SPLIT_KINDS))
    seed = param.Integer(default=0)
    errors = param.List(default=[], doc="messages that block training")
    uploaded = param.Parameter(default=None, doc="HybridData loaded from a user's file")
    upload_message = param.String(default="")

    def __init__(self, **params):
        super().__init__(**params)
        self._load_model()
        # settings given explicitly win over the model's recommended ones
        given = {k: v for k, v in params.items() if k not in ("model_name", "rows")}
        if given:
            self.param.update(**given)

    @param.depends("model_name", watch=True)
    def _load_model(self):
        name = self.model_name
        if name != core.NEURAL_NETWORK:
            spec = core.get_model(name)
            ps = spec.parameters().set_roles(spec.default_roles)
            self.rows = [ParameterRow.from_parameter(p) for p in ps]
            if self.data_name != UPLOADED:
                self.data_name = spec.default_data
        else:
            self.rows = []
        settings = core.default_settings(name)
        self.param.update(**{k: settings[k] for k in ("optimizer", "lr", "batch_size", "epochs", "patience",
                                                      "activation", "dropout")},
                          hidden=",".join(map(str, settings["hidden"])))
        for row in self.rows:
            row.param.watch(lambda *_: self.validate(), ["error"])
        self.validate()

    # -- roles -------------------------------------------------------------------------------------
    @property
    def presets(self) -> dict:
        return {} if self.model_name == core.NEURAL_NETWORK else core.get_model(self.model_name).parameters().presets

    def apply_preset(self, name: str) -> None:
        roles = self.presets.get(name)
        if roles is None:
            raise core.HybridlabError(f"model {self.model_name!r} has no preset {name!r}")
        for row in self.rows:
            if row.pname in roles:
                row.role = roles[row.pname]

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
        current = self.roles
        for name, roles in self.presets.items():
            if all(current.get(k) == v for k, v in roles.items()):
                return name
        return "custom" if self.rows else ""

    # -- validation --------------------------------------------------------------------------------
    @param.depends("optimizer", "lr", "batch_size", "epochs", "patience", "hidden", "activation", "dropout",
                   "loss", "weighting", "split", "data_name", "uploaded", watch=True)
    def validate(self) -> list[str]:
        errors = [f"{r.pname}: {r.error}" for r in self.rows if r.error]
        try:
            self.network_config()
            self.train_config()
        except core.HybridlabError as e:
            errors.append(str(e))
        if self.data_name == UPLOADED and self.uploaded is None:
            errors.append("upload a CSV or Parquet file and load it with a column mapping, or choose built-in data")
        self.errors = errors
        return errors

    @property
    def can_train(self) -> bool:
        return not self.errors

    def network_config(self) -> core.NetworkConfig:
        try:
            hidden = tuple(int(v) for v in self.hidden.split(",") if v.strip())
        except ValueError:
            raise core.HybridlabError(f"hidden layers must be comma-separated integers, got {self.hidden!r}") from None
        return core.NetworkConfig(hidden=hidden, activation=self.activation, dropout=self.dropout)

    def train_config(self) -> core.TrainConfig:
        return core.TrainConfig(optimizer=self.optimizer, lr=float(self.lr), batch_size=int(self.batch_size),
                                epochs=int(self.epochs), patience=int(self.patience), seed=int(self.seed),
                                loss=self.loss, weighting=self.weighting)

    def run_config(self) -> core.RunConfig:
        """The engine's RunConfig for the current settings; raises HybridlabError when invalid."""
        if self.validate():
            raise core.HybridlabError("; ".join(self.errors))
        overrides = {}
        declared = core.get_model(self.model_name).parameters() if self.rows else None
        for r in self.rows:
            changes = {}
            p = declared[r.pname]
            if (r.lower, r.upper) != (p.lower, p.upper):
                changes.update(lower=r.lower, upper=r.upper)
            if r.role == "fixed" and r.value != p.fixed_value:
                changes["value"] = r.value
            if changes:
                overrides[r.pname] = changes
        source = ({"name": self.data_name, "n": self.n_sites, "seed": self.seed} if self.data_name != UPLOADED
                  else self.uploaded.source)
        return core.RunConfig(model=self.model_name, data=source, roles=self.roles or None, overrides=overrides,
                              split=core.SplitConfig(kind=self.split), network=self.network_config(),
                              train=self.train_config())

    def load_data(self) -> core.HybridData:
        if self.data_name == UPLOADED:
            return self.uploaded
        return core.load_data(self.data_name, n=self.n_sites, seed=self.seed)

    # -- users' files ------------------------------------------------------------------------------
    def read_upload(self, filename: str, content: bytes) -> pd.DataFrame | None:
        """Read an uploaded file's table for the mapping form; sets upload_message on problems."""
        self.uploaded = None
        if len(content) > UPLOAD_LIMIT_MB * 1e6:
            self.upload_message = f"{filename}: {len(content) / 1e6:.0f} MB is over the {UPLOAD_LIMIT_MB} MB limit"
            return None
        path = _save_upload(filename, content)
        try:
            frame = read_table(path)
        except core.DataError as e:
            self.upload_message = str(e).replace(str(path), filename)
            return None
        self._upload_path, self._upload_name = path, filename
        self.upload_message = f"{filename}: {len(frame)} rows, {len(frame.columns)} columns; map the columns below"
        return frame

    def apply_mapping(self, mapping: dict) -> bool:
        """Load the uploaded file with a column mapping (same format as the CLI's MAP.json)."""
        spec = None if self.model_name == core.NEURAL_NETWORK else core.get_model(self.model_name)
        try:
            data = load_file(self._upload_path, mapping, nonnegative=spec.nonnegative if spec else frozenset())
        except AttributeError:
            self.upload_message = "upload a file first"
            return False
        except core.DataError as e:
            self.upload_message = str(e).replace(str(self._upload_path), self._upload_name)
            return False
        self.uploaded = data
        self.data_name = UPLOADED
        self.upload_message = (f"{self._upload_name}: loaded {len(data.frame)} rows, {len(data.predictors)} predictors, "
                               f"targets {', '.join(data.targets)}")
        return True

    # -- saved configurations ----------------------------------------------------------------------
    def load_config(self, config: dict) -> None:
        """Fill the form from a run's config.json (model, roles, bounds, fixed values, settings)."""
        try:
            model = config["model"]
            name = model.get("name", core.NEURAL_NETWORK) if model.get("kind") != core.NEURAL_NETWORK else core.NEURAL_NETWORK
            self.model_name = name
            for p in model.get("parameters", []):
                row = self.row(p["name"])
                row.param.update(lower=p["lower"], upper=p["upper"], role=p["role"],
                                 value=p["value"] if p.get("value") is not None else p["default"])
            net, tr = model["network"], config["train"]
            self.param.update(hidden=",".join(map(str, net["hidden"])), activation=net["activation"],
                              dropout=net["dropout"], optimizer=tr["optimizer"], lr=tr["lr"],
                              batch_size=tr["batch_size"], epochs=tr["epochs"], patience=tr["patience"],
                              seed=tr["seed"], loss=tr["loss"], weighting=tr["weighting"],
                              split=config["split"]["kind"])
            data = config.get("data", {})
            if data.get("name") in core.builtin_names():
                self.param.update(data_name=data["name"], n_sites=data.get("n"))
        except (KeyError, TypeError, ValueError) as e:
            raise core.HybridlabError(f"not a hybridlab config.json ({type(e).__name__}: {e})") from None


def _save_upload(filename: str, content: bytes) -> Path:
    suffix = Path(filename).suffix.lower() or ".csv"
    tmp = tempfile.NamedTemporaryFile(prefix="hybridlab-upload-", suffix=suffix, delete=False)
    tmp.write(content)
    tmp.close()
    return Path(tmp.name)


class TrainingSession(param.Parameterized):
    """One training run at a time in a background thread, followed through :meth:`sync`."""

    status = param.Selector(default="idle", objects=["idle", "training", "stopping", "finished", "error"])
    message = param.String(default="")
    epoch = param.Integer(default=0)
    max_epochs = param.Integer(default=1)
    best_val_loss = param.Number(default=None, allow_None=True)
    best_epoch = param.Integer(default=0)
    seconds_left = param.Number(default=None, allow_None=True)
    history = param.List(default=[])
    snapshot = param.Parameter(default=None, doc="latest core.Snapshot")
    run = param.Parameter(default=None, doc="the finished core.Run")
    data = param.Parameter(default=None, doc="the data being trained on")
    label = param.String(default="")
    retention = param.Parameter(default=None, doc="RetentionResults of a finished retention run")
    syncs = param.Integer(default=0, doc="how many times new results reached the page")

    def __init__(self, **params):
        super().__init__(**params)
        self._lock = threading.Lock()
        self._inbox: dict = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, setup: Setup) -> bool:
        """Validate the setup and start training; returns False (with a message) when it cannot."""
        if self.running:
            self.message = "a run is already training; stop it first"
            return False
        try:
            cfg = setup.run_config()
        except core.HybridlabError as e:
            self.status, self.message = "error", f"cannot train: {e}"
            return False
        self._stop.clear()
        self._inbox = {}
        self.label = f"{setup.model_name}" + (f" {setup.preset_name()}" if setup.rows else "")
        self.param.update(status="training", message="loading data…", epoch=0, max_epochs=cfg.train.epochs,
                          best_val_loss=None, best_epoch=0, seconds_left=None, history=[], snapshot=None, run=None,
                          retention=None)
        self._started = time.perf_counter()
        self._thread = threading.Thread(target=self._work, args=(cfg, setup), daemon=True, name="hybridlab-train")
        self._thread.start()
        return True

    def stop(self) -> None:
        """Ask the training thread to stop after the current batch; the best weights are kept."""
        if self.running:
            self._stop.set()
            self.status = "stopping"

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    # -- worker thread: only writes into the inbox --------------------------------------------------
    def _post(self, **items) -> None:
        with self._lock:
            if "row" in items:
                self._inbox.setdefault("rows", []).append(items.pop("row"))
            self._inbox.update(items)

    def _work(self, cfg: core.RunConfig, setup: Setup) -> None:
        import os

        import torch

        # leave a core to the page's server thread: on 2 cores with the browser on the same machine,
        # 1 training thread trained faster in the dashboard than 2 that fought the server for the
        # CPU (0.30 vs 0.34 s/epoch on the full LUCAS-like data)
        threads = os.environ.get("HYBRIDLAB_TORCH_THREADS") or max(1, (os.cpu_count() or 2) - 1)
        torch.set_num_threads(int(threads))
        try:
            data = setup.load_data()
            self._post(data=data, message="training")
            run = core.train_run(cfg, data=data, callbacks=[lambda row: self._post(row=row)],
                                 stop_event=self._stop, on_snapshot=lambda s: self._post(snapshot=s))
            retention = RetentionResults.for_run(run) if run.metrics["model"] == "swrc" else None
            self._post(run=run, retention=retention, done="finished")
        except core.HybridlabError as e:
            self._post(done="error", message=f"cannot train: {e}")
        except Exception as e:  # shown as one line in the page, never a traceback
            self._post(done="error", message=f"training failed: {type(e).__name__}: {e}")

    # -- session thread ----------------------------------------------------------------------------
    def sync(self) -> bool:
        """Move what the worker posted into the parameters; returns True when something changed."""
        with self._lock:
            inbox, self._inbox = self._inbox, {}
        if not inbox:
            return False
        update: dict = {}
        if "data" in inbox:
            update["data"] = inbox["data"]
        if "rows" in inbox:
            rows = inbox["rows"]
            last = rows[-1]
            update["history"] = self.history + rows
            update.update(epoch=last["epoch"], best_epoch=last["best_epoch"],
                          best_val_loss=last["best_val_loss"] if math.isfinite(last["best_val_loss"]) else None)
            per_epoch = last["elapsed_seconds"] / max(last["epoch"], 1)
            update["seconds_left"] = per_epoch * (self.max_epochs - last["epoch"])
        if "snapshot" in inbox:
            update["snapshot"] = inbox["snapshot"]
        if "message" in inbox:
            update["message"] = inbox["message"]
        if "done" in inbox:
            update["status"] = inbox["done"]
            if "run" in inbox:
                run = inbox["run"]
                update["run"] = run
                update["retention"] = inbox.get("retention")
                m = run.metrics
                update["message"] = (f"{m['stopped']} after {m['epochs_run']} epochs (best {m['best_epoch']}); "
                                     f"mean validation KGE {m['mean_val_kge']:.3f}")
                update["seconds_left"] = 0.0
        update["syncs"] = self.syncs + 1
        self.param.update(**update)
        return True


class RunTable(param.Parameterized):
    """Every finished run of the session, for comparison, with the report's numbers as reference rows."""

    records = param.List(default=[])
    selected = param.List(default=[], doc="labels of runs to overlay")

    def add(self, session: TrainingSession) -> None:
        run = session.run
        if run is None or any(r["run"] is run for r in self.records):
            return
        m = run.metrics
        rec = {"run": run, "label": f"#{len(self.records) + 1} {session.label}", "model": m["model"]}
        for t, s in m["targets"].items():
            v = s["val"]["kge"]
            rec[f"val KGE {t}"] = round(v, 3) if math.isfinite(v) else None
        rec.update({"mean val KGE": round(m["mean_val_kge"], 3) if math.isfinite(m["mean_val_kge"]) else None,
                    "epochs": m["epochs_run"], "seconds": round(m["train_seconds"], 1),
                    "neural": ", ".join(k for k, v in m["roles"].items() if v == "neural"),
                    "global": ", ".join(k for k, v in m["roles"].items() if v == "global")})
        self.records = self.records + [rec]

    def table(self, with_reference: bool = True) -> pd.DataFrame:
        rows = [{k: v for k, v in r.items() if k != "run"} for r in self.records]
        if with_reference and any(r["model"] in ("soc", "nn") for r in self.records):
            for name, vals in VALIDATION_KGE.items():
                ref = {"label": f"report: {name}", "model": "LUCAS 2018 (report)"}
                ref.update({f"val KGE {t}": v for t, v in vals.items()})
                rows.append(ref)
        return pd.DataFrame(rows)


def export_bytes(run: core.Run, what: str) -> io.BytesIO:
    """A finished run's config (JSON), metrics (JSON), predictions or parameters (CSV) or model (state dict)."""
    import torch

    buf = io.BytesIO()
    if what == "config":
        buf.write(json.dumps(run.config, indent=2).encode())
    elif what == "metrics":
        buf.write(json.dumps(run.metrics, indent=2, default=lambda o: None).encode())
    elif what == "predictions":
        run.predictions.to_csv(buf, index=False)
    elif what == "parameters":
        run.parameters.to_csv(buf, index=False)
    elif what == "model":
        torch.save(run.model.state_dict(), buf)
    else:
        raise core.HybridlabError(f"unknown export {what!r}")
    buf.seek(0)
    return buf


class RetentionResults(param.Parameterized):
    """AWC per horizon and Shapley values of AWC for a finished retention run."""

    awc = param.Parameter(default=None, doc="AWC per horizon (numpy array)")
    explanation = param.Parameter(default=None, doc="shap.Explanation of AWC over the predictors")
    sample_ids = param.List(default=[])

    @classmethod
    def for_run(cls, run: core.Run, n_explain: int = 200, seed: int = 0) -> "RetentionResults | None":
        """Computed in the training thread after a retention run (Shapley values take seconds)."""
        from core.explain import parameter_function, shapley_values
        from core.models.swrc import derived

        if "sample_id" not in run.data.frame:
            return None
        self = cls()
        hz = run.data.frame.drop_duplicates("sample_id")
        x = hz[run.model.predictors].to_numpy(dtype=float)
        f = parameter_function(run.model, derived, "awc")
        rng = pd.Series(range(len(hz))).sample(frac=1.0, random_state=seed).to_numpy()
        expl = None
        if "oc" in run.model.predictors:
            expl = shapley_values(f, x[rng[:n_explain]], x[rng[-50:]], run.model.predictors, seed=seed)
        val_ids = set(run.data.frame[run.data.id].iloc[run.val_rows])
        val_samples = hz[hz[run.data.id].isin(val_ids)]["sample_id"].tolist()
        self.param.update(awc=f(x), explanation=expl, sample_ids=val_samples[:4])
        return self
