"""Claims: at most one runner uploads for a (round, slot) at a time, across processes and hosts.

A claim is one row per (round, slot) holding its owner (host, pid, process start time, random
token) and a heartbeat the owner refreshes from a thread while it holds the claim. Another
runner takes a claim over only when its owner is provably gone:

* same host (hostname and pid namespace): the pid is not running, is a zombie, or runs with another start time
  (pid reuse),
  or it is this very process and the token is not one it still holds;
* another host: the heartbeat is older than the lease (which must exceed the client's request
  timeout plus a margin, so a slow but live owner is never taken over).

What holds on shared storage: sqlite's locks (``BEGIN IMMEDIATE`` + ``busy_timeout``) make the
check-and-take atomic between processes on one host and one local file system. sqlite on a
network file system (NFS, SMB, many container volumes) does NOT give that guarantee. A
deployment where several hosts run rounds must keep claims where locks work, e.g. in the
Postgres that the Dagster instance uses: implement :class:`ClaimStore` there.
"""

from __future__ import annotations

import os
import secrets
import socket
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

CLAIM_SCHEMA = """
CREATE TABLE IF NOT EXISTS claims (
    round INTEGER NOT NULL,
    slot TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    process_start TEXT,
    token TEXT NOT NULL,
    claimed_at REAL NOT NULL,
    heartbeat_at REAL NOT NULL,
    PRIMARY KEY (round, slot)
);
"""
_HELD_TOKENS: set[str] = set()  # tokens this process holds now (a leaked claim of ours is gone)


def host_identity() -> str:
    """The hostname plus the pid namespace: two containers sharing a hostname and a volume are
    different hosts here (their pids mean nothing to each other), so only the lease applies."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return socket.gethostname()
    return f"{socket.gethostname()}/{namespace}"


def process_start(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (clock ticks since boot), or None where /proc is absent."""
    try:
        stat = open(f"/proc/{pid}/stat", encoding="ascii", errors="replace").read()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _is_zombie(pid: int) -> bool:
    try:
        stat = open(f"/proc/{pid}/stat", encoding="ascii", errors="replace").read()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


@dataclass(frozen=True)
class Owner:
    host: str
    pid: int
    process_start: str | None
    token: str

    @classmethod
    def this_process(cls) -> Owner:
        pid = os.getpid()
        return cls(host_identity(), pid, process_start(pid), secrets.token_hex(8))

    def describe(self) -> str:
        return f"host {self.host} pid {self.pid}"


