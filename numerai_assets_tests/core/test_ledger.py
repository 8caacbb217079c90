"""The submission ledger is durable and answers the idempotency questions a re-run asks."""
import pytest

from numerai_assets.core.ledger import SubmissionLedger


def test_lifecycle_survives_reopening(tmp_path):
    path = tmp_path / "ledger.sqlite"
    with SubmissionLedger(path) as ledger:
        entry = ledger.begin(7, "demo_slot_a", "mid", "sha", "/p.csv", dry_run=False, late=False)
        assert ledger.confirmed(7, "demo_slot_a", dry_run=False) is None
        ledger.update(entry, "uploaded", remote_filename="abc/predictions.csv")
    with SubmissionLedger(path) as ledger:  # a new process after a crash
        [uncertain] = ledger.uncertain(7, "demo_slot_a")
        assert uncertain.remote_filename == "abc/predictions.csv"
        ledger.update(uncertain.entry_id, "confirmed", submission_id="sub-1")
        assert ledger.confirmed(7, "demo_slot_a", dry_run=False).submission_id == "sub-1"
        assert ledger.uncertain(7, "demo_slot_a") == []
        assert ledger.confirmed(7, "demo_slot_b", dry_run=False) is None


def test_dry_runs_never_count_as_real_submissions(tmp_path):
    with SubmissionLedger(tmp_path / "l.sqlite") as ledger:
        entry = ledger.begin(1, "s", None, "sha", "/p.csv", dry_run=True, late=False)
        ledger.update(entry, "confirmed", detail="dry run")
        assert ledger.confirmed(1, "s", dry_run=False) is None
        assert ledger.confirmed(1, "s", dry_run=True).dry_run


def test_unknown_fields_are_rejected(tmp_path):
    with SubmissionLedger(tmp_path / "l.sqlite") as ledger:
        entry = ledger.begin(1, "s", None, "sha", "/p.csv", dry_run=False, late=False)
        with pytest.raises(ValueError, match="sha256"):
            ledger.update(entry, "confirmed", sha256="other")
