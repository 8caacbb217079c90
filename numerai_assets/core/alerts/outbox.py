"""The outbox: every alert key claimed before it is sent, in sqlite, so an event goes out once
across sensor ticks, restarts and concurrent senders (the claim is one atomic INSERT)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from numerai_assets.core.alerts.alert import Alert

_SCHEMA = """CREATE TABLE IF NOT EXISTS sent (
    key TEXT PRIMARY KEY, kind TEXT NOT NULL, title TEXT NOT NULL, claimed_at TEXT NOT NULL, outcome TEXT
)"""


class Outbox:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        self._db.execute(_SCHEMA)

    def claim(self, alert: Alert) -> bool:
        """True when this caller is the first to claim ``alert.key`` (and so must send it)."""
        now = datetime.now(UTC).isoformat()
        cur = self._db.execute(
            "INSERT OR IGNORE INTO sent (key, kind, title, claimed_at) VALUES (?, ?, ?, ?)",
            (alert.key, alert.kind, alert.title, now),
        )
        return cur.rowcount == 1

    def record(self, key: str, outcome: str) -> None:
        self._db.execute("UPDATE sent SET outcome = ? WHERE key = ?", (outcome, key))

    def outcome(self, key: str) -> str | None:
        row = self._db.execute("SELECT outcome FROM sent WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def keys(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT key FROM sent ORDER BY rowid")]

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
