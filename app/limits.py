"""What one served dashboard lets its users take: data size, network size, epochs, runs kept and
trainings at once. Whoever runs the server sets them (``hybridlab serve --max-epochs 2000`` or
``HYBRIDLAB_MAX_EPOCHS=2000``); SECURITY.md lists them with their defaults."""
from __future__ import annotations

import os

import param

import core
from core.datasets import TableShape, default_sites

ENV_PREFIX = "HYBRIDLAB_MAX_"
#: the covariate grid a served dashboard maps each finished run over (``hybridlab serve --grid``)
GRID_ENV = "HYBRIDLAB_GRID"
#: FileDropper sends an upload in chunks of this many bytes; the websocket must take one chunk in base64
UPLOAD_CHUNK_BYTES = 4_000_000


def websocket_bytes(chunk_bytes: int = UPLOAD_CHUNK_BYTES) -> int:
    """Websocket message cap for uploads sent in chunks: base64 (4/3) plus 1 MB for the message."""
    return chunk_bytes * 4 // 3 + 1_000_000


class ServerLimits(param.Parameterized):
    """Limits of a served dashboard; each reads ``HYBRIDLAB_MAX_<NAME>`` (e.g. ``HYBRIDLAB_MAX_SITES``)."""

    sites = param.Integer(default=100_000, bounds=(20, None),
                          doc="sites (or profiles) of built-in data, and distinct ids of an uploaded file")
    rows = param.Integer(default=1_000_000, bounds=(20, None), doc="rows of an uploaded file")
    columns = param.Integer(default=200, bounds=(2, None), doc="columns of an uploaded file")
    upload_mb = param.Number(default=50.0, bounds=(0.01, None), doc="size of an uploaded file on disk (MB)")
    decoded_mb = param.Number(default=400.0, bounds=(1, None),
                              doc="an uploaded table in memory (MB, at least rows x columns x 8 bytes)")
    hidden_units = param.Integer(default=2048, bounds=(1, None), doc="hidden units of a network, all layers together")
    epochs = param.Integer(default=5000, bounds=(1, None), doc="maximum epochs of one training")
    runs_kept = param.Integer(default=20, bounds=(1, None), doc="finished runs a session keeps (older ones drop out)")
    trainings_per_session = param.Integer(default=1, bounds=(1, None),
                                          doc="trainings running or queued per signed-in user (per browser session without sign-in)")
    ensemble_members = param.Integer(default=10, bounds=(1, 10),
                                     doc="members of one ensemble from the page (trained together as one job of the queue)")
    role_search_runs = param.Integer(default=48, bounds=(1, None),
                                     doc="runs in one step of a role search from the page (candidates x seeds); "
                                         "1 turns the search off")
    trainings = param.Integer(default=max(1, os.cpu_count() or 1), bounds=(1, None),
                              doc="trainings running at once on the server (more wait in a queue)")

    @classmethod
    def names(cls) -> list[str]:
        return [name for name in cls.param if name != "name"]

    @classmethod
    def from_environment(cls, environ=None) -> "ServerLimits":
        """The limits with ``HYBRIDLAB_MAX_<NAME>`` values applied; a bad value names its variable."""
        environ = os.environ if environ is None else environ
        values = {}
        for name in cls.names():
            variable, text = ENV_PREFIX + name.upper(), environ.get(ENV_PREFIX + name.upper())
            if text is None:
                continue
            whole = isinstance(cls.param[name], param.Integer)
            lowest = cls.param[name].bounds[0]
            try:
                values[name] = int(text) if whole else float(text)
                if not values[name] >= lowest:
                    raise ValueError
            except ValueError:
                raise core.HybridlabError(f"{variable}={text!r}: must be {'a whole number' if whole else 'a number'} "
                                          f"of at least {lowest} ({cls.param[name].doc})") from None
        return cls(**values)

    def environment(self) -> dict[str, str]:
        """The ``HYBRIDLAB_MAX_*`` variables that give these limits to a server process."""
        return {ENV_PREFIX + name.upper(): str(getattr(self, name)) for name in self.names()}

    # -- checks: each returns one-line messages, empty when within the limits --------------------------
    def check_plan(self, plan: core.RunPlan) -> list[str]:
        problems = []
        if plan.train.epochs > self.epochs:
            problems.append(f"max epochs {plan.train.epochs} is over this server's limit of {self.epochs}")
        units = sum(plan.network.hidden)
        if units > self.hidden_units:
            problems.append(f"hidden layers {','.join(map(str, plan.network.hidden))} have {units} units, over this "
                            f"server's limit of {self.hidden_units}")
        if plan.data.name is not None:
            sites = plan.data.n or default_sites(plan.data.name)
            if sites > self.sites:
                problems.append(f"{sites} sites is over this server's limit of {self.sites}")
        return problems

    @staticmethod
    def _over(checks) -> list[str]:
        return [f"{value:,.{digits}f} {unit} is over this server's limit of {limit:,.{digits}f} {unit}"
                for value, limit, unit, digits in checks if value > limit]

    def check_upload(self, size_bytes: int) -> list[str]:
        return self._over([(size_bytes / 1e6, self.upload_mb, "MB", 0 if self.upload_mb >= 10 else 2)])

    def check_table(self, shape: TableShape) -> list[str]:
        """An uploaded file's size, rows, columns and least decoded size, before it is decoded."""
        return self.check_upload(shape.file_bytes) + self._over([
            (shape.rows, self.rows, "rows", 0), (shape.columns, self.columns, "columns", 0)]) \
            + self.check_decoded(shape.decoded_bytes)

    def check_decoded(self, size_bytes: int) -> list[str]:
        return self._over([(size_bytes / 1e6, self.decoded_mb, "MB in memory", 0)])

    def check_sites(self, sites: int) -> list[str]:
        return self._over([(sites, self.sites, "sites (distinct ids)", 0)])

    def upload_text(self) -> str:
        return (f"CSV or Parquet, at most {self.upload_mb:g} MB, {self.rows:,} rows, {self.columns} columns and "
                f"{self.sites:,} sites")
