"""Atomic writes: a writer killed mid-write leaves a recognisable temp that a sweep removes."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from numerai_assets.core.atomic import TEMP_NAME, sweep_orphans, write_bytes_atomic

WRITER = """
import sys
from numerai_assets.core.atomic import atomic_path
with atomic_path(sys.argv[1]) as tmp:
    tmp.touch()          # opened, nothing written yet
    print(tmp, flush=True)
    sys.stdin.readline()  # hold the temp until told to finish (or killed)
    tmp.write_bytes(b"done")
"""


def start_writer(target: Path) -> tuple[subprocess.Popen, Path]:
    """A real writer process in the middle of an atomic write; returns it and its temp path."""
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(target)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    return proc, Path(proc.stdout.readline().strip())


def test_a_killed_writers_temp_is_swept_and_a_live_writers_is_not(tmp_path):
    killed, orphan = start_writer(tmp_path / "models" / "a.json")
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert orphan.exists() and orphan.stat().st_size == 0 and TEMP_NAME.match(orphan.name)
    hour_ago = time.time() - 3600
    os.utime(orphan, (hour_ago, hour_ago))  # as if the kill happened an hour ago
    live, young = start_writer(tmp_path / "models" / "b.json")
    keep = tmp_path / "models" / "user.tmp"  # a file that is not one of our temps
    keep.write_bytes(b"x")
    os.utime(keep, (hour_ago, hour_ago))

    assert sweep_orphans(tmp_path, older_than_s=600) == [orphan]
    assert not orphan.exists() and young.exists() and keep.exists()
    live.communicate("\n")  # the live writer finishes normally after the sweep
    assert live.returncode == 0 and (tmp_path / "models" / "b.json").read_bytes() == b"done"
    assert not young.exists()


def test_a_finished_write_leaves_no_temp(tmp_path):
    write_bytes_atomic(tmp_path / "x" / "f.bin", b"abc")
    assert [p.name for p in (tmp_path / "x").iterdir()] == ["f.bin"]
    assert sweep_orphans(tmp_path / "missing", 0) == []
