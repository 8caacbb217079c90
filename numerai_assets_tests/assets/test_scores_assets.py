"""Live scores, their refresh sensor and the round report against the real local tournament
(real numerapi, real sqlite, a real Dagster instance; no trained models needed: the
submissions here are uploaded by hand, as a participant's manual upload would be)."""

import json

import dagster as dg
import pytest

from numerai_assets.assets.scores import ROUND_REPORT_KEY, live_scores_key, monitoring_key
from numerai_assets.core.scores.live import record_key
from numerai_assets.definitions import build_definitions
from numerai_assets.settings import Settings
from numerai_assets.tournament.info import load_tournament_info
from numerai_assets.tournament.server import TournamentServer
from numerai_assets_tests.tournament.helpers import submit_round

SLOTS = ("demo_slot_a", "demo_slot_b")


def definitions(server, tmp_path) -> dg.Definitions:
    settings = Settings(
        mode="local", home=tmp_path, api_url=server.url, dataset_version=load_tournament_info(server.root).version
    )
    return build_definitions(settings)


def tick(defs, instance, cursor=None):
    sensor = defs.resolve_sensor_def("live_scores_sensor")
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"numerai": defs.resources["numerai"]}
    )
    return sensor(context)


def requested(result) -> dict[str, set[str]]:
    """partition (or "monitoring") -> asset keys requested on this tick."""
    out = {}
    for r in result.run_requests or []:
        keys = {k.to_user_string() for k in r.asset_selection}
        out[r.partition_key or "monitoring"] = keys
    return out


def test_the_sensor_requests_only_rounds_whose_scores_changed(server, napi, tmp_path):
    for _ in range(3):
        submit_round(server, napi, SLOTS)
    server.resolver.resolve(1)
    server.resolver.resolve(2, day=2)
    defs = definitions(server, tmp_path)
    with dg.instance_for_test() as instance:
        first = tick(defs, instance)
        a, b = (live_scores_key(s).to_user_string() for s in SLOTS)
        report = ROUND_REPORT_KEY.to_user_string()
        assert requested(first) == {
            "1": {a, b, report},
            "2": {a, b, report},
            "monitoring": {monitoring_key(s).to_user_string() for s in SLOTS},
        }  # round 3 has no scores yet: nothing to refresh
        assert sorted(first.dynamic_partitions_requests[0].partition_keys) == ["1", "2"]  # rounds never seen
        instance.add_dynamic_partitions("rounds", ["1", "2"])
        quiet = tick(defs, instance, first.cursor)
        assert not quiet.run_requests and "no round's scores changed" in quiet.skip_reason.skip_message
        server.resolver.resolve(2, day=3)  # one more daily score of round 2
        server.resolver.resolve(3, day=1)
        later = tick(defs, instance, quiet.cursor)
        assert set(requested(later)) == {"2", "3", "monitoring"}
        assert later.dynamic_partitions_requests[0].partition_keys == ["3"]
        run_keys = {r.run_key for r in later.run_requests}
        assert not run_keys & {r.run_key for r in first.run_requests}


def test_live_scores_store_names_as_served_and_scores_we_did_not_submit(tournament_root, tmp_path, monkeypatch):
    """A server that calls CORR `corr_v9`: stored and shown under that name; the upload was made
    by hand, so the ledger has no entry and the record says the submission is not ours."""
    import numerapi

    with TournamentServer(tournament_root, score_names={"corr20": "corr_v9"}) as server:
        monkeypatch.setattr(numerapi.base_api, "API_TOURNAMENT_URL", server.url)
        napi = numerapi.NumerAPI(public_id="P", secret_key="S", show_progress_bars=False)
        submit_round(server, napi)  # slot a only
        server.resolver.resolve(1)
        defs = definitions(server, tmp_path)
        with dg.instance_for_test() as instance:
            instance.add_dynamic_partitions("rounds", ["1"])
            result = defs.resolve_job_def("live_scores_job").execute_in_process(instance=instance, partition_key="1")
            assert result.success
            mats = {
                e.event_specific_data.materialization.asset_key: e.event_specific_data.materialization.metadata
                for e in result.get_asset_materialization_events()
            }
        served = napi.submission_scores(server.models["demo_slot_a"])
    meta = mats[live_scores_key("demo_slot_a")]
    corr = next(r for r in served if r["displayName"] == "corr_v9" and r["resolved"])
    assert meta["corr_v9"].value == pytest.approx(corr["value"], rel=1e-3)  # rounded for the UI only
    assert meta["corr_v9_resolved"].value is True and meta["submitted_by_us"].value is False
    record = json.loads((tmp_path / "store" / record_key("demo_slot_a", 1)).read_text())
    assert {r["displayName"] for r in record["rows"]} == {r["displayName"] for r in served}
    assert len(record["rows"]) == len(served) and record["rows"][0]["value"] == served[0]["value"]  # full precision
    assert mats[live_scores_key("demo_slot_b")]["score_rows"].value == 0
    report = mats[ROUND_REPORT_KEY]
    assert report["demo_slot_a_status"].value == "submitted elsewhere"
    assert report["demo_slot_b_status"].value == "missed"
    assert "| corr_v9 |" in report["report"].value


def test_a_slot_without_a_numerai_model_fails_naming_the_slot_and_the_models(tournament_root, tmp_path):
    with TournamentServer(tournament_root, models=("demo_slot_a",)) as server:
        defs = definitions(server, tmp_path)
        with dg.instance_for_test() as instance:
            instance.add_dynamic_partitions("rounds", ["1"])
            result = defs.resolve_job_def("live_scores_job").execute_in_process(
                instance=instance, partition_key="1", raise_on_error=False
            )
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failure.step_key == "demo_slot_b__demo_slot_b_live_scores"
    message = failure.event_specific_data.error.message
    assert "slot demo_slot_b" in message and "demo_slot_a" in message
