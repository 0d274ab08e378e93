import numpy as np
import pytest

from core.errors import DataError, HybridlabError
from core.training.splits import SplitConfig, split_rows


@pytest.fixture
def groups():
    rng = np.random.default_rng(0)
    return rng.integers(0, 50, 1000)


def test_site_split_keeps_groups_apart_and_is_about_80_20(groups):
    tr, va = split_rows(groups, SplitConfig("site"), seed=1)
    assert set(groups[tr]).isdisjoint(groups[va])
    assert len(tr) + len(va) == len(groups)
    assert len(set(groups[va])) == 10
    tr2, va2 = split_rows(groups, SplitConfig("site"), seed=1)
    assert np.array_equal(va, va2)


def test_temperature_split_validates_on_the_warmest_fifth(groups):
    temp = groups * 0.3 + np.random.default_rng(1).normal(0, 0.1, len(groups))
    tr, va = split_rows(groups, SplitConfig("temperature"), values=temp)
    mean_t = {g: temp[groups == g].mean() for g in np.unique(groups)}
    warm = [mean_t[g] for g in set(groups[va])]
    cold = [mean_t[g] for g in set(groups[tr])]
    assert len(warm) == 10 and min(warm) > max(cold)


def test_kfold_uses_every_group_once_for_validation(groups):
    seen = []
    for fold in range(5):
        tr, va = split_rows(groups, SplitConfig("kfold", folds=5, fold=fold), seed=0)
        assert set(groups[tr]).isdisjoint(groups[va])
        seen += list(set(groups[va]))
    assert sorted(seen) == sorted(set(groups))


def test_bad_split_settings_are_named():
    with pytest.raises(HybridlabError, match="unknown split 'random'"):
        SplitConfig("random")
    with pytest.raises(HybridlabError, match="fold must be in 0..4"):
        SplitConfig("kfold", folds=5, fold=5)
    with pytest.raises(DataError, match="at least 2 sites"):
        split_rows(np.zeros(10), SplitConfig())
