"""The alert sensors on real Dagster runs (an in-process instance), real Apprise and a real HTTP
receiver on 127.0.0.1: a missed round, a failed run and a failed ERROR check each arrive once,
with round, slot and reason; a receiver that is down fails neither the sensor nor anything else.

The failing runs here are minimal stand-in assets named like a slot's (``<slot>/<slot>_submission``)
whose step raises: the runs, their events and the sensors are real; the round-level scenario
(decay, round reports, the round's real failed runs) is in assets/test_live_results_e2e.py."""

import logging

import dagster as dg
import pytest

from numerai_assets.assets.scores import BAND_CHECK, monitoring_key
from numerai_assets.core.alerts import Outbox, redact_url
from numerai_assets.definitions import build_definitions, defs
from numerai_assets.resources.notify import NotifyResource
from numerai_assets.settings import ENV_NOTIFY, Settings
from numerai_assets.tournament.info import load_tournament_info
from numerai_assets_tests.alert_receiver import TOKEN, USER, closed_port_url, run_sensor_tick
from numerai_assets_tests.test_sensors import confirm, record_run

SLOTS = ("demo_slot_a", "demo_slot_b")


def notify_for(url: str, tmp_path) -> NotifyResource:
    return NotifyResource(urls=url, outbox_path=str(tmp_path / "store" / "alerts.sqlite"))


def round_open_tick(server, tmp_path, instance, notify, cursor=None):
    settings = Settings(
        mode="local", home=tmp_path, api_url=server.url, dataset_version=load_tournament_info(server.root).version
    )
    local = build_definitions(settings)
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={k: local.resources[k] for k in ("numerai", "submissions")} | {"notify": notify},
    )
    return local.resolve_sensor_def("round_open_sensor")(context)


def closed_round_with_slot_a_unconfirmed(server, tmp_path, instance) -> int:
    number = server.current_round().number
    instance.add_dynamic_partitions("rounds", [str(number)])
    record_run(instance, number, dg.DagsterRunStatus.FAILURE)
    confirm(tmp_path, number, "demo_slot_b")
    server.close_round()
    return number


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        assert TOKEN not in text and f"{USER}:" not in text, text


