"""Postprocessing: per-era ranks in (0, 1), ensembles, neutralization; validation == live."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numerai_tools import scoring as nt

from numerai_assets.core.evaluation.postprocess import ensemble, neutralize, rank_per_era
from numerai_assets.core.evaluation.scoring import per_era_scores


@pytest.fixture
def era_data() -> dict:
    rng = np.random.default_rng(0)
    n = 600
    ids = pd.Index([f"n{v:012x}" for v in rng.choice(16**9, n, replace=False)], name="id")
    eras = pd.Series(rng.choice(["0001", "0002", "0003"], n), index=ids, name="era")
    features = pd.DataFrame(rng.integers(0, 5, (n, 8)), index=ids, columns=[f"feature_{i}" for i in range(8)]).astype(
        np.int8
    )
    exposed = features.to_numpy()[:, :3].sum(axis=1) + rng.normal(size=n)
    seeds = pd.DataFrame(
        {f"seed_{s}": np.round(exposed + rng.normal(size=n) * (s + 1), 1) for s in range(3)}, index=ids
    )
    target = pd.Series(rng.integers(0, 5, n) / 4, index=ids, name="target")
    return {"eras": eras, "features": features, "seeds": seeds, "target": target}


def test_rank_per_era_is_numerai_tools_tie_kept_rank(era_data: dict) -> None:
    preds = era_data["seeds"]["seed_0"]
    ranked = rank_per_era(preds, era_data["eras"])
    assert ranked.index.equals(preds.index) and ((ranked > 0) & (ranked < 1)).all()
    for _era, ids in preds.groupby(era_data["eras"]).groups.items():
        expected = nt.tie_kept_rank(preds.loc[ids].sort_index())
        pd.testing.assert_series_equal(ranked.loc[expected.index], expected, check_names=False)


def test_rank_per_era_refuses_nan(era_data: dict) -> None:
    preds = era_data["seeds"]["seed_0"].copy()
    preds.iloc[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        rank_per_era(preds, era_data["eras"])


def test_ensemble_equals_manual_computation(era_data: dict) -> None:
    seeds, eras = era_data["seeds"], era_data["eras"]
    out = ensemble(seeds, eras)
    manual = []
    for _, ids in seeds.groupby(eras).groups.items():
        part = seeds.loc[ids]
        mean_rank = ((part.rank() - 0.5) / len(part)).mean(axis=1)
        manual.append((mean_rank.rank() - 0.5) / len(part))
    manual = pd.concat(manual).loc[seeds.index]
    np.testing.assert_allclose(out.to_numpy(), manual.to_numpy(), rtol=0, atol=1e-12)
    assert out.name == "prediction" and ((out > 0) & (out < 1)).all()


def test_live_single_era_same_inputs_same_outputs(era_data: dict) -> None:
    seeds = era_data["seeds"]
    live_eras = pd.Series("X", index=seeds.index)
    first = ensemble(seeds, live_eras)
    again = ensemble(seeds.sample(frac=1.0, random_state=1), live_eras)  # order must not matter
    pd.testing.assert_series_equal(first, again.loc[first.index])
    assert ((first > 0) & (first < 1)).all()
    neutral = neutralize(first, era_data["features"], 0.5, live_eras)
    assert ((neutral > 0) & (neutral < 1)).all()
    pd.testing.assert_series_equal(neutral, neutralize(first, era_data["features"], 0.5, live_eras))


def test_neutralization_reduces_feature_exposure(era_data: dict) -> None:
    preds = era_data["seeds"]["seed_0"]
    eras, features, target = era_data["eras"], era_data["features"], era_data["target"]
    exposure = {}
    for proportion in (0.0, 0.5, 1.0):
        neutral = neutralize(preds, features, proportion, eras)
        assert ((neutral > 0) & (neutral < 1)).all()
        scores = per_era_scores(neutral, eras, target, features=features, fnc_features=[])
        exposure[proportion] = scores["feature_exposure"].mean()
    assert exposure[1.0] < exposure[0.5] < exposure[0.0]
    assert exposure[1.0] < 0.1 < exposure[0.0]
    pd.testing.assert_series_equal(neutralize(preds, features, 0.0, eras), rank_per_era(preds, eras))


def test_neutralize_validates_inputs(era_data: dict) -> None:
    preds, eras, features = era_data["seeds"]["seed_0"], era_data["eras"], era_data["features"]
    with pytest.raises(ValueError, match="proportion"):
        neutralize(preds, features, 1.5, eras)
    with pytest.raises(ValueError, match="features missing"):
        neutralize(preds, features.iloc[10:], 1.0, eras)
