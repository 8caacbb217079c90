"""Session-wide real servers for the deployment tests, and a DAGSTER_HOME on deploy/dagster.yaml."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from numerai_assets_tests.deploy.services import S3, Postgres, missing_binaries, postgres_server, s3_server

REPO = Path(__file__).resolve().parents[2]
DEPLOY_YAML = REPO / "deploy" / "dagster.yaml"


def require_deploy_extras() -> None:
    """The deploy extras are in `.[dev]` (CI installs them); a bare checkout says what is missing."""
    for module in ("dagster_postgres", "dagster_celery", "s3fs", "moto"):
        pytest.importorskip(module, reason=f"{module} is not installed: pip install -e '.[dev]'")


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    require_deploy_extras()
    missing = missing_binaries()
    if missing:
        pytest.skip(f"{missing} not installed here (.ci/run installs postgresql and redis-server in CI)")
    with postgres_server() as server:
        yield server


def clean_env() -> dict[str, str]:
    """This process's environment without any platform or Dagster setting of the developer's."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("NUMERAI_", "DAGSTER_", "AWS_"))}


@pytest.fixture
def pg_dagster_home(tmp_path: Path, postgres: Postgres) -> tuple[Path, dict[str, str]]:
    """(DAGSTER_HOME holding deploy/dagster.yaml as it is, the env that points it at the test
    server); each test gets its own database, so runs of other tests never show."""
    import psycopg2

    db = f"t_{tmp_path.name.lower().replace('-', '_')[-40:]}"
    conn = psycopg2.connect(
        host=postgres.host, port=postgres.port, user=postgres.user, password=postgres.password, dbname="postgres"
    )
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{db}"')
    conn.close()
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(DEPLOY_YAML, home / "dagster.yaml")
    env = clean_env() | postgres.env() | {"DAGSTER_PG_DB": db, "DAGSTER_HOME": str(home)}
    return home, env


@pytest.fixture(scope="session")
def s3_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3]:
    """moto's S3 server on 127.0.0.1 (a real HTTP S3 API; botocore and s3fs talk to it as to AWS)."""
    require_deploy_extras()
    with s3_server(tmp_path_factory.mktemp("s3")) as server:
        yield server


@pytest.fixture
def s3_env(s3_store: S3, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> str:
    """The standard AWS variables pointing at the test server; returns a fresh store URL."""
    for key, value in s3_store.env().items():
        monkeypatch.setenv(key, value)
    import fsspec

    fsspec.config.conf.pop("s3", None)
    return f"s3://{s3_store.bucket}/{request.node.name[:60]}"
