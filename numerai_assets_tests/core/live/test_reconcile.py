"""Reconciling the ledger from Numerai's records (real local tournament, real numerapi)."""

import time

from numerai_assets.core.live.claims import Owner
from numerai_assets.core.live.ledger import SubmissionLedger
from numerai_assets.core.live.reconcile import reconcile
from numerai_assets.core.numerai.client import NumeraiClient, RetryPolicy
from numerai_assets_tests.tournament.helpers import predictions

SLOT = "demo_slot_b"


def upload(server, client, tmp_path, round_number):
    csv = tmp_path / f"r{round_number}.csv"
    predictions(server, round_number).to_csv(csv, index=False)
    return client.upload_predictions(csv, client.models()[SLOT])


def test_a_lost_ledger_is_rebuilt_with_every_rounds_latest_submission(open_server, tmp_path):
    client = NumeraiClient(open_server.url, "P", "S", policy=RetryPolicy(timeout_s=5.0))
    upload(open_server, client, tmp_path, 1)
    latest_1 = upload(open_server, client, tmp_path, 1)  # only the latest upload of a round counts
    open_server.advance()
    latest_2 = upload(open_server, client, tmp_path, 2)
    report = reconcile(tmp_path / "ledger.sqlite", client, [SLOT], log=lambda _: None)
    assert report.added == [(1, SLOT, latest_1.submission_id), (2, SLOT, latest_2.submission_id)]
    again = reconcile(tmp_path / "ledger.sqlite", client, [SLOT], log=lambda _: None)
    assert again.added == []  # idempotent


def test_uncertain_entries_are_settled_only_when_safe(open_server, tmp_path):
    client = NumeraiClient(open_server.url, "P", "S", policy=RetryPolicy(timeout_s=5.0))
    model_id = client.models()[SLOT]
    path = tmp_path / "ledger.sqlite"
    with SubmissionLedger(path) as ledger:
        for round_number, deadline in ((1, time.time() - 1), (2, time.time() + 600), (3, None)):
            entry = ledger.begin(round_number, SLOT, model_id, "sha", "/p.csv", dry_run=False, late=False)
            ledger.update(entry, "uploaded", remote_filename=f"never-created-{round_number}.csv", deadline_at=deadline)
        held = ledger.begin(4, SLOT, model_id, "sha", "/p.csv", dry_run=False, late=False)
        ledger.update(held, "uploaded", remote_filename="in-flight.csv", deadline_at=time.time() - 1)
        ledger.claims.try_claim(4, SLOT, Owner("another-host.example", 7, None, "live"))
    report = reconcile(path, client, [SLOT], log=lambda _: None)
    assert sorted(report.failed) == [(1, SLOT), (3, SLOT)]  # deadline passed / create never sent
    left = {r: why for r, _, why in report.left_uncertain}
    assert set(left) == {2, 4}
    assert "may land until" in left[2] and "live runner holds its claim" in left[4]
    with SubmissionLedger(path) as ledger:
        assert {e.round: e.status for e in ledger.entries(slot=SLOT)} == {
            1: "failed",
            2: "uploaded",
            3: "failed",
            4: "uploaded",
        }
