"""The round-open sensor against the real local tournament server."""
import dagster as dg

from numerai_assets.definitions import build_definitions
from numerai_assets.settings import Settings
from numerai_assets.tournament.catalog import read_version


def evaluate(server, tmp_path, instance, **settings_overrides):
    settings = Settings(mode="local", home=tmp_path, api_url=server.url, dataset_version=read_version(server.root),
                        **settings_overrides)
    defs = build_definitions(settings)
    sensor = defs.resolve_sensor_def("round_open_sensor")
    context = dg.build_sensor_context(instance=instance, resources={"numerai": defs.resources["numerai"]})
    return sensor, sensor(context)


def test_new_round_is_requested_once_with_its_partition(open_server, tmp_path):
    with dg.instance_for_test() as instance:
        sensor, result = evaluate(open_server, tmp_path, instance)
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
        number = str(open_server.current_round().number)
        [request] = result.run_requests
        assert request.run_key == f"round-{number}" and request.partition_key == number
        assert request.tags["numerai/late"] == "false"
        assert result.dynamic_partitions_requests[0].partition_keys == [number]
        # the daemon applies the partition request; build_sensor_context does not
        instance.add_dynamic_partitions("rounds", [number])
        _, again = evaluate(open_server, tmp_path, instance)
        assert isinstance(again, dg.SkipReason) and "already handled" in again.skip_message


def test_between_rounds_and_closed_windows_skip_with_a_reason(server, tmp_path):
    with dg.instance_for_test() as instance:
        _, result = evaluate(server, tmp_path, instance)
        assert isinstance(result, dg.SkipReason) and result.skip_message == "no open round"
        server.open_round(staking_window_s=0)  # staking already closed, round still open
        _, skipped = evaluate(server, tmp_path, instance, late_policy="skip")
        assert "staking window closed" in skipped.skip_message
        _, late = evaluate(server, tmp_path, instance, late_policy="submit")
        assert late.run_requests[0].tags["numerai/late"] == "true"


def test_transport_failure_is_reported_on_the_tick_not_raised(open_server, tmp_path, monkeypatch):
    monkeypatch.setattr("numerai_assets.sensors.SENSOR_BUDGET_S", 2.0)  # keep the test short
    open_server.faults.set(graphql_5xx=10_000)
    with dg.instance_for_test() as instance:
        _, result = evaluate(open_server, tmp_path, instance)
    assert isinstance(result, dg.SkipReason)
    assert result.skip_message.startswith("Numerai unreachable, retrying next tick")
