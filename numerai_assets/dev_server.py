"""Start, query and stop a real ``dagster dev`` (webserver + daemon) bound to 127.0.0.1.

Used by ``make ui``, the end-to-end test and the latency benchmark. ``dagster dev`` started in
the background of a non-interactive shell ignores SIGINT/SIGTERM, so it runs in its own process
group with SIGINT restored, and is always stopped by group.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import requests

RUNS_QUERY = """
query Runs($filter: RunsFilter) {
  runsOrError(filter: $filter) {
    ... on Runs { results { runId status jobName creationTime startTime endTime
                            tags { key value } } }
    ... on PythonError { message }
  }
}"""
EVENTS_QUERY = """
query Events($runId: ID!) {
  logsForRun(runId: $runId, limit: 10000) {
    ... on EventConnection { events {
      __typename
      ... on MessageEvent { timestamp stepKey message }
      ... on AssetCheckEvaluationEvent { evaluation { checkName success description
                                                      assetKey { path } } }
    } }
    ... on PythonError { message }
  }
}"""
BACKFILL_MUTATION = """
mutation Backfill($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on Error { message }
  }
}"""
BACKFILL_QUERY = """
query Backfill($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill { id status numPartitions }
    ... on Error { message }
  }
}"""
FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}
BACKFILL_FINISHED = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn(cmd: list[str], *, env: Mapping[str, str] | None = None, log: Path | None = None) -> subprocess.Popen:
    """A child in its own session (stoppable as a group) with SIGINT back to default.

    Output goes to ``log`` when given, else to our own stdout/stderr.
    """
    out = open(log, "ab") if log else None  # noqa: SIM115 - the child owns it
    return subprocess.Popen(
        cmd,
        start_new_session=True,
        env=dict(env) if env is not None else None,
        stdout=out,
        stderr=subprocess.STDOUT if log else None,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def stop_process_group(proc: subprocess.Popen, grace_s: float = 15.0) -> None:
    """SIGTERM the whole group, then SIGKILL whatever is left after ``grace_s``."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError):  # the daemon or code server may outlive the parent
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


class DagsterDev:
    """``with DagsterDev(env=...) as dev: dev.graphql(...)``; always stopped on exit."""

    def __init__(
        self,
        env: Mapping[str, str],
        *,
        port: int | None = None,
        log: Path | None = None,
        module: str = "numerai_assets.definitions",
    ) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env, self.log, self.module = dict(env), log, module
        self.proc: subprocess.Popen | None = None

    def start(self, timeout_s: float = 120.0) -> DagsterDev:
        self.proc = spawn(
            [sys.executable, "-m", "dagster", "dev", "-h", "127.0.0.1", "-p", str(self.port), *self._target()],
            env=self.env,
            log=self.log,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dagster dev exited with {self.proc.returncode}; see {self.log}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.url}/server_info", timeout=2).ok:
                    return self
            time.sleep(0.5)
        raise TimeoutError(f"dagster dev did not answer at {self.url} within {timeout_s:.0f} s")

    def _target(self) -> list[str]:
        """``workspace.yaml`` for the package's definitions: its location name is the one the
        headless main job's runs carry (``job_runs.py``), so the UI lists them under their jobs."""
        from numerai_assets.job_runs import DEFINITIONS_MODULE, WORKSPACE_YAML

        if self.module == DEFINITIONS_MODULE and WORKSPACE_YAML.exists():
            return ["-w", str(WORKSPACE_YAML)]
        return ["-m", self.module]

    def stop(self) -> None:
        if self.proc is not None:
            stop_process_group(self.proc)

    def __enter__(self) -> DagsterDev:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def graphql(self, query: str, variables: dict | None = None) -> dict[str, Any]:
        resp = requests.post(f"{self.url}/graphql", json={"query": query, "variables": variables or {}}, timeout=30)
        resp.raise_for_status()
        body = resp.json()
        if body.get("errors"):
            raise RuntimeError(f"GraphQL errors: {body['errors']}")
        return body["data"]

    def runs(self, tags: Mapping[str, str] | None = None, run_id: str | None = None) -> list[dict]:
        """Runs matching ``tags`` (and ``run_id``), newest first."""
        flt: dict[str, Any] = {"tags": [{"key": k, "value": v} for k, v in (tags or {}).items()]}
        if run_id is not None:
            flt["runIds"] = [run_id]
        result = self.graphql(RUNS_QUERY, {"filter": flt})["runsOrError"]
        if "results" not in result:
            raise RuntimeError(result.get("message"))
        return result["results"]

    def events(self, run_id: str) -> list[dict]:
        result = self.graphql(EVENTS_QUERY, {"runId": run_id})["logsForRun"]
        if "events" not in result:
            raise RuntimeError(result.get("message"))
        return result["events"]

    def launch_backfill(self, assets: list[str], partitions: list[str], title: str | None = None) -> str:
        """An asset backfill of ``partitions`` of ``assets``, as the UI's "Materialize" dialog
        launches it; the daemon then runs it. Returns the backfill id."""
        params = {
            "assetSelection": [{"path": a.split("/")} for a in assets],
            "partitionNames": partitions,
            "fromFailure": False,
            "title": title,
        }
        result = self.graphql(BACKFILL_MUTATION, {"params": params})["launchPartitionBackfill"]
        if "backfillId" not in result:
            raise RuntimeError(f"backfill not launched ({result['__typename']}): {result.get('message')}")
        return result["backfillId"]

    def wait_for_backfill(self, backfill_id: str, *, timeout_s: float = 300.0, poll_s: float = 1.0) -> dict:
        """The backfill once the daemon has finished it (any final status), or TimeoutError."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            result = self.graphql(BACKFILL_QUERY, {"id": backfill_id})["partitionBackfillOrError"]
            if "status" not in result:
                raise RuntimeError(f"backfill {backfill_id}: {result.get('message')}")
            if result["status"] in BACKFILL_FINISHED:
                return result
            time.sleep(poll_s)
        raise TimeoutError(f"backfill {backfill_id} not finished within {timeout_s:.0f} s")

    def wait_for_run(
        self,
        tags: Mapping[str, str] | None = None,
        *,
        run_id: str | None = None,
        timeout_s: float = 300.0,
        poll_s: float = 0.5,
    ) -> dict:
        """The newest run with ``tags`` (or id ``run_id``), once it has finished (or TimeoutError)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            runs = self.runs(tags, run_id)
            if runs and runs[0]["status"] in FINISHED:
                return runs[0]
            time.sleep(poll_s)
        raise TimeoutError(f"no finished run {run_id or dict(tags or {})} within {timeout_s:.0f} s")
