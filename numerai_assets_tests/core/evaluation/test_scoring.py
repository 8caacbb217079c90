"""Scoring equals numerai-tools called directly, era by era; summaries on hand-computed series."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from numerai_tools import scoring as nt

from numerai_assets.core.evaluation import scoring_fast
from numerai_assets.core.evaluation.scoring import (
    flatten_summary,
    load_scoring_frame,
    max_drawdown,
    per_era_scores,
    summarize,
)

TOL = 1e-9


def random_round(seed: int = 0, n_eras: int = 7, n_features: int = 6) -> dict:
    """Several eras of uneven size, unsorted string ids, tied predictions, NaN targets."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(40, 160, n_eras)
    eras = np.repeat([f"{e:04d}" for e in range(1, n_eras + 1)], sizes)
    n = len(eras)
    ids = np.array([f"n{v:015x}" for v in rng.choice(16**10, n, replace=False)])
    perm = rng.permutation(n)  # ids and eras deliberately not sorted
    ids, eras = ids[perm], eras[perm]
    features = pd.DataFrame(
        rng.integers(0, 5, (n, n_features)), index=ids, columns=[f"feature_{i}" for i in range(n_features)]
    ).astype(np.int8)
    signal = features.to_numpy() @ rng.normal(size=n_features)
    target = np.clip(np.round((signal / 8 + rng.normal(size=n) + 2) * 4) / 16, 0, 1)  # 17 bins
    target[rng.random(n) < 0.1] = np.nan
    preds = np.round(signal + rng.normal(size=n), 1)  # many ties
    meta = np.round(signal + rng.normal(size=n) * 2, 2)
    bench = rng.integers(0, 20, n) / 19.0  # heavy ties
    s = lambda v, name: pd.Series(v, index=ids, name=name)  # noqa: E731
    return {
        "predictions": s(preds, "prediction"),
        "eras": s(eras, "era"),
        "targets": s(target, "target"),
        "meta_model": s(meta, "numerai_meta_model"),
        "benchmark": s(bench, "v52_lgbm_ender20"),
        "features": features,
    }


def direct_numerai_tools(data: dict, *, with_features: bool = True) -> pd.DataFrame:
    """numerai_tools.scoring called directly on each era's raw slices (NaN targets included)."""
    out = {}
    for era in sorted(data["eras"].unique()):
        ids = data["eras"].index[data["eras"] == era]
        preds = data["predictions"].loc[ids].sort_index()
        target = data["targets"].loc[ids]
        row = {
            "corr": nt.numerai_corr(preds.to_frame(), target).iloc[0],
            "mmc": nt.correlation_contribution(preds.to_frame(), data["meta_model"].loc[ids], target).iloc[0],
            "bmc": nt.correlation_contribution(preds.to_frame(), data["benchmark"].loc[ids], target).iloc[0],
        }
        if with_features:
            scored = target.dropna().sort_index().index
            feats = data["features"].loc[scored]
            row["fnc"] = nt.feature_neutral_corr(preds.loc[scored].to_frame(), feats, target.loc[scored]).iloc[0]
            row["feature_exposure"] = nt.max_feature_correlation(preds.loc[scored], feats)[1]
        out[era] = row
    return pd.DataFrame.from_dict(out, orient="index")


def score(data: dict, **kwargs) -> pd.DataFrame:
    return per_era_scores(
        data["predictions"],
        data["eras"],
        data["targets"],
        data["meta_model"],
        data["benchmark"],
        data["features"],
        **kwargs,
    )


