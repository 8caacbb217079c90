"""Upload a proven pickle once per (slot, pickle sha256), through numerapi's ``model_upload``.

The ledger (sqlite, beside the submission ledger) records ``pending`` before the upload and
``uploaded`` with Numerai's upload id after it: a re-run with the same pickle uploads nothing, a
new champion (new bytes, new sha256) uploads once. A run killed between the two leaves
``pending``, and the next run uploads again: Numerai runs the latest upload, so the same bytes
twice change nothing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from numerai_assets.core.numerai.client import NumeraiClient

_SCHEMA = """
CREATE TABLE IF NOT EXISTS compute_uploads (
    slot TEXT NOT NULL, sha256 TEXT NOT NULL, status TEXT NOT NULL CHECK (status IN ('pending', 'uploaded')),
    upload_id TEXT, model_id TEXT, data_version TEXT NOT NULL, docker_image TEXT NOT NULL,
    started_at TEXT NOT NULL, finished_at TEXT, PRIMARY KEY (slot, sha256)
)
"""


class UploadChoiceError(ValueError):
    """A slot's data version, docker image or model name that Numerai does not list."""


@dataclass(frozen=True)
class UploadOutcome:
    slot: str
    sha256: str
    status: str  # "uploaded" | "already_uploaded" | "dry_run"
    upload_id: str | None
    data_version: str
    docker_image: str


class UploadLedger:
    """(slot, sha256) -> pending / uploaded; one committed transaction per change."""

    def __init__(self, path: str | Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> UploadLedger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, slot: str, sha256: str) -> dict | None:
        cur = self._db.execute("SELECT * FROM compute_uploads WHERE slot=? AND sha256=?", (slot, sha256))
        row = cur.fetchone()
        return dict(zip([c[0] for c in cur.description], row, strict=True)) if row else None

    def begin(self, slot: str, sha256: str, data_version: str, docker_image: str) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO compute_uploads VALUES (?, ?, 'pending', NULL, NULL, ?, ?, ?, NULL)",
            (slot, sha256, data_version, docker_image, _now()),
        )

    def finish(self, slot: str, sha256: str, upload_id: str, model_id: str) -> None:
        self._db.execute(
            "UPDATE compute_uploads SET status='uploaded', upload_id=?, model_id=?, finished_at=?"
            " WHERE slot=? AND sha256=?",
            (upload_id, model_id, _now(), slot, sha256),
        )

    def uploads(self, slot: str | None = None) -> list[dict]:
        cur = self._db.execute(
            "SELECT * FROM compute_uploads" + (" WHERE slot=?" if slot else "") + " ORDER BY started_at",
            (slot,) if slot else (),
        )
        names = [c[0] for c in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _choose(kind: str, name: str, listed: dict[str, str], slot: str) -> str:
    if name not in listed:
        raise UploadChoiceError(
            f"slot {slot}: {kind} {name!r} is not offered by Numerai; choose one of {sorted(listed)}"
        )
    return listed[name]


def upload_pickle(
    client: NumeraiClient,
    ledger: UploadLedger,
    *,
    slot: str,
    pickle_path: Path,
    sha256: str,
    data_version: str,
    docker_image: str,
    dry_run: bool = False,
    log: Callable[[str], None] = print,
) -> UploadOutcome:
    """Upload ``pickle_path`` to the slot's model unless the ledger has this sha256 uploaded."""
    done = ledger.get(slot, sha256)
    if done is not None and done["status"] == "uploaded":
        log(f"{slot}: pickle {sha256[:12]} already uploaded as {done['upload_id']}; nothing to do")
        return UploadOutcome(slot, sha256, "already_uploaded", done["upload_id"], data_version, docker_image)
    if dry_run:
        return UploadOutcome(slot, sha256, "dry_run", None, data_version, docker_image)
    versions, images = client.model_upload_options()
    version_id = _choose("data version", data_version, versions, slot)
    image_id = _choose("docker image", docker_image, images, slot)
    models = client.models()
    if slot not in models:
        raise UploadChoiceError(f"slot {slot}: no model of that name in this account; models: {sorted(models)}")
    ledger.begin(slot, sha256, data_version, docker_image)
    upload_id = client.model_upload(pickle_path, models[slot], version_id, image_id)
    ledger.finish(slot, sha256, upload_id, models[slot])
    log(f"{slot}: uploaded pickle {sha256[:12]} as {upload_id} ({data_version}, {docker_image})")
    return UploadOutcome(slot, sha256, "uploaded", upload_id, data_version, docker_image)
