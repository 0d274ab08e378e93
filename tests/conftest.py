import os

import pytest

# Under pytest-xdist the workers share the machine's cores: each is one of the trainings that run
# at once, so it takes its share by the one rule (core.compute.threads), and so do the processes it starts
# (servers, command lines, kernels, Dask workers), through HYBRIDLAB_THREADS. Two torch thread
# pools of two threads each on two cores spun against each other and stretched some tests ninefold.
if os.environ.get("PYTEST_XDIST_WORKER"):
    from core.compute import threads

    _choice = threads.choose(int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 1))
    for _name, _value in {**threads.child_environment(_choice.threads), threads.THREADS_ENV: str(_choice.threads)}.items():
        os.environ.setdefault(_name, _value)
    threads.apply(_choice)

from core.datasets import load_data  # noqa: E402


def _cost(item) -> int:
    """0 for a browser test, 1 for another slow one, 2 for a quick one: the order they start in."""
    return 0 if item.get_closest_marker("browser") else 1 if item.get_closest_marker("slow") else 2


def pytest_collection_modifyitems(config, items):
    """The long tests first, so that with pytest-xdist (``-n``, as in pyproject.toml) the quick
    ones fill the gaps at the end rather than a browser test running alone last; the tests of a
    browser module share one served dashboard and one Chromium (module fixtures), so they stay
    together on one worker (``--dist loadgroup``)."""
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))
    items.sort(key=_cost)


@pytest.fixture(scope="session")
def small_resp():
    """A small respiration data set (40 sites x 40 days)."""
    return load_data("respiration-synthetic", n=40, seed=1)


@pytest.fixture(scope="module")
def browser():
    """Headless Debian chromium driven by Playwright (for modules marked ``browser``)."""
    from browser_support import ARGS, CHROMIUM
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def dask_cluster(tmp_path):
    """An external Dask cluster: `dask scheduler` and two `dask worker` processes; yields (address, workers)."""
    from cluster_support import start_cluster

    address, workers, processes = start_cluster(tmp_path)
    yield address, workers
    for process in processes:
        process.kill()
        process.wait()
