"""Data contracts: valid files pass, each broken file fails the named check with a clear message,
and the streaming statistics are exact (equal to a pandas computation) across batch boundaries."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from numerai_assets.core.data.column_profile import profile_parquet
from numerai_assets.core.data.contracts import CHECKS_BY_KIND, check_dataset

FEATURES = [f"feature_{name}" for name in ("alpha", "bravo", "charlie", "delta", "echo")]
TARGETS = ["target", "target_ender_20", "target_jasper_60"]
BENCHMARKS = ["v52_lgbm_ender20", "v52_lgbm_jasper60"]


def frame(
    kind: str = "train", *, eras: int = 6, per_era: int = 20, seed: int = 0, features: list[str] = FEATURES
) -> pd.DataFrame:
    """A small v5.2-shaped frame: id index, era, data_type, int8 features, float32 targets."""
    rng = np.random.default_rng(seed)
    n = eras * per_era
    first = {"train": 1, "validation": 575}.get(kind, 575)
    era = np.repeat([f"{first + i:04d}" for i in range(eras)], per_era)
    data_type = np.full(n, {"validation": "validation", "live": "live"}.get(kind, "train"), dtype=object)
    if kind == "validation":
        data_type[era == era[-1]] = "test"  # trailing era: unresolved, NaN targets
    if kind == "live":
        era = np.full(n, "X")
    columns: dict[str, np.ndarray] = {"era": era, "data_type": data_type}
    for f in features:
        columns[f] = rng.integers(0, 5, n).astype(np.int8)
    for t in TARGETS:
        values = (rng.integers(0, 5, n) / 4).astype(np.float32)
        if t != "target":
            values[rng.random(n) < 0.1] = np.nan  # auxiliary targets may be NaN
        values[data_type == "test"] = np.nan
        if kind == "live":
            values[:] = np.nan
        columns[t] = values
    ids = pd.Index([f"n{kind[:2]}{i:08x}" for i in range(n)], name="id")
    return pd.DataFrame(columns, index=ids)


def predictions_frame(kind: str, n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    idx = pd.Index([f"np{i:08x}" for i in range(n)], name="id")
    cols = {"benchmark_models": BENCHMARKS, "meta_model": ["numerai_meta_model"], "example_preds": ["prediction"]}[kind]
    df = pd.DataFrame({c: rng.random(n).astype(np.float32) for c in cols}, index=idx)
    if kind != "example_preds":
        df.insert(0, "era", np.repeat([f"{575 + i:04d}" for i in range(n // 20)], 20))
    if kind == "meta_model":
        df.insert(1, "data_type", "validation")
    return df


def write(tmp_path, df: pd.DataFrame, name: str = "data.parquet") -> str:
    path = tmp_path / name
    df.to_parquet(path)
    return str(path)


def check(tmp_path, df, kind="train", **kwargs):
    kwargs.setdefault("features", FEATURES if kind in ("train", "validation", "live") else ())
    kwargs.setdefault("targets", TARGETS if kind in ("train", "validation") else ())
    return check_dataset(write(tmp_path, df), kind, **kwargs)


def only_failure(result, name):
    assert [f.check for f in result.failures] == [name], result.to_markdown()
    return result.failures[0]


@pytest.mark.parametrize("kind", ["train", "validation", "live"])
def test_valid_data_files_pass_every_check(tmp_path, kind):
    kwargs = {"required_features": FEATURES[:3]} if kind == "live" else {}
    result = check(tmp_path, frame(kind), kind, batch_rows=17, **kwargs)
    assert result.passed, result.to_markdown()
    assert result.checks_run == CHECKS_BY_KIND[kind]
    assert result.rows == 120 and "PASSED" in result.to_markdown()


@pytest.mark.parametrize("kind", ["benchmark_models", "meta_model", "example_preds"])
def test_valid_prediction_files_pass_every_check(tmp_path, kind):
    result = check(tmp_path, predictions_frame(kind), kind)
    assert result.passed, result.to_markdown()
    assert result.checks_run == CHECKS_BY_KIND[kind]


def test_missing_column(tmp_path):
    result = check(tmp_path, frame().drop(columns=["feature_charlie", "data_type"]))
    fail = result.failure("columns_and_dtypes")
    assert fail is not None and set(fail.columns) == {"feature_charlie", "data_type"}
    assert "missing columns: data_type; feature_charlie" in fail.message


def test_wrong_dtype(tmp_path):
    df = frame()
    df["feature_bravo"] = df["feature_bravo"].astype(str)
    df["target_ender_20"] = df["target_ender_20"].astype(str)
    fail = only_failure(check(tmp_path, df), "columns_and_dtypes")
    assert set(fail.columns) == {"feature_bravo", "target_ender_20"}
    assert "feature_bravo (large_string, expected int8 or float)" in fail.message
    assert fail.observed["target_ender_20"]["expected"] == "float"


def test_feature_value_out_of_range(tmp_path):
    df = frame()
    df.iloc[[3, 50, 99], df.columns.get_loc("feature_delta")] = np.array([7, 5, 7], dtype=np.int8)
    df.iloc[10, df.columns.get_loc("feature_echo")] = np.int8(-1)
    fail = only_failure(check(tmp_path, df, batch_rows=16), "feature_values_in_range")
    assert fail.columns == ("feature_delta", "feature_echo")
    assert "feature_delta: 3 values outside 0..4 (min 0, max 7)" in fail.message
    assert "feature_echo: 1 values outside 0..4 (min -1, max 4)" in fail.message
    assert fail.observed["feature_delta"] == {"out_of_range": 3, "min": 0.0, "max": 7.0}


def test_feature_nulls_are_accepted_and_counted(tmp_path):
    """Numerai's docs: a feature may be NaN ("not available at that point in time")."""
    df = frame()
    df["feature_alpha"] = df["feature_alpha"].astype("Int8")  # stays int8 in parquet, with nulls
    df.iloc[[5, 77], df.columns.get_loc("feature_alpha")] = pd.NA
    result = check(tmp_path, df, batch_rows=32)
    assert result.passed, result.to_markdown()
    assert result.notes["feature_missing_values"] == 2
    assert result.notes["features_with_missing_values"] == {"feature_alpha": 2}


