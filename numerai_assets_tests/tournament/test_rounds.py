"""Rounds as numerapi 3.1.1 reads them, the calendar clock, several versions, and ETags."""

from __future__ import annotations

import datetime as dt

import numerapi
import pandas as pd
import pytest
import requests

from numerai_assets.tournament.calendar import ScaledClock
from numerai_assets.tournament.catalog import DATASET_NAMES
from numerai_assets.tournament.generator import generate_tournament, load_tournament_info
from numerai_assets.tournament.profiles import DEFAULT_VERSION as V
from numerai_assets.tournament.server import TournamentServer
from numerai_assets_tests.tournament.helpers import admin, sha256

UTC = dt.UTC
TUESDAY = dt.datetime(2026, 6, 2, tzinfo=UTC)


def cal(days: int, hour: int, minute: int = 0) -> dt.datetime:
    """Calendar time `days` after Tuesday 2026-06-02 00:00 UTC."""
    return TUESDAY + dt.timedelta(days=days, hours=hour, minutes=minute)


def test_list_rounds_answers_target_payout_factor_and_score_configs(server, napi):
    for _ in range(4):
        server.advance()
    rounds = napi.list_rounds()
    assert [r["number"] for r in rounds] == [4, 3, 2, 1]
    target = load_tournament_info(server.root).target_alias
    mults = set()
    for rnd in rounds:
        assert rnd["target"] == target == "target_ender_20"
        assert 0 < rnd["payoutFactor"] <= 1  # numerapi parsed it into a float
        assert isinstance(rnd["scoreTime"], dt.datetime) and rnd["resolveTime"] > rnd["scoreTime"]
        configs = {c["name"]: c for c in rnd["roundScoreConfigs"]}
        assert {"corr20", "mmc"} <= set(configs)
        for c in configs.values():
            assert c["displayName"] and c["version"] and c["clipThreshold"] == "0.05"
            assert float(c["minMultiplier"]) <= float(c["defaultMultiplier"]) <= float(c["maxMultiplier"])
            assert isinstance(c["scoringStart"], dt.datetime)  # parsed by numerapi
        assert configs["corr20"]["isPayout"] and configs["mmc"]["isPayout"]
        mults.add((configs["corr20"]["defaultMultiplier"], configs["mmc"]["defaultMultiplier"]))
    assert len(mults) > 1  # chosen per round, not a fixed 0.5 / 2
    (only,) = napi.list_rounds(number=2)
    assert only["roundScoreConfigs"] == next(r for r in rounds if r["number"] == 2)["roundScoreConfigs"]


def test_between_rounds_the_current_round_is_refused_as_not_open(server, napi):
    """numerapi's get_current_round raises ValueError('...not open...'); check_round_open and
    check_new_round answer False, as against Numerai between rounds."""
    server.open_round()
    server.close_round()
    with pytest.raises(ValueError, match="not open"):
        napi.get_current_round()
    assert napi.check_round_open() is False
    assert napi.check_new_round() is False
    assert [r["number"] for r in napi.list_rounds()] == [1]  # past rounds stay listed


def test_clock_ticks_open_and_close_rounds_by_the_scaled_calendar(tournament_root, napi, monkeypatch):
    """Ticks at chosen real instants (no waiting): the clock runs an hour per second."""
    real0 = dt.datetime(2030, 1, 1, tzinfo=UTC)
    clock = ScaledClock(real0, cal(-1, 10), 3600)  # real0 is Monday 10:00 on the calendar
    with TournamentServer(tournament_root, clock=clock) as srv:
        monkeypatch.setattr(numerapi.base_api, "API_TOURNAMENT_URL", srv.url)

        def tick(days: int, hour: int, minute: int = 0):
            return srv.clock_tick(clock.to_real(cal(days, hour, minute)))

        first = tick(-1, 10)  # Monday: Saturday's round is the latest, staking closed Sunday
        assert first is not None and first.number == 1
        r1 = napi.list_rounds(number=1)[0]
        assert r1["closeStakingTime"] == clock.to_real(cal(-2, 14))  # Sunday 14:00
        assert tick(-1, 11) is None  # nothing new on Monday
        tuesday = tick(0, 12)
        assert tuesday is not None and tuesday.number == 2
        assert srv.state.get_round(1).status == "closed"
        r2 = napi.list_rounds(number=2)[0]
        assert r2["openTime"] == clock.to_real(cal(0, 12))
        assert r2["closeStakingTime"] == clock.to_real(cal(0, 13))
        assert tick(0, 12, 30) is None and srv.current_round().number == 2
        srv.close_round()  # closed by hand: the clock waits for the next opening
        assert tick(0, 18) is None and srv.current_round() is None
        assert tick(1, 12).number == 3
        assert [tick(d, 12).number for d in (2, 3, 4)] == [4, 5, 6]  # Thu, Fri, Sat
        assert tick(5, 12) is None and tick(6, 11) is None  # Sunday, Monday
        assert srv.current_round().number == 6
        assert tick(7, 12).number == 7  # Tuesday again


