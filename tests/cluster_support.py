"""A real external Dask cluster for tests: `dask scheduler` and `dask worker` subprocesses."""
import json
import os
import subprocess
import time

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def wait_for(condition, seconds: float, what: str):
    """The first truthy value of ``condition()`` within ``seconds``, else an AssertionError."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def start_cluster(folder, workers: int = 2):
    """(scheduler address, worker processes, all processes): workers without a nanny, so that
    killing one kills the worker."""
    scheduler_file = folder / "scheduler.json"
    processes = [subprocess.Popen(["dask", "scheduler", "--scheduler-file", str(scheduler_file), "--port", "0",
                                   "--no-dashboard"], env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    address = wait_for(lambda: scheduler_file.is_file() and json.loads(scheduler_file.read_text() or "{}").get("address"),
                       60, "the scheduler")
    started = [subprocess.Popen(["dask", "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard"],
                                env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(workers)]
    from distributed import Client

    with Client(address, timeout="30s") as client:
        client.wait_for_workers(workers, timeout=60)
    return address, started, processes + started
