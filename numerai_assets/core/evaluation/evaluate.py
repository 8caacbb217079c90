"""Evaluate one model: its seeds, their ensemble, per-era metrics and summaries, in one place.

Built on ``scoring`` (numerai-tools formulas) and ``postprocess`` (the same ensembling the live
round uses). Also aligns Numerai's benchmark predictions to our validation ids and eras.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from numerai_assets.core.data.dataset import FeatureSets, read_by_id, write_by_id
from numerai_assets.core.evaluation import postprocess, scoring
from numerai_assets.core.training import cv

ENSEMBLE = "ensemble"


@dataclass(frozen=True)
class ModelEvaluation:
    model: str
    ensemble: pd.Series  # index id, in (0, 1) per era
    per_era: dict[str, pd.DataFrame]  # "ensemble", "seed0", ... -> per-era metrics
    summaries: dict[str, dict]  # same keys -> scoring.summarize()
    benchmark_corr: dict[str, float]  # mean per-era Spearman of the ensemble with each benchmark
    oracle_per_era: pd.DataFrame | None = None
    oracle_summary: dict | None = None
    skipped_eras: tuple[str, ...] = ()  # the embargo after the last training era: not scored

    @property
    def headline(self) -> dict[str, float]:
        """Flat ensemble figures (``corr_mean``, ``corr_sharpe``, ...) for metadata and promotion."""
        return scoring.flatten_summary(self.summaries[ENSEMBLE])


FNC_FEATURE_SET = "fncv3_features"  # the set Numerai's FNC neutralizes against


def fnc_feature_set(
    sets: FeatureSets, preferred: str = FNC_FEATURE_SET, fallback: str = "small"
) -> tuple[str, list[str]]:
    """(name, features) FNC is computed against: ``preferred`` when features.json has it."""
    name = preferred if preferred in sets.sets else fallback
    return name, sets.resolve(name)


def read_predictions(path: str | Path) -> pd.Series:
    """A predictions parquet (id, era, prediction) as a Series indexed by id."""
    return read_by_id(path, ["prediction"])["prediction"]


def read_oracle(path: str | Path | None) -> pd.Series | None:
    """The local tournament's true expected target per validation id (None elsewhere)."""
    if path is None or not Path(path).exists():
        return None
    return read_by_id(path, ["oracle"])["oracle"]


