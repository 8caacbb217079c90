"""Submission gates: each failing gate names what failed and by how much."""

import numpy as np
import pandas as pd
import pytest

from numerai_assets.core.live import gates

RNG = np.random.default_rng(0)
IDS = pd.Series([f"n{i:06x}" for i in range(500)], name="id")


def submission(values) -> pd.DataFrame:
    return pd.DataFrame({"id": IDS.to_numpy(), "prediction": values})


GOOD = submission(pd.Series(RNG.random(500)).rank(pct=True).to_numpy() - 0.5 / 500)


def test_a_good_submission_passes_every_blocking_gate():
    features = pd.DataFrame(RNG.integers(0, 5, (500, 8)), index=IDS, columns=[f"feature_{i}" for i in range(8)]).astype(
        "int8"
    )
    preds = GOOD.set_index("id")["prediction"]
    results = [
        gates.numerai_validation(IDS, GOOD),
        gates.ids_exactly_once(IDS, GOOD),
        gates.finite_values(GOOD),
        gates.values_in_unit_interval(GOOD),
        gates.std_above_floor(GOOD, 0.01),
        gates.max_feature_exposure(preds, features, 0.3),
        gates.benchmark_correlation(preds, (preds + RNG.normal(0, 0.1, 500)).rename("bench"), 0.1),
        gates.features_match(list(features.columns), list(features.columns)),
    ]
    assert all(r.passed for r in results), [r.message for r in results if not r.passed]


def test_constant_predictions_fail_numerai_and_std_gates():
    const = submission(np.full(500, 0.5))
    assert "standard deviation" in gates.numerai_validation(IDS, const).message
    std = gates.std_above_floor(const, 0.01)
    assert not std.passed and "0.000000 is not above the floor 0.01" in std.message


def test_ids_nan_and_range_failures_say_how_many():
    broken = GOOD.copy()
    broken.loc[0, "id"] = broken.loc[1, "id"]  # one duplicated, one missing
    broken.loc[2, "prediction"] = np.nan
    broken.loc[3, "prediction"] = 1.5
    assert gates.ids_exactly_once(IDS, broken).message == (
        "1 live ids missing, 1 duplicated, 0 not in the live universe"
    )
    assert gates.finite_values(broken).message == "1 predictions are NaN or inf"
    assert gates.values_in_unit_interval(broken).message.startswith("1 values outside [0, 1]")


def test_exposure_benchmark_and_features_failures_name_the_culprit():
    features = pd.DataFrame({"feature_a": RNG.integers(0, 5, 500)}, index=IDS).astype("int8")
    preds = pd.Series(features["feature_a"].to_numpy() / 4.0, index=IDS).rank(pct=True)
    exposure = gates.max_feature_exposure(preds, features, 0.2)
    assert not exposure.passed and "to feature_a is above the ceiling 0.2" in exposure.message
    bench = gates.benchmark_correlation(preds, pd.Series(RNG.random(500), index=IDS, name="v52_lgbm"), 0.5)
    assert not bench.passed and "v52_lgbm" in bench.message and "below the floor 0.5" in bench.message
    match = gates.features_match(["feature_a", "feature_z"], ["feature_a"])
    assert not match.passed and "feature_z" in match.message


def test_feature_drift_is_a_warning_naming_the_drifted_feature():
    train = RNG.integers(0, 5, (5000, 3)).astype("int8")
    live = train[:1000].copy()
    live[:, 2] = 4  # one feature collapsed to a single value
    result = gates.feature_drift(
        ["f0", "f1", "f2"], gates.value_histograms(train), gates.value_histograms(live), threshold=0.25
    )
    assert not result.passed and not result.blocking and result.message.startswith("1 features drifted")
    assert "f2" in result.message
    same = gates.population_stability_index(gates.value_histograms(train), gates.value_histograms(train))
    assert np.allclose(same, 0)


def test_exposure_is_computed_when_a_live_feature_has_missing_values():
    """Numerai's docs allow NaN features ("not available at that point in time"): the exposure
    gate reads them as the fill value 2, as scoring does, instead of failing to compute."""
    riding = pd.Series(RNG.integers(0, 5, 500), index=IDS).astype("float32")
    preds = ((riding + RNG.normal(0, 0.1, 500)).rank(pct=True) - 0.5 / 500).rename("prediction")
    features = pd.DataFrame({"feature_riding": riding, "feature_other": RNG.integers(0, 5, 500)}, index=IDS).astype(
        "float32"
    )
    features.iloc[::7, 0] = np.nan
    exposure = gates.max_feature_exposure(preds, features, 0.5)
    assert not exposure.passed and exposure.observed["feature"] == "feature_riding"
    assert 0.5 < exposure.observed["exposure"] <= 1.0


def test_missing_feature_values_count_in_no_drift_bin():
    """A NaN feature value is neither a 0 nor any other bin (casting it to int8 would invent one)."""
    values = np.array([[0, 1], [np.nan, 1], [2, np.nan], [0, 4]], dtype=np.float32)
    counts = gates.value_histograms(values)
    assert counts.tolist() == [[2, 0, 1, 0, 0], [0, 2, 0, 0, 1]]


def test_drift_gate_reads_live_nan_as_missing_not_as_a_value():
    """Live rows whose feature is NaN do not move the live distribution (no int8 cast)."""
    train = gates.value_histograms(np.tile(np.arange(5, dtype=np.int8), 100)[:, None])
    live = pd.DataFrame(
        {"feature_a": np.r_[np.tile(np.arange(5.0), 20), np.full(400, np.nan)]},
        index=[f"n{i:06x}" for i in range(500)],
        dtype="float32",
    )
    sub = pd.DataFrame({"id": live.index, "prediction": np.linspace(0.01, 0.99, 500)})
    thresholds = gates.GateThresholds(
        std_floor=0.01, exposure_ceiling=0.5, benchmark_corr_floor=0.0, psi_threshold=0.25
    )
    results = gates.evaluate_submission(
        live.index.to_series(name="id"),
        sub,
        live_features=live,
        benchmark=None,
        model_features={"m": ["feature_a"]},
        train_counts=(["feature_a"], train),
        thresholds=thresholds,
    )
    drift = next(r for r in results if r.name == "feature_drift")
    assert drift.passed and drift.observed["max_psi"] == pytest.approx(0.0, abs=1e-9)
