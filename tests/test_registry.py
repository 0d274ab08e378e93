"""The one registry shape: models, baselines and uncertainty (interval methods, sample sources)."""
import numpy as np
import pytest

from core.baselines import BASELINES
from core.errors import HybridlabError
from core.models import MODELS
from core.registry import Registry
from core.uncertainty.predictive import Predictive
from core.uncertainty.registry import (UNCERTAINTY, IntervalMethod, SampleSource, bounds, interval_method, names,
                                       sample_source)


def test_every_extension_point_is_a_registry_found_from_its_files():
    assert {"soc", "swrc", "respiration", "nn"} <= set(MODELS)
    assert MODELS.names()[-1] == "nn"  # mechanistic models first, the pure network last
    assert {"nn", "rf", "qrf", "rosetta3", "one_q10", "network_reco"} == set(BASELINES)
    assert names(IntervalMethod) == ["spread", "gaussian", "conformal", "normalised", "quantile"]
    assert names(SampleSource) == ["members", "mc_dropout", "none"]
    assert all(isinstance(r, Registry) for r in (MODELS, BASELINES, UNCERTAINTY))


def test_unknown_and_repeated_names_are_one_line():
    with pytest.raises(HybridlabError, match="unknown interval method 'wide'; registered: spread, gaussian"):
        interval_method("wide")
    with pytest.raises(HybridlabError, match="unknown sample source 'normalised'; registered: members"):
        sample_source("normalised")  # an interval method is not a source
    with pytest.raises(HybridlabError, match="registered twice"):
        UNCERTAINTY.register(interval_method("spread"))
    with pytest.raises(HybridlabError, match="must be a UncertaintySpec"):
        UNCERTAINTY.register("spread")


def test_a_registered_method_is_used_by_name():
    registry = Registry("interval method", IntervalMethod)
    half_width = IntervalMethod(name="fixed", description="±1", rank=9,
                                bounds=lambda p, level, noise, q: (p.centre - 1, p.centre + 1))
    registry.register(half_width)
    predictive = Predictive(np.array([0.0, 2.0]), np.array([[0.0, 2.0]]))
    lower, upper = registry.get("fixed").bounds(predictive, 0.9, 0.0, np.nan)
    assert lower.tolist() == [-1.0, 1.0] and upper.tolist() == [1.0, 3.0]
    conformal_lower, _ = bounds("conformal", predictive, 0.9, 0.0, 0.5)
    assert conformal_lower.tolist() == [-0.5, 1.5]


def test_data_sources_are_one_registry_of_builtin_sets_and_file_kinds(tmp_path):
    from core.datasets import DATA_SOURCES, builtin_names, default_sites, load_data, sources

    assert builtin_names() == ["lucas-synthetic", "respiration-synthetic", "swrc-synthetic"]
    assert [s.name for s in sources("file")] == ["table"]
    assert default_sites("lucas-synthetic") == 16_743 and default_sites("my.csv") == 0
    assert DATA_SOURCES.get("swrc-synthetic").columns["theta"][0] == "m³ m⁻³"
    with pytest.raises(HybridlabError, match="unknown data 'lucas'; built-in: lucas-synthetic"):
        load_data("lucas")
    path = tmp_path / "sites.csv"
    load_data("respiration-synthetic", n=3).frame.to_csv(path, index=False)
    data = load_data(str(path), columns={"id": "site_id", "predictors": ["clay"], "forcing": {"temp": "temp"},
                                         "targets": {"reco": "reco"}})
    assert len(data.frame) == len(load_data("respiration-synthetic", n=3).frame)


def test_surveys_grids_and_truth_sets_are_sources_of_the_same_registry(tmp_path):
    import numpy as np
    import pandas as pd

    from core.datasets import DATA_SOURCES, DataSourceSpec, sources
    from core.datasets.grids import grid_kind, open_grid
    from core.datasets.surveys import assemble_lucas

    assert [s.name for s in sources("survey")] == ["fluxnet", "fractions", "limesoda", "lucas", "retention"]
    assert DATA_SOURCES.get("lucas").load is assemble_lucas
    assert [s.name for s in sources("grid")] == ["geotiff-grid", "netcdf-grid", "zarr-grid", "table-grid"]
    assert [s.name for s in sources("truth")] == ["other-covariates", "constant-forcing", "sparse-moc"]
    table, columns = DATA_SOURCES.get("sparse-moc").load(n=300, seed=1)
    assert len(table) == 300 and columns["id"] == "point_id" and table["MAOC_gkg"].notna().mean() < 0.25
    grid = tmp_path / "g.csv"
    pd.DataFrame({"x": np.tile([0.0, 1.0], 2), "y": np.repeat([5.0, 6.0], 2), "clay": [1.0, 2, 3, 4]}).to_csv(grid, index=False)
    assert grid_kind(grid) == "table" and open_grid(grid)["clay"].shape == (2, 2)
    with pytest.raises(HybridlabError, match=r"unknown grid type '\.asc'; use \.tif, \.tiff, \.nc"):
        grid_kind(tmp_path / "g.asc")
    # a new grid format is one spec: the map reads it by its suffix
    ascii_grid = DataSourceSpec(name="ascii-grid", kind="grid", description="test", suffixes=(".asc",),
                                load=lambda path, max_pixels: open_grid(grid), matches=lambda p: p.endswith(".asc"))
    DATA_SOURCES.register(ascii_grid)
    try:
        (tmp_path / "g.asc").write_text("x")
        assert grid_kind(tmp_path / "g.asc") == "ascii" and "clay" in open_grid(tmp_path / "g.asc")
    finally:
        DATA_SOURCES._specs.pop("ascii-grid")
