"""The round report: each slot's status from the ledger and its gate verdict, and its scores."""

from datetime import UTC, datetime

from numerai_assets.core.live.ledger import LedgerEntry
from numerai_assets.core.scores.live import RoundScores
from numerai_assets.core.scores.report import render_round_report, round_finished, round_settled, slot_round

CLOSE = datetime(2026, 6, 2, 13, 0, tzinfo=UTC)


def entry(status: str, updated: str, submission_id: str | None = "sub-1", **kw) -> LedgerEntry:
    fields = dict(entry_id=1, round=5, slot="a", model_id="m", sha256="x", path="p", status=status, dry_run=False,
                  late=False, remote_filename="f.csv", submission_id=submission_id, detail=None,
                  created_at=updated, updated_at=updated)  # fmt: skip
    return LedgerEntry(**(fields | kw))


GATES_OK = {"gates": [{"name": "std_above_floor", "passed": True, "blocking": True}]}
GATED = {"gates": [{"name": "std_above_floor", "passed": False, "blocking": True},
                   {"name": "feature_drift", "passed": False, "blocking": False}]}  # fmt: skip


def test_status_minutes_before_deadline_and_gates_per_slot():
    sub = slot_round("a", [entry("confirmed", "2026-06-02T12:20:00+00:00")], GATES_OK, None, CLOSE)
    assert (sub.status, sub.submission_id, sub.minutes_before_deadline) == ("submitted", "sub-1", 40.0)
    gated = slot_round("b", [], GATED, None, CLOSE)
    assert gated.status == "gated" and gated.gates_failed == ("std_above_floor", "feature_drift")
    assert "std_above_floor" in gated.detail and "feature_drift" not in gated.detail  # only blocking ones gate
    assert slot_round("c", [], None, None, CLOSE).status == "missed"
    failed = slot_round("d", [entry("failed", "2026-06-02T12:00:00+00:00", None)], GATES_OK, None, CLOSE)
    assert failed.status == "failed"
    scores = RoundScores(
        "e", 5, "m", ({"roundNumber": 5, "submissionId": "manual", "displayName": "x", "value": 0.1},), None
    )
    assert slot_round("e", [], None, scores, CLOSE).status == "submitted elsewhere"


def test_the_report_renders_every_slot_and_its_scores():
    scores = RoundScores("a", 5, "m", ({"roundNumber": 5, "submissionId": "sub-1", "displayName": "corr_v9",
                                        "day": 3, "value": 0.0123, "resolved": False},), "sub-1")  # fmt: skip
    slots = [
        slot_round("a", [entry("confirmed", "2026-06-02T12:20:00+00:00")], GATES_OK, scores, CLOSE),
        slot_round("b", [], GATED, None, CLOSE),
    ]
    text = render_round_report(5, slots, {"round_target": "target_x"})
    assert text.startswith("## Round 5") and "- round_target: target_x" in text
    assert "| a | submitted | sub-1 | 40.0 |" in text and "| b | gated | - |" in text
    assert "| corr_v9 | 0.0123 | 3 | no |" in text and "### b scores\nno scores yet" in text


def test_a_round_is_settled_once_no_slot_is_uncertain_and_finished_once_its_scores_resolved():
    """What the alerts send the report on: settled first, finished when every scored slot resolved."""

    def scores(resolved: bool) -> RoundScores:
        row = {"roundNumber": 5, "submissionId": "sub-1", "displayName": "corr_v9", "value": 0.01, "resolved": resolved}
        return RoundScores("a", 5, "m", (row,), "sub-1")

    confirmed, gated = [entry("confirmed", "2026-06-02T12:20:00+00:00")], slot_round("b", [], GATED, None, CLOSE)
    uncertain = slot_round("a", [entry("uploaded", "2026-06-02T12:20:00+00:00")], GATES_OK, None, CLOSE)
    assert not round_settled([uncertain, gated]) and not round_finished([uncertain, gated])
    waiting = slot_round("a", confirmed, GATES_OK, None, CLOSE)
    assert round_settled([waiting, gated]) and not round_finished([waiting, gated])  # no scores yet
    daily = slot_round("a", confirmed, GATES_OK, scores(False), CLOSE)
    assert not round_finished([daily, gated])
    assert round_finished([slot_round("a", confirmed, GATES_OK, scores(True), CLOSE), gated])
    assert not round_finished([gated])  # nothing was submitted: nothing to finish
