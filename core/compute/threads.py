"""How many torch threads a training uses: one rule, in one place (:func:`choose`).

Every process that trains (``hybridlab train``, a Dask worker of :class:`core.compute.executor.Executor`,
a training thread of the dashboard's pool) asks :func:`choose` once and sets torch's intra-op and
inter-op threads with :func:`apply`. The rule:

- the cores this process may use: its CPU affinity, capped by a cgroup CPU quota
  (``/sys/fs/cgroup/cpu.max``, or cgroup v1's ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``);
- divided among the trainings that run at once on this machine (the caller says how many it
  starts: the executor its workers, the pool its slots), at least 1 each;
- fewer where the machine is already busy: the other runnable tasks (``/proc/stat``'s
  ``procs_running``, this one not counted) take their cores first, since a torch thread that
  waits for a core another process holds slows every thread of its parallel region;
- ``--threads N`` or ``HYBRIDLAB_THREADS=N`` replaces the rule.

OpenMP keeps its own wait policy by default: measured alone on a 2-core AMD EPYC, the passive policy
(idle threads yield instead of spinning) made a 2-thread training 1.1-1.3x slower, and beside busy
processes the rule already gives one thread, where the policy does not matter
(``hybridlab bench --contention``, docs/scaling.md). ``HYBRIDLAB_OMP_PASSIVE=1`` asks for it:
:func:`set_wait_policy` then sets ``OMP_WAIT_POLICY=PASSIVE`` (and ``KMP_BLOCKTIME=0`` for Intel's
OpenMP) when ``core`` is imported, before torch starts its thread pool. Set yourself, either
variable wins over this.

This module imports no torch at import time (``import core`` sets the wait policy through it
before torch is loaded).
"""
from __future__ import annotations

import math
import os
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from core.errors import HybridlabError

THREADS_ENV = "HYBRIDLAB_THREADS"
PASSIVE_ENV = "HYBRIDLAB_OMP_PASSIVE"
#: whether idle OpenMP threads yield by default (``HYBRIDLAB_OMP_PASSIVE`` 0 or 1 overrides); off:
#: passive was slower alone and no faster beside busy processes (module docstring)
OMP_PASSIVE_DEFAULT = False
#: what the passive wait policy sets, for GNU and Intel OpenMP
PASSIVE_VARIABLES = {"OMP_WAIT_POLICY": "PASSIVE", "KMP_BLOCKTIME": "0"}
#: thread counts of the BLAS and OpenMP libraries, for processes started by hybridlab
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
CPU_MAX = Path("/sys/fs/cgroup/cpu.max")
CFS_QUOTA = Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")
CFS_PERIOD = Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us")
PROC_STAT = Path("/proc/stat")
#: the busy reading: the median of this many samples of procs_running, this many seconds apart
BUSY_SAMPLES, BUSY_INTERVAL = 5, 0.004
#: the most threads a training may be given (per core of the machine)
MOST_PER_CORE = 4


@dataclass(frozen=True)
class Machine:
    """What the rule reads from the machine: usable CPUs (affinity), a cgroup quota in cores (None:
    none) and the other runnable tasks. :meth:`read` reads them; tests build one."""

    affinity: int
    quota: float | None = None
    busy: float = 0.0

    @classmethod
    def read(cls, busy: float | None = None) -> "Machine":
        return cls(affinity_cores(), cgroup_quota(), busy_tasks() if busy is None else busy)

    @property
    def usable(self) -> int:
        """The cores this process may use: its affinity, capped by the quota (at least 1)."""
        if self.quota is None:
            return self.affinity
        return max(1, min(self.affinity, math.floor(self.quota + 1e-9)))


@dataclass(frozen=True)
class ThreadChoice:
    """The threads a training uses and why (``reason``; ``to_dict`` for a benchmark's JSON)."""

    threads: int
    source: str  # "rule", the flag that gave it ("--threads") or "HYBRIDLAB_THREADS"
    usable: int
    affinity: int
    quota: float | None
    trainings: int
    busy: float
    device: str = "cpu"

    @property
    def reason(self) -> str:
        if self.source != "rule":
            return f"{self.source} {self.threads}"
        quota = "no cgroup quota" if self.quota is None else f"cgroup quota {self.quota:g} cores"
        text = (f"rule: {self.usable} usable cores (affinity {self.affinity}, {quota}) / {self.trainings} "
                f"training(s) at once, {self.busy:g} other runnable task(s)")
        return text + ("; device cuda: these threads serve the data pipeline only" if self.device != "cpu" else "")

    def to_dict(self) -> dict:
        return {**asdict(self), "reason": self.reason, "wait_policy": wait_policy()}


