"""The main job's printed summary: the headline figures of each asset and any failed check."""

import dagster as dg

from numerai_assets.cli import _summarize
from numerai_assets.core.data.dataset import DEFAULT_VERSION


@dg.asset(check_specs=[dg.AssetCheckSpec("rows_positive", asset="scored")])
def scored():
    yield dg.Output(1, metadata={"rows": 0, "corr_mean": 0.01234567, "ignored": "x"})
    yield dg.AssetCheckResult(passed=False, check_name="rows_positive", description="0 rows")


@dg.asset
def plain():
    return dg.Output(1, metadata={"rows": 5})


def test_summary_names_figures_and_failed_checks() -> None:
    result = dg.materialize([scored], raise_on_error=False)
    text = _summarize("job[p]", result, 1.31)
    assert text.splitlines()[0] == "job[p]: success in 1.3 s"
    assert "scored" in text and "rows=0 corr_mean=0.0123" in text and "ignored" not in text
    assert "CHECK FAILED scored:rows_positive 0 rows" in text
    assert text.splitlines()[-1] == "  checks passed: 0/1"


def test_summary_of_a_job_without_checks_has_no_checks_line() -> None:
    text = _summarize("training_job[m|0]", dg.materialize([plain]), 2.0)
    assert "rows=5" in text and "checks passed" not in text


def run_numerai_mode(server, tmp_path, dataset_version: str | None) -> None:
    """`python -m numerai_assets run` as a real process in numerai mode, pointed by
    NUMERAI_ASSETS_API_URL at a separately started tournament server, dummy credentials; asserts
    exit 0 and one submission per slot landed on the server."""
    import os
    import subprocess
    import sys

    from numerai_assets.tournament.admin import AdminClient
    from numerai_assets_tests.platform import TINY_ROSTER

    open_server = server
    roster = tmp_path / "roster.yaml"
    roster.write_text(TINY_ROSTER)
    secret = "dummy-secret-key-0451"
    env = (
        {k: v for k, v in os.environ.items() if not k.startswith(("NUMERAI_", "DAGSTER_"))}
        | {
            "PYTHONPATH": os.getcwd(),
            "NUMERAI_ASSETS_MODE": "numerai",
            "NUMERAI_ASSETS_API_URL": open_server.url,
            "NUMERAI_PUBLIC_ID": "dummy-public-id",
            "NUMERAI_SECRET_KEY": secret,
            "NUMERAI_ASSETS_HOME": str(tmp_path / "home"),
            "NUMERAI_ASSETS_ROSTER": str(roster),
            "NUMERAI_ASSETS_TRACKING": "disabled",
            "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        }
        | ({"NUMERAI_ASSETS_DATASET_VERSION": dataset_version} if dataset_version else {})
    )
    # tiny data: 16 validation eras, Sharpe is noise there, so the promotion floor is off
    proc = subprocess.run(
        [sys.executable, "-m", "numerai_assets", "run", "--min-sharpe", "-100"],
        env=env,
        cwd=os.getcwd(),
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = proc.stdout + proc.stderr
    (tmp_path / "run_output.txt").write_text(output)  # kept for a failing run's post-mortem
    assert proc.returncode == 0, output[-6000:]
    round_number = open_server.current_round().number
    assert f"{open_server.url}: dataset {dataset_version or DEFAULT_VERSION}, round {round_number} open" in proc.stdout
    assert "main job succeeded" in proc.stdout and secret not in output
    landed = AdminClient(open_server.url).submissions(round_number)
    assert sorted(s["modelName"] for s in landed) == ["demo_slot_a", "demo_slot_b"]
    assert_runs_are_runs_of_their_jobs(tmp_path / "dagster_home", roster, round_number)


def assert_runs_are_runs_of_their_jobs(dagster_home, roster_path, round_number: int) -> None:
    """The main job's runs as the UI lists them: each a run of its job in workspace.yaml's code
    location (Overview timeline, Jobs page), with its partition's tags; the round's run carries
    the tags the round-open sensor sets."""
    from collections import Counter

    from dagster import DagsterInstance, RunsFilter
    from dagster._core.storage.tags import REPOSITORY_LABEL_TAG
    from dagster._core.workspace.load import location_origins_from_yaml_paths

    from numerai_assets.core.training.roster import load_roster
    from numerai_assets.partitions import model_seed_keys
    from numerai_assets.sensors.rounds import round_tags

    [location] = location_origins_from_yaml_paths(["workspace.yaml"])
    roster = load_roster(roster_path)
    with DagsterInstance.from_config(str(dagster_home)) as instance:
        runs = instance.get_runs()
        label = f"__repository__@{location.location_name}"  # how the UI finds a location's runs
        assert len(instance.get_runs(RunsFilter(tags={REPOSITORY_LABEL_TAG: label}))) == len(runs)
    assert Counter(r.job_name for r in runs) == {
        "data_job": 1,
        "training_job": len(model_seed_keys(roster)),
        "evaluation_job": len(roster.names),
        "live_round_job": 1,
    }
    for run in runs:
        origin = run.remote_job_origin
        assert origin is not None and origin.job_name == run.job_name, run.job_name
        assert origin.repository_origin.code_location_origin.location_name == location.location_name
        assert origin.repository_origin.get_label() == label
    partitions = {r.job_name: set() for r in runs}
    for run in runs:
        partitions[run.job_name].add(run.tags.get("dagster/partition"))
    assert partitions["training_job"] == set(model_seed_keys(roster))
    assert partitions["evaluation_job"] == set(roster.names)
    assert partitions["live_round_job"] == {str(round_number)}
    [live] = [r for r in runs if r.job_name == "live_round_job"]
    assert round_tags(round_number, late=False).items() <= live.tags.items()


def test_run_in_numerai_mode_against_the_server_the_url_names(open_server, dataset_version, tmp_path):
    run_numerai_mode(open_server, tmp_path, dataset_version)


def test_run_in_numerai_mode_on_v53_data_with_every_default(tmp_path):
    """A server of the default dataset version (v5.3 today: v53_* benchmark columns), nothing
    pinned: the default version and the derived benchmark column carry the whole main job."""
    from numerai_assets.tournament.generator import generate_tournament
    from numerai_assets.tournament.server import TournamentServer

    generate_tournament(tmp_path / "tournament", scale="tiny", seed=0, version=DEFAULT_VERSION)
    with TournamentServer(tmp_path / "tournament") as server:
        server.open_round()
        run_numerai_mode(server, tmp_path, None)


def test_run_in_numerai_mode_without_credentials_names_the_variables(tmp_path, monkeypatch, capsys):
    from numerai_assets.cli import main

    for name in ("NUMERAI_PUBLIC_ID", "NUMERAI_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NUMERAI_ASSETS_MODE", "numerai")
    monkeypatch.setenv("NUMERAI_ASSETS_HOME", str(tmp_path))
    monkeypatch.setenv("NUMERAI_PUBLIC_ID", "set-but-no-secret")
    assert main(["run"]) == 2
    assert "needs NUMERAI_SECRET_KEY in the environment" in capsys.readouterr().out
