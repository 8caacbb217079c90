"""The round run: gated live predictions and submissions per slot, against the real local server.

Each test opens its own round on the shared trained platform (module fixture).
"""

import contextlib
import json
import shutil

import dagster as dg
import pandas as pd
import pytest

from numerai_assets.core.artifacts import ChampionRecord
from numerai_assets.core.data.dataset import read_by_id
from numerai_assets.core.evaluation import postprocess
from numerai_assets.core.evaluation.evaluate import read_predictions
from numerai_assets.core.live.ledger import SubmissionLedger
from numerai_assets.core.live.predict import predict_slot
from numerai_assets_tests.platform import install_broken_champion


@contextlib.contextmanager
def broken_champion(platform, model: str, workdir):
    """``model``'s champion predicts a constant (its gates fail) inside the block, restored after."""
    train = platform.settings.data_dir / "datasets" / platform.settings.dataset_version / "train.parquet"
    original = install_broken_champion(
        platform.roster, model, platform.defs.resources["model_store"], platform.settings.store_dir, train, workdir
    )
    try:
        yield
    finally:
        (platform.settings.store_dir / ChampionRecord.key(model)).write_text(original)


@pytest.fixture(scope="module", autouse=True)
def champions(platform):
    for model in platform.roster.names:
        assert platform.run("evaluation_job", model).success


@pytest.fixture
def open_round(platform):
    rnd = platform.server.advance()
    yield rnd.number
    if platform.server.current_round() is not None:
        platform.server.close_round()


def outcomes(result) -> dict[str, dict]:
    """slot -> metadata of its submission materialization in this run."""
    out = {}
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        if mat.asset_key.path[-1].endswith("_submission"):
            out[mat.asset_key.path[0]] = {k: v.value for k, v in mat.metadata.items()}
    return out


def submitted(platform, round_number) -> dict[str, list[str]]:
    by_slot: dict[str, list[str]] = {}
    for sub in platform.server.state.submissions(round_number=round_number):
        by_slot.setdefault(sub.model_name, []).append(sub.sha256)
    return by_slot


def test_every_slot_submits_once_and_a_reexecution_uploads_nothing(platform, open_round):
    first = platform.run_round(open_round)
    assert first.success
    assert {s: o["status"] for s, o in outcomes(first).items()} == {
        "demo_slot_a": "submitted",
        "demo_slot_b": "submitted",
    }
    assert {o["dataset_version"] for o in outcomes(first).values()} == {platform.settings.dataset_version}
    landed = submitted(platform, open_round)
    assert {slot: len(shas) for slot, shas in landed.items()} == {"demo_slot_a": 1, "demo_slot_b": 1}
    gates = [c for c in first.get_asset_check_evaluations() if c.asset_key.path[-1].endswith("_live_predictions")]
    assert len(gates) == 18 and all(c.passed for c in gates)

    again = platform.run_round(open_round)  # a retried / re-executed run
    assert again.success
    assert {o["status"] for o in outcomes(again).values()} == {"already_submitted"}
    assert submitted(platform, open_round) == landed


def test_an_uncertain_upload_is_verified_before_any_retry(platform, open_round):
    assert platform.run_round(open_round).success
    with SubmissionLedger(platform.settings.store_dir / "ledger.sqlite") as ledger:
        [entry] = ledger.entries(open_round, "demo_slot_a")
        ledger.update(entry.entry_id, "uploaded")  # as if the process died right after the PUT
    result = platform.run_round(open_round)
    assert outcomes(result)["demo_slot_a"]["status"] == "verified_earlier_upload"
    assert len(submitted(platform, open_round)["demo_slot_a"]) == 1


