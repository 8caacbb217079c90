"""Benchmark alignment, per-model evaluation with its promotion gate, and champions.

``model_evaluation`` scores every seed and the seed ensemble (numerai-tools metrics), logs the
candidate to W&B, and carries the blocking ``promotion_gate`` check. ``champion`` runs only when
that gate passes, so a candidate that fails it leaves the previous champion in place. Live
inference reads champions from the model store, never candidates.
"""

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetIn,
    AssetsDefinition,
    MetadataValue,
    MultiPartitionsDefinition,
    MultiToSingleDimensionPartitionMapping,
    Output,
    StaticPartitionsDefinition,
    asset,
)

from numerai_assets.assets.metadata import readable
from numerai_assets.assets.promotion_gate import promotion_gate, promotion_gate_spec
from numerai_assets.core.artifacts import ChampionRecord, EvaluationRef, ModelRef, PredictionsRef
from numerai_assets.core.data.dataset import DatasetFile, FeatureSets, write_by_id
from numerai_assets.core.training.roster import ModelSpec, Roster
from numerai_assets.partitions import MODEL_DIM
from numerai_assets.resources.model_store import ModelStore
from numerai_assets.resources.numerai import NumeraiResource
from numerai_assets.resources.policy import EvaluationPolicy
from numerai_assets.resources.tracking import WandbTrackingResource

if TYPE_CHECKING:  # heavy at definitions load (pandas, numerai-tools): imported inside the steps
    from numerai_assets.core.evaluation.candidate import CandidateFiles, ScoredCandidate, ScoringSettings
    from numerai_assets.core.evaluation.tracking import TrackedRun

GROUP = "evaluation"


@asset(
    group_name=GROUP,
    kinds={"parquet"},
    check_specs=[
        AssetCheckSpec(
            "benchmark_coverage",
            asset="benchmark_alignment",
            blocking=True,
            description="the BMC reference covers at least min_benchmark_coverage of our ids in every era",
        )
    ],
)
def benchmark_alignment(
    context: AssetExecutionContext,
    validation_data: DatasetFile,
    validation_benchmark_models: DatasetFile,
    model_store: ModelStore,
    policy: EvaluationPolicy,
) -> Iterator[Output[PredictionsRef] | AssetCheckResult]:
    """Numerai's benchmark predictions aligned to our scored validation ids and eras."""
    from numerai_assets.core.evaluation.evaluate import align_benchmarks
    from numerai_assets.core.evaluation.report import coverage_table

    aligned, coverage = align_benchmarks(validation_data.path, validation_benchmark_models.path)
    key = f"alignment/validation_benchmarks_{validation_benchmark_models.sha256[:16]}.parquet"
    with model_store.writing(key) as path:
        write_by_id(path, aligned)
    model_store.write_json(key + ".coverage.json", {c: coverage[c].to_dict() for c in coverage})
    context.log.info(f"aligned {len(coverage.columns)} benchmarks over {len(coverage)} eras")
    metadata = {
        "coverage": MetadataValue.md(coverage_table(coverage)),
        "eras": len(coverage),
        "min_coverage": float(coverage.min().min()),
        "rows": len(aligned),
    }
    yield Output(PredictionsRef("benchmarks", key, len(aligned)), metadata=readable(metadata))
    yield _coverage_check(coverage, validation_benchmark_models, policy)


def _coverage_check(coverage: Any, benchmarks: DatasetFile, policy: EvaluationPolicy) -> AssetCheckResult:
    """Whether the BMC reference column covers our ids; the result names the file and version."""
    from numerai_assets.core.data.versions import main_benchmark_column
    from numerai_assets.core.evaluation.evaluate import benchmark_coverage

    try:
        column = main_benchmark_column(coverage.columns, benchmarks.version, policy.benchmark_column)
        passed, message, observed = benchmark_coverage(coverage, column, policy.min_benchmark_coverage)
    except ValueError as exc:  # no such column for this version: the check says which exist
        passed, message, observed = False, str(exc), {}
    return AssetCheckResult(
        check_name="benchmark_coverage",
        passed=passed,
        severity=AssetCheckSeverity.ERROR,
        description=f"{benchmarks.name} ({benchmarks.version}): {message}",
        metadata=readable({"file": benchmarks.name, "version": benchmarks.version, **observed}),
    )


