"""Peak memory of a served dashboard, sampled from outside: the Panel server process and the Dask
processes it started (the LocalCluster's nannies and workers), for ``hybridlab bench``."""
from __future__ import annotations

import threading

#: seconds between samples
EVERY = 0.25


class MemoryWatcher:
    """Samples, every :data:`EVERY` s, the resident memory of the server (the process running
    ``panel``: ``pid`` or its child) and of all processes below it (the workers), and keeps the peaks."""

    def __init__(self, pid: int):
        import psutil

        self.root = psutil.Process(pid)
        self.server_peak = self.workers_peak = 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True, name="hybridlab-memory")
        self._thread.start()

    def _server(self):
        processes = [self.root, *self.root.children(recursive=True)]
        return next((p for p in processes if "panel" in " ".join(p.cmdline())), None)

    def _sample(self) -> None:
        import psutil

        try:
            server = self._server()
            if server is None:
                return
            self.server_peak = max(self.server_peak, server.memory_info().rss / 2 ** 20)
            workers = 0.0
            for child in server.children(recursive=True):
                try:
                    workers += child.memory_info().rss / 2 ** 20
                except psutil.Error:
                    pass
            self.workers_peak = max(self.workers_peak, workers)
        except psutil.Error:
            pass

    def _watch(self) -> None:
        while not self._done.wait(EVERY):
            self._sample()

    def stop(self) -> dict:
        """Stop sampling; the peaks in MiB."""
        self._done.set()
        self._thread.join(5)
        return {"server_peak": round(self.server_peak, 1), "workers_peak": round(self.workers_peak, 1)}


def stop_tree(pid: int, seconds: float = 30) -> None:
    """Terminate a process and everything it started (``hybridlab serve`` starts ``panel serve``,
    which starts the Dask workers)."""
    import psutil

    try:
        root = psutil.Process(pid)
    except psutil.Error:
        return
    processes = [*root.children(recursive=True), root]
    for process in processes:
        try:
            process.terminate()
        except psutil.Error:
            pass
    _, alive = psutil.wait_procs(processes, timeout=seconds)
    for process in alive:
        process.kill()
