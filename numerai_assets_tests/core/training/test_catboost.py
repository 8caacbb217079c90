"""CatBoost, the third engine, on the tiny tournament: seeds, the shared predict path against
CatBoost's own predict, nothing written to the working directory, its roster rules, and the memory
budget that refuses a too-large matrix before reading it."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import catboost as cb  # noqa: E402  (after numerai_assets...training, which sets OMP_WAIT_POLICY)
import numpy as np
import pandas as pd
import pytest

from numerai_assets.core.data.batches import FeatureMatrix
from numerai_assets.core.data.dataset import FeatureSets
from numerai_assets.core.training.engines.catboost import MemoryBudgetError, budget_bytes
from numerai_assets.core.training.roster import ModelSpec, RosterError, parse_roster
from numerai_assets.core.training.train import load_model, predict, train_model

THREADS = 1


@pytest.fixture(scope="module")
def data(tournament_template: Path, dataset_version: str) -> dict:
    v = tournament_template / dataset_version
    return {
        "train": str(v / "train.parquet"),
        "validation": str(v / "validation.parquet"),
        "features": list(FeatureSets.from_json_file(v / "features.json").sets["all"]),
    }


def spec(rounds: int = 30) -> ModelSpec:
    params = {"learning_rate": 0.1, "depth": 3}
    return ModelSpec(name="cb", engine="catboost", slot="s", seeds=(0, 1), num_boost_round=rounds, params=params)


def fit(data: dict, out: Path, seed: int = 0):
    return train_model(spec(), seed, data["train"], data["features"], out, log=lambda _: None, threads=THREADS)


def test_seed_decides_the_model_and_nothing_is_written_to_the_working_directory(
    data: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)  # CatBoost writes catboost_info/ here unless allow_writing_files is off
    first, again, other = fit(data, tmp_path / "a"), fit(data, tmp_path / "b"), fit(data, tmp_path / "c", seed=1)
    assert os.listdir(cwd) == []
    assert first.model_path.name == "cb-seed0.cbm" and other.model_path.name == "cb-seed1.cbm"
    assert first.model_path.read_bytes() == again.model_path.read_bytes()
    assert first.model_path.read_bytes() != other.model_path.read_bytes()
    p0, p1 = (predict(m.model_path, data["validation"]) for m in (first, other))
    assert not np.allclose(p0.to_numpy(), p1.to_numpy())
    assert first.manifest["params"]["random_seed"] == 0 and other.manifest["params"]["random_seed"] == 1
    assert first.manifest["params"]["allow_writing_files"] is False
    assert first.manifest["training"]["rounds"] == 30


def test_predict_path_equals_catboosts_own_predict(data: dict, tmp_path: Path) -> None:
    trained = fit(data, tmp_path)
    predictor = load_model(trained.model_path)  # sha256 checked against the manifest
    assert predictor.engine == "catboost" and predictor.features == data["features"]
    ours = predict(predictor, data["validation"], batch_rows=300)  # the validation / live path, in batches
    frame = pd.read_parquet(data["validation"], columns=data["features"])
    own = cb.CatBoost().load_model(str(trained.model_path)).predict(frame.to_numpy(np.float32))
    assert ours.index.equals(frame.index)
    np.testing.assert_allclose(ours.to_numpy(), own, rtol=1e-12, atol=0)


def test_roster_accepts_catboost_and_rejects_its_round_and_seed_params() -> None:
    model = {"name": "cb1", "engine": "catboost", "slot": "s", "seeds": [0], "num_boost_round": 9}
    roster = parse_roster({"models": [{**model, "params": {"depth": 4, "l2_leaf_reg": 3}}]})
    assert roster.get("cb1").engine == "catboost" and roster.get("cb1").params == {"depth": 4, "l2_leaf_reg": 3}
    for param in ("iterations", "random_seed", "num_boost_round"):
        with pytest.raises(RosterError, match=rf"model 'cb1': field 'params': \['{param}'\] not allowed"):
            parse_roster({"models": [{**model, "params": {param: 5}}]})


def test_matrix_over_the_memory_budget_is_refused_before_any_feature_is_read(
    data: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A spy replaces the feature readers (the only mock here): reading a feature would fail the test."""

    def read(*_args, **_kwargs):
        raise AssertionError("a feature was read before the budget check")

    monkeypatch.setattr(FeatureMatrix, "batches", read)
    monkeypatch.setattr(FeatureMatrix, "take_rows", read)
    tight = replace(spec(), params={**spec().params, "memory_budget_gb": 0.0001})
    with pytest.raises(MemoryBudgetError) as err:
        train_model(tight, 0, data["train"], data["features"], tmp_path, log=lambda _: None, threads=THREADS)
    rows = len(pd.read_parquet(data["train"], columns=["target"]).dropna())
    message = str(err.value)
    assert message.startswith("model 'cb' seed 0: catboost needs about")
    assert f"{rows:,} rows x {len(data['features']):,} features" in message
    assert "budget 0.00 GB (memory_budget_gb)" in message
    assert not list(tmp_path.iterdir())  # no model, no manifest


def test_budget_param_is_ours_and_defaults_to_most_of_the_machine(data: dict, tmp_path: Path) -> None:
    assert budget_bytes({}) == pytest.approx(0.8 * os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    roomy = replace(spec(rounds=3), params={**spec().params, "memory_budget_gb": 64})
    trained = train_model(roomy, 0, data["train"], data["features"], tmp_path, log=lambda _: None, threads=THREADS)
    assert trained.manifest["params"]["memory_budget_gb"] == 64  # recorded, and CatBoost never saw it
