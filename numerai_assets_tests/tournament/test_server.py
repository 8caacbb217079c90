"""The real numerapi 3.1.1 client against the local tournament server, end to end."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from pathlib import Path

import numerapi
import pandas as pd
import pytest
import requests

from numerai_assets.tournament.catalog import DATASET_NAMES
from numerai_assets.tournament.profiles import DEFAULT_VERSION as V
from numerai_assets.tournament.server import TournamentServer
from numerai_assets.tournament.state import model_id_for
from numerai_assets_tests.tournament.helpers import admin, predictions, sha256


def test_round_state_drives_current_round_and_check_round_open(server, napi):
    assert napi.check_round_open() is False
    with pytest.raises(ValueError, match="Current round not open for submissions"):
        napi.get_current_round()

    server.open_round(staking_window_s=3600)  # explicit: never cut short by a calendar close
    assert napi.get_current_round() == 1
    assert napi.check_round_open() is True

    server.close_round()
    assert napi.check_round_open() is False  # between rounds
    server.advance()
    assert napi.get_current_round() == 2
    server.advance()
    assert napi.get_current_round() == 3


def test_round_times_follow_the_calendar(server, napi):
    """A round opened by hand without windows closes for staking at the calendar's next close
    (13:00 UTC Tuesday-Friday, Sunday 14:00 UTC); late submissions run until the next opening."""
    server.open_round()
    (rnd,) = napi.list_rounds(number=1)
    utc = dt.UTC
    t = rnd["openTime"].astimezone(utc).replace(minute=0, second=0, microsecond=0)
    closes = {(1, 13), (2, 13), (3, 13), (4, 13), (6, 14)}  # (weekday, hour), Monday = 0
    while t <= rnd["openTime"] or (t.weekday(), t.hour) not in closes:
        t += dt.timedelta(hours=1)
    assert rnd["closeStakingTime"] == t
    late = rnd["closeTime"].astimezone(utc)
    assert late.weekday() in (1, 2, 3, 4, 5) and (late.hour, late.minute) == (12, 0)
    assert t < late <= t + dt.timedelta(days=2, hours=23)
    assert rnd["scoreTime"] > t and rnd["resolveTime"] > rnd["scoreTime"]


def test_opening_a_second_round_while_one_is_open_is_refused(open_server):
    with pytest.raises(ValueError, match="already open"):
        open_server.open_round()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"number": 0}, "start at 1"),
        ({"staking_window_s": -1}, "staking_window_s"),
    ],
)
def test_a_round_that_cannot_open_is_refused_before_its_files_are_written(server, kwargs, message):
    before = sorted(p.name for p in (server.root / "rounds").glob("*"))
    with pytest.raises(ValueError, match=message):
        server.open_round(**kwargs)
    assert sorted(p.name for p in (server.root / "rounds").glob("*")) == before
    assert server.current_round() is None


def test_list_datasets_has_the_twelve_names_of_the_version(open_server, napi):
    assert sorted(napi.list_datasets()) == sorted(f"{V}/{n}" for n in DATASET_NAMES)


@pytest.mark.parametrize("name", ["train.parquet", "live.parquet"])
def test_download_dataset_is_byte_identical_and_parquet(open_server, napi, tmp_path, name):
    served = open_server.root / "rounds" / "1" if name == "live.parquet" else open_server.root
    served = served / V / name
    dest = napi.download_dataset(f"{V}/{name}", str(tmp_path / name))
    assert sha256(Path(dest)) == sha256(served)
    assert len(pd.read_parquet(dest)) == len(pd.read_parquet(served)) > 0


def test_download_of_an_unknown_dataset_names_it(open_server, napi, tmp_path):
    with pytest.raises(ValueError, match=f"{V}/nope.parquet"):
        napi.download_dataset(f"{V}/nope.parquet", str(tmp_path / "x"))


def test_files_carry_etag_and_answer_range_with_the_tail(open_server, napi):
    url = open_server.url + f"/files/1/{V}/train.parquet"
    data = (open_server.root / V / "train.parquet").read_bytes()
    head = requests.head(url, timeout=10)
    assert head.headers["ETag"] == f'"{hashlib.sha256(data).hexdigest()}"'
    assert int(head.headers["Content-Length"]) == len(data)
    tail = requests.get(url, headers={"Range": "bytes=100-"}, timeout=10)
    assert tail.status_code == 206 and tail.content == data[100:]
    assert tail.headers["Content-Range"] == f"bytes 100-{len(data) - 1}/{len(data)}"
    assert requests.get(url, headers={"Range": f"bytes={len(data)}-"}, timeout=10).status_code == 416
    assert requests.get(open_server.url + f"/files/1/{V}/../x", timeout=10).status_code == 404


def test_numerapi_resumes_a_partial_download_with_range(open_server, napi, tmp_path):
    served = open_server.root / V / "train.parquet"
    dest = tmp_path / "train.parquet"
    Path(str(dest) + ".temp").write_bytes(served.read_bytes()[:1000])
    napi.download_dataset(f"{V}/train.parquet", str(dest))
    assert sha256(dest) == sha256(served)


def test_get_models_needs_keys_and_ids_are_stable(server, napi, monkeypatch):
    assert napi.get_models() == {n: model_id_for(n) for n in ("demo_slot_a", "demo_slot_b")}
    monkeypatch.delenv("NUMERAI_PUBLIC_ID", raising=False)
    monkeypatch.delenv("NUMERAI_SECRET_KEY", raising=False)
    anonymous = numerapi.NumerAPI(show_progress_bars=False)
    with pytest.raises(ValueError, match="API keys required"):
        anonymous.raw_query("query { account { models { id } } }", authorization=False)


def test_valid_upload_is_listed_and_recorded(open_server, napi):
    model_id = napi.get_models()["demo_slot_a"]
    sub = predictions(open_server)
    submission_id = napi.upload_predictions(df=sub, model_id=model_id)

    assert [s["id"] for s in napi.submission_ids(model_id)] == [submission_id]
    (recorded,) = admin(open_server, "GET", "submissions?round=1")["submissions"]
    assert recorded["id"] == submission_id and recorded["modelName"] == "demo_slot_a"
    assert recorded["late"] is False
    assert recorded["sha256"] == hashlib.sha256(sub.to_csv(index=False).encode()).hexdigest()
    served = requests.get(f"{open_server.url}/submissions/{submission_id}", timeout=10)
    assert served.content == sub.to_csv(index=False).encode()
    assert served.headers["ETag"] == f'"{recorded["sha256"]}"'


def test_served_live_example_predictions_are_a_valid_submission(open_server, napi, tmp_path):
    path = napi.download_dataset(f"{V}/live_example_preds.csv", str(tmp_path / "example.csv"))
    model_id = napi.get_models()["demo_slot_b"]
    submission_id = napi.upload_predictions(path, model_id=model_id)
    (recorded,) = open_server.state.submissions(round_number=1)
    assert (recorded.id, recorded.sha256) == (submission_id, sha256(Path(path)))


def _missing_ids(df):
    return df.iloc[1:]


def _nan(df):
    return df.assign(prediction=df.prediction.where(df.index != 3))


def _out_of_range(df):
    return df.assign(prediction=df.prediction.where(df.index != 3, 1.5))


def _constant(df):
    return df.assign(prediction=0.5)


@pytest.mark.parametrize(
    "corrupt, message",
    [
        (_missing_ids, "Not enough stocks submitted"),
        (_nan, "must not contain NaNs"),
        (_out_of_range, "values must be between 0 and 1"),
        (_constant, "non-zero standard deviation"),
    ],
)
def test_invalid_submission_is_rejected_with_the_validators_reason(open_server, napi, corrupt, message):
    model_id = napi.get_models()["demo_slot_a"]
    with pytest.raises(ValueError, match=message):
        napi.upload_predictions(df=corrupt(predictions(open_server)), model_id=model_id)
    assert open_server.state.submissions() == []


def test_upload_to_a_closed_round_is_rejected(open_server, napi):
    model_id = napi.get_models()["demo_slot_b"]
    sub = predictions(open_server)
    open_server.close_round()
    with pytest.raises(ValueError, match="Current round not open"):
        napi.upload_predictions(df=sub, model_id=model_id)
    assert open_server.state.submissions() == []


def test_upload_after_staking_close_is_accepted_as_late(server, napi):
    server.open_round(staking_window_s=0)
    assert napi.check_round_open() is False
    model_id = napi.get_models()["demo_slot_a"]
    napi.upload_predictions(df=predictions(server), model_id=model_id)
    assert [s.late for s in server.state.submissions()] == [True]


def test_state_survives_a_restart(tournament_root, monkeypatch):
    with TournamentServer(tournament_root) as first:
        first.open_round(number=7)
        monkeypatch.setattr(numerapi.base_api, "API_TOURNAMENT_URL", first.url)
        api = numerapi.NumerAPI(public_id="pub", secret_key="secret", show_progress_bars=False)
        model_id = api.get_models()["demo_slot_a"]
        submission_id = api.upload_predictions(df=predictions(first, 7), model_id=model_id)
    with TournamentServer(tournament_root) as second:
        monkeypatch.setattr(numerapi.base_api, "API_TOURNAMENT_URL", second.url)
        api = numerapi.NumerAPI(public_id="pub", secret_key="secret", show_progress_bars=False)
        assert api.get_current_round() == 7
        assert api.get_models()["demo_slot_a"] == model_id
        assert [s["id"] for s in api.submission_ids(model_id)] == [submission_id]
        assert second.advance().number == 8


def test_admin_api_controls_rounds(server):
    opened = admin(server, "POST", "rounds/open", number=3, staking_window_s=60)["round"]
    assert opened["number"] == 3 and opened["status"] == "open"
    again = requests.post(f"{server.url}/admin/rounds/open", json={}, timeout=10)
    assert again.status_code == 409
    assert admin(server, "GET", "rounds/current")["round"]["number"] == 3
    advanced = admin(server, "POST", "rounds/advance")
    assert advanced["closed"]["status"] == "closed" and advanced["round"]["number"] == 4
    assert admin(server, "POST", "rounds/close")["round"]["number"] == 4
    assert admin(server, "GET", "rounds/current")["round"] is None
    assert admin(server, "GET", "health")["ok"] is True


def test_server_logs_never_contain_the_api_key(open_server, napi, caplog):
    caplog.set_level(logging.DEBUG)
    napi.upload_predictions(df=predictions(open_server), model_id=napi.get_models()["demo_slot_a"])
    assert "POST / -> 200" in caplog.text
    secret = napi.token[1]
    assert secret not in caplog.text and "Authorization" not in caplog.text


def test_non_loopback_host_is_refused_unless_allowed(tournament_root):
    with pytest.raises(ValueError, match="not loopback"):
        TournamentServer(tournament_root, host="0.0.0.0")