@pytest.mark.parametrize("engine", ["vectorized", "numerai_tools"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_scores_equal_numerai_tools_called_directly(engine: str, seed: int) -> None:
    data = random_round(seed)
    ours = score(data, engine=engine)
    expected = direct_numerai_tools(data)
    assert list(ours.columns) == ["corr", "mmc", "bmc", "fnc", "feature_exposure"]
    assert list(ours.index) == list(expected.index) and ours.index.name == "era"
    np.testing.assert_allclose(ours.to_numpy(), expected[ours.columns].to_numpy(), rtol=0, atol=TOL)
    assert ours.notna().all().all()


def test_vectorized_equals_numerai_tools_with_targets_outside_unit_interval() -> None:
    """correlation_contribution multiplies targets by 4 only when an era's lie in [0, 1]."""
    data = random_round(3)
    data["targets"] = (data["targets"] - 0.5) * 3  # returns-like, outside [0, 1]
    ours = score(data, fnc_features=[])
    expected = direct_numerai_tools(data, with_features=False)
    for metric in ("corr", "mmc", "bmc"):
        np.testing.assert_allclose(ours[metric], expected[metric], rtol=0, atol=TOL)


def test_partial_reference_coverage() -> None:
    """A meta model covering >= 80% of an era is scored on what it covers; < 80% gives NaN."""
    data = random_round(4)
    meta = data["meta_model"].copy()
    eras = data["eras"]
    first, second = sorted(eras.unique())[:2]
    meta[eras == first] = np.nan
    second_ids = eras.index[eras == second]
    meta.loc[second_ids[: len(second_ids) // 20]] = np.nan  # ~5% missing
    data["meta_model"] = meta
    for engine in ("vectorized", "numerai_tools"):
        ours = score(data, engine=engine, fnc_features=[])
        assert np.isnan(ours.loc[first, "mmc"])
        preds, target = data["predictions"].loc[second_ids], data["targets"].loc[second_ids]
        direct = nt.correlation_contribution(preds.sort_index().to_frame(), meta.loc[second_ids], target).iloc[0]
        assert abs(ours.loc[second, "mmc"] - direct) < TOL
        assert ours["mmc"].drop(first).notna().all()


def test_predictions_must_cover_the_scored_rows() -> None:
    data = random_round(5)
    preds = data["predictions"].copy()
    era = sorted(data["eras"].unique())[0]
    preds[data["eras"] == era] = np.nan
    with pytest.raises(ValueError, match="cover"):
        per_era_scores(preds, data["eras"], data["targets"])
    # a few missing predictions are fine and scored on the rows covered
    preds = data["predictions"].copy()
    preds.iloc[:3] = np.nan
    assert per_era_scores(preds, data["eras"], data["targets"])["corr"].notna().all()


def test_only_metrics_with_inputs_and_fnc_subset() -> None:
    data = random_round(6)
    corr_only = per_era_scores(data["predictions"], data["eras"], data["targets"])
    assert list(corr_only.columns) == ["corr"]
    subset = ["feature_0", "feature_1"]
    ours = score(data, fnc_features=subset)
    for era in ours.index:
        ids = data["eras"].index[data["eras"] == era]
        scored = data["targets"].loc[ids].dropna().sort_index().index
        direct = nt.feature_neutral_corr(
            data["predictions"].loc[scored].to_frame(),
            data["features"].loc[scored, subset],
            data["targets"].loc[scored],
        ).iloc[0]
        assert abs(ours.loc[era, "fnc"] - direct) < TOL
    assert "fnc" not in score(data, fnc_features=[]).columns


def test_tie_kept_rank_equals_numerai_tools_with_nans() -> None:
    rng = np.random.default_rng(7)
    values = np.round(rng.normal(size=500), 1)
    values[rng.random(500) < 0.05] = np.nan
    codes = rng.integers(0, 4, 500)
    ours = scoring_fast.tie_kept_rank(codes, values, 4)
    for code in range(4):
        part = pd.Series(values[codes == code])
        np.testing.assert_allclose(ours[codes == code], nt.tie_kept_rank(part), rtol=0, atol=0)


def test_summarize_on_hand_computed_series() -> None:
    per_era = pd.DataFrame(
        {"corr": [0.1, -0.2, 0.3, -0.1, 0.2], "mmc": [0.01, np.nan, 0.01, 0.01, -0.01]},
        index=pd.Index(["0005", "0001", "0002", "0003", "0004"], name="era"),
    )
    # sorted by era: corr = [-0.2, 0.3, -0.1, 0.2, 0.1]
    summary = summarize(per_era, recent_eras=2)
    corr = summary["corr"]["all"]
    values = np.array([-0.2, 0.3, -0.1, 0.2, 0.1])
    assert corr["mean"] == pytest.approx(0.06)
    assert corr["std"] == pytest.approx(np.sqrt(np.mean((values - 0.06) ** 2)))  # ddof=0
    assert corr["sharpe"] == pytest.approx(0.06 / corr["std"])
    # cumulative [-0.2, 0.1, 0.0, 0.2, 0.3], peaks [-0.2, 0.1, 0.1, 0.2, 0.3]
    assert corr["max_drawdown"] == pytest.approx(0.1)
    assert corr["hit_rate"] == pytest.approx(0.6) and corr["n_eras"] == 5
    recent = summary["corr"]["recent"]  # [0.2, 0.1]
    assert recent["mean"] == pytest.approx(0.15) and recent["hit_rate"] == 1.0
    assert recent["max_drawdown"] == pytest.approx(0.0)
    assert summary["mmc"]["all"]["n_eras"] == 4  # NaN era left out
    assert summary["mmc"]["recent"]["mean"] == pytest.approx(0.0)
    flat = flatten_summary(summary)
    assert flat["corr_mean"] == corr["mean"] and flat["corr_recent_mean"] == recent["mean"]


def test_max_drawdown_cases() -> None:
    assert max_drawdown(pd.Series([0.1, 0.2, 0.3])) == 0.0
    assert max_drawdown(pd.Series([0.5, -0.2, -0.2, 0.1, -0.4])) == pytest.approx(0.7)
    assert np.isnan(max_drawdown(pd.Series([], dtype=float)))
    constant = summarize(pd.DataFrame({"corr": [0.1, 0.1]}))["corr"]["all"]
    assert constant["std"] == 0 and np.isnan(constant["sharpe"])


def test_tiny_tournament_frame_and_oracle_corr(tournament_template: Path) -> None:
    from numerai_assets.core.data.versions import main_benchmark_column
    from numerai_assets.tournament.info import load_tournament_info

    version = load_tournament_info(tournament_template).version
    v = tournament_template / version
    small = json.loads((v / "features.json").read_text())["feature_sets"]["small"]
    bench_path = v / "validation_benchmark_models.parquet"
    bench = main_benchmark_column(pq.read_schema(bench_path).names, version)
    frame = load_scoring_frame(v / "validation.parquet", v / "meta_model.parquet", bench_path, bench, features=small)
    assert list(frame.columns[:5]) == ["era", "data_type", "target", "numerai_meta_model", bench]
    assert frame.index.name == "id" and frame["target"].notna().all()
    assert set(frame["data_type"]) == {"validation"}
    assert (frame[small].dtypes == np.int8).all()
    keys = list(zip(frame["era"], frame.index, strict=False))
    assert keys == sorted(keys)
    oracle = pd.read_parquet(tournament_template / "_oracle" / "validation_oracle.parquet")
    scores = per_era_scores(
        oracle["oracle"], frame["era"], frame["target"], frame["numerai_meta_model"], frame[bench], frame[small]
    )
    reference = per_era_scores(
        oracle["oracle"],
        frame["era"],
        frame["target"],
        frame["numerai_meta_model"],
        frame[bench],
        frame[small],
        engine="numerai_tools",
    )
    np.testing.assert_allclose(scores.to_numpy(), reference.to_numpy(), rtol=0, atol=TOL)
    assert summarize(scores)["corr"]["all"]["mean"] > 0
    assert len(scores) == frame["era"].nunique()


def test_rows_without_target_are_not_scored(tmp_path: Path) -> None:
    """Unresolved rows (NaN target) change nothing, wherever their predictions point."""
    data = random_round(seed=4)
    base = score(data, fnc_features=[])
    resolved = data["targets"].notna()
    wild = data["predictions"].where(resolved, -1e6)  # absurd predictions on unscored rows
    again = per_era_scores(
        wild, data["eras"], data["targets"], data["meta_model"], data["benchmark"], data["features"], fnc_features=[]
    )
    pd.testing.assert_frame_equal(base, again)
    frame = pd.DataFrame({"era": data["eras"], "data_type": "validation", "target": data["targets"]})
    frame.rename_axis("id").reset_index().to_parquet(tmp_path / "v.parquet")
    loaded = load_scoring_frame(tmp_path / "v.parquet", None, None, None)
    assert len(loaded) == int(resolved.sum()) and loaded["target"].notna().all()


def test_one_sharpe_convention_ddof0() -> None:
    values = [0.02, -0.01, 0.03, np.nan, 0.01]
    clean = np.array([0.02, -0.01, 0.03, 0.01])
    assert scoring_fast.sharpe(values) == pytest.approx(clean.mean() / clean.std(ddof=0))
    assert scoring_fast.sharpe(values) == pytest.approx(nt.sharpe_ratio(pd.Series(clean)))
    assert summarize(pd.DataFrame({"corr": values}))["corr"]["all"]["sharpe"] == scoring_fast.sharpe(values)
    assert np.isnan(scoring_fast.sharpe([0.1])) and np.isnan(scoring_fast.sharpe([]))


def test_exposure_and_fnc_feature_sets_are_separate() -> None:
    data = random_round(seed=5)
    cols = list(data["features"].columns)
    both = score(data, fnc_features=cols[3:], exposure_features=cols[:3])
    fnc_only = per_era_scores(data["predictions"], data["eras"], data["targets"], features=data["features"][cols[3:]])
    np.testing.assert_allclose(both["fnc"], fnc_only["fnc"], atol=TOL)
    reference = per_era_scores(
        data["predictions"], data["eras"], data["targets"], features=data["features"][cols[:3]], fnc_features=[]
    )
    np.testing.assert_allclose(both["feature_exposure"], reference["feature_exposure"], atol=TOL)
    other = score(data, fnc_features=[], exposure_features=cols[3:])
    assert not np.allclose(both["feature_exposure"], other["feature_exposure"])  # the set matters


def test_benchmark_coverage_floor_names_the_worst_eras_and_a_missing_column() -> None:
    from numerai_assets.core.evaluation.evaluate import benchmark_coverage

    coverage = pd.DataFrame(
        {"bench": [1.0, 0.5, 0.95, 0.2]}, index=pd.Index(["0001", "0002", "0003", "0004"], name="era")
    )
    passed, message, observed = benchmark_coverage(coverage, "bench", 0.9)
    assert not passed and observed["eras_below"] == 2 and observed["min_coverage"] == 0.2
    assert message.endswith("in 2 of 4 eras: 0004 (20.0%), 0002 (50.0%)")
    assert benchmark_coverage(coverage, "bench", 0.2)[0]
    passed, message, _ = benchmark_coverage(coverage, "other", 0.9)
    assert not passed and "'other' is not in the benchmark file" in message