def build_evaluation_assets(
    roster: Roster, model_seed_pdef: MultiPartitionsDefinition, model_pdef: StaticPartitionsDefinition
) -> list[AssetsDefinition]:
    """``model_evaluation`` and ``champion``, partitioned by model (``model_seed_pdef`` is upstream's)."""
    return [_model_evaluation_asset(roster, model_pdef), _champion_asset(roster, model_pdef)]


def _model_evaluation_asset(roster: Roster, model_pdef: StaticPartitionsDefinition) -> AssetsDefinition:
    by_model = MultiToSingleDimensionPartitionMapping(partition_dimension_name=MODEL_DIM)  # all seeds of the model

    @asset(
        group_name=GROUP,
        partitions_def=model_pdef,
        kinds={"wandb"},
        ins={name: AssetIn(partition_mapping=by_model) for name in ("validation_predictions", "trained_model")},
        check_specs=[promotion_gate_spec(model_pdef)],
    )
    def model_evaluation(
        context: AssetExecutionContext,
        validation_predictions: Any,  # {partition: ref}; one seed: the ref itself (Dagster's load)
        trained_model: Any,
        validation_data: DatasetFile,
        meta_model: DatasetFile,
        benchmark_alignment: PredictionsRef,
        feature_sets: FeatureSets,
        model_store: ModelStore,
        numerai: NumeraiResource,
        policy: EvaluationPolicy,
        tracking: WandbTrackingResource,
    ) -> Iterator[Output[EvaluationRef] | AssetCheckResult]:
        """The candidate: seeds ranked per era and averaged, scored like Numerai scores."""
        from numerai_assets.core.evaluation.candidate import check_seeds, score_candidate
        from numerai_assets.core.evaluation.evaluate import ENSEMBLE

        spec = roster.get(context.partition_key)
        seeds: dict[int, PredictionsRef] = {p.seed: p for p in _per_partition(validation_predictions)}
        models: dict[int, ModelRef] = dict(sorted((m.seed, m) for m in _per_partition(trained_model)))
        check_seeds(spec.name, list(seeds), spec.seeds)
        files = _candidate_files(validation_data, meta_model, benchmark_alignment, seeds, model_store, numerai)
        manifests = [model_store.read_json(m.manifest_key) for m in models.values()]
        scored = score_candidate(
            spec.name, spec.target, files, manifests, feature_sets, validation_data.version, _settings(policy)
        )
        folder = f"evaluation/{spec.name}/" + "-".join(m.model_sha256[:8] for m in models.values())
        chart_key = _store_candidate(model_store, folder, scored)
        tracked = _track_candidate(tracking, numerai, spec, models, scored, model_store, validation_data.version)
        ref = EvaluationRef(
            spec.name,
            tuple(models.values()),
            f"{folder}/ensemble.parquet",
            f"{folder}/per_era.parquet",
            scored.result.headline,
            tracked.artifact,
        )
        yield Output(ref, metadata=_evaluation_metadata(roster, spec.name, scored, tracked, model_store, chart_key))
        yield promotion_gate(ref, scored.result.per_era[ENSEMBLE]["corr"], model_store, policy)

    return model_evaluation


def _per_partition(loaded: Any) -> list:
    """The upstream seeds' values: Dagster hands a dict for several partitions, the value for one."""
    return list(loaded.values()) if isinstance(loaded, dict) else [loaded]


