"""The round run: gated live predictions and submissions per slot, against the real local server.

Each test opens its own round on the shared trained platform (module fixture).
"""
import pandas as pd
import pytest

from numerai_assets.core import postprocess
from numerai_assets.core.artifacts import ChampionRecord
from numerai_assets.core.dataset import read_by_id
from numerai_assets.core.evaluation import read_predictions
from numerai_assets.core.ledger import SubmissionLedger
from numerai_assets.core.live import predict_slot
from numerai_assets_tests.platform import install_broken_champion


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
        if mat.asset_key.path[-1] == "submission":
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
        "demo_slot_a": "submitted", "demo_slot_b": "submitted"}
    landed = submitted(platform, open_round)
    assert {slot: len(shas) for slot, shas in landed.items()} == {"demo_slot_a": 1, "demo_slot_b": 1}
    gates = [c for c in first.get_asset_check_evaluations() if "live_predictions" in c.asset_key.path]
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
    store = platform.defs.resources["model_store"]
    original = install_broken_champion(
        platform.roster, "xgb_tiny", store, platform.settings.store_dir,
        platform.settings.data_dir / "datasets" / platform.settings.dataset_version / "train.parquet", tmp_path)
    try:
        result = platform.run_round(open_round)
    finally:
        (platform.settings.store_dir / ChampionRecord.key("xgb_tiny")).write_text(original)
    assert not result.success  # the run reports the failed gate
    failed = {c.check_name: c.description for c in result.get_asset_check_evaluations()
              if not c.passed and c.asset_key.path[0] == "demo_slot_b"}
    assert "std_above_floor" in failed and "near-constant" in failed["std_above_floor"]
    assert "numerai_validation" in failed
    assert set(outcomes(result)) == {"demo_slot_a"}
    assert set(submitted(platform, open_round)) == {"demo_slot_a"}


def test_backfilling_a_past_round_replays_it_as_a_dry_run(platform, open_round):
    platform.server.close_round()  # the round is over; a backfill replays it later
    result = platform.run_round(open_round)
    assert result.success
    for outcome in outcomes(result).values():
        assert outcome["status"] == "dry_run" and "is closed" in outcome["reason"]
    assert submitted(platform, open_round) == {}
    with SubmissionLedger(platform.settings.store_dir / "ledger.sqlite") as ledger:
        assert all(e.dry_run for e in ledger.entries(open_round))


def test_live_path_and_validation_path_give_identical_predictions(platform, tmp_path):
    """Rows of one validation era served as a live file get the validation path's predictions."""
    store = platform.defs.resources["model_store"]
    model = "lgbm_tiny"
    record = store.read_json(ChampionRecord.key(model))
    validation = read_by_id(platform.settings.data_dir / "datasets" / platform.settings.dataset_version / "validation.parquet")
    era = validation["era"].iloc[0]
    live = validation[validation["era"] == era].assign(era="X", data_type="live")
    live_path = tmp_path / "live.parquet"
    live.to_parquet(live_path)
    for seed in record["seeds"]:
        store.local_path(seed["manifest_key"])
    live_preds = predict_slot({model: [store.local_path(s["model_key"]) for s in record["seeds"]]},
                              live_path).predictions
    seeds = {}
    for seed in record["seeds"]:
        key = f"predictions/validation/{model}/seed{seed['seed']}/{seed['model_sha256'][:16]}.parquet"
        seeds[f"seed{seed['seed']}"] = read_predictions(store.local_path(key)).loc[live.index]
    validation_path = postprocess.ensemble(pd.DataFrame(seeds), validation["era"].loc[live.index])
    pd.testing.assert_series_equal(live_preds.sort_index(), validation_path.sort_index(),
                                   check_names=False, rtol=0, atol=1e-12)
