"""Rounds resolve in the local tournament: scores equal numerai-tools on the hidden targets,
appear day by day on the clock, and are served through numerapi's ``submission_scores``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from numerai_tools.scoring import correlation_contribution, numerai_corr

from numerai_assets.tournament.state import parse_iso
from numerai_assets_tests.tournament.helpers import admin, good_submission, submit_round

V_META = "numerai_meta_model"


def _expected(server, round_number: int, sub: pd.DataFrame) -> dict[str, float]:
    """numerai-tools on the round's hidden truth, recomputed here from the files."""
    truth = pd.read_parquet(server.resolver.truth_path(round_number))
    truth = truth.set_index("id").sort_index() if "id" in truth.columns else truth.sort_index()
    target_col = server.catalog.target_alias()
    bench_col = next(c for c in truth.columns if c not in (target_col, V_META))
    preds = sub.set_index("id")[["prediction"]].reindex(truth.index)
    target = truth[target_col].rename("target")
    return {
        "corr20": float(numerai_corr(preds, target)["prediction"]),
        "mmc": float(correlation_contribution(preds, truth[V_META], target)["prediction"]),
        "bmc": float(correlation_contribution(preds, truth[bench_col], target)["prediction"]),
    }


def _names(server, round_number: int) -> dict[str, str]:
    """displayName -> config name of the round, from list_rounds (not hard-coded)."""
    return {c["displayName"]: c["name"] for c in server.api.rounds(None, number=round_number)[0]["roundScoreConfigs"]}


def test_resolved_scores_equal_numerai_tools_on_the_hidden_targets(server, napi):
    subs = submit_round(server, napi, ("demo_slot_a", "demo_slot_b"))
    admin(server, "POST", "rounds/resolve", round=1)
    truth = pd.read_parquet(server.resolver.truth_path(1))
    oracle = pd.read_parquet(server.root / "_oracle" / "rounds" / "1" / "live_targets.parquet")
    # the truth scored is the generator's own hidden live target, not a second invention
    pd.testing.assert_series_equal(
        truth[server.catalog.target_alias()].sort_index(),
        oracle["target"].astype(float).sort_index().rename(server.catalog.target_alias()),
        check_names=False,
        check_index_type=False,
    )
    for slot, sub in subs.items():
        rows = napi.submission_scores(server.models[slot], resolved=True)
        names = _names(server, 1)
        got = {names[r["displayName"]]: r["value"] for r in rows}
        assert got == pytest.approx(_expected(server, 1, sub), abs=1e-12)
        assert all(0.0 <= r["percentile"] <= 1.0 and r["roundNumber"] == 1 for r in rows)
    good = {r["displayName"]: r["value"] for r in napi.submission_scores(server.models["demo_slot_a"], resolved=True)}
    corr = next(n for n, c in _names(server, 1).items() if c == "corr20")
    assert good[corr] > 0  # the oracle carries the planted signal
    (rnd,) = napi.list_rounds(number=1)
    assert rnd["resolvedGeneral"] is True  # numerapi does not ask for status
    assert napi.list_rounds(status="resolved")[0]["number"] == 1


def test_submission_scores_filters_through_numerapi(server, napi):
    for _ in range(3):
        submit_round(server, napi)
    model = server.models["demo_slot_a"]
    admin(server, "POST", "rounds/resolve", round=1)
    admin(server, "POST", "rounds/resolve", round=2, day=3)
    admin(server, "POST", "rounds/resolve", round=3, day=1)
    every = napi.submission_scores(model)
    names = {r["displayName"] for r in every}
    assert len(names) == 3 and {r["roundNumber"] for r in every} == {1, 2, 3}
    assert {r["day"] for r in every if r["roundNumber"] == 2} == {1, 2, 3}
    assert all(isinstance(r["date"], dt.datetime) for r in every)  # numerapi parsed it
    resolved = napi.submission_scores(model, resolved=True)
    assert {r["roundNumber"] for r in resolved} == {1} and len(resolved) == 3
    one = sorted(names)[0]
    by_name = napi.submission_scores(model, display_name=one)
    assert {r["displayName"] for r in by_name} == {one}
    assert {r["roundNumber"] for r in napi.submission_scores(model, last_n_rounds=2)} == {2, 3}
    assert {(r["roundNumber"], r["day"]) for r in napi.submission_scores(model, day=1)} >= {(2, 1), (3, 1)}
    latest = napi.submission_scores(model, display_name=one, distinct_on_round=True)
    assert sorted((r["roundNumber"], r["day"]) for r in latest) == [(1, 20), (2, 3), (3, 1)]
    assert napi.submission_scores(server.models["demo_slot_b"]) == []  # never submitted


def test_daily_scores_follow_the_clock_and_the_last_day_is_the_resolved_value(server, napi):
    submit_round(server, napi)
    rnd = server.state.get_round(1)
    start, end = parse_iso(rnd.score_time), parse_iso(rnd.resolve_time)
    assert server.resolver.update(start - dt.timedelta(seconds=1)) == 0  # nothing before scoreTime
    server.resolver.update(start + (end - start) / 2)
    rows = server.resolver.scores(server.models["demo_slot_a"])
    assert rows and not any(r.resolved for r in rows)
    assert max(r.day for r in rows) == 10  # day 10 of 20 is due half way through
    server.resolver.update(end)
    rows = server.resolver.scores(server.models["demo_slot_a"])
    final = {r.name: r.value for r in rows if r.resolved}
    last_day = {r.name: r.value for r in rows if r.day == max(x.day for x in rows)}
    assert final == last_day and len(final) == 3


