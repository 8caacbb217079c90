"""The submission ledger: what was uploaded where, durably, so nothing is submitted twice.

One sqlite file (WAL, synchronous FULL, busy_timeout). A submission moves ``pending`` (decided
to upload, under the (round, slot) claim of :mod:`core.live.claims`) -> ``uploaded`` (PUT accepted;
the remote file name Numerai gave is known) -> ``confirmed`` (created and listed) or ``failed``.
``deadline_at`` (epoch s) is written *before* create is sent: until it passes, a create whose
answer was lost may still land, so "not on Numerai" cannot be decided earlier.

The ledger is not a point of amnesia: a marker file beside it (``<ledger>.created``) records
that it existed, so a ledger that is missing, empty, truncated or unreadable stops submission
with an error naming the file and the ``numerai-assets-ledger reconcile`` command, instead of a
new empty ledger silently re-submitting rounds already on Numerai.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from numerai_assets.core.live.claims import SqliteClaims

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
    updated_at TEXT NOT NULL,
    deadline_at REAL
);
CREATE INDEX IF NOT EXISTS by_round_slot ON submissions (round, slot);
"""
DEFAULT_LEASE_S = 300.0  # > the client's request timeout (30 s) + margin; see core.live.claims
BUSY_TIMEOUT_MS = 30_000


class LedgerUnusableError(RuntimeError):
    """The ledger is missing (but existed), empty, truncated or unreadable: nothing is submitted."""


def marker_path(path: Path) -> Path:
    return path.with_name(path.name + ".created")


def _unusable(path: Path, what: str) -> LedgerUnusableError:
    return LedgerUnusableError(
        f"submission ledger {path} {what}: submissions are stopped so that no round is sent twice."
        f" Rebuild it from Numerai's own records with: numerai-assets-ledger reconcile --ledger {path}"
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


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
    deadline_at: float | None = None


class SubmissionLedger:
    """Entries per (round, slot) plus the claims (``self.claims``) that serialize uploads."""

    def __init__(self, path: str | Path, *, lease_s: float = DEFAULT_LEASE_S) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.lease_s = lease_s
        self._lock = threading.Lock()
        self._conn = self._open()
        self.claims = SqliteClaims(self._conn, self._lock, lease_s)

    def _open(self) -> sqlite3.Connection:
        marker, existed = marker_path(self.path), self.path.exists()
        if marker.exists() and not existed:
            raise _unusable(self.path, "is missing although it was created before")
        if marker.exists() and self.path.stat().st_size == 0:
            raise _unusable(self.path, "is empty (truncated)")
        conn = None
        try:
            conn = sqlite3.connect(
                self.path, check_same_thread=False, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000
            )
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise sqlite3.DatabaseError(check)
            has_table = conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='submissions'").fetchone()
            if existed and marker.exists() and not has_table:
                conn.close()
                raise _unusable(self.path, "holds no submissions table (emptied or replaced)")
            conn.executescript(SCHEMA)
            columns = {r[1] for r in conn.execute("PRAGMA table_info(submissions)")}
            if "deadline_at" not in columns:  # a ledger written before deadlines were recorded
                conn.execute("ALTER TABLE submissions ADD COLUMN deadline_at REAL")
        except sqlite3.DatabaseError as exc:
            if conn is not None:
                conn.close()
            raise _unusable(self.path, f"is unreadable ({exc})") from None
        if not marker.exists():
            marker.write_text(f"created {_now()}; deleting the ledger stops submission\n")
        return conn

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> SubmissionLedger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _rows(self, sql: str, params: tuple = ()) -> list[LedgerEntry]:
        with self._lock:
            rows = self._conn.execute(sql, params).fetchall()
        return [LedgerEntry(**{**dict(r), "dry_run": bool(r["dry_run"]), "late": bool(r["late"])}) for r in rows]

    def entries(self, round_number: int | None = None, slot: str | None = None) -> list[LedgerEntry]:
        sql, params = "SELECT * FROM submissions WHERE 1=1", list[object]()
        if round_number is not None:
            sql, params = sql + " AND round = ?", [*params, round_number]
        if slot is not None:
            sql, params = sql + " AND slot = ?", [*params, slot]
        return self._rows(sql + " ORDER BY entry_id", tuple(params))

    def get(self, entry_id: int) -> LedgerEntry:
        [entry] = self._rows("SELECT * FROM submissions WHERE entry_id = ?", (entry_id,))
        return entry

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
        self,
        round_number: int,
        slot: str,
        model_id: str | None,
        sha256: str,
        path: str,
        *,
        dry_run: bool,
        late: bool,
    ) -> int:
        now = _now()
        with self._lock:
            cur = self._conn.execute(
                "INSERT INTO submissions (round, slot, model_id, sha256, path, status, dry_run, late,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)",
                (round_number, slot, model_id, sha256, path, int(dry_run), int(late), now, now),
            )
            assert cur.lastrowid is not None  # set by every INSERT
            return cur.lastrowid

    def update(self, entry_id: int, status: str, **fields: str | float | None) -> None:
        allowed = {"remote_filename", "submission_id", "detail", "deadline_at"}
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"ledger fields {sorted(unknown)} cannot be updated")
        sets = ", ".join([f"{k} = ?" for k in fields] + ["status = ?", "updated_at = ?"])
        with self._lock:
            self._conn.execute(
                f"UPDATE submissions SET {sets} WHERE entry_id = ?",
                (*fields.values(), status, _now(), entry_id),
            )

    def add_reconciled(
        self, round_number: int, slot: str, model_id: str, submission_id: str, remote_filename: str | None
    ) -> int:
        """Record a submission found on Numerai that the ledger did not know (sha256 unknown: '')."""
        entry = self.begin(round_number, slot, model_id, "", "", dry_run=False, late=False)
        self.update(
            entry,
            "confirmed",
            submission_id=submission_id,
            remote_filename=remote_filename,
            detail="reconciled from Numerai's records",
        )
        return entry

    @classmethod
    def open_for_rebuild(cls, path: str | Path, **kwargs: float) -> tuple[SubmissionLedger, Path | None]:
        """Open the ledger; an unusable one is moved aside (kept for inspection) and started anew."""
        path = Path(path)
        try:
            return cls(path, **kwargs), None
        except LedgerUnusableError:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            aside = path.with_name(f"{path.name}.unusable-{stamp}")
            for suffix in ("", "-wal", "-shm"):
                old = path.with_name(path.name + suffix)
                if old.exists():
                    old.rename(aside.with_name(aside.name + suffix))
            marker_path(path).unlink(missing_ok=True)
            return cls(path, **kwargs), aside if aside.exists() else None
