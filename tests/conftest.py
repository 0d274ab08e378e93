import pytest

from core.datasets import load_data


@pytest.fixture(scope="session")
def small_resp():
    """A small respiration data set (40 sites x 40 days)."""
    return load_data("respiration-synthetic", n=40, seed=1)