def test_a_failing_gate_stops_only_its_slot(platform, open_round, tmp_path):
    """A broken champion (constant predictions) in slot b: b is refused, a still submits."""
    with broken_champion(platform, "xgb_tiny", tmp_path):
        result = platform.run_round(open_round)
    assert not result.success  # the run reports the failed gate
    failed = {
        c.check_name: c.description
        for c in result.get_asset_check_evaluations()
        if not c.passed and c.asset_key.path[0] == "demo_slot_b"
    }
    assert "std_above_floor" in failed and "near-constant" in failed["std_above_floor"]
    assert "numerai_validation" in failed
    # each result names its subject, and records the round as its partition
    assert all(d.startswith(f"slot demo_slot_b, round {open_round}: ") for d in failed.values()), failed
    gates = [c for c in result.get_asset_check_evaluations() if c.asset_key.path[-1].endswith("_live_predictions")]
    assert len(gates) == 18 and {c.partition for c in gates} == {str(open_round)}
    # the run's failure is the gates' own reason (a dagster.Failure), not a check-failed stack trace
    [failure] = [e.step_failure_data for e in result.get_step_failure_events()]
    assert failure.error.cls_name == "Failure" and failure.user_failure_data is not None
    reason = failure.user_failure_data.description
    assert reason.startswith(f"slot demo_slot_b, round {open_round}: not submitted, blocking gates failed: ")
    assert "std_above_floor: " in reason and "near-constant" in reason
    assert set(outcomes(result)) == {"demo_slot_a"}
    assert set(submitted(platform, open_round)) == {"demo_slot_a"}


def test_a_round_closed_before_upload_is_a_missed_round_not_a_green_dry_run(platform, open_round):
    """The round closed before the upload: each slot's submission step fails naming slot and round
    (an explicit replay, replay=True in core.live.submitting, is the only way to a non-red result)."""
    platform.server.close_round()
    result = platform.run_round(open_round)
    assert not result.success
    failures = [e.step_failure_data.error.to_string() for e in result.get_step_failure_events()]
    for slot in ("demo_slot_a", "demo_slot_b"):
        assert any(f"slot {slot}: round {open_round} closed" in m for m in failures), failures
    assert submitted(platform, open_round) == {}
    with SubmissionLedger(platform.settings.store_dir / "ledger.sqlite") as ledger:
        assert ledger.entries(open_round) == []


def test_an_explicit_replay_of_a_closed_round_says_so_and_uploads_nothing(platform, open_round):
    """A backfill of a past round tagged numerai/replay=true is the one green path for a closed
    round: each slot records a 'replayed' outcome, nothing reaches Numerai."""
    from numerai_assets.assets.submission import REPLAY_TAG

    platform.server.close_round()
    result = platform.run_round(open_round, tags={REPLAY_TAG: "true"})
    statuses = {s: o["status"] for s, o in outcomes(result).items()}
    assert statuses and set(statuses.values()) == {"replayed"}, statuses
    # tiny live files can trip a slot's exposure gate in some rounds; a submission step never fails
    assert all(e.step_key.endswith("_live_predictions") for e in result.get_step_failure_events())
    assert submitted(platform, open_round) == {}


def test_live_path_and_validation_path_give_identical_predictions(platform, tmp_path):
    """Rows of one validation era served as a live file get the validation path's predictions."""
    store = platform.defs.resources["model_store"]
    model = "lgbm_tiny"
    record = store.read_json(ChampionRecord.key(model))
    validation = read_by_id(
        platform.settings.data_dir / "datasets" / platform.settings.dataset_version / "validation.parquet"
    )
    era = validation["era"].iloc[0]
    live = validation[validation["era"] == era].assign(era="X", data_type="live")
    live_path = tmp_path / "live.parquet"
    live.to_parquet(live_path)
    for seed in record["seeds"]:
        store.local_path(seed["manifest_key"])
    live_preds = predict_slot(
        {model: [store.local_path(s["model_key"]) for s in record["seeds"]]}, live_path
    ).predictions
    seeds = {}
    for seed in record["seeds"]:
        key = f"predictions/validation/{model}/seed{seed['seed']}/{seed['model_sha256'][:16]}.parquet"
        seeds[f"seed{seed['seed']}"] = read_predictions(store.local_path(key)).loc[live.index]
    validation_path = postprocess.ensemble(pd.DataFrame(seeds), validation["era"].loc[live.index])
    pd.testing.assert_series_equal(
        live_preds.sort_index(), validation_path.sort_index(), check_names=False, rtol=0, atol=1e-12
    )


def run_only(platform, round_number: int, *keys: str) -> dg.ExecuteInProcessResult:
    """A separate run materializing only ``keys`` (e.g. "demo_slot_b/demo_slot_b_submission") of the round."""
    platform.instance.add_dynamic_partitions("rounds", [str(round_number)])
    return platform.defs.resolve_job_def("live_round_job").execute_in_process(
        instance=platform.instance,
        partition_key=str(round_number),
        raise_on_error=False,
        asset_selection=[dg.AssetKey(k.split("/")) for k in keys],
    )


