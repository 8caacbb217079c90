"""The submission ledger: what was uploaded where, durably, so nothing is submitted twice.

One sqlite file (WAL, synchronous FULL). A submission moves ``pending`` (decided to upload) ->
``uploaded`` (PUT accepted; the remote file name is known, the outcome of create is not) ->
``confirmed`` (created and listed) or ``failed``. A re-executed run looks here first: a
confirmed entry for the round and slot means done; an ``uploaded`` entry means the outcome is
uncertain and must be verified with Numerai before any new upload.
"""
from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    entry_id INTEGER PRIMARY KEY AUTOINCREMENT,
    round INTEGER NOT NULL,
    slot TEXT NOT NULL,
    model_id TEXT,
    sha256 TEXT NOT NULL,
    path TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'uploaded', 'confirmed', 'failed')),
    dry_run INTEGER NOT NULL,
    late INTEGER NOT NULL DEFAULT 0,
    remote_filename TEXT,
    submission_id TEXT,
    detail TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS by_round_slot ON submissions (round, slot);
"""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class LedgerEntry:
    entry_id: int
    round: int
    slot: str
    model_id: str | None
    sha256: str
    path: str
    status: str
    dry_run: bool
    late: bool
    remote_filename: str | None
    submission_id: str | None
    detail: str | None
    created_at: str
    updated_at: str


class SubmissionLedger:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.executescript(SCHEMA)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> "SubmissionLedger":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _rows(self, sql: str, params: tuple = ()) -> list[LedgerEntry]:
        with self._lock:
            rows = self._conn.execute(sql, params).fetchall()
        return [
            LedgerEntry(**{**dict(r), "dry_run": bool(r["dry_run"]), "late": bool(r["late"])})
            for r in rows
        ]

    def entries(self, round_number: int | None = None, slot: str | None = None) -> list[LedgerEntry]:
        sql, params = "SELECT * FROM submissions WHERE 1=1", []
        if round_number is not None:
            sql, params = sql + " AND round = ?", [*params, round_number]
        if slot is not None:
            sql, params = sql + " AND slot = ?", [*params, slot]
        return self._rows(sql + " ORDER BY entry_id", tuple(params))

    def confirmed(self, round_number: int, slot: str, *, dry_run: bool) -> LedgerEntry | None:
        """The submission that already counts for this round and slot, if any."""
        found = self._rows(
            "SELECT * FROM submissions WHERE round=? AND slot=? AND status='confirmed' AND dry_run=?"
            " ORDER BY entry_id DESC LIMIT 1",
            (round_number, slot, int(dry_run)),
        )
        return found[0] if found else None

    def uncertain(self, round_number: int, slot: str) -> list[LedgerEntry]:
        """Uploads whose outcome is unknown (a crash or timeout after the PUT)."""
        return self._rows(
            "SELECT * FROM submissions WHERE round=? AND slot=? AND status IN ('pending','uploaded')"
            " AND dry_run=0 ORDER BY entry_id",
            (round_number, slot),
        )

    def begin(
        self, round_number: int, slot: str, model_id: str | None, sha256: str, path: str,
        *, dry_run: bool, late: bool,
    ) -> int:
        now = _now()
        with self._lock:
            cur = self._conn.execute(
                "INSERT INTO submissions (round, slot, model_id, sha256, path, status, dry_run, late,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)",
                (round_number, slot, model_id, sha256, path, int(dry_run), int(late), now, now),
            )
            return int(cur.lastrowid)

    def update(self, entry_id: int, status: str, **fields: str | None) -> None:
        allowed = {"remote_filename", "submission_id", "detail"}
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"ledger fields {sorted(unknown)} cannot be updated")
        sets = ", ".join([f"{k} = ?" for k in fields] + ["status = ?", "updated_at = ?"])
        with self._lock:
            self._conn.execute(
                f"UPDATE submissions SET {sets} WHERE entry_id = ?",
                (*fields.values(), status, _now(), entry_id),
            )
