"""Retraining that follows the data, end to end on the tiny trained platform and the real local
tournament: the server republishes train.parquet (same size, new ETag) through its admin route;
while a round is open and unsubmitted the data refresh and the retrain sensor wait, naming the
round; once it closed, the data refresh downloads the new file and the retrain sensor requests
exactly one retraining (a training run per model x seed, once), then each model's evaluation;
the run tags and the model store's record say why. Sensors are evaluated with
``build_sensor_context`` and the runs they request are executed in process (no daemon here)."""

import dagster as dg
import yaml

from numerai_assets.assets.scores import BAND_CHECK, monitoring_key
from numerai_assets.core.artifacts import ChampionRecord
from numerai_assets.core.training.roster import parse_roster
from numerai_assets.core.training.staleness import parse_version
from numerai_assets.definitions import build_definitions
from numerai_assets.resources.policy import RetrainPolicy
from numerai_assets.sensors.retrain import KEY_TAG, REASON_TAG, RETRAIN_TAG
from numerai_assets.sensors.retrain_inputs import RECORDS, TRAIN, VERSIONS_KEY, current_data
from numerai_assets.settings import Settings
from numerai_assets.tournament.admin import AdminClient
from numerai_assets.tournament.generator import generate_tournament
from numerai_assets_tests.platform import TINY_ROSTER

RESOURCES = ("numerai", "submissions", "model_store", "retrain_policy", "store")


def tick(platform, name: str, cursor: str | None = None, on_decay: bool = False):
    """One evaluation of the sensor, as a SensorResult (a bare RunRequest/SkipReason is wrapped)."""
    resources = {k: platform.defs.resources[k] for k in RESOURCES}
    resources["retrain_policy"] = RetrainPolicy(on_decay=on_decay)
    context = dg.build_sensor_context(instance=platform.instance, cursor=cursor, resources=resources)
    result = platform.defs.resolve_sensor_def(name)(context)
    if isinstance(result, dg.RunRequest):
        return dg.SensorResult(run_requests=[result])
    if isinstance(result, dg.SkipReason):
        return dg.SensorResult(skip_reason=result)
    return result


def skipped(result) -> str:
    assert not result.run_requests, result.run_requests
    return result.skip_reason.skip_message


def execute(platform, request: dg.RunRequest, job: str) -> dg.ExecuteInProcessResult:
    return platform.defs.resolve_job_def(request.job_name or job).execute_in_process(
        instance=platform.instance, partition_key=request.partition_key, tags=request.tags, raise_on_error=False
    )


def test_changed_train_data_retrains_every_seed_once_outside_the_round_window_then_evaluates(platform):
    for sensor in ("data_refresh_sensor", "retrain_sensor"):  # local mode: on by default
        assert platform.defs.resolve_sensor_def(sensor).default_status == dg.DefaultSensorStatus.RUNNING
    version = platform.settings.dataset_version
    assert skipped(tick(platform, "data_refresh_sensor")) == f"every {version} file is current (no round is open)"
    before = current_data(platform.instance)[TRAIN]
    number = platform.server.advance().number
    new_sha = AdminClient(platform.server.url).republish(f"{version}/train.parquet")["sha256"]
    assert new_sha != before

    for sensor in ("data_refresh_sensor", "retrain_sensor"):  # round open, nothing submitted: both wait
        message = skipped(tick(platform, sensor))
        assert f"round {number} is open" in message and "['demo_slot_a', 'demo_slot_b']" in message
    platform.server.close_round()

    [refresh] = tick(platform, "data_refresh_sensor").run_requests  # the ETag changed, the size did not
    assert refresh.tags["numerai/data_refresh"] == f"{version} files changed on the server: ['train.parquet']"
    assert execute(platform, refresh, "data_job").success
    assert current_data(platform.instance)[TRAIN] == new_sha  # the same-size file was noticed
    assert "file is current" in skipped(tick(platform, "data_refresh_sensor"))

    first = tick(platform, "retrain_sensor")
    partitions = sorted(r.partition_key for r in first.run_requests)
    assert partitions == ["lgbm_tiny|0", "lgbm_tiny|1", "xgb_tiny|0", "xgb_tiny|1"]
    assert {r.job_name for r in first.run_requests} == {"training_job"}
    [reason] = {r.tags[REASON_TAG] for r in first.run_requests}
    change = f"train_data sha256 {before[:12]}.. -> {new_sha[:12]}.."
    assert reason == f"lgbm_tiny: {change}; xgb_tiny: {change}"
    [retrain_id] = {r.tags[RETRAIN_TAG] for r in first.run_requests}
    assert len({r.run_key for r in first.run_requests}) == 4

    again = tick(platform, "retrain_sensor", cursor=first.cursor)  # runs not started yet: nothing new
    assert "retraining already requested" in skipped(again)

    for request in first.run_requests:
        assert execute(platform, request, "training_job").success, request.partition_key
    evaluations = tick(platform, "retrain_sensor", cursor=again.cursor)
    assert sorted(r.partition_key for r in evaluations.run_requests) == ["lgbm_tiny", "xgb_tiny"]
    assert {r.job_name for r in evaluations.run_requests} == {"evaluation_job"}
    assert {r.tags[REASON_TAG] for r in evaluations.run_requests} == {reason}
    for request in evaluations.run_requests:
        assert execute(platform, request, "evaluation_job").success, request.partition_key

    assert skipped(tick(platform, "retrain_sensor", cursor=evaluations.cursor)) == "no model is stale"
    for model in platform.roster.names:  # promoted by the gate: the champion is on the new bytes
        champion = platform.defs.resources["model_store"].read_json(ChampionRecord.key(model))
        manifest = platform.defs.resources["model_store"].read_json(champion["seeds"][0]["manifest_key"])
        assert manifest["dataset"]["sha256"]["train.parquet"] == new_sha
    runs = platform.instance.get_run_records(dg.RunsFilter(tags={RETRAIN_TAG: retrain_id}))
    assert len(runs) == 6 and {r.dagster_run.tags[REASON_TAG] for r in runs} == {reason}
    record = platform.defs.resources["model_store"].read_json(f"{RECORDS}/{retrain_id}.json")
    assert record["reason"] == reason and record["status"] == "done"
    assert {m: len(e["training_runs"]) for m, e in record["models"].items()} == {"lgbm_tiny": 2, "xgb_tiny": 2}
    assert {e["evaluation"] for e in record["models"].values()} == {r.run_key for r in evaluations.run_requests}
    assert {r.dagster_run.tags[KEY_TAG] for r in runs} >= set(record["models"]["lgbm_tiny"]["training_runs"])


