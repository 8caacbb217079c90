"""The submission ledger is durable and answers the idempotency questions a re-run asks."""

import sqlite3

import pytest

from numerai_assets.core.live.ledger import SCHEMA, LedgerUnusableError, SubmissionLedger, marker_path


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


def _ledger_with_one_entry(path):
    with SubmissionLedger(path) as ledger:
        ledger.begin(1, "s", None, "sha", "/p.csv", dry_run=False, late=False)


@pytest.mark.parametrize(
    "damage, what",
    [
        (lambda p: p.unlink(), "is missing although it was created before"),
        (lambda p: p.write_bytes(b""), "is empty"),
        (lambda p: p.write_bytes(b"garbage" * 500), "file is not a database"),
    ],
)
def test_a_damaged_ledger_is_refused_naming_the_file_and_the_fix(tmp_path, damage, what):
    path = tmp_path / "store" / "ledger.sqlite"
    _ledger_with_one_entry(path)
    damage(path)
    with pytest.raises(LedgerUnusableError) as err:
        SubmissionLedger(path)
    assert what in str(err.value) and str(path) in str(err.value)
    assert f"numerai-assets-ledger reconcile --ledger {path}" in str(err.value)


def test_a_first_ledger_is_created_with_its_marker(tmp_path):
    path = tmp_path / "new" / "ledger.sqlite"
    with SubmissionLedger(path) as ledger:
        assert ledger.entries() == []
    assert marker_path(path).exists()


def test_a_ledger_written_before_deadlines_is_migrated(tmp_path):
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA.replace(",\n    deadline_at REAL", ""))
    conn.execute(
        "INSERT INTO submissions (round, slot, sha256, path, status, dry_run, created_at,"
        " updated_at) VALUES (3, 's', 'sha', '/p', 'confirmed', 0, 'x', 'x')"
    )
    conn.commit()
    conn.close()
    with SubmissionLedger(path) as ledger:
        assert ledger.confirmed(3, "s", dry_run=False).deadline_at is None


def test_rebuild_moves_an_unusable_ledger_aside(tmp_path):
    path = tmp_path / "ledger.sqlite"
    _ledger_with_one_entry(path)
    path.write_bytes(b"garbage" * 500)
    ledger, aside = SubmissionLedger.open_for_rebuild(path)
    with ledger:
        assert ledger.entries() == []
    assert aside is not None and aside.read_bytes().startswith(b"garbage")
