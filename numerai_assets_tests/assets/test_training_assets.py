"""Training, evaluation and promotion as assets, on the tiny local tournament.

The roster backfill is what the UI launches (one run per model x seed partition); the shared
``platform`` fixture does it as one in-process run per partition on one test instance.
"""

import json

from numerai_assets.core.artifacts import ChampionRecord


def test_backfilled_roster_is_evaluated_promoted_and_tracked(platform):
    for model in platform.roster.names:
        result = platform.run("evaluation_job", model)
        assert result.success
        meta = result.asset_materializations_for_node("model_evaluation")[0].metadata
        for figure in ("corr_mean", "corr_sharpe", "mmc_mean", "bmc_mean", "oracle_corr_mean"):
            assert isinstance(meta[figure].value, float), figure
        assert meta["oracle_corr_mean"].value > 0
        assert "data:image/png;base64," in meta["cumulative_scores"].value
        assert "| ensemble |" in meta["metrics"].value and "| seed0 |" in meta["metrics"].value
        [gate] = result.get_asset_check_evaluations()
        assert gate.check_name == "promotion_gate" and gate.passed
        record = json.loads((platform.settings.store_dir / ChampionRecord.key(model)).read_text())
        assert record["model"] == model and len(record["seeds"]) == 2
    assert list((platform.settings.home / "wandb").rglob("*.wandb"))  # kept for `wandb sync`


def test_a_regressing_candidate_does_not_replace_the_champion(platform):
    model = platform.roster.names[0]
    assert platform.run("evaluation_job", model).success
    path = platform.settings.store_dir / ChampionRecord.key(model)
    original = path.read_text()
    champion = json.loads(original)
    champion["headline"]["corr_mean"] = 0.5  # a champion no candidate can come close to
    path.write_text(json.dumps(champion))
    try:
        result = platform.run("evaluation_job", model)
        [gate] = result.get_asset_check_evaluations()
        assert not gate.passed and "keep the current champion" in gate.description
        assert gate.metadata["compared"].value["champion_corr_mean"] == 0.5
        assert result.asset_materializations_for_node("champion") == []  # not re-materialized
        assert json.loads(path.read_text()) == champion  # the previous champion stays
    finally:
        path.write_text(original)
