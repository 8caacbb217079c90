"""Real servers for the deployment tests: PostgreSQL, Redis and an S3-compatible store (moto).

Each is started on a free port of a given address (127.0.0.1, or a veth address that only
network namespaces reach) with its data in a temp folder, and stopped when the block ends.
Binaries come from Debian (`postgresql`, `redis-server`; `.ci/run` installs them) and PyPI
(`moto[server]`, in the dev extras).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from numerai_assets.dev_server import free_port, spawn, stop_process_group

PG_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def pg_bin(name: str) -> str | None:
    for folder in PG_BIN_DIRS:
        if (folder / name).exists():
            return str(folder / name)
    return shutil.which(name)


def missing_binaries() -> list[str]:
    return [n for n in ("initdb", "pg_ctl") if pg_bin(n) is None] + (
        [] if shutil.which("redis-server") else ["redis-server"]
    )


def port_on(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_until(what: str, ready: Callable[[], bool], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            if ready():
                return
        time.sleep(0.2)
    raise TimeoutError(f"{what} not ready within {timeout_s:.0f} s")


def accepts(host: str, port: int) -> bool:
    with socket.create_connection((host, port), timeout=1):
        return True


@dataclass(frozen=True)
class Postgres:
    host: str
    port: int
    user: str
    password: str
    db: str

    def env(self) -> dict[str, str]:
        """The variables deploy/dagster.yaml reads (`env:`), the password among them."""
        return {
            "DAGSTER_PG_HOST": self.host,
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_USER": self.user,
            "DAGSTER_PG_PASSWORD": self.password,
            "DAGSTER_PG_DB": self.db,
        }


def _as_postgres_user() -> list[str]:
    """initdb and postgres refuse to run as root: as root, run them as the `postgres` user."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


@contextlib.contextmanager
def postgres_server(host: str = "127.0.0.1") -> Iterator[Postgres]:
    """A fresh cluster (initdb) on a free port of ``host``, password auth over TCP.

    Its folder is a new one directly under the temp dir, owned by the server's user: pytest's
    temp folders are private to root, and the server runs as `postgres` when we are root.
    """
    folder = Path(tempfile.mkdtemp(prefix="numerai-assets-pg-"))
    password = secrets.token_hex(16)
    pwfile, data = folder / "pw", folder / "data"
    pwfile.write_text(password)
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        for path in (folder, pwfile):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    run = _as_postgres_user()
    initdb = [*run, pg_bin("initdb"), "-D", str(data), "-U", "dagster", f"--pwfile={pwfile}", "--auth=scram-sha-256"]
    port = port_on(host)
    opts = f"-c listen_addresses={host} -p {port} -k {folder} -c fsync=off -c max_connections=200"
    pg_ctl = [*run, pg_bin("pg_ctl"), "-D", str(data)]
    try:
        _checked(initdb)
        with open(data / "pg_hba.conf", "a") as hba:  # initdb allows TCP from loopback only
            hba.write("host all all all scram-sha-256\n")  # the password still guards it
        _checked([*pg_ctl, "-o", opts, "-l", str(folder / "log"), "-w", "start"])
        wait_until("postgres", lambda: accepts(host, port))
        yield Postgres(host, port, "dagster", password, "postgres")
    finally:
        subprocess.run([*pg_ctl, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def _checked(cmd: list) -> None:
    """Run ``cmd``; on failure raise with its output (initdb and pg_ctl say why there)."""
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} exited {proc.returncode}: {proc.stdout}{proc.stderr}")


@contextlib.contextmanager
def redis_server(folder: Path, host: str = "127.0.0.1") -> Iterator[str]:
    """Redis on a free port of ``host``, no persistence, a password (so it serves other hosts, as
    in production); yields its URL, password included: pass it only through the environment."""
    folder.mkdir(parents=True, exist_ok=True)
    port, password = port_on(host), secrets.token_hex(12)
    (folder / "redis.conf").write_text(
        f'bind {host}\nport {port}\nsave ""\nappendonly no\ndir {folder}\nrequirepass {password}\n'
    )
    proc = spawn(["redis-server", str(folder / "redis.conf")], log=folder / "redis.log")
    try:
        wait_until("redis", lambda: accepts(host, port))
        yield f"redis://:{password}@{host}:{port}/0"
    finally:
        stop_process_group(proc)


@dataclass(frozen=True)
class S3:
    endpoint: str
    bucket: str
    key_id: str
    secret: str

    def env(self) -> dict[str, str]:
        """The standard AWS variables s3fs/botocore read; nothing else carries them."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret,
            "AWS_DEFAULT_REGION": "us-east-1",
        }


@contextlib.contextmanager
def s3_server(folder: Path, host: str = "127.0.0.1", bucket: str = "numerai-assets") -> Iterator[S3]:
    """moto's S3 server on a free port of ``host``, with one bucket."""
    folder.mkdir(parents=True, exist_ok=True)
    port = port_on(host)
    proc = spawn(
        [sys.executable, "-m", "moto.server", "-H", host, "-p", str(port)],
        log=folder / "moto.log",
    )
    try:
        s3 = S3(f"http://{host}:{port}", bucket, "testing-key-id", secrets.token_hex(12))
        wait_until("moto", lambda: accepts(host, port))
        import boto3

        boto3.client(
            "s3",
            endpoint_url=s3.endpoint,
            aws_access_key_id=s3.key_id,
            aws_secret_access_key=s3.secret,
            region_name="us-east-1",
        ).create_bucket(Bucket=bucket)
        yield s3
    finally:
        stop_process_group(proc)


__all__ = ["Postgres", "S3", "free_port", "missing_binaries", "postgres_server", "redis_server", "s3_server"]