def test_list_datasets_lists_every_version_of_the_root(server, napi, tmp_path):
    """A second version generated into a served root appears without a restart."""
    info = load_tournament_info(server.root)
    generate_tournament(server.root, info.scale, info.seed, version="v5.2", profile=info.profile)
    server.open_round()
    names = napi.list_datasets()
    assert sorted(names) == sorted(f"{v}/{n}" for v in ("v5.2", V) for n in DATASET_NAMES)
    path = napi.download_dataset("v5.2/live.parquet", str(tmp_path / "live52.parquet"))
    live52 = pd.read_parquet(path)
    live53 = pd.read_parquet(server.root / "rounds" / "1" / V / "live.parquet")
    assert live52.index.equals(live53.index) and len(live53.columns) > len(live52.columns)
    assert admin(server, "GET", "health")["versions"] == ["v5.2", V]


@pytest.mark.parametrize("name", ["train.parquet", "live.parquet", "features.json", "validation_example_preds.csv"])
def test_republished_same_size_file_gets_a_new_etag(open_server, napi, tmp_path, name):
    url = f"{open_server.url}/files/1/{V}/{name}"
    before = requests.head(url, timeout=10)
    path = open_server.catalog.path_for(V, name, 1)
    assert before.headers["ETag"] == f'"{sha256(path)}"'
    assert int(before.headers["Content-Length"]) == path.stat().st_size
    answer = admin(open_server, "POST", "datasets/republish", filename=f"{V}/{name}")
    after = requests.get(url, timeout=10)
    assert after.headers["Content-Length"] == before.headers["Content-Length"]
    assert after.headers["ETag"] == f'"{answer["sha256"]}"' != before.headers["ETag"]
    assert answer["sha256"] == sha256(path) and len(after.content) == answer["size"]
    if name.endswith(".parquet"):  # still a valid file with the same frame shape
        got = tmp_path / name
        got.write_bytes(after.content)
        assert pd.read_parquet(got).shape == pd.read_parquet(path).shape


def test_republish_of_an_unknown_file_names_it(open_server):
    resp = requests.post(
        f"{open_server.url}/admin/datasets/republish", json={"filename": f"{V}/nope.parquet"}, timeout=10
    )
    assert resp.status_code == 400 and f"{V}/nope.parquet" in resp.json()["error"]


def test_without_late_submissions_the_clock_leaves_a_gap_between_rounds(tournament_root, napi, monkeypatch):
    """Rounds end at closeStakingTime: until the next opening numerapi finds no current round."""
    real0 = dt.datetime(2030, 1, 1, tzinfo=UTC)
    clock = ScaledClock(real0, cal(0, 11), 3600)
    with TournamentServer(tournament_root, clock=clock, late_submissions=False) as srv:
        monkeypatch.setattr(numerapi.base_api, "API_TOURNAMENT_URL", srv.url)
        assert srv.clock_tick(clock.to_real(cal(0, 12))).number == 1  # Tuesday's round
        assert napi.get_current_round() == 1
        assert srv.clock_tick(clock.to_real(cal(0, 13))) is None  # staking closed: round ends
        assert srv.state.get_round(1).status == "closed"
        with pytest.raises(ValueError, match="not open"):
            napi.get_current_round()
        assert srv.clock_tick(clock.to_real(cal(0, 20))) is None  # still between rounds
        assert srv.clock_tick(clock.to_real(cal(1, 12))).number == 2
        assert napi.get_current_round() == 2
