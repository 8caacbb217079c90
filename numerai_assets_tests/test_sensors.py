"""The round-open sensor against the real local tournament server, a real Dagster instance and
the real sqlite ledger. Runs the daemon would launch are recorded in the instance with the
statuses they would end in (no daemon runs in these tests)."""

import dagster as dg
import pytest

from numerai_assets.core.live.ledger import SubmissionLedger
from numerai_assets.definitions import build_definitions
from numerai_assets.settings import Settings
from numerai_assets.tournament.info import load_tournament_info

SLOTS = ("demo_slot_a", "demo_slot_b")


def evaluate(server, tmp_path, instance, cursor=None, **settings_overrides):
    settings = Settings(
        mode="local",
        home=tmp_path,
        api_url=server.url,
        dataset_version=load_tournament_info(server.root).version,
        **settings_overrides,
    )
    defs = build_definitions(settings)
    sensor = defs.resolve_sensor_def("round_open_sensor")
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={k: defs.resources[k] for k in ("numerai", "submissions", "notify")},
    )
    return sensor, sensor(context)


def skipped(result) -> str:
    assert not result.run_requests, result.run_requests
    return result.skip_reason.skip_message


def record_run(instance, number: int, status: dg.DagsterRunStatus, retry: int | None = None):
    """A run of the round as the daemon would have left it (e.g. FAILED after a kill -9)."""
    tags = {"numerai/round": str(number)} | ({"numerai/retry": str(retry)} if retry else {})
    job = dg.GraphDefinition(name="stand_in", node_defs=[]).to_job()
    return instance.create_run_for_job(job, status=status, tags=tags)


def confirm(tmp_path, number: int, slot: str) -> None:
    with SubmissionLedger(tmp_path / "store" / "ledger.sqlite") as ledger:
        entry = ledger.begin(number, slot, "model-id", "ab" * 32, "p.csv", dry_run=False, late=False)
        ledger.update(entry, "confirmed", submission_id="sub-1")


@pytest.fixture
def no_backoff(monkeypatch):
    monkeypatch.setattr("numerai_assets.sensors.rounds.RETRY_BACKOFF_S", 0.0)  # no waiting in tests


def test_new_round_is_requested_once_with_its_partition(open_server, tmp_path):
    with dg.instance_for_test() as instance:
        sensor, result = evaluate(open_server, tmp_path, instance)
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
        number = str(open_server.current_round().number)
        [request] = result.run_requests
        assert request.run_key == f"round-{number}" and request.partition_key == number
        assert request.tags["numerai/late"] == "false"
        # run monitoring fails a round run whose worker died once it passes this (then it is retried)
        assert request.tags[dg.MAX_RUNTIME_SECONDS_TAG] == "3600"
        assert result.dynamic_partitions_requests[0].partition_keys == [number]
        # the daemon applies the partition request and starts the run; build_sensor_context does not
        instance.add_dynamic_partitions("rounds", [number])
        record_run(instance, int(number), dg.DagsterRunStatus.STARTED)
        _, again = evaluate(open_server, tmp_path, instance)
        assert "a run is in progress" in skipped(again)


def test_an_unconfirmed_slot_gets_bounded_retries_of_its_own_assets(open_server, tmp_path, no_backoff):
    """A run killed mid-round (FAILED) with slot b unconfirmed: retried, then reported MISSED."""
    number = open_server.current_round().number
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("rounds", [str(number)])
        record_run(instance, number, dg.DagsterRunStatus.FAILURE)
        confirm(tmp_path, number, "demo_slot_a")
        for attempt in (1, 2, 3):
            _, result = evaluate(open_server, tmp_path, instance)
            [request] = result.run_requests
            assert request.run_key == f"round-{number}-retry-{attempt}"
            assert request.tags["numerai/retry"] == str(attempt) and request.partition_key == str(number)
            assert {k.to_user_string() for k in request.asset_selection} == {
                "live_data",
                "demo_slot_b/demo_slot_b_live_predictions",
                "demo_slot_b/demo_slot_b_submission",
            }
            record_run(instance, number, dg.DagsterRunStatus.FAILURE, retry=attempt)
        _, exhausted = evaluate(open_server, tmp_path, instance)
        message = skipped(exhausted)
        assert f"round {number} MISSED for slots ['demo_slot_b']" in message and "after 3 retry runs" in message
        _, later = evaluate(open_server, tmp_path, instance, cursor=exhausted.cursor)
        assert "MISSED" not in skipped(later)  # reported once


def test_a_round_with_every_slot_confirmed_is_done(open_server, tmp_path, no_backoff):
    number = open_server.current_round().number
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("rounds", [str(number)])
        record_run(instance, number, dg.DagsterRunStatus.FAILURE)  # e.g. failed after both uploads
        for slot in SLOTS:
            confirm(tmp_path, number, slot)
        _, result = evaluate(open_server, tmp_path, instance)
        assert skipped(result) == f"round {number}: every slot confirmed"


def test_a_round_that_closed_unconfirmed_is_reported_missed_once(open_server, tmp_path):
    number = open_server.current_round().number
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("rounds", [str(number)])
        record_run(instance, number, dg.DagsterRunStatus.FAILURE)
        confirm(tmp_path, number, "demo_slot_b")
        open_server.close_round()
        _, result = evaluate(open_server, tmp_path, instance)
        message = skipped(result)
        assert f"round {number} MISSED for slots ['demo_slot_a']" in message and "closed" in message
        _, again = evaluate(open_server, tmp_path, instance, cursor=result.cursor)
        assert skipped(again) == "no open round"


def test_between_rounds_and_closed_windows_skip_with_a_reason(server, tmp_path):
    with dg.instance_for_test() as instance:
        _, result = evaluate(server, tmp_path, instance)
        assert skipped(result) == "no open round"
        server.open_round(staking_window_s=0)  # staking already closed, round still open
        _, skip = evaluate(server, tmp_path, instance, late_policy="skip")
        assert "staking window closed" in skipped(skip)
        _, late = evaluate(server, tmp_path, instance, late_policy="submit")
        assert late.run_requests[0].tags["numerai/late"] == "true"


def test_transport_failure_is_reported_on_the_tick_not_raised(open_server, tmp_path, monkeypatch):
    monkeypatch.setattr("numerai_assets.sensors.rounds.SENSOR_BUDGET_S", 2.0)  # keep the test short
    open_server.faults.set(graphql_5xx=10_000)
    with dg.instance_for_test() as instance:
        _, result = evaluate(open_server, tmp_path, instance)
    assert isinstance(result, dg.SkipReason)
    assert result.skip_message.startswith("Numerai unreachable, retrying next tick")
