"""The one place that wires Definitions: assets, checks, jobs, sensors, resources, executor.

Nothing heavy is imported here (no lightgbm, xgboost, wandb or great_expectations): every
Dagster step subprocess imports this module, and those imports cost seconds each.
"""

import warnings

from dagster import (
    Definitions,
    EnvVar,
)

from numerai_assets.assets.compute import build_compute_assets
from numerai_assets.assets.data import (
    dataset_assets,
    feature_sets,
    live_data,
    train_feature_distribution,
)
from numerai_assets.assets.evaluation import benchmark_alignment, build_evaluation_assets
from numerai_assets.assets.live import build_slot_assets
from numerai_assets.assets.scores import build_score_assets
from numerai_assets.assets.training import build_model_assets
from numerai_assets.checks.data_contracts import dataset_contract_checks
from numerai_assets.core.data.dataset import FeatureSets
from numerai_assets.core.training.roster import Roster, load_roster
from numerai_assets.jobs import StageAssets, build_jobs
from numerai_assets.partitions import model_partitions, model_seed_partitions
from numerai_assets.resources.compute import ComputeResource
from numerai_assets.resources.deploy import io_managers, local_executor, model_store, training_executor
from numerai_assets.resources.notify import NotifyResource
from numerai_assets.resources.numerai import NumeraiResource
from numerai_assets.resources.policy import EvaluationPolicy, GatePolicy, RetrainPolicy
from numerai_assets.resources.store import LocalDataStore
from numerai_assets.resources.submissions import SubmissionsResource
from numerai_assets.resources.tracking import WandbTrackingResource
from numerai_assets.sensors.alerts import build_alert_sensors
from numerai_assets.sensors.data import build_data_refresh_sensor
from numerai_assets.sensors.retrain import build_retrain_sensor
from numerai_assets.sensors.rounds import build_round_open_sensor
from numerai_assets.sensors.scores import build_live_scores_sensor
from numerai_assets.settings import ENV_NOTIFY, ENV_PUBLIC_ID, ENV_SECRET_KEY, ENV_WANDB_API_KEY, Settings


def build_resources(settings: Settings) -> dict[str, object]:
    """Resources per deployment mode: the embedded local tournament, or real Numerai."""
    if settings.mode == "numerai":
        numerai = NumeraiResource(
            mode="numerai",
            api_url=settings.api_url,
            dataset_version=settings.dataset_version,
            public_id=EnvVar(ENV_PUBLIC_ID),
            secret_key=EnvVar(ENV_SECRET_KEY),
        )
    else:
        numerai = NumeraiResource(
            mode="local",
            api_url=settings.api_url,
            dataset_version=settings.dataset_version,
            local_tournament_dir=str(settings.tournament_dir),
        )
    return {
        "numerai": numerai,
        "store": LocalDataStore(root=str(settings.data_dir)),
        "model_store": model_store(settings),
        "policy": EvaluationPolicy(),
        "gate_policy": GatePolicy(),
        "retrain_policy": RetrainPolicy(),
        "submissions": SubmissionsResource(
            ledger_path=str(settings.store_dir / "ledger.sqlite"),
            dry_run=settings.dry_run,
            late_policy=settings.late_policy,
        ),
        "compute": ComputeResource(),  # sandboxes under $NUMERAI_ASSETS_HOME/sandboxes (or the cache env)
        "tracking": WandbTrackingResource(
            mode=settings.tracking_mode,
            directory=str(settings.home / "wandb"),
            api_key=EnvVar(ENV_WANDB_API_KEY) if settings.wandb_key_set else None,
        ),
        # alerts: off unless NUMERAI_ASSETS_NOTIFY is set; its URLs hold tokens, so only EnvVar reads them
        "notify": NotifyResource(
            urls=EnvVar(ENV_NOTIFY) if settings.notify_set else None, outbox_path=str(settings.outbox_path)
        ),
    } | io_managers(settings)


def stored_feature_sets(settings: Settings) -> FeatureSets | None:
    """The configured version's features.json when the data store has it (after a data_job).

    The roster is then checked against it at load, so an unknown feature set or target fails
    now, naming the model and field, rather than hours into training. An unreadable file only
    warns: definitions must still load so the data_job that rewrites it can run.
    """
    path = LocalDataStore(root=str(settings.data_dir)).dataset_path(settings.dataset_version, "features.json")
    if not path.exists():
        return None
    try:
        return FeatureSets.from_json_file(path)
    except (OSError, ValueError) as exc:
        warnings.warn(f"{path} is unreadable ({exc}); the roster is not checked against it", stacklevel=2)
        return None


def build_definitions(
    settings: Settings,
    roster: Roster | None = None,
    policy: EvaluationPolicy | None = None,
    compute: ComputeResource | None = None,
) -> Definitions:
    roster = roster or load_roster(settings.roster_path, feature_sets=stored_feature_sets(settings))
    resources = build_resources(settings) | ({"policy": policy} if policy is not None else {})
    resources |= {"compute": compute} if compute is not None else {}
    model_seed_pdef, model_pdef = model_seed_partitions(roster), model_partitions(roster)
    stages = StageAssets(
        training=build_model_assets(roster, model_seed_pdef),
        evaluation=build_evaluation_assets(roster, model_seed_pdef, model_pdef),
        # compute-mode slots are run by Numerai from the uploaded pickle: no round-run assets
        slots=build_slot_assets(roster.only_mode("submit")),
        compute=build_compute_assets(roster, settings.dataset_version),
        score_slots=list(roster.slots),
    )
    jobs = build_jobs(stages, model_seed_pdef, model_pdef)
    return Definitions(
        assets=[
            *dataset_assets,
            feature_sets,
            live_data,
            train_feature_distribution,
            benchmark_alignment,
            *stages.training,
            *stages.evaluation,
            *stages.slots,
            *stages.compute,
            *build_score_assets(roster),
        ],
        asset_checks=dataset_contract_checks,
        jobs=jobs.all(),
        sensors=[
            build_round_open_sensor(jobs.live_round, settings, list(roster.slots_in_mode("submit"))),
            build_live_scores_sensor(jobs.live_scores, jobs.live_monitoring, settings, list(roster.slots)),
            build_data_refresh_sensor(jobs.data, settings, list(roster.slots_in_mode("submit"))),
            build_retrain_sensor(jobs.training, jobs.evaluation, settings, roster),
            *build_alert_sensors(settings, list(roster.slots)),
        ],
        resources=resources,
        # With NUMERAI_ASSETS_EXECUTOR, every run but the round's (backfills too) uses that executor.
        executor=training_executor(settings) or local_executor(settings),
    )


defs = build_definitions(Settings.from_env())
