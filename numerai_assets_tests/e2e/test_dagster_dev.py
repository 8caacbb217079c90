"""End to end through the real stack: ``dagster dev`` (webserver + daemon) and the local tournament.

The roster is trained by one asset backfill launched through the webserver's GraphQL API (what the
UI's "Materialize" dialog sends) and run by the daemon; the sensor notices each round by itself;
everything is asserted through the GraphQL API, the instance and the tournament's own records.
Every process started here is stopped in a ``finally``.
"""

import os
import shutil
import time

import dagster as dg
import pytest
from dagster_graphql import DagsterGraphQLClient

from numerai_assets.core.training.roster import load_roster
from numerai_assets.definitions import build_definitions
from numerai_assets.dev_server import DagsterDev
from numerai_assets.partitions import model_seed_keys
from numerai_assets.settings import Settings
from numerai_assets.tournament.server import TournamentServer
from numerai_assets_tests.alert_receiver import TOKEN
from numerai_assets_tests.platform import LENIENT, TINY_ROSTER, install_broken_champion

pytestmark = pytest.mark.slow
SLOTS = {"demo_slot_a", "demo_slot_b"}


def prepare(home, server, dataset_version):
    """The data in the instance and store that dagster dev will use."""
    (home / "roster.yaml").write_text(TINY_ROSTER)
    roster = load_roster(home / "roster.yaml")
    settings = Settings(
        mode="local", home=home, api_url=server.url, dataset_version=dataset_version, tracking_mode="disabled"
    )
    defs = build_definitions(settings, roster, policy=LENIENT)
    with dg.DagsterInstance.from_config(str(home / "dagster")) as inst:
        assert defs.resolve_job_def("data_job").execute_in_process(instance=inst).success
    return roster, settings, defs


def train_roster_as_backfill(dev, roster, home):
    """Every (model x seed) partition in one backfill, launched as the UI launches it."""
    keys = [str(k) for k in model_seed_keys(roster)]
    backfill_id = dev.launch_backfill(["trained_model", "validation_predictions"], keys, title="roster sweep")
    backfill = dev.wait_for_backfill(backfill_id)
    assert backfill["status"] in {"COMPLETED", "COMPLETED_SUCCESS"}, backfill
    assert backfill["numPartitions"] == len(keys)
    with dg.DagsterInstance.from_config(str(home / "dagster")) as inst:
        for asset in ("trained_model", "validation_predictions"):
            assert inst.get_materialized_partitions(dg.AssetKey(asset)) == set(keys), asset


def evaluate(roster, defs, home):
    """Champions: the evaluation job per model, in process with the lenient test policy."""
    with dg.DagsterInstance.from_config(str(home / "dagster")) as inst:
        for model in roster.names:
            job = defs.resolve_job_def("evaluation_job")
            assert job.execute_in_process(instance=inst, partition_key=model).success, model


def submissions_by_slot(server, round_number):
    by_slot = {}
    for sub in server.state.submissions(round_number=round_number):
        by_slot.setdefault(sub.model_name, []).append(sub.sha256)
    return by_slot


def checks_of(dev, run_id):
    return {
        ("/".join(e["evaluation"]["assetKey"]["path"]), e["evaluation"]["checkName"]): e["evaluation"]
        for e in dev.events(run_id)
        if e["__typename"] == "AssetCheckEvaluationEvent"
    }


def wait_for_alerts(receiver, title: str, timeout_s: float = 150.0) -> list[dict]:
    """The alerts with ``title`` once one arrived (the daemon ticks run-status sensors ~every 30 s)."""
    deadline = time.monotonic() + timeout_s
    while not receiver.messages(title) and time.monotonic() < deadline:
        time.sleep(1.0)
    time.sleep(2.0)  # a duplicate would arrive on a later tick: give it the chance to show
    return receiver.messages(title)


def test_roster_backfills_then_rounds_are_noticed_gated_and_submitted_once_per_slot(
    tournament_template, dataset_version, tmp_path, receiver
):
    home = tmp_path / "home"
    shutil.copytree(tournament_template, home / "tournament")
    (home / "dagster").mkdir(parents=True)
    (home / "dagster" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    with TournamentServer(home / "tournament") as server:
        roster, settings, defs = prepare(home, server, dataset_version)
        env = {
            **os.environ,
            "DAGSTER_HOME": str(home / "dagster"),
            "NUMERAI_ASSETS_HOME": str(home),
            "NUMERAI_ASSETS_TOURNAMENT_URL": server.url,
            "NUMERAI_ASSETS_ROSTER": str(home / "roster.yaml"),
            "NUMERAI_ASSETS_ROUND_POLL_S": "2",
            "NUMERAI_ASSETS_TRACKING": "disabled",
            "GX_ANALYTICS_ENABLED": "false",
            "NUMERAI_ASSETS_DATASET_VERSION": dataset_version,
            "NUMERAI_ASSETS_NOTIFY": receiver.url,  # alerts to a real HTTP receiver on 127.0.0.1
        }
        env.pop("NUMERAI_ASSETS_MODE", None)
        with DagsterDev(env, log=tmp_path / "dagster_dev.log") as dev:
            train_roster_as_backfill(dev, roster, home)
            evaluate(roster, defs, home)
            for number in (1, 2):
                server.advance()
                run = dev.wait_for_run({"numerai/round": str(number)})
                tags = {t["key"]: t["value"] for t in run["tags"]}
                assert tags.get("dagster/sensor_name") == "round_open_sensor", tags  # the sensor fired
                assert run["status"] == "SUCCESS", (tmp_path / "dagster_dev.log").read_text()[-3000:]
                checks = checks_of(dev, run["runId"])
                gates = {k: v for k, v in checks.items() if k[0].endswith("live_predictions")}
                assert len(gates) == 18 and all(g["success"] for g in gates.values())
                assert {s: len(v) for s, v in submissions_by_slot(server, number).items()} == {s: 1 for s in SLOTS}

            # re-execute round 1 (as a user would from the UI): nothing is uploaded twice
            before = submissions_by_slot(server, 1)
            client = DagsterGraphQLClient("127.0.0.1", port_number=dev.port)
            run_id = client.submit_job_execution("live_round_job", tags={"dagster/partition": "1"})
            assert dev.wait_for_run(run_id=run_id)["status"] == "SUCCESS"
            assert submissions_by_slot(server, 1) == before

            # a broken champion in slot b: its gates stop it, slot a still submits
            install_broken_champion(
                roster,
                "xgb_tiny",
                defs.resources["model_store"],
                settings.store_dir,
                settings.data_dir / "datasets" / dataset_version / "train.parquet",
                tmp_path / "broken",
            )
            server.advance()
            run = dev.wait_for_run({"numerai/round": "3"})
            assert run["status"] == "FAILURE"
            failed = {k for k, v in checks_of(dev, run["runId"]).items() if not v["success"]}
            assert ("demo_slot_b/demo_slot_b_live_predictions", "std_above_floor") in failed
            assert not any(k[0].startswith("demo_slot_a") for k in failed)
            assert set(submissions_by_slot(server, 3)) == {"demo_slot_a"}

            # the daemon's run-failure sensor sends the gated round's failure once, naming the slot
            [alert] = wait_for_alerts(receiver, "Run failed: live_round_job (round 3)")
            assert "demo_slot_b" in alert["message"] and "std_above_floor" in alert["message"], alert
        assert not receiver.messages("Run failed: live_round_job (round 1)")  # the successful rounds: none
        assert TOKEN not in (tmp_path / "dagster_dev.log").read_text()
