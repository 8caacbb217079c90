"""deploy/dagster.yaml as Dagster loads it, on a real PostgreSQL server: storage, run queue limits
that keep the round ahead of training, run retries, and no secret in the file."""

from __future__ import annotations

import os
import re
from pathlib import Path
from unittest import mock

import yaml

from numerai_assets.definitions import defs
from numerai_assets.jobs import WORKLOAD_TAG
from numerai_assets_tests.deploy.conftest import DEPLOY_YAML


def limits() -> dict[tuple[str, str | None], int]:
    runs = yaml.safe_load(DEPLOY_YAML.read_text())["concurrency"]["runs"]
    return {(t["key"], t.get("value")): t["limit"] for t in runs["tag_concurrency_limits"]}


def test_instance_runs_on_postgres_with_queue_and_retries(pg_dagster_home: tuple[Path, dict[str, str]]):
    from dagster import DagsterInstance
    from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

    home, env = pg_dagster_home
    with mock.patch.dict(os.environ, env, clear=True), DagsterInstance.get() as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 2
        assert not instance.run_retries_retry_on_asset_or_op_failure
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 4
        assert instance.get_runs() == []  # its own, empty database: it really is the test server


def test_round_run_never_waits_behind_training():
    """Training runs are capped below the run limit by at least the round's own limit, and the
    round job's tags are the ones the queue limits name (taken from the code, not retyped)."""
    config = yaml.safe_load(DEPLOY_YAML.read_text())["concurrency"]["runs"]
    training_job, round_job = defs.resolve_job_def("training_job"), defs.resolve_job_def("live_round_job")
    training = limits()[(WORKLOAD_TAG, training_job.tags[WORKLOAD_TAG])]
    backfills = limits()[("dagster/backfill", None)]
    own = limits()[(WORKLOAD_TAG, round_job.tags[WORKLOAD_TAG])]
    assert training + backfills + own <= config["max_concurrent_runs"]
    assert int(round_job.tags["dagster/priority"]) > int(training_job.tags.get("dagster/priority", "0"))


def test_secrets_and_hosts_come_from_the_environment():
    db = yaml.safe_load(DEPLOY_YAML.read_text())["storage"]["postgres"]["postgres_db"]
    assert all(set(value) == {"env"} for key, value in db.items() if key != "scheme"), db
    assert not re.search(r"password:\s*[^\n{]*\w", DEPLOY_YAML.read_text().replace("password:\n", ""))
