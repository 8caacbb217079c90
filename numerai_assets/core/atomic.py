"""Atomic file writes: readers never see half a file, and a failure leaves nothing behind."""

from __future__ import annotations

import contextlib
import os
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

# ``.<name>.<32 hex>.tmp``: only temps made by :func:`atomic_path` match, never a user's file
TEMP_NAME = re.compile(r"^\..+\.[0-9a-f]{32}\.tmp$")


def temp_name(name: str) -> str:
    """The temp file name for ``name``: hidden, unique, and recognisable by :data:`TEMP_NAME`."""
    return f".{name}.{uuid.uuid4().hex}.tmp"


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path``: renamed onto it if the block succeeds, removed if not."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(temp_name(path.name))
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def sweep_orphans(root: str | Path, older_than_s: float) -> list[Path]:
    """Remove temp files left by writers killed mid-write (``finally`` never ran for them).

    Only names made by :func:`temp_name` and untouched for ``older_than_s`` seconds go, so a
    writer still at work keeps its temp. Returns what was removed.
    """
    root = Path(root)
    removed: list[Path] = []
    if not root.is_dir():
        return removed
    cutoff = time.time() - older_than_s
    for path in root.rglob("*.tmp"):
        if not TEMP_NAME.match(path.name):
            continue
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed.append(path)
        except FileNotFoundError:  # its writer finished (renamed or removed it) meanwhile
            continue
    return removed
