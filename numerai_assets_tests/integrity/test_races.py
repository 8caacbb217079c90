"""Races and kills around one slot-round: whatever happens, exactly one submission lands on the
server, or the runner ends red saying why. Real processes, real kill -9, real local tournament."""

from __future__ import annotations

import os

import pytest

from numerai_assets_tests.integrity.conftest import finish, kill9, wait_for


def test_two_runners_at_once_submit_once(case):
    """Two round runs on one home, API answering in ~1 s: one uploads, the other waits for the
    claim and reads the outcome from the ledger."""
    case.server.faults.set(graphql_delay_s=1.0)
    first, second = case.spawn(), case.spawn()
    results = [finish(first), finish(second)]
    assert sorted(r["status"] for r in results) == ["already_submitted", "submitted"], results
    assert len(case.landed()) == 1
    with case.open_ledger() as ledger:
        live = [e for e in ledger.entries(case.round, case.slot) if not e.dry_run]
        assert [e.status for e in live] == ["confirmed"]
        assert live[0].submission_id == case.landed()[0].id
        assert ledger.claims.holders() == []  # both released their claims


@pytest.mark.parametrize("repeat", [1, 2])
def test_three_runners_at_once_submit_once(case, repeat):
    """The race repeated with three runners (API ~0.3 s): still one submission, one confirmed."""
    case.server.faults.set(graphql_delay_s=0.3)
    results = [finish(p) for p in [case.spawn() for _ in range(3)]]
    assert sorted(r["status"] for r in results) == ["already_submitted"] * 2 + ["submitted"], results
    assert len(case.landed()) == 1
    with case.open_ledger() as ledger:
        assert [e.status for e in ledger.entries(case.round, case.slot)] == ["confirmed"]


def test_a_runner_arriving_during_an_upload_waits_for_it(case):
    """Deterministic contention: A's PUT is held by the server until B reports that it waits for
    A's claim; then A's PUT is released, A submits, and B reads A's outcome."""
    case.server.faults.set(upload_put_delay_s=60.0)
    first = case.spawn()
    with case.open_ledger() as ledger:
        wait_for("A's claim", ledger.claims.holders)
    second = case.spawn()
    waiting = next((line for line in second.stderr if "is being submitted by" in line), "")
    assert f"pid {first.pid}" in waiting, "B never reported waiting for A's claim"
    case.server.faults.set(upload_put_delay_s=0.0)  # releases A's held PUT
    a, b = finish(first), finish(second)
    assert a["status"] == "submitted" and b["status"] == "already_submitted", (a, b)
    assert len(case.landed()) == 1


def test_create_answering_after_the_client_timeout_lands_once(case):
    """create_submission records the submission but answers after the client's 2 s timeout:
    the runner lists before anything else and finds it; it never creates again."""
    case.server.faults.set(create_delay_s=4.0)
    result = finish(
        case.spawn(
            policy={
                "timeout_s": 2.0,
                "max_attempts": 3,
                "budget_s": 10.0,
                "backoff_initial_s": 0.05,
                "backoff_max_s": 0.2,
            }
        )
    )
    assert result["status"] == "submitted", result
    assert "may or may not have landed" in result["log"]
    [landed] = case.landed()
    assert result["submission_id"] == landed.id


def test_kill_after_put_then_rerun_while_create_is_in_flight(case):
    """Killed (-9) after the PUT while create is delayed; the re-run starts while that create is
    still in flight: it takes over the dead runner's claim and verifies instead of uploading."""
    case.server.faults.set(create_delay_s=600.0)  # held until the end of the test
    first = case.spawn(policy={"timeout_s": 20.0, "max_attempts": 1, "budget_s": 30.0})
    wait_for("the first create to be recorded", case.landed)
    kill9(first)
    with case.open_ledger() as ledger:
        [entry] = ledger.entries(case.round, case.slot)
        assert entry.status == "uploaded" and entry.deadline_at is not None
        [(_, _, owner, _)] = ledger.claims.holders()
        assert owner.pid == first.pid  # the dead runner's claim is still there
    rerun = finish(case.spawn())
    assert case.server.faults.create_delay_s == 600.0  # the first create is still unanswered
    assert rerun["status"] == "verified_earlier_upload", rerun
    [landed] = case.landed()
    assert rerun["submission_id"] == landed.id
    case.server.faults.set(create_delay_s=0.0)  # release the held answer


def test_killed_claim_owner_is_taken_over_only_once_its_pid_is_gone(case):
    """A runner holding the claim (slow PUT) makes a second one stand down; after kill -9 of the
    owner, the next runner takes the claim over and submits, once."""
    case.server.faults.set(upload_put_delay_s=600.0)  # the owner's PUT is held until released
    owner = case.spawn()
    with case.open_ledger() as ledger:
        wait_for("the owner's claim", ledger.claims.holders)
    blocked = finish(case.spawn(timing={"claim_wait_s": 0.5, "outcome_margin_s": 1.0}))
    assert blocked["rc"] == 3 and blocked["error"] == "ClaimHeldError", blocked
    assert f"pid {owner.pid}" in blocked["message"] and "standing down" in blocked["message"]
    kill9(owner)
    assert not os.path.exists(f"/proc/{owner.pid}")
    case.server.faults.set(upload_put_delay_s=0.0)
    rerun = finish(case.spawn())
    assert rerun["status"] == "submitted", rerun
    assert len(case.landed()) == 1
    with case.open_ledger() as ledger:
        statuses = sorted(e.status for e in ledger.entries(case.round, case.slot))
        assert statuses == ["confirmed", "failed"]  # the dead owner's attempt never reached create