def affinity_cores() -> int:
    """The CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def cgroup_quota(cpu_max: Path = CPU_MAX, cfs_quota: Path = CFS_QUOTA, cfs_period: Path = CFS_PERIOD) -> float | None:
    """The cgroup CPU quota in cores (v2 ``cpu.max`` "QUOTA PERIOD", else v1), None without one."""
    try:
        quota, _, period = cpu_max.read_text().strip().partition(" ")
        return None if quota == "max" else int(quota) / int(period or 100000)
    except (OSError, ValueError):
        pass
    try:
        quota_us, period_us = int(cfs_quota.read_text()), int(cfs_period.read_text())
    except (OSError, ValueError):
        return None
    return quota_us / period_us if quota_us > 0 and period_us > 0 else None


def runnable_tasks(stat: Path = PROC_STAT) -> int | None:
    """``procs_running`` of ``/proc/stat``: the tasks running or waiting for a CPU now (None elsewhere)."""
    try:
        for line in stat.read_text().splitlines():
            if line.startswith("procs_running"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def busy_tasks(stat: Path = PROC_STAT, samples: int = BUSY_SAMPLES, interval: float = BUSY_INTERVAL) -> float:
    """Other runnable tasks than the one reading: the median of a few samples (0 where unknown)."""
    counts = []
    for index in range(samples):
        count = runnable_tasks(stat)
        if count is None:
            return 0.0
        counts.append(max(0, count - 1))
        if index < samples - 1:
            time.sleep(interval)
    return float(statistics.median(counts))


def check_threads(value, what: str) -> int:
    """A thread count given by a user: a whole number from 1 to MOST_PER_CORE per core."""
    most = MOST_PER_CORE * affinity_cores()
    try:
        number = int(str(value).strip())
    except ValueError:
        raise HybridlabError(f"{what}={str(value)[:40]!r}: must be a whole number of threads") from None
    if not 1 <= number <= most:
        raise HybridlabError(f"{what} must be between 1 and {most} ({MOST_PER_CORE} per core), got {number}")
    return number


def choose(trainings: int = 1, threads: int | None = None, *, machine: Machine | None = None,
           environ=None, device: str | None = None, given_as: str = "--threads") -> ThreadChoice:
    """Threads for each of ``trainings`` trainings that run at once on this machine (see the module
    docstring). ``threads`` (``--threads``) wins, then ``HYBRIDLAB_THREADS`` in ``environ``
    (default ``os.environ``); ``machine`` defaults to :meth:`Machine.read` (only read when the rule
    decides); ``given_as`` names ``threads`` in the reason and in an error (the flag it came from)."""
    environ = os.environ if environ is None else environ
    trainings = max(1, int(trainings))
    device = "cuda" if device and str(device).startswith("cuda") else "cpu"
    if threads is not None:
        source, count = given_as, check_threads(threads, given_as)
    elif environ.get(THREADS_ENV, "").strip():
        source, count = THREADS_ENV, check_threads(environ[THREADS_ENV], THREADS_ENV)
    else:
        source, count = "rule", None
    machine = machine or (Machine(affinity_cores()) if count else Machine.read())
    if count is None:
        free = machine.usable - math.floor(machine.busy + 0.5)
        count = max(1, min(machine.usable // trainings, free // trainings))
    return ThreadChoice(count, source, machine.usable, machine.affinity, machine.quota, trainings, machine.busy, device)


def apply(choice: ThreadChoice) -> dict:
    """Set torch's intra-op threads (and, once per process, its inter-op threads) to the choice;
    returns what torch reports afterwards (``intra_op``, ``inter_op``)."""
    import torch

    torch.set_num_threads(choice.threads)
    try:
        torch.set_num_interop_threads(choice.threads)
    except RuntimeError:  # set once per process, and only before inter-op work started
        pass
    return torch_threads()


def torch_threads(_item=None) -> dict:
    """What torch uses in this thread now (also a function for :meth:`Executor.map`)."""
    import torch

    return {"intra_op": torch.get_num_threads(), "inter_op": torch.get_num_interop_threads()}


def passive_wanted(environ=None) -> bool:
    """Whether the passive wait policy is asked for (``HYBRIDLAB_OMP_PASSIVE``, else the default)."""
    value = (os.environ if environ is None else environ).get(PASSIVE_ENV, "").strip()
    return OMP_PASSIVE_DEFAULT if value == "" else value != "0"


def check_passive(environ=None) -> None:
    value = (os.environ if environ is None else environ).get(PASSIVE_ENV, "").strip()
    if value not in ("", "0", "1"):
        raise HybridlabError(f"{PASSIVE_ENV}={value[:40]!r}: must be 0 or 1")


def check_environment(environ=None) -> None:
    """One line (HybridlabError) for a bad ``HYBRIDLAB_THREADS`` or ``HYBRIDLAB_OMP_PASSIVE``."""
    environ = os.environ if environ is None else environ
    check_passive(environ)
    if environ.get(THREADS_ENV, "").strip():
        check_threads(environ[THREADS_ENV], THREADS_ENV)


_POLICY: list[str] = []


def set_wait_policy(environ=None) -> str:
    """Before torch is imported: the passive wait policy into ``environ`` (``os.environ``) where it
    is wanted and not set already. Returns the policy this process's OpenMP starts with."""
    environ = os.environ if environ is None else environ
    if environ is os.environ and _POLICY:
        return _POLICY[0]
    late = "torch" in sys.modules and environ is os.environ
    if passive_wanted(environ) and not late:
        for name, value in PASSIVE_VARIABLES.items():
            environ.setdefault(name, value)
    policy = environ.get("OMP_WAIT_POLICY", "default").upper()
    if late and passive_wanted(environ) and "OMP_WAIT_POLICY" not in environ:
        policy += " (torch was imported before core)"
    if environ is os.environ:
        _POLICY.append(policy)
    return policy


def wait_policy() -> str:
    """The OpenMP wait policy this process started torch with."""
    return _POLICY[0] if _POLICY else os.environ.get("OMP_WAIT_POLICY", "default").upper()


def child_environment(threads: int | None = None, environ=None) -> dict[str, str]:
    """Variables for a process hybridlab starts: the wait policy (as this process has it) and, with
    ``threads``, the BLAS/OpenMP thread counts."""
    environ = os.environ if environ is None else environ
    values = {name: environ[name] for name in (*PASSIVE_VARIABLES, PASSIVE_ENV) if name in environ}
    if threads is not None:
        values.update({name: str(threads) for name in THREAD_VARIABLES})
    return values


def cpu_name(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's model name (``/proc/cpuinfo``), else what the platform says."""
    try:
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.lower().startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine() or "unknown"