def test_float_feature_with_nan_is_accepted_and_range_ignores_nan(tmp_path):
    df = frame()
    values = df["feature_bravo"].astype(np.float32)
    values.iloc[[0, 1, 2]] = np.nan
    df["feature_bravo"] = values
    result = check(tmp_path, df)
    assert result.passed, result.to_markdown()
    assert result.notes["features_with_missing_values"] == {"feature_bravo": 3}
    df.iloc[4, df.columns.get_loc("feature_bravo")] = 9.0  # NaN ignored, a real 9 still caught
    fail = only_failure(check(tmp_path, df), "feature_values_in_range")
    assert "feature_bravo: 1 values outside 0..4" in fail.message


def unresolved_validation(tail_type: str = "validation") -> pd.DataFrame:
    """Validation whose two newest eras are unresolved: every target NaN on ``tail_type`` rows."""
    df = frame("validation")
    df["data_type"] = "validation"
    tail = df["era"].isin(["0579", "0580"])
    df.loc[tail, "data_type"] = tail_type
    for t in TARGETS:
        df.loc[tail, t] = np.nan
    return df


@pytest.mark.parametrize("tail_type", ["validation", "test"])
def test_validation_unresolved_trailing_eras_are_accepted_and_reported(tmp_path, tail_type):
    result = check(tmp_path, unresolved_validation(tail_type), "validation", batch_rows=25)
    assert result.passed, result.to_markdown()
    assert result.notes["unresolved_eras"] == "0579..0580"
    assert result.notes["unresolved_era_count"] == 2 and result.notes["unresolved_rows"] == 40


def test_validation_nan_main_target_in_the_middle_is_rejected_naming_eras(tmp_path):
    df = unresolved_validation()
    df.loc[df["era"] == "0577", "target"] = np.nan  # a resolved era in the middle lost its labels
    result = check(tmp_path, df, "validation")
    assert {f.check for f in result.failures} == {"no_nulls_where_not_allowed", "main_target_present"}
    nulls = result.failure("no_nulls_where_not_allowed")
    assert "target: 20 NaN/null on data_type train/validation rows in eras 0577 (20 rows)" in nulls.message
    assert nulls.observed["target"]["eras"] == {"0577": 20}
    present = result.failure("main_target_present")
    assert "target: 20 of 120 train/validation rows have no main target, in eras 0577" in present.message


def test_train_allows_no_unresolved_tail(tmp_path):
    df = frame()
    df.loc[df["era"] == "0006", "target"] = np.nan
    result = check(tmp_path, df)
    assert "eras 0006 (20 rows); train rows must all have it" in result.failure("main_target_present").message


