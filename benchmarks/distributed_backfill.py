"""The roster backfill on 1 vs 2 Celery workers, each worker on its own test host (a network
namespace), in the same session: same data, same instance (PostgreSQL), same S3 store.

Builds the cluster of numerai_assets_tests/deploy (PostgreSQL, Redis and moto's S3 server bound
to a bridge, workers in namespaces), downloads the data once on the orchestrating host, then
launches the whole roster (every model x seed, trained_model + validation_predictions) as one
asset backfill through `dagster dev`, first with one worker, then with two, and prints the wall
time of each backfill (launch to completion) and the ratio. Needs root, iproute2, postgresql,
redis-server and the dev extras (as `.ci/run` installs them).

    sudo .venv/bin/python benchmarks/distributed_backfill.py --scale demo
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from numerai_assets.core.training.roster import load_roster
from numerai_assets.dev_server import DagsterDev
from numerai_assets.partitions import model_seed_keys
from numerai_assets.tournament.generator import generate_tournament
from numerai_assets.tournament.server import TournamentServer
from numerai_assets_tests.deploy.cluster import Cluster, cluster

DATA_JOB = (
    "import sys; from dagster import DagsterInstance; from numerai_assets.definitions import defs; "
    "sys.exit(0 if defs.resolve_job_def('data_job').execute_in_process(instance=DagsterInstance.get()).success else 1)"
)
STEPS = ["trained_model", "validation_predictions"]


def timed_backfill(c: Cluster, env: dict[str, str], keys: list[str], workers: int, log: Path) -> float:
    """Start ``workers`` fresh workers, run the roster backfill, stop them; seconds to completion."""
    c.start_workers(workers)
    try:
        with DagsterDev(env, log=log) as dev:
            started = time.monotonic()
            backfill_id = dev.launch_backfill(STEPS, keys, title=f"roster on {workers} worker(s)")
            backfill = dev.wait_for_backfill(backfill_id, timeout_s=3600, poll_s=0.5)
            seconds = time.monotonic() - started
        if backfill["status"] not in {"COMPLETED", "COMPLETED_SUCCESS"}:
            raise SystemExit(f"backfill on {workers} worker(s) ended {backfill['status']}; see {log}")
        return seconds
    finally:
        c.stop_workers()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", default="demo", choices=["tiny", "demo", "full"])
    parser.add_argument("--roster", default=None, help="roster YAML (default: the package's)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="distributed_backfill-"))
    roster_path = (
        Path(args.roster) if args.roster else Path(__file__).resolve().parents[1] / "numerai_assets" / "roster.yaml"
    )
    keys = [str(k) for k in model_seed_keys(load_roster(roster_path))]
    generate_tournament(root / "tournament", scale=args.scale, seed=0)
    with TournamentServer(root / "tournament") as server, cluster(root / "c", 2, roster_path, server.url) as c:
        env = c.host_env("orchestrator")
        subprocess.run([sys.executable, "-c", DATA_JOB], env=env, check=True, capture_output=True)
        one = timed_backfill(c, env, keys, 1, root / "dev1.log")
        two = timed_backfill(c, env, keys, 2, root / "dev2.log")
    print(f"roster backfill, scale {args.scale}, {len(keys)} partitions x {len(STEPS)} steps (logs: {root})")
    print(f"  1 worker : {one:7.1f} s")
    print(f"  2 workers: {two:7.1f} s")
    print(f"  ratio 1/2: {one / two:7.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
