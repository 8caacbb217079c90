"""Small typed handles for what the model stages produce; the files live in the model store.

These are what Dagster passes between steps (pickled, a few hundred bytes each), never the
models or prediction frames themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ModelRef:
    """One trained (model, seed): store keys of the model file and its manifest."""

    model: str
    seed: int
    engine: str
    model_key: str
    manifest_key: str
    model_sha256: str
    features_sha256: str
    target: str


@dataclass(frozen=True)
class PredictionsRef:
    """A predictions parquet (id, era, prediction) in the store."""

    model: str
    key: str
    rows: int
    seed: int | None = None  # None for an ensemble


@dataclass(frozen=True)
class EvaluationRef:
    """A model's candidate: its seeds, ensemble predictions and headline figures."""

    model: str
    seeds: tuple[ModelRef, ...]
    ensemble_key: str
    per_era_key: str
    headline: dict[str, float]
    tracked_artifact: str | None = None


@dataclass(frozen=True)
class ChampionRecord:
    """What live inference uses for a model; stored as JSON at ``champions/<model>.json``."""

    model: str
    seeds: tuple[dict, ...]  # ModelRef fields per seed
    headline: dict[str, float]
    promoted_at: str
    reason: str
    run_id: str | None = None
    extra: dict = field(default_factory=dict)
    dataset_version: str | None = None  # the version its seeds were trained on (None: older records)

    @staticmethod
    def key(model: str) -> str:
        return f"champions/{model}.json"


@dataclass(frozen=True)
class FeatureDistribution:
    """Counts of each feature value (0..4) over the training data: the drift reference."""

    names: tuple[str, ...]
    counts: tuple[tuple[int, ...], ...]
    source_sha256: str


@dataclass(frozen=True)
class SlotPredictionsRef:
    """One slot's live predictions for one round, as the CSV that would be submitted."""

    slot: str
    round_number: int
    csv_key: str
    sha256: str
    rows: int
    champions: dict[str, list[str]]  # model -> seed model sha256s
    dataset_version: str | None = None  # of the live file predicted (None: older refs)


@dataclass(frozen=True)
class SubmissionOutcome:
    slot: str
    round_number: int
    status: str  # submitted | already_submitted | verified_earlier_upload | dry_run | replayed | skipped
    reason: str
    sha256: str
    submission_id: str | None = None
    late: bool = False
