"""NumeraiClient (numerapi underneath) against the real local tournament server on 127.0.0.1."""

import hashlib
import logging
import time

import pandas as pd
import pyarrow.parquet as pq
import pytest

from numerai_assets.core.data.dataset import readability_check
from numerai_assets.core.numerai.client import (
    NumeraiClient,
    NumeraiRefusedError,
    NumeraiUnavailableError,
    RetryPolicy,
    UploadRejectedError,
)
from numerai_assets.core.numerai.downloads import sidecar_path
from numerai_assets.tournament.info import load_tournament_info

PUBLIC, SECRET = "PUB-4d1c9e2a", "SEC-93bb20f7a1"
FAST = RetryPolicy(timeout_s=2.0, max_attempts=5, budget_s=10.0, backoff_initial_s=0.05, backoff_max_s=0.2)


@pytest.fixture
def client(open_server) -> NumeraiClient:
    return NumeraiClient(open_server.url, PUBLIC, SECRET, policy=FAST)


def live_predictions_csv(tmp_path, root, round_number, *, constant=False):
    live = pd.read_parquet(root / "rounds" / str(round_number) / load_tournament_info(root).version / "live.parquet")
    preds = pd.DataFrame(
        {"id": live.index, "prediction": 0.5 if constant else pd.Series(range(len(live))).rank(pct=True).to_numpy()}
    )
    path = tmp_path / "predictions.csv"
    preds.to_csv(path, index=False)
    return path


def test_round_datasets_and_models(dataset_version, client, open_server):
    info = client.current_round()
    assert info is not None and info.number == open_server.current_round().number
    assert info.open_time < info.close_staking_time
    assert f"{dataset_version}/train.parquet" in client.list_datasets()
    assert set(client.models()) == {"demo_slot_a", "demo_slot_b"}


def test_no_open_round_is_none_not_an_error(client, open_server):
    open_server.close_round()
    assert client.current_round() is None


def test_between_rounds_logs_no_error_but_real_refusals_do(server, caplog, dataset_version):
    """A sensor tick between rounds (the real server, no round open) is quiet at ERROR level."""
    client = NumeraiClient(server.url, PUBLIC, SECRET, policy=FAST)
    with caplog.at_level(logging.DEBUG):
        assert client.current_round() is None
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    caplog.clear()
    with caplog.at_level(logging.DEBUG), pytest.raises(NumeraiRefusedError):
        client.download(f"{dataset_version}/nope.parquet", server.root / "x")
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "nope.parquet" in errors[0] and SECRET not in errors[0]


def test_round_details_from_list_rounds(client, open_server):
    number = open_server.current_round().number
    details = client.round_details(number)
    assert details.number == number and details.target  # the local server answers list_rounds
    meta = details.metadata()
    assert meta["round_target"] == details.target
    assert isinstance(meta["round_payout_factor"], (float, str))
    missing = client.round_details(number + 1000)  # a round the server does not know
    assert missing.metadata() == {
        "round_target": "not given",
        "round_payout_factor": "not given",
        "round_score_configs": "not given",
        "round_payout_scores": "not given",
    }


def test_download_is_complete_verified_and_not_repeated(dataset_version, client, open_server, tmp_path):
    dest = tmp_path / "train.parquet"
    first = client.download(f"{dataset_version}/train.parquet", dest, validate=readability_check("train.parquet"))
    served = open_server.root / dataset_version / "train.parquet"
    assert first.downloaded and first.sha256 == hashlib.sha256(served.read_bytes()).hexdigest()
    assert pq.ParquetFile(dest).metadata.num_rows > 0
    mtime = dest.stat().st_mtime_ns
    again = client.download(f"{dataset_version}/train.parquet", dest)
    assert not again.downloaded and again.sha256 == first.sha256 and dest.stat().st_mtime_ns == mtime


def test_5xx_burst_is_recovered_by_retries(client, open_server):
    open_server.faults.set(graphql_5xx=3)
    assert client.list_datasets()
    assert open_server.faults.graphql_5xx == 0  # the burst was really served


def test_never_answering_server_fails_within_the_bound(open_server, caplog):
    policy = RetryPolicy(timeout_s=1.0, max_attempts=100, budget_s=3.0, backoff_initial_s=0.1, backoff_max_s=0.5)
    client = NumeraiClient(open_server.url, PUBLIC, SECRET, policy=policy)
    open_server.faults.set(graphql_hang=True)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING), pytest.raises(NumeraiUnavailableError) as err:
        client.models()
    elapsed = time.monotonic() - started
    assert elapsed < 3.0 + 1.0, elapsed  # budget plus scheduling slack, never "forever"
    assert "unavailable" in str(err.value) and "budget 3 s" in str(err.value)
    assert "retrying" in caplog.text
    assert SECRET not in str(err.value) + caplog.text and PUBLIC not in str(err.value) + caplog.text


