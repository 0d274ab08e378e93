"""Where trainings run: the one Dask executor (:mod:`~core.compute.executor`, an embedded LocalCluster
or a scheduler by address) and the rule for how many threads each training takes
(:mod:`~core.compute.threads`, set in workers by :mod:`~core.compute.worker_threads`)."""

from core.compute.executor import SCHEDULER_ENV, Executor, check_processes, default_workers

__all__ = ["Executor", "SCHEDULER_ENV", "check_processes", "default_workers"]
