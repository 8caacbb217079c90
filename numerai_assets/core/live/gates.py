"""Submission gates: pure functions that look at one slot's live predictions and say what is wrong.

Each gate returns a :class:`GateResult` naming what failed and by how much. A blocking gate
that fails stops that slot's submission; a warning (feature drift) is reported only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

FEATURE_VALUES = 5  # int8 features take the values 0..4
PSI_EPSILON = 1e-4
NON_BLOCKING = frozenset({"feature_drift"})  # a warning: drift alone does not stop a submission


@dataclass(frozen=True)
class GateResult:
    name: str
    passed: bool
    message: str
    observed: dict[str, float | int | str] = field(default_factory=dict)

    @property
    def blocking(self) -> bool:
        return self.name not in NON_BLOCKING


def _result(name: str, passed: bool, ok: str, bad: str, **observed) -> GateResult:
    return GateResult(name, passed, ok if passed else bad, observed)


def numerai_validation(live_ids: pd.Series, submission: pd.DataFrame) -> GateResult:
    """Exactly what Numerai runs on upload (numerai-tools); its message is the reason."""
    from numerai_tools.submissions import validate_submission_numerai

    try:
        validate_submission_numerai(pd.Series(live_ids, name="id"), submission)
    except (AssertionError, ValueError, KeyError) as exc:
        return GateResult("numerai_validation", False, f"numerai-tools rejects it: {exc}")
    return GateResult("numerai_validation", True, "numerai-tools accepts the submission")


def ids_exactly_once(live_ids: pd.Series, submission: pd.DataFrame) -> GateResult:
    ids = submission["id"]
    duplicated = int(ids.duplicated().sum())
    missing = int((~pd.Index(live_ids).isin(ids)).sum())
    extra = int((~ids.isin(pd.Index(live_ids))).sum())
    return _result(
        "ids_exactly_once",
        duplicated == missing == extra == 0,
        f"all {len(live_ids)} live ids exactly once",
        f"{missing} live ids missing, {duplicated} duplicated, {extra} not in the live universe",
        missing=missing,
        duplicated=duplicated,
        extra=extra,
    )


def finite_values(submission: pd.DataFrame) -> GateResult:
    values = submission["prediction"].to_numpy(dtype=float)
    bad = int((~np.isfinite(values)).sum())
    return _result("finite_values", bad == 0, "no NaN or inf", f"{bad} predictions are NaN or inf", non_finite=bad)


def values_in_unit_interval(submission: pd.DataFrame) -> GateResult:
    values = submission["prediction"].to_numpy(dtype=float)
    outside = int(((values < 0) | (values > 1)).sum())
    return _result(
        "values_in_unit_interval",
        outside == 0,
        "all values in [0, 1]",
        f"{outside} values outside [0, 1] (min {np.nanmin(values):.4g}, max {np.nanmax(values):.4g})",
        outside=outside,
    )


def std_above_floor(submission: pd.DataFrame, floor: float) -> GateResult:
    std = float(np.nanstd(submission["prediction"].to_numpy(dtype=float)))
    return _result(
        "std_above_floor",
        std > floor,
        f"std {std:.4f} > floor {floor}",
        f"std {std:.6f} is not above the floor {floor} (near-constant predictions)",
        std=std,
        floor=floor,
    )


def max_feature_exposure(predictions: pd.Series, features: pd.DataFrame, ceiling: float) -> GateResult:
    """Largest |Pearson correlation| of the predictions with any single feature."""
    from numerai_tools.scoring import max_feature_correlation

    from numerai_assets.core.data.batches import MISSING_FEATURE_VALUE

    predictions = predictions.sort_index()  # numerai-tools asserts sorted, aligned indexes
    # a correlation has no notion of missing: NaN features read as Numerai's fill value, as in scoring
    features = features.reindex(predictions.index).astype("float32").fillna(MISSING_FEATURE_VALUE)
    name, corr = max_feature_correlation(predictions, features)
    exposure = abs(float(corr))
    return _result(
        "max_feature_exposure",
        exposure < ceiling,
        f"max exposure {exposure:.4f} < {ceiling}",
        f"exposure {exposure:.4f} to {name} is above the ceiling {ceiling} by {exposure - ceiling:.4f}",
        exposure=exposure,
        feature=str(name),
        ceiling=ceiling,
    )


def benchmark_correlation(predictions: pd.Series, benchmark: pd.Series, floor: float) -> GateResult:
    """Spearman correlation with the live benchmark model: far below usual means a broken input."""
    both = pd.concat([predictions.rename("p"), benchmark.rename("b")], axis=1, join="inner").dropna()
    corr = float(both["p"].rank().corr(both["b"].rank())) if len(both) > 2 else float("nan")
    passed = bool(np.isfinite(corr) and corr > floor)
    return _result(
        "benchmark_correlation",
        passed,
        f"corr with {benchmark.name} {corr:.3f} > {floor}",
        f"corr with {benchmark.name} is {corr:.3f}, below the floor {floor} by {floor - corr:.3f}",
        correlation=corr,
        floor=floor,
        rows=len(both),
        benchmark=str(benchmark.name),
    )


def features_match(model_features: Sequence[str], live_columns: Sequence[str]) -> GateResult:
    missing = [f for f in model_features if f not in set(live_columns)]
    shown = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
    return _result(
        "features_match",
        not missing,
        f"live data has all {len(model_features)} model features",
        f"live data lacks {len(missing)} model features: {shown}",
        missing=len(missing),
    )


def value_histograms(values: np.ndarray) -> np.ndarray:
    """Counts of 0..4 per column of a (rows x features) array -> (features x 5); int8, or float
    with NaN where a value is missing (counted in no bin, on the train side and the live side)."""
    out = np.zeros((values.shape[1], FEATURE_VALUES), dtype=np.int64)
    for v in range(FEATURE_VALUES):
        out[:, v] = (values == v).sum(axis=0)
    return out


def population_stability_index(expected: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """PSI per feature from value counts (features x bins); 0 = same distribution."""
    e = expected / np.maximum(expected.sum(axis=1, keepdims=True), 1)
    a = actual / np.maximum(actual.sum(axis=1, keepdims=True), 1)
    e, a = np.clip(e, PSI_EPSILON, None), np.clip(a, PSI_EPSILON, None)
    return ((a - e) * np.log(a / e)).sum(axis=1)


def feature_drift(
    names: Sequence[str], train_counts: np.ndarray, live_counts: np.ndarray, threshold: float
) -> GateResult:
    """Warning only: live feature distributions that moved away from training (PSI)."""
    psi = population_stability_index(train_counts, live_counts)
    drifted = [(names[i], float(psi[i])) for i in np.argsort(-psi) if psi[i] > threshold]
    worst = ", ".join(f"{n} (PSI {p:.3f})" for n, p in drifted[:5])
    return _result(
        "feature_drift",
        not drifted,
        f"max PSI {psi.max():.4f} <= {threshold}",
        f"{len(drifted)} features drifted beyond PSI {threshold}: {worst}",
        max_psi=float(psi.max()),
        drifted=len(drifted),
        threshold=threshold,
    )


def feature_value_counts(path: str, features: Sequence[str]) -> np.ndarray:
    """Counts of 0..4 per feature over a whole parquet file, in one streaming pass."""
    from numerai_assets.core.data.batches import FeatureMatrix

    total = np.zeros((len(features), FEATURE_VALUES), dtype=np.int64)
    for batch in FeatureMatrix(path, features).batches():
        total += value_histograms(batch)
    return total


@dataclass(frozen=True)
class GateThresholds:
    """The values come from ``resources.policy.GatePolicy``, where their defaults live."""

    std_floor: float
    exposure_ceiling: float
    benchmark_corr_floor: float
    psi_threshold: float


GATE_NAMES = (
    "numerai_validation",
    "ids_exactly_once",
    "finite_values",
    "values_in_unit_interval",
    "std_above_floor",
    "max_feature_exposure",
    "benchmark_correlation",
    "features_match",
    "feature_drift",
)


def evaluate_submission(
    live_ids: pd.Series,
    submission: pd.DataFrame,
    *,
    live_features: pd.DataFrame,
    benchmark: pd.Series | None,
    model_features: dict[str, list[str]],
    train_counts: tuple[Sequence[str], np.ndarray] | None,
    thresholds: GateThresholds,
) -> list[GateResult]:
    """Every gate of :data:`GATE_NAMES`, in that order, for one slot's submission."""
    preds = submission.set_index("id")["prediction"]
    exposure_cols = [c for c in live_features.columns if c.startswith("feature_")]
    needed = sorted({f for feats in model_features.values() for f in feats})

    def drift() -> GateResult:
        if train_counts is None:
            return GateResult("feature_drift", True, "no training distribution recorded")
        names, counts = train_counts
        live = value_histograms(live_features[list(names)].to_numpy(dtype=np.float32))
        return feature_drift(list(names), counts, live, thresholds.psi_threshold)

    gates: dict[str, Callable[[], GateResult]] = {
        "numerai_validation": lambda: numerai_validation(live_ids, submission),
        "ids_exactly_once": lambda: ids_exactly_once(live_ids, submission),
        "finite_values": lambda: finite_values(submission),
        "values_in_unit_interval": lambda: values_in_unit_interval(submission),
        "std_above_floor": lambda: std_above_floor(submission, thresholds.std_floor),
        "max_feature_exposure": lambda: max_feature_exposure(
            preds, live_features[exposure_cols], thresholds.exposure_ceiling
        ),
        "benchmark_correlation": lambda: (
            benchmark_correlation(preds, benchmark, thresholds.benchmark_corr_floor)
            if benchmark is not None
            else GateResult("benchmark_correlation", False, "no live benchmark to compare with")
        ),
        "features_match": lambda: features_match(needed, list(live_features.columns)),
        "feature_drift": drift,
    }
    return [_run_gate(name, gates[name]) for name in GATE_NAMES]


def _run_gate(name: str, gate: Callable[[], GateResult]) -> GateResult:
    """A gate that cannot even be computed (e.g. exposure of constant predictions) fails."""
    try:
        return gate()
    except Exception as exc:  # noqa: BLE001 - any error here means the submission is not fit
        return GateResult(name, False, f"{name} could not be computed: {type(exc).__name__}: {exc}")
