"""The one place that wires Definitions: assets, checks, jobs, resources and the executor.

Nothing heavy is imported here (no lightgbm, xgboost, wandb or great_expectations): every
Dagster step subprocess imports this module, and those imports cost seconds each.
"""
from __future__ import annotations

from dagster import (
    AssetSelection,
    Definitions,
    EnvVar,
    define_asset_job,
    multiprocess_executor,
)

from numerai_assets.assets.data import dataset_assets, feature_sets, live_data
from numerai_assets.checks.data_contracts import dataset_contract_checks
from numerai_assets.partitions import rounds_partitions
from numerai_assets.resources.numerai import NumeraiResource
from numerai_assets.resources.store import LocalDataStore
from numerai_assets.sensors import build_round_open_sensor
from numerai_assets.settings import ENV_PUBLIC_ID, ENV_SECRET_KEY, Settings

data_job = define_asset_job(
    "data_job",
    selection=AssetSelection.groups("data") - AssetSelection.assets(live_data),
    description="Download every dataset file of the configured version and check its contract.",
)
live_round_job = define_asset_job(
    "live_round_job",
    selection=AssetSelection.assets(live_data),
    partitions_def=rounds_partitions,
    description="Everything one tournament round needs, from its live data on.",
)


def build_resources(settings: Settings) -> dict[str, object]:
    """Resources per deployment mode: the embedded local tournament, or real Numerai."""
    if settings.mode == "numerai":
        numerai = NumeraiResource(
            mode="numerai",
            api_url=settings.api_url,
            public_id=EnvVar(ENV_PUBLIC_ID),
            secret_key=EnvVar(ENV_SECRET_KEY),
            dataset_version=settings.dataset_version,
        )
    else:
        numerai = NumeraiResource(
            mode="local", api_url=settings.api_url, dataset_version=settings.dataset_version
        )
    return {"numerai": numerai, "store": LocalDataStore(root=str(settings.data_dir))}


def build_definitions(settings: Settings) -> Definitions:
    return Definitions(
        assets=[*dataset_assets, feature_sets, live_data],
        asset_checks=dataset_contract_checks,
        jobs=[data_job, live_round_job],
        sensors=[build_round_open_sensor(live_round_job, settings)],
        resources=build_resources(settings),
        # Two cores: two steps at a time; each step subprocess pays the import cost once.
        executor=multiprocess_executor.configured({"max_concurrent": 2}),
    )


defs = build_definitions(Settings.from_env())