def _settings(policy: EvaluationPolicy) -> "ScoringSettings":
    """The policy resource's scoring knobs as the plain values the core takes."""
    from numerai_assets.core.evaluation.candidate import ScoringSettings

    return ScoringSettings(
        exposure_feature_set=policy.exposure_feature_set,
        fnc_feature_set=policy.fnc_feature_set,
        benchmark_column=policy.benchmark_column,
        embargo_eras=policy.embargo_eras,
        recent_eras=policy.recent_eras,
    )


def _candidate_files(
    validation_data: DatasetFile,
    meta_model: DatasetFile,
    benchmark_alignment: PredictionsRef,
    seeds: Mapping[int, PredictionsRef],
    model_store: ModelStore,
    numerai: NumeraiResource,
) -> "CandidateFiles":
    """Local paths of everything the candidate is scored from."""
    from numerai_assets.core.evaluation.candidate import CandidateFiles

    return CandidateFiles(
        validation=validation_data.path,
        meta_model=meta_model.path,
        benchmarks=model_store.local_path(benchmark_alignment.key),
        oracle=numerai.oracle_path(),
        seed_predictions={f"seed{s}": model_store.local_path(p.key) for s, p in sorted(seeds.items())},
    )


def _store_candidate(model_store: ModelStore, folder: str, scored: "ScoredCandidate") -> str:
    """Ensemble predictions, per-era scores (full precision) and the chart; returns the chart's key."""
    from numerai_assets.core.evaluation.evaluate import ENSEMBLE, write_predictions
    from numerai_assets.core.evaluation.report import scores_chart

    with model_store.writing(f"{folder}/ensemble.parquet") as path:
        write_predictions(path, scored.result.ensemble, scored.eras)
    with model_store.writing(f"{folder}/per_era.parquet") as path:
        scored.result.per_era[ENSEMBLE].to_parquet(path)
    with model_store.writing(f"{folder}/per_era.png") as path:
        path.write_bytes(scores_chart(scored.result))
    return f"{folder}/per_era.png"


def _track_candidate(
    tracking: WandbTrackingResource,
    numerai: NumeraiResource,
    spec: ModelSpec,
    models: Mapping[int, ModelRef],
    scored: "ScoredCandidate",
    model_store: ModelStore,
    dataset_version: str,
) -> "TrackedRun":
    """The candidate's W&B run: config, per-era scores, headline and its model files."""
    from numerai_assets.core.evaluation.evaluate import ENSEMBLE

    files = {
        f"seed{s}/{Path(key).name}": model_store.local_path(key)
        for s, m in models.items()
        for key in (m.model_key, m.manifest_key)
    }
    return tracking.get_tracker(secrets=(numerai.public_id, numerai.secret_key)).log_candidate(
        model_name=spec.name,
        config={
            "engine": spec.engine,
            "params": spec.params,
            "seeds": list(spec.seeds),
            "feature_set": spec.feature_set,
            "target": spec.target,
            "num_boost_round": spec.num_boost_round,
            "dataset_version": dataset_version,
        },
        per_era=scored.result.per_era[ENSEMBLE],
        summary=scored.result.headline,
        files=files,
        manifest={"model": spec.name, "seeds": {str(s): m.model_sha256 for s, m in models.items()}},
    )


