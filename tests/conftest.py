import pytest

from core.datasets import load_data


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