def test_a_decay_warning_retrains_its_slots_models_only_when_switched_on(platform):
    """The failed band check is reported to the instance directly (a real check evaluation event,
    runless): producing one through resolved rounds is test_live_results_e2e's job, minutes long."""
    platform.instance.report_runless_asset_event(
        dg.AssetCheckEvaluation(
            asset_key=monitoring_key("demo_slot_a"), check_name=BAND_CHECK, passed=False, metadata={}
        )
    )
    assert skipped(tick(platform, "retrain_sensor")) == "no model is stale"  # on_decay is off by default
    decayed = tick(platform, "retrain_sensor", on_decay=True)
    assert sorted(r.partition_key for r in decayed.run_requests) == ["lgbm_tiny|0", "lgbm_tiny|1"]
    assert {r.tags[REASON_TAG] for r in decayed.run_requests} == {"lgbm_tiny: decay warning on slot demo_slot_a"}
    platform.instance.report_runless_asset_event(  # the warning again, on the same data: nothing new
        dg.AssetCheckEvaluation(
            asset_key=monitoring_key("demo_slot_a"), check_name=BAND_CHECK, passed=False, metadata={}
        )
    )
    later = tick(platform, "retrain_sensor", cursor=decayed.cursor, on_decay=True)
    assert "already requested" in skipped(later)

    # the runs as a daemon would leave them: seed 1 failed, so the model is not evaluated
    job = dg.GraphDefinition(name="stand_in", node_defs=[]).to_job()
    statuses = {"lgbm_tiny|0": dg.DagsterRunStatus.SUCCESS, "lgbm_tiny|1": dg.DagsterRunStatus.FAILURE}
    runs = {
        r.partition_key: platform.instance.create_run_for_job(job, status=statuses[r.partition_key], tags=r.tags)
        for r in decayed.run_requests
    }
    # a fresh cursor (e.g. the sensor was reset): the runs' key tags in the instance still say "requested"
    assert "already requested" in skipped(tick(platform, "retrain_sensor", on_decay=True))
    settled = tick(platform, "retrain_sensor", cursor=later.cursor, on_decay=True)
    assert "already requested" in skipped(settled)
    retrain_id = decayed.run_requests[0].tags[RETRAIN_TAG]
    record = platform.defs.resources["model_store"].read_json(f"{RECORDS}/{retrain_id}.json")
    assert record["status"] == "done" and record["reasons"] == {"lgbm_tiny": ["decay warning on slot demo_slot_a"]}
    failed = runs["lgbm_tiny|1"]
    assert record["models"]["lgbm_tiny"]["evaluation"] == (
        f"not requested: training run {failed.run_id} ({failed.tags[KEY_TAG]}) ended FAILURE"
    )


def test_a_newer_listed_version_is_recorded_and_named_but_not_switched_to(platform):
    """The local tournament generates a newer version beside the served one (it lists every
    version under its root): the sensor records and names it, and requests nothing."""
    major, minor = parse_version(platform.settings.dataset_version) or (0, 0)
    newer = f"v{major}.{minor + 1}"
    generate_tournament(platform.server.root, scale="tiny", seed=0, version=newer)
    message = skipped(tick(platform, "retrain_sensor"))
    assert f"newer version {newer} listed (recorded, not switched to)" in message
    record = platform.defs.resources["model_store"].read_json(VERSIONS_KEY)
    assert record["configured"] == platform.settings.dataset_version and record["newer"] == [newer]


def test_against_real_numerai_both_sensors_wait_for_a_person_to_switch_them_on(tmp_path, dataset_version):
    url = "http://127.0.0.1:9/graphql"  # never called: only the definitions are built
    settings = Settings(mode="numerai", home=tmp_path, api_url=url, dataset_version=dataset_version)
    defs = build_definitions(settings, parse_roster(yaml.safe_load(TINY_ROSTER)))
    for name in ("data_refresh_sensor", "retrain_sensor"):
        sensor = defs.resolve_sensor_def(name)
        assert sensor.default_status == dg.DefaultSensorStatus.STOPPED, name
        assert sensor.minimum_interval_seconds == 3600, name  # not the local round poll