def _evaluation_metadata(
    roster: Roster,
    model: str,
    scored: "ScoredCandidate",
    tracked: "TrackedRun",
    model_store: ModelStore,
    chart_key: str,
) -> dict[str, Any]:
    """What the asset's Overview shows: rounded headline figures, the comparison with every
    champion, the per-seed and benchmark tables, the chart inline and as a stored file."""
    from numerai_assets.core.evaluation import report
    from numerai_assets.core.evaluation.charts import png_markdown
    from numerai_assets.core.evaluation.evaluate import ENSEMBLE

    result = scored.result
    comparison = [(f"{model} (candidate)", result.headline), *_champion_columns(roster, model_store)]
    chart = model_store.local_path(chart_key)
    return readable(
        report.headline_figures(result.headline)
        | report.oracle_corr_mean(result)
        | {
            "comparison": MetadataValue.md(report.comparison_table(comparison)),
            "cumulative_scores": MetadataValue.md(
                png_markdown(chart.read_bytes(), f"{model} per-era and cumulative scores")
            ),
            "chart_file": MetadataValue.path(str(chart)),
            "metrics": MetadataValue.md(report.metrics_table(result)),
            "benchmark_correlation": MetadataValue.md(report.benchmark_table(result.benchmark_corr)),
            "tracking": tracked.mode if tracked.run_dir is None else f"{tracked.mode}: {tracked.run_dir}",
            "dataset_version": scored.dataset_version,
            "benchmark_column": scored.benchmark_column,
            "fnc_feature_set": scored.fnc_feature_set,
            "last_train_era": scored.last_train_era,
            "embargo_eras": scored.embargo,
            "skipped_eras": report.era_span(result.skipped_eras),
            "scored_eras": int(result.per_era[ENSEMBLE].shape[0]),
        }
    )


def _champion_columns(roster: Roster, model_store: ModelStore, promoted: str | None = None) -> list:
    """``(label, headline)`` of every roster model's current champion (None: it has none yet)."""
    columns = []
    for name in roster.names:
        record = model_store.read_json(ChampionRecord.key(name))
        label = f"{name} ({'new champion' if name == promoted else 'champion'})"
        columns.append((label if record else f"{name} (no champion)", record["headline"] if record else None))
    return columns


def _champion_asset(roster: Roster, model_pdef: StaticPartitionsDefinition) -> AssetsDefinition:
    @asset(group_name=GROUP, partitions_def=model_pdef, kinds={"json"})
    def champion(
        context: AssetExecutionContext,
        model_evaluation: EvaluationRef,
        model_store: ModelStore,
        tracking: WandbTrackingResource,
    ) -> Output[ChampionRecord]:
        """The model live rounds use; replaced only by a candidate that passed the promotion gate."""
        from numerai_assets.core.evaluation.report import comparison_table

        previous = model_store.read_json(ChampionRecord.key(model_evaluation.model))
        record = champion_record(model_evaluation, model_store, context.run_id)
        uri = model_store.write_json(ChampionRecord.key(record.model), json.loads(json.dumps(vars(record))))
        before = previous["headline"].get("corr_mean") if previous else None
        comparison = _champion_columns(roster, model_store, promoted=record.model)
        metadata = {
            "decision": "promoted",
            "record": uri,
            "wandb_prod_alias": tracking.get_tracker().promote(record.model),
            "corr_mean": float(record.headline.get("corr_mean", float("nan"))),
            "previous_corr_mean": float("nan") if before is None else float(before),
            "seeds": len(record.seeds),
            "dataset_version": record.dataset_version,
            "comparison": MetadataValue.md(comparison_table(comparison)),
        }
        return Output(record, metadata=readable(metadata))

    return champion


def champion_record(evaluation: EvaluationRef, model_store: ModelStore, run_id: str) -> ChampionRecord:
    """The record live inference trusts: the candidate's seeds, figures and single dataset version."""
    versions = {model_store.read_json(m.manifest_key)["dataset"]["version"] for m in evaluation.seeds}
    if len(versions) != 1:
        raise ValueError(f"{evaluation.model}: seeds trained on different dataset versions {versions}")
    return ChampionRecord(
        model=evaluation.model,
        seeds=tuple(vars(m) for m in evaluation.seeds),
        headline=evaluation.headline,
        promoted_at=datetime.now(UTC).isoformat(timespec="seconds"),
        reason="passed the promotion gate",
        run_id=run_id,
        dataset_version=versions.pop(),
        extra={
            "tracked_artifact": evaluation.tracked_artifact,
            "ensemble_key": evaluation.ensemble_key,
            "per_era_key": evaluation.per_era_key,  # what the next challenger's paired test compares with
        },
    )
