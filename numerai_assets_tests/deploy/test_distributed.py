"""The roster backfill over two Celery workers on two test hosts (network namespaces), with the
production instance on PostgreSQL and the stores in S3, while the live round runs on time.

1. Single host: the main job (`python -m numerai_assets run`) trains the roster in process on the
   orchestrating host: the reference artifacts, champions, and round 1 submitted.
2. Cluster: `dagster dev` on the same instance launches the roster backfill as the UI does; the
   daemon runs it with the Celery executor, so every step runs on a worker in a namespace. While
   it runs, round 2 opens: the sensor's round run (in process on the orchestrating host, its own
   queue limit and priority) submits both slots before staking closes.
Asserted from the instance (Postgres), the object store and the tournament's own records.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import pytest

from numerai_assets.dev_server import DagsterDev
from numerai_assets.tournament.server import TournamentServer
from numerai_assets_tests.deploy.conftest import REPO, require_deploy_extras
from numerai_assets_tests.deploy.netns import unavailable
from numerai_assets_tests.deploy.services import missing_binaries
from numerai_assets_tests.platform import TINY_ROSTER

pytestmark = pytest.mark.slow
SLOTS = ["demo_slot_a", "demo_slot_b"]
STEPS = ("trained_model", "validation_predictions")


def require_cluster() -> None:
    require_deploy_extras()
    why = unavailable() or (f"{missing_binaries()} not installed" if missing_binaries() else None)
    if why:
        pytest.skip(f"{why} (.ci/run installs postgresql, redis-server and iproute2 and runs as root)")


def main_job(env: dict[str, str], log: Path) -> None:
    """The single-host reference: the main job runs its jobs with their own executors, so the
    Celery executor is switched off for it (no worker is up yet)."""
    proc = subprocess.run(
        [sys.executable, "-m", "numerai_assets", "run", "--min-sharpe", "-100"],
        env={**env, "NUMERAI_ASSETS_EXECUTOR": "multiprocess"},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    log.write_text(proc.stdout + proc.stderr)
    assert proc.returncode == 0 and "main job succeeded" in proc.stdout, (proc.stdout + proc.stderr)[-6000:]


def materializations(instance, asset: str) -> dict[str, dict]:
    """The newest materialization's metadata of each partition of ``asset``."""
    from dagster import AssetKey

    records = instance.fetch_materializations(AssetKey(asset), limit=1000).records
    latest: dict[str, dict] = {}
    for record in sorted(records, key=lambda r: r.storage_id):
        mat = record.asset_materialization
        latest[mat.partition] = {k: v.value for k, v in mat.metadata.items()} | {"run_id": record.run_id}
    return latest


def celery_workers_by_step(instance, run_ids: list[str]) -> dict[tuple[str, str], str]:
    """(run id, step key) -> the Celery worker that executed it, from dagster-celery's engine event."""
    from dagster import DagsterEventType

    placed = {}
    for run_id in run_ids:
        for record in instance.all_logs(run_id, of_type=DagsterEventType.ENGINE_EVENT):
            data = record.dagster_event.engine_event_data
            if data and "Celery worker" in data.metadata:
                placed[(run_id, record.step_key)] = data.metadata["Celery worker"].value
    return placed


def _t(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def predictions_objects(env: dict[str, str], by_asset: dict[str, dict], keys: list[str]) -> dict[str, dict]:
    """S3's record (ETag, LastModified) of each partition's validation predictions object."""
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name=env["AWS_DEFAULT_REGION"],
    )
    found = {}
    for key in keys:
        bucket, _, name = by_asset["validation_predictions"][key]["uri"].removeprefix("s3://").partition("/")
        found[key] = s3.head_object(Bucket=bucket, Key=name)
    return found


def test_roster_backfill_on_two_celery_workers_while_the_round_submits_on_time(tournament_root: Path, tmp_path: Path):
    require_cluster()
    from numerai_assets_tests.deploy.cluster import cluster

    roster = tmp_path / "roster.yaml"
    roster.write_text(TINY_ROSTER)
    with TournamentServer(tournament_root) as server, cluster(tmp_path / "c", 2, roster, server.url) as c:
        host_env = c.host_env("orchestrator")
        server.open_round(staking_window_s=3600)
        main_job(host_env, tmp_path / "main_job.log")  # 1. single host

        with mock.patch.dict(os.environ, host_env, clear=True):
            from dagster import DagsterInstance

            with DagsterInstance.get() as instance:
                reference = {a: materializations(instance, a) for a in STEPS}
        keys = sorted(reference["trained_model"])
        assert len(keys) == 4
        before = predictions_objects(host_env, reference, keys)

        workers = c.start_workers(2)  # 2. cluster
        with DagsterDev(host_env, log=tmp_path / "dagster_dev.log") as dev:
            backfill_id = dev.launch_backfill(list(STEPS), keys, title="roster backfill")
            deadline = time.monotonic() + 120
            while not dev.runs({"dagster/backfill": backfill_id}) and time.monotonic() < deadline:
                time.sleep(0.5)
            opened = server.advance(staking_window_s=600)  # round 2 opens while the backfill runs
            backfill = dev.wait_for_backfill(backfill_id, timeout_s=600)
            round_run = dev.wait_for_run({"numerai/round": str(opened.number)}, timeout_s=300)
            backfill_runs = dev.runs({"dagster/backfill": backfill_id})
        assert backfill["status"] in {"COMPLETED", "COMPLETED_SUCCESS"}, (tmp_path / "dagster_dev.log").read_text()[
            -4000:
        ]
        assert round_run["status"] == "SUCCESS"

        # the sensor requested the round's run while the backfill ran, and it submitted both slots
        # before staking closed. (Its start is not compared with the backfill's end: on 2 busy
        # cores a run worker's start-up varies by seconds, and a 4-run backfill can end first.)
        assert round_run["creationTime"] < max(r["endTime"] for r in backfill_runs)
        by_slot = {sub.model_name: sub for sub in server.state.submissions(round_number=opened.number)}
        assert sorted(by_slot) == SLOTS
        assert all(not sub.late and _t(sub.inserted_at) < _t(opened.close_staking_time) for sub in by_slot.values())

        with mock.patch.dict(os.environ, host_env, clear=True):
            with DagsterInstance.get() as instance:
                distributed = {a: materializations(instance, a) for a in STEPS}
                placed = celery_workers_by_step(instance, [r["runId"] for r in backfill_runs])

        # every partition's steps ran on a worker in a namespace, and both workers took steps
        for key in keys:
            for step in STEPS:
                run_id = distributed[step][key]["run_id"]
                assert run_id in {r["runId"] for r in backfill_runs}, (step, key)
                assert placed.get((run_id, step), "").split("@")[0] in workers, (step, key, placed)
        assert {w.split("@")[0] for w in placed.values()} == set(workers)

        # byte-identical to the single-host run: same model bytes, same predictions object
        for key in keys:
            assert distributed["trained_model"][key]["model_sha256"] == reference["trained_model"][key]["model_sha256"]
        after = predictions_objects(host_env, distributed, keys)
        for key in keys:
            assert after[key]["ETag"] == before[key]["ETag"], key  # the same bytes (S3's MD5) ...
            assert after[key]["LastModified"] > before[key]["LastModified"], key  # ... written again
        assert host_env["NUMERAI_ASSETS_CELERY_BROKER"].split("@")[0] not in (tmp_path / "dagster_dev.log").read_text()