def failures(result) -> str:
    """Every step failure's message in a run, joined (the Failure descriptions a user reads)."""
    return "\n".join(e.step_failure_data.error.message for e in result.all_events if e.is_step_failure)


def test_gated_out_predictions_are_refused_by_a_later_run_of_the_submission_alone(platform, open_round, tmp_path):
    """The README's "one slot again" path cannot upload predictions whose gates failed."""
    with broken_champion(platform, "xgb_tiny", tmp_path):
        first = platform.run_round(open_round)
    assert "demo_slot_b" not in outcomes(first)  # blocked within the run, as before

    again = run_only(platform, open_round, "demo_slot_b/demo_slot_b_submission")
    assert not again.success
    message = failures(again)
    assert "refusing to submit" in message and "std_above_floor" in message
    assert "numerai_validation" in message and "feature_drift" not in message  # only blocking ones
    assert "demo_slot_b" not in submitted(platform, open_round)
    with SubmissionLedger(platform.settings.store_dir / "ledger.sqlite") as ledger:
        assert ledger.entries(open_round, "demo_slot_b") == []


def test_predictions_of_a_live_file_that_broke_its_contract_are_never_submitted(platform, open_round):
    assert run_only(platform, open_round, "live_data").success
    [live_path] = (platform.settings.data_dir / "rounds" / str(open_round)).rglob("live.parquet")
    live = read_by_id(live_path)
    feature = next(c for c in live.columns if c.startswith("feature_"))
    live.loc[live.index[0], feature] = 9  # outside 0..4: the live contract fails
    live.to_parquet(live_path)

    run_only(platform, open_round, "demo_slot_a/demo_slot_a_live_predictions")  # its gates may fail too: not the point
    result = run_only(platform, open_round, "demo_slot_a/demo_slot_a_submission")
    assert not result.success
    message = failures(result)
    assert "live contract" in message and "feature_values_in_range" in message
    assert submitted(platform, open_round) == {}


def test_a_model_file_swapped_under_the_champion_is_refused(platform, open_round):
    """Valid files of another model copied over the champion's: nothing of that slot is sent."""
    store = platform.defs.resources["model_store"]
    champion = store.read_json(ChampionRecord.key("xgb_tiny"))["seeds"][0]
    other = store.read_json(ChampionRecord.key("lgbm_tiny"))["seeds"][0]
    targets = [store.local_path(champion[k]) for k in ("model_key", "manifest_key")]
    backups = [t.read_bytes() for t in targets]
    try:
        for key, target in zip(("model_key", "manifest_key"), targets, strict=False):
            shutil.copyfile(store.local_path(other[key]), target)
        result = platform.run_round(open_round)
    finally:
        for target, data in zip(targets, backups, strict=False):
            target.write_bytes(data)
    assert not result.success
    message = failures(result)
    assert "champion of xgb_tiny refused" in message and "was replaced" in message
    assert "demo_slot_b" not in submitted(platform, open_round)


def test_a_corrupt_champion_record_fails_naming_the_file(platform, open_round):
    record_path = platform.settings.store_dir / ChampionRecord.key("xgb_tiny")
    original = record_path.read_text()
    try:
        record_path.write_text(original[:40])
        corrupt = platform.run_round(open_round)
        record_path.write_text(json.dumps({k: v for k, v in json.loads(original).items() if k != "seeds"}))
        missing = platform.run_round(open_round)
    finally:
        record_path.write_text(original)
    assert str(record_path.name) in failures(corrupt) and "not valid JSON" in failures(corrupt)
    assert "xgb_tiny.json lacks key 'seeds'" in failures(missing)
    assert "demo_slot_b" not in submitted(platform, open_round)


def test_a_refused_upload_put_is_retried_within_the_run_and_lands_once(platform, open_round):
    """A transient failure no longer needs a manual re-run: the first PUT's 403 gets a fresh URL
    inside the client, whose PUT is refused too; the step's retry then lands it once."""
    platform.server.faults.set(upload_put_count=2, upload_put_status=403)
    try:
        result = platform.run_round(open_round)
    finally:
        platform.server.faults.reset()
    [retry] = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    slot = retry.step_key.split("__")[0]
    assert retry.step_key == f"{slot}__{slot}_submission"
    assert outcomes(result)[slot]["status"] == "submitted"
    assert len(submitted(platform, open_round)[slot]) == 1
    with SubmissionLedger(platform.settings.store_dir / "ledger.sqlite") as ledger:
        assert [e.status for e in ledger.entries(open_round, slot)] == ["failed", "confirmed"]