def owner_gone(owner: Owner, heartbeat_at: float, lease_s: float, *, now: float | None = None) -> bool:
    """True only when ``owner`` provably no longer works on its claim (see the module doc)."""
    now = time.time() if now is None else now
    if owner.host != host_identity():
        return now - heartbeat_at > lease_s
    if owner.pid == os.getpid():
        return owner.token not in _HELD_TOKENS
    try:
        os.kill(owner.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # running under another user: alive
    if _is_zombie(owner.pid):
        return True
    started = process_start(owner.pid)
    return owner.process_start is not None and started is not None and started != owner.process_start


class ClaimHeldError(RuntimeError):
    """Another live runner holds the claim and did not finish within the wait."""


class ClaimStore(Protocol):
    """What a claim backend provides (sqlite now; Postgres for several hosts)."""

    def try_claim(self, round_number: int, slot: str, owner: Owner) -> Owner | None: ...
    def beat(self, round_number: int, slot: str, owner: Owner) -> bool: ...
    def release(self, round_number: int, slot: str, owner: Owner) -> None: ...


class SqliteClaims:
    """:class:`ClaimStore` on the ledger's sqlite connection (autocommit mode, busy_timeout set)."""

    def __init__(self, conn: sqlite3.Connection, lock: threading.Lock, lease_s: float) -> None:
        self._conn, self._lock, self.lease_s = conn, lock, lease_s
        with lock:
            conn.executescript(CLAIM_SCHEMA)

    def try_claim(self, round_number: int, slot: str, owner: Owner) -> Owner | None:
        """Take the claim (new, or from a gone owner) and return None; else return the holder."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                row = self._conn.execute(
                    "SELECT host, pid, process_start, token, heartbeat_at FROM claims WHERE round=? AND slot=?",
                    (round_number, slot),
                ).fetchone()
                if row is not None:
                    holder = Owner(row[0], row[1], row[2], row[3])
                    if not owner_gone(holder, row[4], self.lease_s):
                        self._conn.execute("COMMIT")
                        return holder
                now = time.time()
                self._conn.execute(
                    "INSERT OR REPLACE INTO claims VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (round_number, slot, owner.host, owner.pid, owner.process_start, owner.token, now, now),
                )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        _HELD_TOKENS.add(owner.token)
        return None

    def beat(self, round_number: int, slot: str, owner: Owner) -> bool:
        """Refresh the heartbeat; False when the claim is no longer ours (taken over)."""
        with self._lock:
            cur = self._conn.execute(
                "UPDATE claims SET heartbeat_at=? WHERE round=? AND slot=? AND token=?",
                (time.time(), round_number, slot, owner.token),
            )
        return cur.rowcount == 1

    def release(self, round_number: int, slot: str, owner: Owner) -> None:
        _HELD_TOKENS.discard(owner.token)
        with self._lock:
            self._conn.execute(
                "DELETE FROM claims WHERE round=? AND slot=? AND token=?", (round_number, slot, owner.token)
            )

    def holders(self) -> list[tuple[int, str, Owner, float]]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT round, slot, host, pid, process_start, token, heartbeat_at FROM claims ORDER BY round, slot"
            ).fetchall()
        return [(r[0], r[1], Owner(r[2], r[3], r[4], r[5]), r[6]) for r in rows]


class Claim:
    """A held claim: a heartbeat thread keeps it alive until :meth:`release`."""

    def __init__(self, store: ClaimStore, round_number: int, slot: str, owner: Owner, beat_every_s: float) -> None:
        self.store, self.round_number, self.slot, self.owner = store, round_number, slot, owner
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, args=(beat_every_s,), daemon=True, name=f"claim-{slot}-{round_number}"
        )
        self._thread.start()

    def _beat(self, every_s: float) -> None:
        while not self._stop.wait(every_s):
            try:
                if not self.store.beat(self.round_number, self.slot, self.owner):
                    self.lost = True
                    return
            except sqlite3.Error:
                continue  # a transient lock or I/O error: the next beat tries again

    def check(self) -> None:
        """Raise before an irreversible step if another runner took the claim over."""
        if self.lost:
            raise ClaimHeldError(
                f"slot {self.slot} round {self.round_number}: the claim was taken"
                " over by another runner (heartbeat older than the lease)"
            )

    def release(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.store.release(self.round_number, self.slot, self.owner)


def acquire(
    store: ClaimStore,
    round_number: int,
    slot: str,
    *,
    lease_s: float,
    wait_s: float,
    poll_s: float = 0.2,
    on_wait: Callable[[Owner], None] | None = None,
    owner: Owner | None = None,
) -> Claim:
    """Take the claim, waiting up to ``wait_s`` for a live holder to finish; else ClaimHeldError."""
    owner = owner or Owner.this_process()
    give_up = time.monotonic() + wait_s
    told = False
    while True:
        holder = store.try_claim(round_number, slot, owner)
        if holder is None:
            return Claim(store, round_number, slot, owner, beat_every_s=max(0.05, lease_s / 4))
        if on_wait is not None and not told:
            on_wait(holder)
            told = True
        if time.monotonic() >= give_up:
            raise ClaimHeldError(
                f"slot {slot} round {round_number}: another runner ({holder.describe()}) is "
                f"submitting and did not finish within {wait_s:.0f} s; standing down (nothing "
                "uploaded). Re-run after it ends: its outcome will be read from the ledger."
            )
        time.sleep(poll_s)
