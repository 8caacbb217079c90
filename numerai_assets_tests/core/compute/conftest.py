"""Tiny trained champions (real LightGBM and XGBoost seeds) and a live round, shared by the compute tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from numerai_assets.core.data.dataset import FeatureSets
from numerai_assets.core.training.roster import ModelSpec


def train_tiny(engine: str, seed: int, root: Path, version: str, out: Path, feature_set: str = "medium") -> Path:
    """One real seed: 20 shallow rounds (seconds)."""
    from numerai_assets.core.training.train import train_model

    features = list(FeatureSets.from_json_file(root / version / "features.json").sets[feature_set])
    params = {"learning_rate": 0.05, "max_depth": 2, "colsample_bytree": 1.0}
    params |= {"num_leaves": 4, "min_data_in_leaf": 100} if engine == "lightgbm" else {"min_child_weight": 20}
    spec = ModelSpec(
        name=f"c_{engine}",
        engine=engine,
        slot="s",
        seeds=(seed,),
        num_boost_round=20,
        feature_set=feature_set,
        params=params,
    )
    trained = train_model(
        spec,
        seed,
        str(root / version / "train.parquet"),
        features,
        out,
        log=lambda _: None,
        threads=1,
        dataset_version=version,
    )
    return Path(trained.model_path)


@pytest.fixture(scope="session")
def champions(tournament_template: Path, dataset_version: str, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """{model: [seed model files]}: two LightGBM seeds and one XGBoost seed, 20 rounds each."""
    out = tmp_path_factory.mktemp("compute_models")
    return {
        "c_lightgbm": [train_tiny("lightgbm", s, tournament_template, dataset_version, out / f"l{s}") for s in (0, 1)],
        "c_xgboost": [train_tiny("xgboost", 0, tournament_template, dataset_version, out / "x0")],
    }


@pytest.fixture(scope="session")
def live_round(tournament_template: Path, dataset_version: str, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Round 1's live files, generated into a copy of the template."""
    import shutil

    from numerai_assets.tournament.generator import generate_live_round

    root = tmp_path_factory.mktemp("compute_live") / "t"
    shutil.copytree(tournament_template, root)
    generate_live_round(root, 1)
    folder = root / "rounds" / "1" / dataset_version
    feature_sets = FeatureSets.from_json_file(root / dataset_version / "features.json")
    return {
        "live": folder / "live.parquet",
        "benchmark": folder / "live_benchmark_models.parquet",
        "small": list(feature_sets.sets["small"]),
    }


@pytest.fixture(scope="session")
def sandbox_env():
    """The image's venv (see sandbox_env.py): real Python 3.12 and Numerai's pinned libraries."""
    from numerai_assets_tests.core.compute.sandbox_env import shared_env

    return shared_env()