def test_refusals_are_not_retried(dataset_version, client, open_server):
    open_server.faults.set(graphql_5xx=0)
    started = time.monotonic()
    with pytest.raises(NumeraiRefusedError, match="nope.parquet"):
        client.download(f"{dataset_version}/nope.parquet", open_server.root / "x")
    assert time.monotonic() - started < 1.0


def test_truncated_download_leaves_no_file(dataset_version, open_server, tmp_path):
    client = NumeraiClient(open_server.url, PUBLIC, SECRET, policy=RetryPolicy(timeout_s=2, max_attempts=1, budget_s=5))
    open_server.faults.set(truncate_downloads=1)
    dest = tmp_path / "downloads" / "validation.parquet"
    with pytest.raises(NumeraiUnavailableError, match="validation.parquet"):
        client.download(f"{dataset_version}/validation.parquet", dest)
    assert list(dest.parent.iterdir()) == []  # no final file, no partial file, no sidecar


def test_truncated_download_is_retried_to_a_complete_file(dataset_version, client, open_server, tmp_path):
    open_server.faults.set(truncate_downloads=2)
    dest = tmp_path / "downloads" / "validation.parquet"
    result = client.download(f"{dataset_version}/validation.parquet", dest, validate=readability_check(dest.name))
    assert result.downloaded and pq.ParquetFile(dest).metadata.num_rows > 0
    assert sorted(p.name for p in dest.parent.iterdir()) == [dest.name, sidecar_path(dest).name]


def test_upload_is_verified_and_listed(client, open_server, tmp_path):
    round_number = open_server.current_round().number
    csv = live_predictions_csv(tmp_path, open_server.root, round_number)
    model_id = client.models()["demo_slot_a"]
    receipt = client.upload_predictions(csv, model_id)
    assert receipt.sha256 == hashlib.sha256(csv.read_bytes()).hexdigest()
    assert receipt.submission_id in {s["id"] for s in client.submissions(model_id)}
    recorded = open_server.state.submissions(round_number=round_number)
    assert [s.sha256 for s in recorded] == [receipt.sha256]


def test_403_on_upload_put_is_detected_and_nothing_is_submitted(client, open_server, tmp_path):
    """A 403 gets one fresh upload URL; a second 403 is a definite refusal."""
    csv = live_predictions_csv(tmp_path, open_server.root, open_server.current_round().number)
    model_id = client.models()["demo_slot_b"]
    open_server.faults.set(upload_put_status=403, upload_put_count=2)
    with pytest.raises(UploadRejectedError, match="HTTP 403"):
        client.upload_predictions(csv, model_id)
    assert client.submissions(model_id) == []
    assert open_server.faults.upload_put_count == 0  # both URLs were tried


def test_one_403_on_upload_put_asks_for_a_fresh_url_and_submits_once(client, open_server, tmp_path):
    csv = live_predictions_csv(tmp_path, open_server.root, open_server.current_round().number)
    model_id = client.models()["demo_slot_b"]
    open_server.faults.set(upload_put_status=403, upload_put_count=1)
    receipt = client.upload_predictions(csv, model_id)
    assert [s["id"] for s in client.submissions(model_id)] == [receipt.submission_id]


def test_invalid_predictions_are_refused_with_numerais_reason(client, open_server, tmp_path):
    csv = live_predictions_csv(tmp_path, open_server.root, open_server.current_round().number, constant=True)
    model_id = client.models()["demo_slot_a"]
    with pytest.raises(NumeraiRefusedError, match="standard deviation"):
        client.upload_predictions(csv, model_id)
    assert client.submissions(model_id) == []


def test_submission_scores_come_as_served_with_iso_times(client, open_server, tmp_path):
    """Rows keep every field numerapi returns; times become ISO strings (JSON-storable)."""
    model_id = open_server.models["demo_slot_a"]
    number = open_server.current_round().number
    csv = live_predictions_csv(tmp_path, open_server.root, number)
    receipt = client.upload_predictions(csv, model_id)
    open_server.close_round()
    assert client.submission_scores(model_id) == []  # nothing scored before the round resolves
    open_server.resolver.resolve(number, day=2)
    rows = client.submission_scores(model_id)
    assert {r["submissionId"] for r in rows} == {receipt.submission_id}
    assert {r["day"] for r in rows} == {1, 2} and not any(r["resolved"] for r in rows)
    assert all(isinstance(r["date"], str) and r["date"].startswith("20") for r in rows)
    assert len(client.submission_scores(model_id, last_n_rounds=1, display_name=rows[0]["displayName"])) == 2
