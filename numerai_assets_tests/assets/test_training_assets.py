"""Training, evaluation and promotion as assets, on the tiny local tournament.

The roster backfill is what the UI launches (one run per model x seed partition); the shared
``platform`` fixture does it as one in-process run per partition on one test instance.
"""

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from numerai_assets.assets.metadata import readable_number
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


def test_a_challenger_replaces_the_champion_only_on_per_era_evidence(platform):
    """The champion's stored per-era CORR is rewritten (no training needed): above the candidate's,
    the candidate is kept out (the champion an older record, found through its ensemble_key);
    below it, the candidate is promoted; the gate shows the t-test."""
    model = platform.roster.names[0]
    store = platform.settings.store_dir
    result = platform.run("evaluation_job", model)
    assert result.success
    candidate = result.output_for_node("model_evaluation")
    ours = pd.read_parquet(store / candidate.per_era_key)["corr"]
    path = store / ChampionRecord.key(model)
    original = path.read_text()
    assert json.loads(original)["extra"]["per_era_key"] == candidate.per_era_key
    wiggle = pd.Series([0.01 * math.sin(i) for i in range(len(ours))], index=ours.index)
    try:
        older = json.loads(original)
        del older["extra"]["per_era_key"]  # written before champions kept it
        kept = _evaluate_against_champion(platform, model, older, ours + 0.05 + wiggle)
        [gate] = kept.get_asset_check_evaluations()
        assert not gate.passed and "not shown better" in gate.description and "regresses" not in gate.description
        assert gate.metadata["test_method"].value == "paired_t" and gate.metadata["test_p_value"].value > 0.5
        assert gate.metadata["test_eras"].value == len(ours)
        assert gate.metadata["test_first_era"].value == ours.index.min()
        assert kept.asset_materializations_for_node("champion") == []
        assert json.loads(path.read_text())["seeds"][0]["model_sha256"] == "0" * 64  # still the old one

        promoted = _evaluate_against_champion(platform, model, json.loads(original), ours - 0.05 + wiggle)
        [gate] = promoted.get_asset_check_evaluations()
        assert gate.passed and f"paired_t on {len(ours)} common eras" in gate.description
        assert gate.metadata["test_statistic"].value > 0 and gate.metadata["test_p_value"].value < 0.1
        assert gate.metadata["test_mean_difference"].value == pytest.approx(0.05 - wiggle.mean(), abs=1e-5)
        assert len(promoted.asset_materializations_for_node("champion")) == 1
        new = json.loads(path.read_text())
        assert new["seeds"] == json.loads(original)["seeds"] and new["extra"]["per_era_key"] == candidate.per_era_key
    finally:
        path.write_text(original)


def _evaluate_against_champion(platform, model: str, record: dict, champion_corr: pd.Series):
    """Evaluate ``model`` against its champion made another model (other sha256s) scoring ``champion_corr``."""
    key = f"evaluation/{model}/other_champion/per_era.parquet"
    target = platform.settings.store_dir / key
    target.parent.mkdir(parents=True, exist_ok=True)
    champion_corr.rename("corr").to_frame().to_parquet(target)
    record["seeds"] = [dict(seed, model_sha256="0" * 64) for seed in record["seeds"]]
    if "per_era_key" in record["extra"]:
        record["extra"]["per_era_key"] = key
    else:
        record["extra"]["ensemble_key"] = key.replace("per_era.parquet", "ensemble.parquet")
    (platform.settings.store_dir / ChampionRecord.key(model)).write_text(json.dumps(record))
    return platform.run("evaluation_job", model)


def floats_in(metadata) -> dict[str, float]:
    """Every float a metadata entry shows, the ones inside JSON entries too."""
    out = {}
    for key, entry in metadata.items():
        value = entry.value
        for name, v in value.items() if isinstance(value, dict) else [(key, value)]:
            if isinstance(v, float) and math.isfinite(v):
                out[f"{key}.{name}" if isinstance(value, dict) else key] = v
    return out


def test_evaluation_figures_are_rounded_for_reading_and_stored_at_full_precision(platform):
    """The Overview shows 4 significant digits, a table of every roster model with the champion
    marked, the chart file; the gate names the model; the stored record and parquet keep every digit."""
    model, *others = platform.roster.names
    for name in others:  # every model has a champion to compare with
        assert platform.run("evaluation_job", name).success
    result = platform.run("evaluation_job", model)
    assert result.success
    evaluation = result.asset_materializations_for_node("model_evaluation")[0].metadata
    [champion] = result.asset_materializations_for_node("champion")
    [gate] = result.get_asset_check_evaluations()
    shown = floats_in(evaluation) | floats_in(champion.metadata) | floats_in(gate.metadata)
    assert "corr_mean" in shown and "compared.candidate_corr_mean" in shown
    assert {k: v for k, v in shown.items() if readable_number(v) != v} == {}
    assert gate.description.startswith(f"promotion of {model}: promote — ") and gate.metadata["model"].value == model
    assert gate.partition == model  # the check history lists it under the model it judged

    record = json.loads((platform.settings.store_dir / ChampionRecord.key(model)).read_text())
    stored = pd.read_parquet(platform.settings.store_dir / result.output_for_node("model_evaluation").per_era_key)
    assert record["headline"]["corr_mean"] == pytest.approx(stored["corr"].mean(), rel=1e-12, abs=0)
    assert readable_number(record["headline"]["corr_mean"]) == evaluation["corr_mean"].value
    assert record["headline"]["corr_mean"] != evaluation["corr_mean"].value  # the stored one keeps its digits

    table = champion.metadata["comparison"].value
    assert len(table) < 1000  # Dagster's Overview shows markdown under 1,000 characters inline
    header = table.splitlines()[0]
    assert f"{model} (new champion)" in header
    assert all(f"{name} (champion)" in header for name in others)
    assert f"| {model} (candidate) |" in evaluation["comparison"].value.splitlines()[0]
    assert Path(evaluation["chart_file"].value).read_bytes().startswith(b"\x89PNG")


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
