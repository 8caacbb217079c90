"""Durable state of the local tournament server: rounds, models, uploads, submissions.

One sqlite file (``<root>/state.sqlite``, WAL) guarded by one lock, so the threaded HTTP server
can share it and a restarted server sees every round and submission recorded before.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from numerai_assets.tournament.calendar import RoundWindow, check_window, fixed_window

# Fixed namespace so a model name maps to the same UUID on every machine and every restart.
MODEL_NAMESPACE = uuid.UUID("5f0c6a52-8d1e-4c3b-9a57-2f4e1b6d9c10")

DEFAULT_STAKING_WINDOW_S = 3600.0
DEFAULT_CLOSE_WINDOW_S = 3 * 86400.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rounds (
    number INTEGER PRIMARY KEY,
    open_time TEXT NOT NULL,
    close_staking_time TEXT NOT NULL,
    close_time TEXT NOT NULL,
    score_time TEXT NOT NULL,
    resolve_time TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'closed'))
);
CREATE TABLE IF NOT EXISTS models (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS uploads (
    token TEXT PRIMARY KEY,
    filename TEXT NOT NULL UNIQUE,
    model_id TEXT NOT NULL,
    sha256 TEXT,
    path TEXT,
    time TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS submissions (
    id TEXT PRIMARY KEY,
    round INTEGER NOT NULL REFERENCES rounds(number),
    model_id TEXT NOT NULL,
    model_name TEXT NOT NULL,
    filename TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    path TEXT NOT NULL,
    inserted_at TEXT NOT NULL,
    late INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS submissions_by_model ON submissions(model_id, inserted_at);
"""


class StateError(ValueError):
    """A request the state refuses (round already open, unknown upload, ...)."""


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def iso(t: dt.datetime) -> str:
    """ISO-8601 UTC with milliseconds and "Z": what dateutil (numerapi) parses."""
    return t.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))


def model_id_for(name: str) -> str:
    return str(uuid.uuid5(MODEL_NAMESPACE, name))


@dataclass(frozen=True)
class Round:
    number: int
    open_time: str
    close_staking_time: str
    close_time: str
    score_time: str
    resolve_time: str
    status: str

    def to_dict(self) -> dict[str, Any]:
        """numerapi-shaped (camelCase) round, as the admin API answers it."""
        return {
            "number": self.number,
            "status": self.status,
            "openTime": self.open_time,
            "closeStakingTime": self.close_staking_time,
            "closeTime": self.close_time,
            "scoreTime": self.score_time,
            "resolveTime": self.resolve_time,
        }


@dataclass(frozen=True)
class Upload:
    token: str
    filename: str
    model_id: str
    sha256: str | None
    path: str | None
    time: str


@dataclass(frozen=True)
class Submission:
    id: str
    round: int
    model_id: str
    model_name: str
    filename: str
    sha256: str
    path: str
    inserted_at: str
    late: bool

    def to_dict(self) -> dict[str, Any]:
        """camelCase like numerapi's fields, as the admin API answers it."""
        return {
            "id": self.id,
            "round": self.round,
            "modelId": self.model_id,
            "modelName": self.model_name,
            "filename": self.filename,
            "sha256": self.sha256,
            "insertedAt": self.inserted_at,
            "late": self.late,
        }