def test_a_missed_round_sends_one_alert_even_when_the_cursor_is_lost(open_server, tmp_path, receiver, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    with dg.instance_for_test() as instance:
        number = closed_round_with_slot_a_unconfirmed(open_server, tmp_path, instance)
        notify = notify_for(receiver.url, tmp_path)
        first = round_open_tick(open_server, tmp_path, instance, notify)
        assert "MISSED" in first.skip_reason.skip_message
        round_open_tick(open_server, tmp_path, instance, notify, cursor=first.cursor)  # the next tick
        again = round_open_tick(open_server, tmp_path, instance, notify)  # cursor lost: decides MISSED again
        assert "MISSED" in again.skip_reason.skip_message
    [post] = receiver.posts  # once: the outbox remembers what went out
    assert post["title"] == f"Round {number} missed: demo_slot_a"
    assert f"- round: {number}" in post["message"] and "- slots: demo_slot_a" in post["message"]
    assert "closed without a confirmed submission" in post["message"]
    assert_no_secret(caplog.text, capfd.readouterr().err, first.skip_reason.skip_message)


def test_a_receiver_that_is_down_does_not_fail_the_sensor_and_is_reported(open_server, tmp_path, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    with dg.instance_for_test() as instance:
        closed_round_with_slot_a_unconfirmed(open_server, tmp_path, instance)
        down = closed_port_url()
        result = round_open_tick(open_server, tmp_path, instance, notify_for(down, tmp_path))
    assert "MISSED" in result.skip_reason.skip_message  # the tick went on as without alerts
    with Outbox(tmp_path / "store" / "alerts.sqlite") as outbox:
        [key] = outbox.keys()
        outcome = outbox.outcome(key) or ""
    assert outcome.startswith(f"failed; {redact_url(down)}: A Connection error")
    stderr = capfd.readouterr().err  # the sensor's log (Dagster's handler writes to stderr)
    assert f"alert missed_round:1 not delivered to {redact_url(down)}: A Connection error" in stderr
    assert_no_secret(caplog.text, stderr, outcome)


def test_alerts_are_off_without_the_variable_and_read_through_envvar_with_it(tmp_path, receiver, monkeypatch):
    monkeypatch.delenv(ENV_NOTIFY, raising=False)
    off = build_definitions(Settings.from_env({"NUMERAI_ASSETS_HOME": str(tmp_path)})).resources["notify"]
    assert off.urls is None and not off.enabled
    assert not Settings.from_env({ENV_NOTIFY: "  "}).notify_set  # blank: off, like unset
    monkeypatch.setenv(ENV_NOTIFY, f" {receiver.url} ,")
    settings = Settings.from_env({"NUMERAI_ASSETS_HOME": str(tmp_path), ENV_NOTIFY: "set"})
    on = build_definitions(settings).resources["notify"]
    assert isinstance(on.urls, dg.EnvVar) and on.urls.env_var_name == ENV_NOTIFY  # the value stays in the env
    assert on.outbox_path == str(tmp_path / "store" / "alerts.sqlite")
    failing = stand_in(fail=True)
    with dg.instance_for_test() as instance:
        result = dg.materialize([failing], instance=instance, raise_on_error=False)
        tick(instance, result, on)  # the EnvVar resolves when the sensor runs
    assert len(receiver.posts) == 1


def stand_in(fail: bool = False, check_severity: dg.AssetCheckSeverity | None = None, blocking: bool = False):
    """A slot-named asset whose step fails, or whose check fails with ``check_severity``."""
    key = dg.AssetKey(["demo_slot_a", "demo_slot_a_submission"])
    specs = [dg.AssetCheckSpec("upload_verified", asset=key, blocking=blocking)] if check_severity else []

    @dg.asset(key=key, check_specs=specs, partitions_def=dg.StaticPartitionsDefinition(["9"]) if specs else None)
    def submission():
        if fail:
            raise ValueError("demo_slot_a: upload refused by Numerai\nmore detail on the next line")
        yield dg.MaterializeResult()
        if check_severity:
            yield dg.AssetCheckResult(
                check_name="upload_verified", passed=False, severity=check_severity, description="sha256 differs"
            )

    return submission


def tick(instance, result, notify):
    return run_sensor_tick(defs, instance, result, notify)


def test_a_failed_run_sends_one_alert_with_job_round_slot_and_the_error(tmp_path, receiver, caplog):
    caplog.set_level(logging.DEBUG)
    notify = notify_for(receiver.url, tmp_path)
    with dg.instance_for_test() as instance:
        tags = {"numerai/round": "9"}
        result = dg.materialize([stand_in(fail=True)], instance=instance, raise_on_error=False, tags=tags)
        assert not result.success
        tick(instance, result, notify)
        tick(instance, result, notify)  # seen again (a restarted daemon): not sent again
        logs = [str(e) for r in instance.get_runs() for e in instance.all_logs(r.run_id)]
    [post] = receiver.posts
    assert post["title"] == f"Run failed: {result.dagster_run.job_name} (round 9)"
    assert f"- run: {result.run_id}" in post["message"] and "- slots: demo_slot_a" in post["message"]
    assert (
        "- reason: step demo_slot_a__demo_slot_a_submission: ValueError: demo_slot_a: upload refused by Numerai"
        in post["message"]
    )
    assert "more detail" not in post["message"]  # the error in one line
    assert_no_secret(caplog.text, *logs)


def test_a_failed_error_check_in_a_run_that_succeeded_sends_one_alert(tmp_path, receiver):
    notify = notify_for(receiver.url, tmp_path)
    with dg.instance_for_test() as instance:
        asset = stand_in(check_severity=dg.AssetCheckSeverity.ERROR)
        result = dg.materialize([asset], instance=instance, partition_key="9", raise_on_error=False)
        assert result.success  # a non-blocking check fails without failing the run
        tick(instance, result, notify)
        tick(instance, result, notify)
    [post] = receiver.posts
    assert post["title"] == "Check failed: upload_verified on demo_slot_a/demo_slot_a_submission"
    assert "- slot: demo_slot_a" in post["message"] and "- round: 9" in post["message"]
    assert "- reason: sha256 differs" in post["message"]


@pytest.mark.parametrize("severity", [dg.AssetCheckSeverity.WARN, dg.AssetCheckSeverity.ERROR])
def test_a_blocking_check_that_fails_the_run_is_the_runs_one_alert(tmp_path, receiver, severity):
    """ERROR: the run fails and the failure alert says why; WARN (other than the band check): nothing."""
    notify = notify_for(receiver.url, tmp_path)
    with dg.instance_for_test() as instance:
        asset = stand_in(check_severity=severity, blocking=True)
        result = dg.materialize([asset], instance=instance, partition_key="9", raise_on_error=False)
        tick(instance, result, notify)
    if severity == dg.AssetCheckSeverity.WARN:
        assert result.success and receiver.posts == []
        return
    [post] = receiver.posts
    assert post["title"].startswith("Run failed") and "upload_verified" in post["message"]
    assert "DagsterAssetCheckFailedError: 1 blocking asset check failed" in post["message"]  # class unqualified


def test_a_decay_warning_is_sent_on_entry_not_while_it_stays_and_again_after_a_recovery(tmp_path, receiver):
    """A stand-in of a slot's monitoring asset whose band check fails, fails, passes, fails: two alerts."""
    key = monitoring_key("demo_slot_a")
    outcomes = iter([False, False, True, False])

    @dg.asset(key=key, check_specs=[dg.AssetCheckSpec(BAND_CHECK, asset=key)])
    def monitoring():
        yield dg.MaterializeResult()
        yield dg.AssetCheckResult(
            check_name=BAND_CHECK,
            passed=next(outcomes),
            severity=dg.AssetCheckSeverity.WARN,
            description="CORR20: cumulative live mean below the validation band for 2 consecutive rounds",
            metadata={"latest_round": 12},
        )

    notify = notify_for(receiver.url, tmp_path)
    with dg.instance_for_test() as instance:
        runs = [dg.materialize([monitoring], instance=instance) for _ in range(4)]
        for result in runs:
            tick(instance, result, notify)
    assert [p["title"] for p in receiver.posts] == ["Score decay: demo_slot_a at round 12"] * 2
    with Outbox(notify.outbox_path) as outbox:  # the first run entered the warning, the fourth re-entered
        assert outbox.keys() == [f"decay_warning:demo_slot_a:{runs[i].run_id}" for i in (0, 3)]
    assert all("- slot: demo_slot_a" in p["message"] and "consecutive rounds" in p["message"] for p in receiver.posts)
