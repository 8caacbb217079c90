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