class TournamentState:
    """Thread-safe accessor over ``state.sqlite``; every write is one committed transaction."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=5000")
        with self._lock:
            self._db.executescript(_SCHEMA)

    def add_schema(self, sql: str) -> None:
        """Tables another tournament module keeps in this database (resolution.py: the scores)."""
        with self._lock:
            self._db.executescript(sql)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _rows(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, tuple(params)).fetchall()

    def _write(self, statements: list[tuple[str, tuple[Any, ...]]]) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for sql, params in statements:
                    self._db.execute(sql, params)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # rounds ---------------------------------------------------------------------------------

    def next_round_number(self, number: int | None, window: RoundWindow) -> int:
        """The number a round opened now with this window would get, or StateError saying why
        it cannot open (also called before a round's live files are generated)."""
        check_window(window)
        with self._lock:
            current = self.current_round()
            if current is not None:
                raise StateError(f"round {current.number} is already open; close it first")
            if number is None:
                return self.latest_round_number() + 1
            if self.get_round(number) is not None:
                raise StateError(f"round {number} already exists")
            if number < 1:
                raise StateError("round numbers start at 1")
            return number

    def open_round(
        self,
        number: int | None = None,
        staking_window_s: float = DEFAULT_STAKING_WINDOW_S,
        close_window_s: float = DEFAULT_CLOSE_WINDOW_S,
        open_time: dt.datetime | None = None,
        window: RoundWindow | None = None,
    ) -> Round:
        """Open a round with `window`'s times, or `open_time` (default now) plus the window
        lengths; numbering continues from the highest round ever opened (1 at first)."""
        window = window or fixed_window(open_time or utcnow(), staking_window_s, close_window_s)
        with self._lock:
            number = self.next_round_number(number, window)
            rnd = Round(
                number=number,
                open_time=iso(window.open_time),
                close_staking_time=iso(window.close_staking_time),
                close_time=iso(window.close_time),
                score_time=iso(window.score_time),
                resolve_time=iso(window.resolve_time),
                status="open",
            )
            self._write(
                [
                    (
                        "INSERT INTO rounds VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (
                            rnd.number,
                            rnd.open_time,
                            rnd.close_staking_time,
                            rnd.close_time,
                            rnd.score_time,
                            rnd.resolve_time,
                            rnd.status,
                        ),
                    )
                ]
            )
            return rnd

    def close_round(self) -> Round:
        """Close the open round now; deadlines still in the future are pulled back to now."""
        with self._lock:
            current = self.current_round()
            if current is None:
                raise StateError("no round is open")
            now = iso(utcnow())
            staking = min(current.close_staking_time, now, key=parse_iso)
            close = min(current.close_time, now, key=parse_iso)
            self._write(
                [
                    (
                        "UPDATE rounds SET status='closed', close_staking_time=?, close_time=? WHERE number=?",
                        (staking, close, current.number),
                    )
                ]
            )
            return self.get_round(current.number)  # type: ignore[return-value]

    def current_round(self) -> Round | None:
        rows = self._rows("SELECT * FROM rounds WHERE status='open' ORDER BY number DESC LIMIT 1")
        return Round(**dict(rows[0])) if rows else None

    def get_round(self, number: int) -> Round | None:
        rows = self._rows("SELECT * FROM rounds WHERE number=?", (number,))
        return Round(**dict(rows[0])) if rows else None

    def list_rounds(self) -> list[Round]:
        return [Round(**dict(r)) for r in self._rows("SELECT * FROM rounds ORDER BY number DESC")]

    def latest_round_number(self) -> int:
        rows = self._rows("SELECT COALESCE(MAX(number), 0) AS n FROM rounds")
        return int(rows[0]["n"])

    # models ---------------------------------------------------------------------------------

    def ensure_models(self, names: Iterable[str]) -> dict[str, str]:
        """Register model names (idempotent) and return {name: id} for them."""
        mapping = {name: model_id_for(name) for name in names}
        self._write(
            [("INSERT OR IGNORE INTO models (id, name) VALUES (?, ?)", (mid, name)) for name, mid in mapping.items()]
        )
        return mapping

    def model_name(self, model_id: str) -> str | None:
        rows = self._rows("SELECT name FROM models WHERE id=?", (model_id,))
        return rows[0]["name"] if rows else None

    # uploads --------------------------------------------------------------------------------

    def add_upload(self, token: str, filename: str, model_id: str) -> Upload:
        up = Upload(token, filename, model_id, None, None, iso(utcnow()))
        self._write(
            [
                (
                    "INSERT INTO uploads VALUES (?, ?, ?, ?, ?, ?)",
                    (up.token, up.filename, up.model_id, up.sha256, up.path, up.time),
                )
            ]
        )
        return up

    def store_upload(self, token: str, sha256: str, path: str) -> None:
        self._write(
            [
                (
                    "UPDATE uploads SET sha256=?, path=?, time=? WHERE token=?",
                    (sha256, path, iso(utcnow()), token),
                )
            ]
        )

    def get_upload(self, token: str | None = None, filename: str | None = None) -> Upload | None:
        if token is not None:
            rows = self._rows("SELECT * FROM uploads WHERE token=?", (token,))
        else:
            rows = self._rows("SELECT * FROM uploads WHERE filename=?", (filename,))
        return Upload(**dict(rows[0])) if rows else None

    # submissions ----------------------------------------------------------------------------

    def add_submission(self, round_number: int, upload: Upload, model_name: str, late: bool) -> Submission:
        if upload.sha256 is None or upload.path is None:
            raise StateError(f"no file was uploaded for {upload.filename}")
        sub = Submission(
            id=str(uuid.uuid4()),
            round=round_number,
            model_id=upload.model_id,
            model_name=model_name,
            filename=upload.filename,
            sha256=upload.sha256,
            path=upload.path,
            inserted_at=iso(utcnow()),
            late=late,
        )
        self._write(
            [
                (
                    "INSERT INTO submissions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        sub.id,
                        sub.round,
                        sub.model_id,
                        sub.model_name,
                        sub.filename,
                        sub.sha256,
                        sub.path,
                        sub.inserted_at,
                        int(sub.late),
                    ),
                )
            ]
        )
        return sub

    def submissions(self, model_ids: Iterable[str] | None = None, round_number: int | None = None) -> list[Submission]:
        sql, params = "SELECT * FROM submissions WHERE 1=1", list[object]()
        if model_ids is not None:
            ids = list(model_ids)
            sql += f" AND model_id IN ({','.join('?' * len(ids))})"
            params += ids
        if round_number is not None:
            sql += " AND round=?"
            params.append(round_number)
        rows = self._rows(sql + " ORDER BY inserted_at, id", params)
        return [_submission(r) for r in rows]

    def get_submission(self, submission_id: str) -> Submission | None:
        rows = self._rows("SELECT * FROM submissions WHERE id=?", (submission_id,))
        return _submission(rows[0]) if rows else None


def _submission(row: sqlite3.Row) -> Submission:
    return Submission(**{**dict(row), "late": bool(row["late"])})
