"""A candidate scored from files: the inputs gathered from stored artifacts, then ``evaluate_model``.

The Dagster asset hands over paths and plain settings; everything that decides *how* a candidate is
scored (feature sets, benchmark column, embargo after training) is decided here, without Dagster.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from numerai_assets.core.data.dataset import FeatureSets, read_by_id
from numerai_assets.core.data.versions import main_benchmark_column
from numerai_assets.core.evaluation import evaluate, scoring
from numerai_assets.core.training.cv import scoring_embargo_for_target


@dataclass(frozen=True)
class ScoringSettings:
    """The evaluation policy's scoring knobs as plain values (the resource stays in the asset layer)."""

    exposure_feature_set: str
    fnc_feature_set: str
    benchmark_column: str | None
    embargo_eras: int | None
    recent_eras: int


@dataclass(frozen=True)
class CandidateFiles:
    """Where a candidate's evaluation reads from (local paths)."""

    validation: str | Path
    meta_model: str | Path
    benchmarks: str | Path  # aligned by ``evaluate.align_benchmarks``
    oracle: str | Path | None
    seed_predictions: Mapping[str, str | Path]  # "seed0" -> id, era, prediction parquet


@dataclass(frozen=True)
class ScoredCandidate:
    """The evaluation plus what was decided on the way, for the metadata a participant reads."""

    result: evaluate.ModelEvaluation
    eras: pd.Series  # era of every scored row (index id), for the stored ensemble
    dataset_version: str
    benchmark_column: str
    fnc_feature_set: str
    last_train_era: str
    embargo: int


def check_seeds(model: str, predicted: Sequence[int], roster_seeds: Sequence[int]) -> None:
    """Refuse an ensemble of other seeds than the roster lists (a partial backfill, say)."""
    if sorted(predicted) != sorted(roster_seeds):
        raise ValueError(f"{model}: predictions for seeds {sorted(predicted)}, roster lists {list(roster_seeds)}")


def last_train_era(manifests: Sequence[Mapping]) -> str:
    """The latest training era of the seeds' manifests: scoring starts after it (plus the embargo)."""
    return max(m["training"]["eras_last"] for m in manifests)


def embargo_eras(settings: ScoringSettings, target: str) -> int:
    """The configured embargo, or the target's horizon in weeks."""
    return settings.embargo_eras if settings.embargo_eras is not None else scoring_embargo_for_target(target)


def score_candidate(
    model: str,
    target: str,
    files: CandidateFiles,
    manifests: Sequence[Mapping],
    feature_sets: FeatureSets,
    dataset_version: str,
    settings: ScoringSettings,
) -> ScoredCandidate:
    """Score a model's seeds and their ensemble like Numerai scores them."""
    exposure = feature_sets.resolve(settings.exposure_feature_set)
    fnc_set, fnc_features = evaluate.fnc_feature_set(
        feature_sets, settings.fnc_feature_set, settings.exposure_feature_set
    )
    # the benchmarks come aligned from their own file, not joined onto the frame a second time
    features = list(dict.fromkeys(exposure + fnc_features))
    frame = scoring.load_scoring_frame(files.validation, files.meta_model, None, None, target=target, features=features)
    benchmarks = read_by_id(files.benchmarks)
    column = main_benchmark_column(benchmarks.columns, dataset_version, settings.benchmark_column)
    last_era, embargo = last_train_era(manifests), embargo_eras(settings, target)
    result = evaluate.evaluate_model(
        model,
        {name: evaluate.read_predictions(path) for name, path in files.seed_predictions.items()},
        frame,
        benchmarks=benchmarks,
        benchmark_column=column,
        features=exposure,
        fnc_features=fnc_features,
        oracle=evaluate.read_oracle(files.oracle),
        recent_eras=settings.recent_eras,
        target=target,
        last_train_era=last_era,
        embargo=embargo,
    )
    return ScoredCandidate(result, frame["era"], dataset_version, column, fnc_set, last_era, embargo)
