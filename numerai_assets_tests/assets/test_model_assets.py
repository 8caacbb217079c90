"""Training, evaluation and promotion as assets, on the tiny local tournament.

The roster backfill is what the UI launches (one run per model x seed partition); here it is one
in-process run per partition on one test instance.
"""
import json

import dagster as dg
import pytest

from numerai_assets.core.artifacts import ChampionRecord
from numerai_assets.core.roster import load_roster
from numerai_assets.definitions import build_definitions
from numerai_assets.partitions import model_seed_keys
from numerai_assets.resources.policy import EvaluationPolicy
from numerai_assets.settings import Settings

ROSTER = """
models:
  - {name: lgbm_tiny, engine: lightgbm, slot: demo_slot_a, feature_set: medium, seeds: [0, 1],
     num_boost_round: 40, params: {learning_rate: 0.05, num_leaves: 8, colsample_bytree: 0.5}}
  - {name: xgb_tiny, engine: xgboost, slot: demo_slot_b, feature_set: medium, seeds: [0, 1],
     num_boost_round: 40, params: {learning_rate: 0.05, max_depth: 3, max_bin: 8}}
"""
# Tiny data has 16 validation eras: Sharpe is noise there, so the floor is off in this test.
LENIENT = EvaluationPolicy(min_sharpe=-100.0)


@pytest.fixture
def trained(open_server, tmp_path):
    """Data, every model x seed partition, and the evaluations, on one instance."""
    (tmp_path / "roster.yaml").write_text(ROSTER)
    roster = load_roster(tmp_path / "roster.yaml")
    # home=tmp_path: the served tournament is tmp_path/tournament, where settings look for the oracle
    settings = Settings(mode="local", home=tmp_path, api_url=open_server.url,
                        dataset_version="v5.2", tracking_mode="offline")
    defs = build_definitions(settings, roster, policy=LENIENT)
    with dg.instance_for_test() as instance:
        assert defs.resolve_job_def("data_job").execute_in_process(instance=instance).success
        for key in model_seed_keys(roster):
            result = defs.resolve_job_def("training_job").execute_in_process(
                instance=instance, partition_key=key)
            assert result.success, key
        yield defs, instance, roster, settings


def evaluate(defs, instance, model):
    return defs.resolve_job_def("evaluation_job").execute_in_process(
        instance=instance, partition_key=model, raise_on_error=False)


def test_backfilled_roster_is_evaluated_promoted_and_tracked(trained):
    defs, instance, roster, settings = trained
    for model in roster.names:
        result = evaluate(defs, instance, model)
        assert result.success
        meta = result.asset_materializations_for_node("model_evaluation")[0].metadata
        for figure in ("corr_mean", "corr_sharpe", "mmc_mean", "bmc_mean", "oracle_corr_mean"):
            assert isinstance(meta[figure].value, float), figure
        assert meta["oracle_corr_mean"].value > 0
        assert "data:image/png;base64," in meta["cumulative_scores"].value
        assert "| ensemble |" in meta["metrics"].value and "| seed0 |" in meta["metrics"].value
        [gate] = result.get_asset_check_evaluations()
        assert gate.check_name == "promotion_gate" and gate.passed
        record = json.loads((settings.store_dir / ChampionRecord.key(model)).read_text())
        assert record["model"] == model and len(record["seeds"]) == 2
    assert list((settings.home / "wandb").rglob("*.wandb"))  # offline runs kept for `wandb sync`


def test_a_regressing_candidate_does_not_replace_the_champion(trained):
    defs, instance, roster, settings = trained
    model = roster.names[0]
    assert evaluate(defs, instance, model).success
    path = settings.store_dir / ChampionRecord.key(model)
    champion = json.loads(path.read_text())
    champion["headline"]["corr_mean"] = 0.5  # a champion no candidate can come close to
    path.write_text(json.dumps(champion))
    result = evaluate(defs, instance, model)
    [gate] = result.get_asset_check_evaluations()
    assert not gate.passed and "keep the current champion" in gate.description
    assert gate.metadata["compared"].value["champion_corr_mean"] == 0.5
    assert result.asset_materializations_for_node("champion") == []  # not re-materialized
    assert json.loads(path.read_text()) == champion  # the previous champion stays