def test_a_decayed_round_scores_against_the_opposite_of_the_signal(server, napi):
    subs = submit_round(server, napi)
    admin(server, "POST", "rounds/decay", round=1, mode="opposite")
    admin(server, "POST", "rounds/resolve", round=1)
    oracle = pd.read_parquet(server.root / "_oracle" / "rounds" / "1" / "live_targets.parquet")["target"]
    truth = pd.read_parquet(server.resolver.truth_path(1))[server.catalog.target_alias()]
    assert (truth.sort_index().to_numpy() == 1.0 - oracle.sort_index().to_numpy()).all()
    rows = napi.submission_scores(server.models["demo_slot_a"], resolved=True)
    names = _names(server, 1)
    got = {names[r["displayName"]]: r["value"] for r in rows}
    assert got == pytest.approx(_expected(server, 1, subs["demo_slot_a"]), abs=1e-12)
    assert got["corr20"] < 0


def test_a_renamed_score_is_served_under_its_new_name(tournament_root, monkeypatch):
    import numerapi

    from numerai_assets.tournament.server import TournamentServer

    with TournamentServer(tournament_root, score_names={"corr20": "corr_v9"}) as srv:
        monkeypatch.setattr(numerapi.base_api, "API_TOURNAMENT_URL", srv.url)
        napi = numerapi.NumerAPI(public_id="P", secret_key="S", show_progress_bars=False)
        submit_round(srv, napi)
        srv.resolver.resolve(1)
        names = {r["displayName"] for r in napi.submission_scores(srv.models["demo_slot_a"])}
    assert "corr_v9" in names and len(names) == 3


def test_the_calendar_clock_scores_daily_from_score_time_and_resolves_at_resolve_time(tournament_root, monkeypatch):
    """Ticks at chosen real instants of a clock an hour per second: first scores 4 calendar days
    after the close, one more each scoring day, resolved 31 days after the close."""
    import numerapi

    from numerai_assets.tournament.calendar import ScaledClock
    from numerai_assets.tournament.server import TournamentServer

    tuesday = dt.datetime(2026, 6, 2, tzinfo=dt.UTC)

    def cal(days: int, hour: int) -> dt.datetime:
        return tuesday + dt.timedelta(days=days, hours=hour)

    clock = ScaledClock(dt.datetime(2030, 1, 1, tzinfo=dt.UTC), cal(0, 11), 3600)
    with TournamentServer(tournament_root, clock=clock) as srv:
        monkeypatch.setattr(numerapi.base_api, "API_TOURNAMENT_URL", srv.url)
        napi = numerapi.NumerAPI(public_id="P", secret_key="S", show_progress_bars=False)

        def tick(days: int, hour: int):
            return srv.clock_tick(clock.to_real(cal(days, hour)))

        assert tick(0, 12).number == 1
        model = srv.models["demo_slot_a"]
        napi.upload_predictions(df=good_submission(srv, 1), model_id=model)
        tick(1, 12)  # round 1 ends, round 2 opens
        tick(4, 12)
        assert napi.submission_scores(model) == []  # scoreTime is Saturday 13:00 (close + 4 days)
        tick(4, 14)
        assert {r["day"] for r in napi.submission_scores(model)} == {1}
        tick(18, 14)
        days = {r["day"] for r in napi.submission_scores(model)}
        assert 1 < max(days) < 20 and not any(r["resolved"] for r in napi.submission_scores(model))
        tick(35, 14)  # past resolveTime (close + 31 days)
        resolved = napi.submission_scores(model, resolved=True)
        assert len(resolved) == 3 and {r["day"] for r in resolved} == {20}


def test_admin_refuses_a_resolve_without_a_round_or_of_an_open_round(open_server):
    import requests

    bad = requests.post(f"{open_server.url}/admin/rounds/resolve", json={"day": 2}, timeout=10)
    assert bad.status_code == 400 and "'round'" in bad.json()["error"]
    still_open = requests.post(f"{open_server.url}/admin/rounds/resolve", json={"round": 1}, timeout=10)
    assert still_open.status_code == 400 and "round 1 is still open" in still_open.json()["error"]
    decay = requests.post(f"{open_server.url}/admin/rounds/decay", json={"round": 1, "mode": "sideways"}, timeout=10)
    assert decay.status_code == 400 and "sideways" in decay.json()["error"]


def test_a_round_that_cannot_be_scored_does_not_stop_the_others(server, napi, caplog):
    submit_round(server, napi)
    submit_round(server, napi)
    (lost,) = server.state.submissions(round_number=1)
    Path(lost.path).unlink()  # the stored upload of round 1 is gone
    far = parse_iso(server.state.get_round(2).resolve_time) + dt.timedelta(days=1)
    assert server.resolver.update(far) > 0
    rounds = {r.round for r in server.resolver.scores(server.models["demo_slot_a"])}
    assert rounds == {2}
    assert "round 1 could not be scored" in caplog.text