def test_the_sensors_retry_run_submits_only_the_unconfirmed_slot(platform, open_round, tmp_path, monkeypatch):
    """Slot b failed in the round's run; the sensor's retry run (its own asset selection and tags)
    submits b, leaves a alone, and the next tick finds the round done."""
    monkeypatch.setattr("numerai_assets.sensors.rounds.RETRY_BACKOFF_S", 0.0)
    with broken_champion(platform, "xgb_tiny", tmp_path):
        assert not platform.run_round(open_round).success
    sensor = platform.defs.resolve_sensor_def("round_open_sensor")

    def tick():
        return sensor(
            dg.build_sensor_context(
                instance=platform.instance,
                resources={name: platform.defs.resources[name] for name in ("numerai", "submissions", "notify")},
            )
        )

    [request] = tick().run_requests
    assert {k.to_user_string() for k in request.asset_selection} == {
        "live_data",
        "demo_slot_b/demo_slot_b_live_predictions",
        "demo_slot_b/demo_slot_b_submission",
    }
    retry = platform.defs.resolve_job_def("live_round_job").execute_in_process(
        instance=platform.instance,
        partition_key=request.partition_key,
        tags=request.tags,
        asset_selection=list(request.asset_selection),
        raise_on_error=False,
    )
    assert retry.success and set(outcomes(retry)) == {"demo_slot_b"}
    assert {slot: len(shas) for slot, shas in submitted(platform, open_round).items()} == {
        "demo_slot_a": 1,
        "demo_slot_b": 1,
    }
    assert tick().skip_reason.skip_message == f"round {open_round}: every slot confirmed"


# One process's round run, started twice at once below: the settings come as JSON arguments.
ROUND_RUN_CHILD = """
import json, sys
from pathlib import Path
import dagster as dg
from numerai_assets.core.training.roster import load_roster
from numerai_assets.definitions import build_definitions
from numerai_assets.settings import Settings
from numerai_assets_tests.platform import LENIENT

raw, number = json.loads(sys.argv[1]), sys.argv[2]
settings = Settings(**{**raw, "home": Path(raw["home"])})
defs = build_definitions(settings, load_roster(settings.home / "roster.yaml"), policy=LENIENT)
with dg.DagsterInstance.get() as instance:  # DAGSTER_HOME: the test's instance, shared
    result = defs.resolve_job_def("live_round_job").execute_in_process(
        instance=instance, partition_key=number, raise_on_error=False)
statuses = {e.asset_key.path[0]: e.event_specific_data.materialization.metadata["status"].value
            for e in result.get_asset_materialization_events() if e.asset_key.path[-1].endswith("_submission")}
print(json.dumps({"success": result.success, "statuses": statuses}))
"""


def test_two_round_runs_at_once_on_one_home_submit_each_slot_once(platform, open_round):
    """Two processes run the same round's live_round_job on one home while the API answers in
    about a second: the ledger's claims let one upload per slot; the other waits and finds it."""
    import os
    import subprocess
    import sys

    s = platform.settings
    raw = json.dumps(
        {
            "mode": s.mode,
            "home": str(s.home),
            "api_url": s.api_url,
            "dataset_version": s.dataset_version,
            "tracking_mode": "disabled",
            "late_policy": s.late_policy,
        }
    )
    platform.instance.add_dynamic_partitions("rounds", [str(open_round)])
    env = {**os.environ, "DAGSTER_HOME": platform.instance.root_directory}
    platform.server.faults.set(graphql_delay_s=1.0)
    try:
        children = [
            subprocess.Popen(
                [sys.executable, "-c", ROUND_RUN_CHILD, raw, str(open_round)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            for _ in range(2)
        ]
        outputs = [c.communicate(timeout=300) for c in children]
        reports = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    finally:
        platform.server.faults.reset()
    assert all(r["success"] for r in reports), [err[-3000:] for _, err in outputs]
    for slot in ("demo_slot_a", "demo_slot_b"):
        assert sorted(r["statuses"][slot] for r in reports) == ["already_submitted", "submitted"], reports
    assert {slot: len(shas) for slot, shas in submitted(platform, open_round).items()} == {
        "demo_slot_a": 1,
        "demo_slot_b": 1,
    }
