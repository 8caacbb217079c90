"""The conformance matrix: the whole flow in numerai mode against the local tournament in each
named convention profile (issue 8).

Every profile is one convention Numerai documents or may legitimately use (v5.2 and v5.3
layouts, the unresolved validation tail labelled ``validation`` or ``test``, live files without
targets or with all-NaN targets, benchmark files without ``data_type``, another live era
placeholder, a feature column with NaN). The platform runs exactly as a user runs it against the
real Numerai: ``NUMERAI_ASSETS_MODE=numerai`` with ``NUMERAI_ASSETS_API_URL`` pointing at the
server and dummy credentials from the environment. Each profile must end with exactly one
accepted submission per slot.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from numerai_assets.core.training.roster import load_roster
from numerai_assets.definitions import build_definitions
from numerai_assets.partitions import model_seed_keys
from numerai_assets.settings import Settings
from numerai_assets.tournament.generator import generate_tournament
from numerai_assets.tournament.profiles import PROFILES
from numerai_assets.tournament.server import TournamentServer
from numerai_assets_tests.platform import LENIENT

pytestmark = pytest.mark.slow

# One seed per model keeps eight full flows inside the CI budget; both engines still run. The
# `all` set (so the feature_nan profile's float columns reach both engines) and no column sampling
# keep the tiny models' validation CORR above the promotion gate's 0 in every profile.
MATRIX_ROSTER = """
models:
  - {name: lgbm_m, engine: lightgbm, slot: demo_slot_a, feature_set: all, seeds: [0],
     num_boost_round: 60, params: {learning_rate: 0.05, num_leaves: 8}}
  - {name: xgb_m, engine: xgboost, slot: demo_slot_b, feature_set: all, seeds: [0],
     num_boost_round: 60, params: {learning_rate: 0.05, max_depth: 3, max_bin: 8}}
"""


def run(defs: dg.Definitions, instance: dg.DagsterInstance, job: str, partition: str | None = None):
    result = defs.resolve_job_def(job).execute_in_process(
        instance=instance, partition_key=partition, raise_on_error=False
    )
    failed = [e.step_failure_data.error.to_string()[-800:] for e in result.get_step_failure_events()]
    checks = [
        f"{c.asset_key.to_user_string()}:{c.check_name}: {c.description}"
        for c in result.get_asset_check_evaluations()
        if not c.passed
    ]
    assert result.success, f"{job}[{partition}] failed: {failed[:3]}; failed checks: {checks}"
    return result


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_the_whole_flow_in_numerai_mode(profile: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    root = tmp_path / "tournament"
    info = generate_tournament(root, scale="tiny", seed=0, profile=profile)
    (tmp_path / "roster.yaml").write_text(MATRIX_ROSTER)
    monkeypatch.setenv("NUMERAI_PUBLIC_ID", "DUMMYPUBLICID")
    monkeypatch.setenv("NUMERAI_SECRET_KEY", "dummy-secret-key")
    with TournamentServer(root) as server, dg.instance_for_test() as instance:
        monkeypatch.setenv("NUMERAI_ASSETS_MODE", "numerai")
        monkeypatch.setenv("NUMERAI_ASSETS_API_URL", server.url)
        monkeypatch.setenv("NUMERAI_ASSETS_HOME", str(tmp_path / "home"))
        monkeypatch.setenv("NUMERAI_ASSETS_DATASET_VERSION", info.version)
        monkeypatch.setenv("NUMERAI_ASSETS_TRACKING", "disabled")
        monkeypatch.setenv("NUMERAI_ASSETS_LATE_POLICY", "submit")
        settings = Settings.from_env()
        assert settings.mode == "numerai" and settings.api_url == server.url
        roster = load_roster(tmp_path / "roster.yaml")
        defs = build_definitions(settings, roster, policy=LENIENT)
        run(defs, instance, "data_job")
        for key in model_seed_keys(roster):
            run(defs, instance, "training_job", key)
        for model in roster.names:
            run(defs, instance, "evaluation_job", model)
        rnd = server.open_round(staking_window_s=3600, close_window_s=7200)
        instance.add_dynamic_partitions("rounds", [str(rnd.number)])
        run(defs, instance, "live_round_job", str(rnd.number))
        landed = server.state.submissions(round_number=rnd.number)
        assert sorted(s.model_name for s in landed) == ["demo_slot_a", "demo_slot_b"], profile
