"""Claims are taken over only from owners that are provably gone (real processes, real sqlite)."""

import os
import subprocess
import sys
import time

import pytest

from numerai_assets.core.live.claims import (
    ClaimHeldError,
    Owner,
    acquire,
    host_identity,
    owner_gone,
    process_start,
)
from numerai_assets.core.live.ledger import SubmissionLedger

HOST = host_identity()


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()  # reaped: the pid no longer runs
    return proc.pid


def test_same_host_owner_is_gone_only_when_its_pid_is():
    parent = os.getppid()
    alive = Owner(HOST, parent, process_start(parent), "t")
    assert not owner_gone(alive, heartbeat_at=0.0, lease_s=1.0)  # a stale heartbeat is not enough
    assert owner_gone(Owner(HOST, dead_pid(), None, "t"), heartbeat_at=time.time(), lease_s=1e9)
    reused = Owner(HOST, parent, "not-its-start-time", "t")  # the pid now belongs to another process
    assert owner_gone(reused, heartbeat_at=time.time(), lease_s=1e9)


def test_zombie_owner_is_gone():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        deadline = time.monotonic() + 30
        while open(f"/proc/{proc.pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z":
            assert time.monotonic() < deadline, "child never exited"
            time.sleep(0.02)
        assert owner_gone(Owner(HOST, proc.pid, None, "t"), heartbeat_at=time.time(), lease_s=1e9)
    finally:
        proc.wait()


def test_other_host_owner_is_gone_only_after_the_lease():
    other = Owner("another-host.example", 4242, None, "t")
    now = time.time()
    assert not owner_gone(other, heartbeat_at=now - 50, lease_s=60, now=now)
    assert owner_gone(other, heartbeat_at=now - 61, lease_s=60, now=now)


def test_same_hostname_in_another_pid_namespace_is_judged_by_the_lease():
    """A container sharing the hostname and the volume: its pids mean nothing here."""
    other_container = Owner(HOST.split("/")[0] + "/pid:[1]", dead_pid(), None, "t")
    now = time.time()
    assert not owner_gone(other_container, heartbeat_at=now, lease_s=60, now=now)
    assert owner_gone(other_container, heartbeat_at=now - 61, lease_s=60, now=now)


def test_a_live_claim_makes_others_wait_then_stand_down_naming_the_owner(tmp_path):
    with SubmissionLedger(tmp_path / "l.sqlite", lease_s=60) as ledger:
        other = Owner("another-host.example", 4242, None, "tok")
        assert ledger.claims.try_claim(7, "slot_a", other) is None
        with pytest.raises(ClaimHeldError, match="host another-host.example pid 4242"):
            acquire(ledger.claims, 7, "slot_a", lease_s=60, wait_s=0.2, poll_s=0.05)
        ledger._conn.execute("UPDATE claims SET heartbeat_at = heartbeat_at - 120")  # 2 leases old
        claim = acquire(ledger.claims, 7, "slot_a", lease_s=60, wait_s=0)
        [(_, _, holder, _)] = ledger.claims.holders()
        assert holder.token == claim.owner.token and holder.pid == os.getpid()
        claim.release()
        assert ledger.claims.holders() == []


def test_the_heartbeat_keeps_a_claim_fresh_and_notices_a_takeover(tmp_path):
    with SubmissionLedger(tmp_path / "l.sqlite", lease_s=0.2) as ledger:
        claim = acquire(ledger.claims, 1, "s", lease_s=0.2, wait_s=0)
        [(_, _, _, first)] = ledger.claims.holders()
        deadline = time.monotonic() + 30
        while ledger.claims.holders()[0][3] == first:
            assert time.monotonic() < deadline, "no heartbeat"
            time.sleep(0.02)
        ledger._conn.execute("UPDATE claims SET token = 'someone-else'")  # taken over elsewhere
        while not claim.lost:
            assert time.monotonic() < deadline, "takeover not noticed"
            time.sleep(0.02)
        with pytest.raises(ClaimHeldError, match="taken over"):
            claim.check()
        claim.release()
        assert [h[2].token for h in ledger.claims.holders()] == ["someone-else"]  # not ours to drop
