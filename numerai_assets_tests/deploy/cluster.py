"""A small cluster on one machine: the production instance (PostgreSQL), a Redis broker, an S3
server, and Celery workers each in its own network namespace, reaching them only over the
bridge. Used by test_distributed.py and benchmarks/distributed_backfill.py.

Every "host" (the orchestrating host and each worker) has its own NUMERAI_ASSETS_HOME and
DAGSTER_HOME (the same deploy/dagster.yaml), so files move between hosts only through the object
store; all share the Postgres instance, the broker and the store URL, as a real cluster would.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import Popen

from numerai_assets.dev_server import spawn, stop_process_group
from numerai_assets_tests.deploy.conftest import DEPLOY_YAML, REPO, clean_env
from numerai_assets_tests.deploy.netns import Network, in_namespace, test_hosts
from numerai_assets_tests.deploy.services import Postgres, postgres_server, redis_server, s3_server

CELERY_WORKER = "numerai_assets.celery"  # the Celery name prefix of our workers (worker-<namespace>)


@dataclass
class Cluster:
    root: Path
    network: Network
    postgres: Postgres
    base_env: dict[str, str]
    workers: dict[str, Popen] = field(default_factory=dict)  # Celery worker name -> process

    def host_env(self, name: str) -> dict[str, str]:
        """The environment of one host: shared servers, its own homes."""
        home = self.root / name
        dagster_home = home / "dagster_home"
        dagster_home.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(DEPLOY_YAML, dagster_home / "dagster.yaml")
        return self.base_env | {"NUMERAI_ASSETS_HOME": str(home / "numerai"), "DAGSTER_HOME": str(dagster_home)}

    def start_workers(self, count: int, timeout_s: float = 120.0) -> list[str]:
        """``count`` Celery workers (one step at a time each), one per namespace; their names."""
        for host in self.network.hosts[:count]:
            name = f"worker-{host.namespace}"
            cmd = [sys.executable, "-m", "dagster_celery.cli", "worker", "start", "-A", "dagster_celery.app"]
            cmd += ["-y", str(REPO / "deploy" / "celery.yaml"), "-q", "dagster", "-n", name, "--", "--concurrency=1"]
            log = self.root / f"{name}.log"
            self.workers[name] = spawn(in_namespace(host.namespace, cmd), env=self.host_env(name), log=log)
        for name in list(self.workers)[-count:]:
            log = self.root / f"{name}.log"
            deadline = time.monotonic() + timeout_s
            while not (log.exists() and re.search(r"\bready\.", log.read_text(errors="replace"))):
                if self.workers[name].poll() is not None or time.monotonic() > deadline:
                    text = log.read_text(errors="replace") if log.exists() else ""
                    raise RuntimeError(f"celery worker {name} did not start: {text[-3000:]}")
                time.sleep(0.5)
        return list(self.workers)

    def stop_workers(self) -> None:
        for proc in self.workers.values():
            stop_process_group(proc)
        self.workers.clear()


@contextlib.contextmanager
def cluster(root: Path, hosts: int, roster: Path, tournament_url: str) -> Iterator[Cluster]:
    """Servers bound to the bridge address only; workers are started by the caller."""
    with (
        test_hosts(hosts) as network,
        postgres_server(network.gateway) as pg,
        redis_server(root / "redis", network.gateway) as broker,
        s3_server(root / "s3", network.gateway) as s3,
    ):
        base_env = (
            clean_env()
            | pg.env()
            | s3.env()
            | {
                "PATH": f"{Path(sys.executable).parent}:{clean_env().get('PATH', '/usr/bin:/bin')}",
                "PYTHONPATH": str(REPO),
                "NUMERAI_ASSETS_STORE_URL": f"s3://{s3.bucket}/numerai_assets",
                "NUMERAI_ASSETS_EXECUTOR": "celery",
                "NUMERAI_ASSETS_CELERY_BROKER": broker,
                "NUMERAI_ASSETS_ROSTER": str(roster),
                "NUMERAI_ASSETS_TOURNAMENT_URL": tournament_url,
                "NUMERAI_ASSETS_TRACKING": "disabled",
                "NUMERAI_ASSETS_ROUND_POLL_S": "2",
                "OMP_WAIT_POLICY": "PASSIVE",
                "GX_ANALYTICS_ENABLED": "false",
            }
        )
        c = Cluster(root, network, pg, base_env)
        try:
            yield c
        finally:
            c.stop_workers()
