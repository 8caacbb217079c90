"""Fixtures for the local tournament: a generated tiny tournament, a running server, numerapi."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import numerapi
import numerapi.base_api
import pytest

from numerai_assets.tournament.server import TournamentServer
from numerai_assets_tests.alert_receiver import Receiver

PUBLIC_ID, SECRET_KEY = "LOCALPUBLICID", "local-secret-key-never-logged"


@pytest.fixture(scope="session")
def tournament_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One tiny tournament per session (the real generator); tests get their own copy."""
    from numerai_assets.tournament.generator import generate_tournament

    root = tmp_path_factory.mktemp("tournament_template")
    generate_tournament(root, scale="tiny", seed=0)
    return root


@pytest.fixture(scope="session")
def profile_template(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """`profile_template(name)`: a tiny tournament of that convention profile (see
    numerai_assets/tournament/profiles.py), generated once per session; copy before changing."""
    from numerai_assets.tournament.generator import generate_tournament

    made: dict[str, Path] = {}

    def make(profile: str) -> Path:
        if profile not in made:
            root = tmp_path_factory.mktemp(f"tournament_{profile}")
            generate_tournament(root, scale="tiny", seed=0, profile=profile)
            made[profile] = root
        return made[profile]

    return make


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
    """Round 1 open for an hour of staking: an explicit window, so a test that happens to run
    just before a calendar close (13:00 UTC Tue-Fri, Sunday 14:00) is not cut short."""
    server.open_round(staking_window_s=3600)
    return server


@pytest.fixture
def napi(server: TournamentServer, monkeypatch: pytest.MonkeyPatch) -> numerapi.NumerAPI:
    """The real numerapi client, pointed at the local server the only way it allows."""
    monkeypatch.setattr(numerapi.base_api, "API_TOURNAMENT_URL", server.url)
    return numerapi.NumerAPI(public_id=PUBLIC_ID, secret_key=SECRET_KEY, show_progress_bars=False)


@pytest.fixture(scope="session")
def dataset_version(tournament_template: Path) -> str:
    """The version the generated tournament serves (tests must not assume one)."""
    from numerai_assets.tournament.info import load_tournament_info

    return load_tournament_info(tournament_template).version


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A real HTTP receiver on 127.0.0.1 recording the alerts Apprise posts (alert_receiver.py)."""
    with Receiver() as r:
        yield r
