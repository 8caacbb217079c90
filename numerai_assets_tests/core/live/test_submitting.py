"""submit_slot against the real local tournament: an uncertain upload is never called failed
while its create may still land, and is settled by what Numerai lists."""

import time

import pytest

from numerai_assets.core.live.ledger import SubmissionLedger
from numerai_assets.core.live.submitting import SubmitTiming, submit_slot
from numerai_assets.core.numerai.client import (
    CREATE_SUBMISSION,
    NumeraiClient,
    NumeraiRefusedError,
    RetryPolicy,
)
from numerai_assets.core.numerai.transport import TOURNAMENT
from numerai_assets_tests.tournament.helpers import predictions, sha256

SLOT = "demo_slot_a"
POLICY = RetryPolicy(timeout_s=5.0, max_attempts=2, budget_s=10.0, backoff_initial_s=0.05)
TIMING = SubmitTiming(claim_wait_s=5.0, outcome_margin_s=0.5, poll_s=0.05)


class Stop(Exception):
    """Raised from on_create: the upload stops right before create is sent."""


@pytest.fixture
def env(open_server, tmp_path):
    client = NumeraiClient(open_server.url, "PUB-x", "SEC-y", policy=POLICY)
    csv = tmp_path / "predictions.csv"
    predictions(open_server).to_csv(csv, index=False)
    with SubmissionLedger(tmp_path / "ledger.sqlite") as ledger:
        yield open_server, client, ledger, csv


def put_without_create(client, csv):
    """A PUT accepted whose create has not reached the server: its remote filename."""
    names = []

    def stop(_timeout: float) -> None:
        raise Stop

    with pytest.raises(Stop):
        client.upload_predictions(csv, client.models()[SLOT], on_uploaded=names.append, on_create=stop)
    return names[0]


def crashed_entry(ledger, client, csv, remote, deadline_at):
    """The ledger as a runner killed after sending create leaves it."""
    entry = ledger.begin(1, SLOT, client.models()[SLOT], sha256(csv), str(csv), dry_run=False, late=False)
    ledger.update(entry, "uploaded", remote_filename=remote, deadline_at=deadline_at)


def submit(client, ledger, csv, log):
    return submit_slot(
        client, ledger, slot=SLOT, round_number=1, csv_path=csv, sha256=sha256(csv), timing=TIMING, log=log
    )


def test_a_create_landing_before_its_deadline_is_found_not_duplicated(env):
    server, client, ledger, csv = env
    remote = put_without_create(client, csv)
    crashed_entry(ledger, client, csv, remote, time.time() + 1.0)
    landed = []

    def log(message: str) -> None:  # the late create lands while the runner waits for the deadline
        if "waiting" in message and not landed:
            args = {
                "filename": remote,
                "tournament": TOURNAMENT,
                "modelId": client.models()[SLOT],
                "triggerId": None,
                "dataDatestamp": None,
            }
            landed.append(client._api.raw_query(CREATE_SUBMISSION, args, authorization=True))

    outcome = submit(client, ledger, csv, log)
    assert landed, "the runner decided without waiting for the deadline"
    assert outcome.status == "verified_earlier_upload"
    assert [s.id for s in server.state.submissions(round_number=1)] == [outcome.submission_id]


def test_a_create_that_never_lands_is_failed_only_after_its_deadline(env):
    server, client, ledger, csv = env
    remote = put_without_create(client, csv)
    deadline = time.time() + 1.0
    crashed_entry(ledger, client, csv, remote, deadline)
    messages = []
    outcome = submit(client, ledger, csv, messages.append)
    assert any("waiting" in m for m in messages)
    assert outcome.status == "submitted"
    first, second = ledger.entries(1, SLOT)
    assert first.status == "failed" and "after the request's deadline" in first.detail
    assert first.updated_at >= time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(deadline))
    assert second.status == "confirmed" and second.remote_filename != remote
    assert [s.id for s in server.state.submissions(round_number=1)] == [outcome.submission_id]


def test_an_upload_whose_create_was_never_sent_is_failed_without_waiting(env):
    server, client, ledger, csv = env
    remote = put_without_create(client, csv)
    crashed_entry(ledger, client, csv, remote, None)
    messages = []
    outcome = submit(client, ledger, csv, messages.append)
    assert outcome.status == "submitted" and not any("waiting" in m for m in messages)
    assert "create was never sent" in ledger.entries(1, SLOT)[0].detail
    assert len(server.state.submissions(round_number=1)) == 1


def test_a_refused_create_is_a_definite_failure(env, tmp_path):
    server, client, ledger, csv = env
    constant = tmp_path / "constant.csv"
    predictions(server).assign(prediction=0.5).to_csv(constant, index=False)
    with pytest.raises(NumeraiRefusedError):
        submit(client, ledger, constant, print)
    [entry] = ledger.entries(1, SLOT)
    assert entry.status == "failed" and ledger.claims.holders() == []
    assert server.state.submissions(round_number=1) == []