def test_main_target_nan_on_validation_rows(tmp_path):
    df = frame("validation")
    rows = np.flatnonzero(df["data_type"] == "validation")[[0, 30, 31]]
    df.iloc[rows, df.columns.get_loc("target")] = np.nan
    result = check(tmp_path, df, "validation")
    assert {f.check for f in result.failures} == {"no_nulls_where_not_allowed", "main_target_present"}
    nulls = result.failure("no_nulls_where_not_allowed")
    assert nulls.columns == ("target",)
    assert "target: 3 NaN/null on data_type train/validation rows in eras 0575 (1 rows), 0576 (2 rows)" in nulls.message
    assert nulls.observed["target"]["by_data_type"] == {"validation": 3, "test": 20}
    present = result.failure("main_target_present")
    assert "target: 3 of 100 train/validation rows have no main target" in present.message


def test_target_outside_unit_interval(tmp_path):
    df = frame()
    df.iloc[[1, 2], df.columns.get_loc("target_jasper_60")] = [1.5, -0.25]
    fail = only_failure(check(tmp_path, df), "targets_in_unit_interval_or_nan")
    assert fail.columns == ("target_jasper_60",)
    assert "target_jasper_60: 2 values outside [0, 1] (min -0.25, max 1.5)" in fail.message


def test_prediction_outside_unit_interval_and_null(tmp_path):
    df = predictions_frame("example_preds")
    df.iloc[4, 0] = 2.0
    df.iloc[5, 0] = np.nan
    result = check(tmp_path, df, "example_preds")
    assert {f.check for f in result.failures} == {"predictions_in_unit_interval", "no_nulls_where_not_allowed"}
    assert "prediction: 1 values outside [0, 1]" in result.failure("predictions_in_unit_interval").message
    assert "prediction: 1 missing values" in result.failure("no_nulls_where_not_allowed").message


def test_duplicate_ids_across_batches(tmp_path):
    df = frame()
    ids = df.index.to_numpy().copy()
    ids[[101, 119]] = ids[2], ids[2]  # batch 0 vs batches 6 and 7 (batch_rows=16)
    ids[64] = ids[40]
    df.index = pd.Index(ids, name="id")
    result = check(tmp_path, df, batch_rows=16)
    assert result.profile.batches == 8
    fail = only_failure(result, "unique_ids")
    assert fail.columns == ("id",)
    assert fail.observed["duplicate_rows"] == 3 and fail.observed["duplicated_ids"] == 2
    assert f"id: 3 duplicate rows (2 ids repeated), e.g. '{ids[2]}' (3x), '{ids[40]}' (2x)" in fail.message


def test_bad_era_format(tmp_path):
    df = frame()
    df.iloc[0:20, df.columns.get_loc("era")] = "1"
    df.iloc[20:25, df.columns.get_loc("era")] = "0x02"
    fail = only_failure(check(tmp_path, df), "era_format_and_order")
    assert fail.columns == ("era",)
    assert "2 malformed value(s)" in fail.message and "'1' (20 rows), '0x02' (5 rows)" in fail.message


def test_eras_out_of_order_across_batches(tmp_path):
    df = frame()
    order = np.r_[0:40, 60:80, 40:60, 80:120]  # era 0004 before era 0003
    df = df.iloc[order]
    result = check(tmp_path, df, batch_rows=30)  # the violation (row 60) is a batch boundary
    fail = only_failure(result, "era_format_and_order")
    assert "1 decrease(s); first at row 60: '0004' followed by '0003'" in fail.message
    assert fail.observed["first_violation"] == [60, "0004", "0003"]


@pytest.mark.parametrize("era", ["X", "0999", "live"])
@pytest.mark.parametrize("targets", ["absent", "all_nan"])
def test_live_any_one_placeholder_era_without_targets(tmp_path, era, targets):
    df = frame("live").assign(era=era)
    if targets == "absent":
        df = df.drop(columns=TARGETS)
    result = check(tmp_path, df, "live", required_features=FEATURES, targets=TARGETS)
    assert result.passed, result.to_markdown()


def test_live_with_known_target_values_fails(tmp_path):
    df = frame("live")
    df.iloc[[0, 1], df.columns.get_loc("target_ender_20")] = 0.5
    fail = only_failure(check(tmp_path, df, "live"), "live_targets_absent_or_nan")
    assert fail.columns == ("target_ender_20",)
    assert "target_ender_20: 2 non-NaN values in a live file" in fail.message


def test_live_needs_exactly_one_era_and_data_type_live(tmp_path):
    df = frame("live")
    df.iloc[0, df.columns.get_loc("era")] = "0999"
    df.iloc[1, df.columns.get_loc("data_type")] = "train"
    result = check(tmp_path, df, "live")
    assert {f.check for f in result.failures} == {"era_format_and_order", "data_type_values"}
    assert (
        "one placeholder era, found 2: '0999' (1 rows), 'X' (119 rows)"
        in result.failure("era_format_and_order").message
    )
    assert "'train' (1 rows)" in result.failure("data_type_values").message


