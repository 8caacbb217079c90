"""The README's main job, and the image's entrypoint commands, on the production instance
(deploy/dagster.yaml as it is) with a real PostgreSQL server started by the test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import requests
import yaml

from numerai_assets.dev_server import free_port, spawn, stop_process_group
from numerai_assets_tests.deploy.conftest import REPO
from numerai_assets_tests.deploy.services import wait_until
from numerai_assets_tests.platform import TINY_ROSTER


def demo_env(tmp_path: Path, env: dict[str, str]) -> dict[str, str]:
    roster = tmp_path / "roster.yaml"
    roster.write_text(TINY_ROSTER)
    return env | {
        "PYTHONPATH": str(REPO),
        "NUMERAI_ASSETS_HOME": str(tmp_path / "home"),
        "NUMERAI_ASSETS_ROSTER": str(roster),
        "NUMERAI_ASSETS_TOURNAMENT_URL": f"http://127.0.0.1:{free_port()}",
        "NUMERAI_ASSETS_TRACKING": "disabled",
        "OMP_WAIT_POLICY": "PASSIVE",
    }


def test_main_job_runs_on_postgres(tmp_path: Path, pg_dagster_home: tuple[Path, dict[str, str]]):
    """`python -m numerai_assets run` (the main job) succeeds with every run, event and asset
    recorded in PostgreSQL, and the password appears nowhere in its output."""
    from dagster import DagsterInstance, DagsterRunStatus

    home, env = pg_dagster_home
    env = demo_env(tmp_path, env)
    proc = subprocess.run(
        [sys.executable, "-m", "numerai_assets", "run", "--scale", "tiny", "--min-sharpe", "-100"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "main job succeeded" in proc.stdout, output[-6000:]
    assert env["DAGSTER_PG_PASSWORD"] not in output
    assert not (home / "history").exists() and not (home / "storage" / "runs.db").exists()  # no sqlite
    os.environ.update({k: v for k, v in env.items() if k.startswith("DAGSTER_")})
    try:
        with DagsterInstance.get() as instance:
            runs = instance.get_runs()
            jobs = {r.job_name for r in runs}
            assert jobs == {"data_job", "training_job", "evaluation_job", "live_round_job"}
            assert all(r.status == DagsterRunStatus.SUCCESS for r in runs)
            assert len([r for r in runs if r.job_name == "training_job"]) == 4  # tiny roster: 2 models x 2 seeds
            assert instance.get_latest_materialization_event(_key("demo_slot_a/demo_slot_a_submission")) is not None
    finally:
        for k in env:
            if k.startswith("DAGSTER_"):
                os.environ.pop(k, None)


def _key(path: str):
    from dagster import AssetKey

    return AssetKey(path.split("/"))


def as_module(cmd: list[str]) -> list[str]:
    """``dagster ...`` as ``python -m dagster ...`` of this interpreter (the image's console scripts
    are the same entry points; a test venv may not have them on PATH)."""
    return [sys.executable, "-m", cmd[0].replace("-", "_"), *cmd[1:]]


def compose_command(service: str) -> list[str]:
    return yaml.safe_load((REPO / "docker-compose.yaml").read_text())["services"][service]["command"]


def test_image_entrypoints_serve_on_the_host(tmp_path: Path, pg_dagster_home: tuple[Path, dict[str, str]]):
    """The compose file's code-server command answers `dagster api grpc-health-check`, and its
    webserver command loads the code location from it over gRPC: the same commands and the same
    dagster.yaml the image runs, executed here on the host (no container engine in CI)."""
    home, env = pg_dagster_home
    env = demo_env(tmp_path, env)
    grpc_port, ui_port = free_port(), free_port()
    code_cmd = [a if a != "4000" else str(grpc_port) for a in compose_command("code")]
    code_cmd = [a if a != "0.0.0.0" else "127.0.0.1" for a in code_cmd]
    workspace = yaml.safe_load((REPO / "deploy" / "workspace.yaml").read_text())
    workspace["load_from"][0]["grpc_server"] |= {"host": "127.0.0.1", "port": grpc_port}
    (tmp_path / "workspace.yaml").write_text(yaml.safe_dump(workspace))
    ui_cmd = compose_command("webserver")
    ui_cmd = [
        *ui_cmd[:1],
        "--host",
        "127.0.0.1",
        "--port",
        str(ui_port),
        "--workspace",
        str(tmp_path / "workspace.yaml"),
    ]
    code = spawn(as_module(code_cmd), env=env, log=tmp_path / "code.log")
    ui = None
    try:
        health = as_module(["dagster", "api", "grpc-health-check", "--host", "127.0.0.1", "--port", str(grpc_port)])
        wait_until("code server", lambda: subprocess.run(health, env=env, capture_output=True).returncode == 0, 180)
        ui = spawn(as_module(ui_cmd), env=env, log=tmp_path / "ui.log")
        query = "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus"
        query += " locationOrLoadError { __typename } } } } }"

        def loaded() -> bool:
            body = requests.post(f"http://127.0.0.1:{ui_port}/graphql", json={"query": query}, timeout=5).json()
            entries = body["data"]["workspaceOrError"]["locationEntries"]
            return entries[0]["locationOrLoadError"]["__typename"] == "RepositoryLocation"

        wait_until("webserver with the code location", lambda: _quiet(loaded), 180)
    finally:
        for proc in (ui, code):
            if proc is not None:
                stop_process_group(proc)
    assert env["DAGSTER_PG_PASSWORD"] not in (tmp_path / "code.log").read_text()


def _quiet(check) -> bool:
    try:
        return bool(check())
    except (requests.RequestException, KeyError, TypeError, IndexError, ValueError):
        return False
