"""Fixtures for the local tournament: a generated tiny tournament, a running server, numerapi."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterator

import numerapi
import numerapi.base_api
import pytest

from numerai_assets.tournament.server import TournamentServer

PUBLIC_ID, SECRET_KEY = "LOCALPUBLICID", "local-secret-key-never-logged"


@pytest.fixture(scope="session")
def tournament_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One tiny tournament per session (the real generator); tests get their own copy."""
    from numerai_assets.tournament.generator import generate_tournament

    root = tmp_path_factory.mktemp("tournament_template")
    generate_tournament(root, scale="tiny", seed=0)
    return root


@pytest.fixture
def tournament_root(tournament_template: Path, tmp_path: Path) -> Path:
    root = tmp_path / "tournament"
    shutil.copytree(tournament_template, root)
    return root


@pytest.fixture
def server(tournament_root: Path) -> Iterator[TournamentServer]:
    with TournamentServer(tournament_root) as srv:
        yield srv


@pytest.fixture
def open_server(server: TournamentServer) -> TournamentServer:
    server.open_round()
    return server


@pytest.fixture
def napi(server: TournamentServer, monkeypatch: pytest.MonkeyPatch) -> numerapi.NumerAPI:
    """The real numerapi client, pointed at the local server the only way it allows."""
    monkeypatch.setattr(numerapi.base_api, "API_TOURNAMENT_URL", server.url)
    return numerapi.NumerAPI(public_id=PUBLIC_ID, secret_key=SECRET_KEY, show_progress_bars=False)


@pytest.fixture(scope="session")
def dataset_version(tournament_template: Path) -> str:
    """The version the generated tournament serves (tests must not assume one)."""
    from numerai_assets.tournament.catalog import read_version

    return read_version(tournament_template)
