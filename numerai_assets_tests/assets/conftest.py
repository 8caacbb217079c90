"""A trained tiny platform, built once per test module: tournament server, data, models, champions.

Training is the expensive part, so tests share it and each works on its own round or model.
"""

import shutil
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from numerai_assets.core.training.roster import Roster, load_roster
from numerai_assets.definitions import build_definitions
from numerai_assets.partitions import model_seed_keys
from numerai_assets.settings import Settings
from numerai_assets.tournament.server import TournamentServer
from numerai_assets_tests.platform import LENIENT, TINY_ROSTER


@dataclass
class Platform:
    server: TournamentServer
    defs: dg.Definitions
    instance: dg.DagsterInstance
    roster: Roster
    settings: Settings

    def run(
        self, job: str, partition: str | None = None, tags: dict[str, str] | None = None
    ) -> dg.ExecuteInProcessResult:
        return self.defs.resolve_job_def(job).execute_in_process(
            instance=self.instance, partition_key=partition, raise_on_error=False, tags=tags
        )

    def run_round(self, number: int, tags: dict[str, str] | None = None) -> dg.ExecuteInProcessResult:
        self.instance.add_dynamic_partitions("rounds", [str(number)])
        return self.run("live_round_job", str(number), tags)


@pytest.fixture(scope="module")
def platform(tournament_template: Path, dataset_version: str, tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("platform")
    shutil.copytree(tournament_template, home / "tournament")  # where settings find the oracle
    (home / "roster.yaml").write_text(TINY_ROSTER)
    roster = load_roster(home / "roster.yaml")
    with TournamentServer(home / "tournament") as server, dg.instance_for_test() as instance:
        settings = Settings(
            mode="local",
            home=home,
            api_url=server.url,
            dataset_version=dataset_version,
            tracking_mode="offline",
            late_policy="submit",
        )
        platform = Platform(server, build_definitions(settings, roster, policy=LENIENT), instance, roster, settings)
        assert platform.run("data_job").success
        for key in model_seed_keys(roster):
            assert platform.run("training_job", key).success, key
        yield platform
