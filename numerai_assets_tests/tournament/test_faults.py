"""Fault switches: each reproduces a failure clients must survive against the real Numerai."""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import pytest
import requests

from numerai_assets.tournament.faults import Faults
from numerai_assets.tournament.profiles import DEFAULT_VERSION as V
from numerai_assets_tests.tournament.helpers import admin, predictions

CURRENT_ROUND = "query($t: Int!) { rounds(tournament: $t, number: 0) { number } }"


def post_graphql(url: str, timeout: float = 5) -> requests.Response:
    return requests.post(url, json={"query": CURRENT_ROUND, "variables": {"t": 8}}, timeout=timeout)


def test_5xx_burst_is_answered_then_service_is_normal(open_server, napi):
    admin(open_server, "POST", "faults", graphql_5xx=2)
    assert post_graphql(open_server.url).status_code == 503
    # numerapi swallows the HTTP error and returns {}: callers then see KeyError('data').
    assert napi.raw_query(CURRENT_ROUND, {"t": 8}, retries=1) == {}
    assert napi.get_current_round() == 1
    assert open_server.faults.graphql_5xx == 0


def test_delay_slows_graphql_but_not_admin(open_server, napi):
    open_server.faults.set(graphql_delay_s=0.3)
    started = time.monotonic()
    assert napi.get_current_round() == 1
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    admin(open_server, "GET", "health")
    assert time.monotonic() - started < 0.3


def test_hang_blocks_until_cleared(open_server, napi):
    admin(open_server, "POST", "faults", graphql_hang=True)
    with pytest.raises(requests.exceptions.ReadTimeout):
        post_graphql(open_server.url, timeout=0.5)
    assert admin(open_server, "GET", "rounds/current")["round"]["number"] == 1  # admin unaffected
    admin(open_server, "POST", "faults", graphql_hang=False)
    assert napi.get_current_round() == 1


def test_stop_releases_a_request_hanging_without_timeout(open_server, napi):
    open_server.faults.set(graphql_hang=True)
    outcome: list[BaseException | int] = []

    def call() -> None:  # numerapi sets no timeout on its POSTs: it would wait forever
        try:
            outcome.append(napi.get_current_round())
        except BaseException as exc:  # noqa: BLE001
            outcome.append(exc)

    caller = threading.Thread(target=call, daemon=True)
    caller.start()
    time.sleep(0.3)
    assert caller.is_alive()
    open_server.stop()
    caller.join(timeout=5)
    assert not caller.is_alive()
    assert isinstance(outcome[0], KeyError)  # numerapi's shape of "no answer"


def test_rejected_upload_put_is_not_stored_and_numerapi_fails_at_create(open_server, napi):
    model_id = napi.get_models()["demo_slot_a"]
    admin(open_server, "POST", "faults", upload_put_status=403, upload_put_count=2)
    auth = napi.raw_query(
        "query($f: String!, $t: Int!, $m: String) {"
        " submission_upload_auth(filename: $f, tournament: $t, modelId: $m) { filename url } }",
        {"f": "p.csv", "t": 8, "m": model_id},
        authorization=True,
    )["data"]["submission_upload_auth"]
    assert requests.put(auth["url"], data=b"id,prediction\n", timeout=5).status_code == 403
    # numerapi never checks the PUT status: the refusal surfaces at create_submission.
    with pytest.raises(ValueError, match="never uploaded"):
        napi.upload_predictions(df=predictions(open_server), model_id=model_id)
    assert open_server.state.submissions() == []
    napi.upload_predictions(df=predictions(open_server), model_id=model_id)
    assert len(open_server.state.submissions()) == 1
    assert requests.put(open_server.url + "/uploads/unknown", data=b"x", timeout=5).status_code == 404


def test_truncated_download_is_short_and_numerapi_resumes_it(open_server, napi, tmp_path):
    served = open_server.root / V / "train.parquet"
    url = open_server.url + f"/files/1/{V}/train.parquet"
    open_server.faults.set(truncate_downloads=2)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(url, timeout=10).content  # noqa: B018 - reading the body is the point

    dest = tmp_path / "train.parquet"
    with pytest.raises(requests.exceptions.RequestException):
        napi.download_dataset(f"{V}/train.parquet", str(dest))
    # numerapi keeps what it wrote in "<dest>.temp" (whole 1 MiB chunks only) and no dest.
    partial = Path(str(dest) + ".temp")
    assert partial.stat().st_size < served.stat().st_size and not dest.exists()
    napi.download_dataset(f"{V}/train.parquet", str(dest))  # resumes from .temp with Range
    assert hashlib.sha256(dest.read_bytes()).digest() == hashlib.sha256(served.read_bytes()).digest()


def test_fault_switches_validate_their_input(server):
    with pytest.raises(ValueError, match="unknown fault keys"):
        Faults().set(graphql_500=1)
    bad = requests.post(f"{server.url}/admin/faults", json={"graphql_5xx": "many"}, timeout=5)
    assert bad.status_code == 400
    assert admin(server, "POST", "faults", graphql_5xx=3, reset=True)["faults"]["graphql_5xx"] == 3
    assert admin(server, "POST", "faults", reset=True)["faults"]["graphql_5xx"] == 0
