"""Issue 13's acceptance, end to end in Dagster against the local tournament (real numerapi, real
sandbox with the image's Python and pinned libraries): one slot in compute mode, one in submit mode.

The compute slot's pickle is proven and uploaded once; the next round gets a submission for both
slots (the compute one made by the tournament running the pickle at round open); re-running uploads
nothing twice; a pickle that breaks the memory limit is stopped by its check and never uploaded.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest

from numerai_assets.core.training.roster import load_roster
from numerai_assets.definitions import build_definitions
from numerai_assets.partitions import model_seed_keys
from numerai_assets.resources.compute import ComputeResource
from numerai_assets.settings import Settings
from numerai_assets.tournament.server import TournamentServer
from numerai_assets_tests.assets.conftest import Platform
from numerai_assets_tests.core.compute.sandbox_env import CACHE, TEST_IMAGE, shared_env
from numerai_assets_tests.platform import LENIENT, TINY_ROSTER


@pytest.fixture(scope="module")
def sandbox_env():
    return shared_env()


COMPUTE_ROSTER = TINY_ROSTER + f"slots:\n  demo_slot_b: {{mode: compute, docker_image: '{TEST_IMAGE}'}}\n"


@pytest.fixture(scope="module")
def platform(tournament_template: Path, dataset_version: str, tmp_path_factory: pytest.TempPathFactory, sandbox_env):
    """demo_slot_a submits (lgbm_tiny), demo_slot_b is a compute slot (xgb_tiny), champions ready."""
    home = tmp_path_factory.mktemp("compute_platform")
    shutil.copytree(tournament_template, home / "tournament")
    (home / "roster.yaml").write_text(COMPUTE_ROSTER)
    roster = load_roster(home / "roster.yaml")
    with (
        TournamentServer(home / "tournament", compute_sandbox_root=CACHE) as server,
        dg.instance_for_test() as instance,
    ):
        settings = Settings("local", home, server.url, dataset_version, tracking_mode="offline", late_policy="submit")
        defs = build_definitions(settings, roster, policy=LENIENT, compute=ComputeResource(sandbox_root=str(CACHE)))
        platform = Platform(server, defs, instance, roster, settings)
        assert platform.run("data_job").success
        for key in model_seed_keys(roster):
            assert platform.run("training_job", key).success, key
        for model in roster.names:
            assert platform.run("evaluation_job", model).success, model
        yield platform


def _materialized(result: dg.ExecuteInProcessResult) -> dict[str, dict]:
    out = {}
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        out["/".join(mat.asset_key.path)] = {k: v.value for k, v in mat.metadata.items()}
    return out


def _by_slot(platform: Platform, round_number: int) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for sub in platform.server.state.submissions(round_number=round_number):
        out.setdefault(sub.model_name, []).append(sub.filename)
    return out


def test_compute_slot_proven_uploaded_once_and_run_by_the_tournament(platform: Platform) -> None:
    slot_b = platform.server.models["demo_slot_b"]
    assert not any(
        "demo_slot_b" in k.to_user_string()
        for k in platform.defs.resolve_job_def("live_round_job").asset_layer.executable_asset_keys
    )

    first = platform.server.advance().number  # no pickle yet: the round run submits slot a only
    assert platform.run_round(first).success
    assert set(_by_slot(platform, first)) == {"demo_slot_a"}

    proven = platform.run("compute_job")
    assert proven.success
    checks = {c.check_name: c.passed for c in proven.get_asset_check_evaluations()}
    assert checks == {
        "pickle_loads_in_image": True,
        "pickle_within_limits": True,
        "pickle_valid_submission": True,
        "pickle_equals_live_path": True,
    }
    meta = _materialized(proven)
    pickle_meta, upload = meta["demo_slot_b/demo_slot_b_compute_pickle"], meta["demo_slot_b/demo_slot_b_compute_upload"]
    assert upload["status"] == "uploaded" and upload["upload_id"] != "-"
    assert upload["docker_image"] == TEST_IMAGE and upload["data_version"] == platform.settings.dataset_version
    assert TEST_IMAGE.split()[-1] in upload["sandbox_interpreter"]
    assert 0 < pickle_meta["peak_mb"] < 4096 and 0 < pickle_meta["seconds"] < 600
    print(f"\ndemo pickle in the sandbox: {pickle_meta['seconds']} s, peak {pickle_meta['peak_mb']} MB")

    again = platform.run("compute_job")  # re-running uploads nothing twice
    assert (
        again.success and _materialized(again)["demo_slot_b/demo_slot_b_compute_upload"]["status"] == "already_uploaded"
    )
    assert len(platform.server.compute.pickles([slot_b])) == 1

    second = platform.server.advance().number  # the tournament runs the pickle at round open
    assert platform.run_round(second).success
    landed = _by_slot(platform, second)
    assert set(landed) == {"demo_slot_a", "demo_slot_b"} and all(len(f) == 1 for f in landed.values())
    assert landed["demo_slot_b"][0].startswith("compute-")
    [run] = platform.server.compute.runs([slot_b], second)
    assert run["status"] == "submitted"


def test_a_pickle_over_the_memory_limit_is_stopped_and_never_uploaded(platform: Platform) -> None:
    assert platform.run_round(platform.server.advance().number).success  # a live file to prove on
    tight = ComputeResource(sandbox_root=str(CACHE), memory_mb=400)
    defs = build_definitions(platform.settings, platform.roster, policy=LENIENT, compute=tight)
    before = len(platform.server.compute.pickles([platform.server.models["demo_slot_b"]]))
    config = {
        "ops": {"demo_slot_b__demo_slot_b_compute_pickle": {"config": {"neutralize_proportion": 0.5}}}
    }  # new bytes
    result = defs.resolve_job_def("compute_job").execute_in_process(
        instance=platform.instance, raise_on_error=False, run_config=config
    )
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    assert checks["pickle_within_limits"].passed is False
    assert "out of memory at the 400 MB limit" in checks["pickle_within_limits"].metadata["reason"].value
    assert "demo_slot_b/demo_slot_b_compute_upload" not in _materialized(result)
    # the verdict travels with the file: the upload run on its own re-reads the stored proof
    alone = defs.resolve_job_def("compute_job").execute_in_process(
        instance=platform.instance,
        raise_on_error=False,
        asset_selection=[dg.AssetKey(["demo_slot_b", "demo_slot_b_compute_upload"])],
    )
    assert not alone.success
    [failure] = [e for e in alone.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "refusing to upload slot demo_slot_b's pickle" in failure.event_specific_data.error.message
    assert len(platform.server.compute.pickles([platform.server.models["demo_slot_b"]])) == before
