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


def test_training_metadata_rounds_floats_for_the_ui_and_keeps_counts():
    from numerai_assets.assets.training import _training_metadata

    training = {
        "rows": 123_456,
        "eras_count": 40,
        "rounds": 300,
        "train_seconds": 12.345678,
        "build_seconds": 0.0123456,
        "peak_rss_bytes": 1_234_567_890,
        "int8_bytes": 987_654_321,
    }
    manifest = {"model_sha256": "ab" * 32, "training": training}
    meta = _training_metadata(manifest, 64, "file:///m.json")
    assert (meta["rows"], meta["eras"], meta["rounds"], meta["features"]) == (123_456, 40, 300, 64)
    assert (meta["train_seconds"], meta["build_seconds"]) == (12.35, 0.01235)
    assert (meta["peak_rss_gb"], meta["int8_gb"]) == (1.15, 0.9198)  # GiB, 4 significant digits
    assert meta["model_sha256"] == "ab" * 32 and meta["manifest"] == "file:///m.json"