def test_benchmark_and_meta_model_files_without_data_type(tmp_path):
    for kind in ("benchmark_models", "meta_model"):
        df = predictions_frame(kind).drop(columns=["data_type"], errors="ignore")
        result = check(tmp_path, df, kind)
        assert result.passed, result.to_markdown()
    bench = predictions_frame("benchmark_models").rename(columns=lambda c: c.replace("v52_", "v53_"))
    assert check(tmp_path, bench, "benchmark_models").passed  # any version's column names


def test_live_missing_required_feature(tmp_path):
    df = frame("live").drop(columns=["feature_delta"])
    result = check(
        tmp_path, df, "live", features=(), required_features=["feature_alpha", "feature_delta", "feature_zulu"]
    )
    fail = only_failure(result, "live_covers_required_features")
    assert fail.columns == ("feature_delta", "feature_zulu")
    assert fail.message == "missing 2 of 3 required features: feature_delta, feature_zulu"


def test_statistics_are_exact_across_batches(tmp_path):
    rng = np.random.default_rng(42)
    n = 1_000
    df = frame(eras=10, per_era=100, seed=7)
    for f in FEATURES:  # out-of-range cells and nulls
        df.loc[df.index[rng.random(n) < 0.01], f] = np.int8(rng.integers(-3, 9))
    df["feature_echo"] = df["feature_echo"].astype("Int8")
    df.loc[df.index[rng.random(n) < 0.05], "feature_echo"] = pd.NA
    for t in TARGETS:
        df.loc[df.index[rng.random(n) < 0.01], t] = rng.normal(0.5, 1.0)
    df = df.iloc[rng.permutation(n)]  # eras out of order, many violations
    path = write(tmp_path, df)
    profile = profile_parquet(path, batch_rows=97)
    assert profile.batches == 11 and profile.rows == n
    stats = profile.columns.set_index("column")
    for col in FEATURES + TARGETS:
        values = df[col].astype("float64")
        lo, hi = (0, 4) if col.startswith("feature_") else (0, 1)
        assert stats.at[col, "min"] == values.min() and stats.at[col, "max"] == values.max()
        assert stats.at[col, "nulls"] + stats.at[col, "nans"] == values.isna().sum()
        assert stats.at[col, "out_of_range"] == ((values < lo) | (values > hi)).sum()
    assert stats.at["feature_echo", "nulls"] == df["feature_echo"].isna().sum()
    era = df["era"].to_numpy()
    decreasing = era[1:] < era[:-1]
    assert profile.eras.order_violations == decreasing.sum()
    first = int(np.argmax(decreasing)) + 1
    assert profile.eras.first_violation == (first, era[first - 1], era[first])
    assert list(profile.eras.counts) == list(pd.unique(era))
    assert profile.eras.counts == df["era"].value_counts().to_dict()
    assert profile.data_types == df["data_type"].value_counts().to_dict()
    assert profile.ids.duplicate_rows == 0 and profile.ids.distinct == n
    other = profile_parquet(path, batch_rows=1000)  # one batch: the same figures
    assert other.columns.equals(profile.columns) and other.eras == profile.eras


def test_number_of_expectations_does_not_grow_with_features(tmp_path):
    few = check(tmp_path, frame(features=FEATURES[:2]), features=FEATURES[:2])
    wide = [f"feature_w{i:03d}" for i in range(300)]
    many = check(tmp_path, frame(features=wide), features=wide)
    assert few.passed and many.passed
    assert few.expectations == many.expectations <= 15


def test_dictionary_encoded_keys_are_strings(tmp_path):
    df = frame()
    df["era"] = df["era"].astype("category")
    assert check(tmp_path, df).passed


def test_importing_contracts_does_not_import_great_expectations():
    code = "import sys, numerai_assets.core.data.contracts; assert 'great_expectations' not in sys.modules"
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_empty_file_fails_has_rows(tmp_path):
    result = check(tmp_path, frame().iloc[:0])
    assert [f.check for f in result.failures] == ["has_rows", "main_target_present"]
    assert result.failure("has_rows").message == "the file has no rows"


def test_main_target_nan_without_an_era_column_still_fails(tmp_path):
    df = frame("validation").drop(columns=["era"])
    df.iloc[[0, 1], df.columns.get_loc("target")] = np.nan
    result = check(tmp_path, df, "validation")
    present = result.failure("main_target_present")
    assert present is not None and "2 of 100 train/validation rows" in present.message
    assert "eras unknown (no era column)" in present.message