def align_benchmarks(
    validation_path: str | Path, benchmark_path: str | Path, target: str = "target"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Benchmark columns on our scored validation rows, and their coverage per era.

    Returns ``(aligned, coverage)``: aligned is indexed by id with ``era`` plus one column per
    benchmark (NaN where Numerai has no prediction); coverage is per era x benchmark, in [0, 1].
    """
    ours = scoring.load_scoring_frame(validation_path, None, None, None, target=target)[["era"]]
    bench = read_by_id(benchmark_path)
    columns = [c for c in bench.columns if c not in ("era", "data_type")]
    aligned = ours.join(bench[columns], how="left")
    coverage = aligned[columns].notna().groupby(aligned["era"]).mean()
    return aligned, coverage


def benchmark_coverage(coverage: pd.DataFrame, column: str, floor: float) -> tuple[bool, str, dict]:
    """Whether ``column`` covers at least ``floor`` of our scored ids in every era (BMC is scored
    against it): ``(passed, message, observed)``; the message names the worst eras."""
    if column not in coverage.columns:
        return False, f"benchmark column {column!r} is not in the benchmark file", {"column": column}
    share = coverage[column]
    short = share[share < floor].sort_values()
    observed = {"column": column, "floor": floor, "min_coverage": float(share.min()), "eras_below": len(short)}
    if short.empty:
        return True, f"{column} covers >= {floor:.0%} of our ids in all {len(share)} eras", observed
    worst = ", ".join(f"{era} ({value:.1%})" for era, value in short.head(5).items())
    return (
        False,
        (f"{column} covers under {floor:.0%} of our ids in {len(short)} of {len(share)} eras: {worst}"),
        observed,
    )


def _per_era_spearman(a: pd.Series, b: pd.Series, eras: pd.Series) -> float:
    frame = pd.DataFrame({"a": a, "b": b, "era": eras}).dropna()
    if frame.empty:
        return float("nan")
    by_era = frame.groupby("era")[["a", "b"]].rank()
    corr = by_era.assign(era=frame["era"]).groupby("era").apply(lambda g: g["a"].corr(g["b"]), include_groups=False)
    return float(corr.mean())


def evaluate_model(
    model: str,
    seed_predictions: Mapping[str, pd.Series],
    frame: pd.DataFrame,
    *,
    benchmarks: pd.DataFrame,
    benchmark_column: str,
    features: Sequence[str] = (),
    fnc_features: Sequence[str] | None = None,
    oracle: pd.Series | None = None,
    recent_eras: int = 52,
    target: str = "target",
    last_train_era: str | None = None,
    embargo: int = 0,
) -> ModelEvaluation:
    """Score every seed and the per-era-rank ensemble on the scored rows of ``frame``.

    ``frame`` comes from ``scoring.load_scoring_frame`` (id index: era, target, meta model,
    ``features``); ``benchmarks`` from :func:`align_benchmarks`. Seeds get CORR/MMC/BMC; the
    ensemble also gets FNC (over ``fnc_features``) and feature exposure (over ``features``).
    Eras up to ``embargo`` eras after ``last_train_era`` are left out (their targets overlap
    training's).
    """
    frame, skipped = _after_embargo(model, frame, last_train_era, embargo)
    eras, targets = frame["era"], frame[target]
    meta = frame.get(scoring.META_MODEL_COLUMN)
    bench = benchmarks[benchmark_column].reindex(frame.index)
    seeds = _seed_frame(model, seed_predictions, frame.index)
    ensemble = postprocess.ensemble(seeds, eras)
    all_features = list(dict.fromkeys([*features, *(fnc_features or ())]))
    per_era = {
        ENSEMBLE: scoring.per_era_scores(
            ensemble,
            eras,
            targets,
            meta,
            bench,
            frame[all_features] if all_features else None,
            fnc_features=fnc_features,
            exposure_features=list(features) or None,
        )
    }
    per_era |= {name: scoring.per_era_scores(seeds[name], eras, targets, meta, bench) for name in seeds.columns}
    oracle_per_era = None if oracle is None else scoring.per_era_scores(oracle.reindex(frame.index), eras, targets)
    return ModelEvaluation(
        model,
        ensemble,
        per_era,
        {name: scoring.summarize(df, recent_eras) for name, df in per_era.items()},
        _benchmark_corr(ensemble, benchmarks, frame),
        oracle_per_era,
        None if oracle_per_era is None else scoring.summarize(oracle_per_era, recent_eras),
        tuple(skipped),
    )


def _after_embargo(
    model: str, frame: pd.DataFrame, last_train_era: str | None, embargo: int
) -> tuple[pd.DataFrame, list[str]]:
    """The rows left to score once the eras overlapping training are dropped, and those eras."""
    skipped: list[str] = []
    if last_train_era is not None:
        skipped = cv.embargoed_eras(frame["era"].unique().tolist(), last_train_era, embargo)
        frame = frame[~frame["era"].isin(skipped)]
    if frame.empty:
        raise ValueError(
            f"{model}: no validation era left to score after skipping {len(skipped)} "
            f"eras up to {embargo} after the last training era {last_train_era}"
        )
    return frame, skipped


def _seed_frame(model: str, seed_predictions: Mapping[str, pd.Series], index: pd.Index) -> pd.DataFrame:
    """One column per seed on the scored rows; a seed missing any of them fails naming the counts."""
    seeds = pd.DataFrame({k: v.reindex(index) for k, v in seed_predictions.items()})
    missing = seeds.isna().sum()
    if missing.any():
        raise ValueError(f"{model}: seeds lack predictions for scored rows: {missing[missing > 0].to_dict()}")
    return seeds


def _benchmark_corr(ensemble: pd.Series, benchmarks: pd.DataFrame, frame: pd.DataFrame) -> dict[str, float]:
    """Mean per-era Spearman of the ensemble with every benchmark column."""
    columns = [c for c in benchmarks.columns if c != "era"]
    return {c: _per_era_spearman(ensemble, benchmarks[c].reindex(frame.index), frame["era"]) for c in columns}


def write_predictions(path: Path, predictions: pd.Series, eras: pd.Series) -> Path:
    """id, era, prediction parquet, written atomically."""
    frame = pd.DataFrame(
        {"era": eras.reindex(predictions.index).to_numpy(), "prediction": predictions.to_numpy(dtype=np.float64)},
        index=predictions.index,
    )
    return write_by_id(path, frame)
