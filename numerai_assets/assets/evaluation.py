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
from typing import Any

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

from numerai_assets.core.artifacts import ChampionRecord, EvaluationRef, ModelRef, PredictionsRef
from numerai_assets.core.data.dataset import DatasetFile, FeatureSets, read_by_id, write_by_id
from numerai_assets.core.training.roster import Roster
from numerai_assets.partitions import MODEL_DIM
from numerai_assets.resources.model_store import ModelStore
from numerai_assets.resources.numerai import NumeraiResource
from numerai_assets.resources.policy import EvaluationPolicy
from numerai_assets.resources.tracking import WandbTrackingResource

GROUP = "evaluation"
HEADLINE = (
    "corr_mean",
    "corr_sharpe",
    "corr_max_drawdown",
    "corr_hit_rate",
    "corr_recent_mean",
    "mmc_mean",
    "bmc_mean",
    "fnc_mean",
    "feature_exposure_mean",
)


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
    from numerai_assets.core.data.versions import main_benchmark_column
    from numerai_assets.core.evaluation.evaluate import align_benchmarks, benchmark_coverage

    aligned, coverage = align_benchmarks(validation_data.path, validation_benchmark_models.path)
    key = f"alignment/validation_benchmarks_{validation_benchmark_models.sha256[:16]}.parquet"
    with model_store.writing(key) as path:
        write_by_id(path, aligned)
    model_store.write_json(key + ".coverage.json", {c: coverage[c].to_dict() for c in coverage})
    worst = coverage.min()
    table = "| benchmark | min era coverage | mean coverage |\n|---|---|---|\n" + "\n".join(
        f"| {c} | {worst[c]:.3f} | {coverage[c].mean():.3f} |" for c in coverage.columns
    )
    context.log.info(f"aligned {len(coverage.columns)} benchmarks over {len(coverage)} eras")
    yield Output(
        PredictionsRef("benchmarks", key, len(aligned)),
        metadata={
            "coverage": MetadataValue.md(table),
            "eras": len(coverage),
            "min_coverage": float(worst.min()),
            "rows": len(aligned),
        },
    )
    try:
        column = main_benchmark_column(coverage.columns, validation_benchmark_models.version, policy.benchmark_column)
        passed, message, observed = benchmark_coverage(coverage, column, policy.min_benchmark_coverage)
    except ValueError as exc:  # no such column for this version: the check says which exist
        passed, message, observed = False, str(exc), {"version": validation_benchmark_models.version}
    yield AssetCheckResult(
        check_name="benchmark_coverage",
        passed=passed,
        severity=AssetCheckSeverity.ERROR,
        description=message,
        metadata=observed,
    )


def promotion_gate_result(decision, previous: Mapping | None) -> AssetCheckResult:
    compared = {k: v for k, v in decision.compared.items() if v is not None}
    return AssetCheckResult(
        check_name="promotion_gate",
        passed=decision.promote,
        severity=AssetCheckSeverity.ERROR,
        description=("promote: " if decision.promote else "keep the current champion: ") + decision.reason,
        metadata={
            "decision": "promote" if decision.promote else "keep champion",
            "reason": decision.reason,
            "compared": MetadataValue.json(compared),
            "has_champion": previous is not None,
        },
    )


def _per_partition(loaded: Any) -> list:
    """The upstream seeds' values: Dagster hands a dict for several partitions, the value for one."""
    return list(loaded.values()) if isinstance(loaded, dict) else [loaded]


def build_evaluation_assets(
    roster: Roster, model_seed_pdef: MultiPartitionsDefinition, model_pdef: StaticPartitionsDefinition
) -> list[AssetsDefinition]:
    @asset(
        group_name=GROUP,
        partitions_def=model_pdef,
        kinds={"wandb"},
        ins={
            name: AssetIn(partition_mapping=MultiToSingleDimensionPartitionMapping(partition_dimension_name=MODEL_DIM))
            for name in ("validation_predictions", "trained_model")
        },
        check_specs=[
            AssetCheckSpec(
                "promotion_gate",
                asset="model_evaluation",
                blocking=True,
                description="mean CORR > 0, Sharpe floor, no regression",
            )
        ],
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
        from numerai_assets.core.data.versions import main_benchmark_column
        from numerai_assets.core.evaluation import charts, scoring
        from numerai_assets.core.evaluation import evaluate as evaluation
        from numerai_assets.core.evaluation.promotion import decide_promotion
        from numerai_assets.core.training.cv import scoring_embargo_for_target

        spec = roster.get(context.partition_key)
        seeds: dict[int, PredictionsRef] = {p.seed: p for p in _per_partition(validation_predictions)}
        models: dict[int, ModelRef] = {m.seed: m for m in _per_partition(trained_model)}
        if sorted(seeds) != sorted(spec.seeds):
            raise ValueError(f"{spec.name}: predictions for seeds {sorted(seeds)}, roster lists {list(spec.seeds)}")
        exposure_features = feature_sets.resolve(policy.exposure_feature_set)
        fnc_set, fnc_features = evaluation.fnc_feature_set(
            feature_sets, policy.fnc_feature_set, policy.exposure_feature_set
        )
        # the benchmarks come aligned from their own file, not joined onto the frame a second time
        frame = scoring.load_scoring_frame(
            validation_data.path,
            meta_model.path,
            None,
            None,
            target=spec.target,
            features=list(dict.fromkeys(exposure_features + fnc_features)),
        )
        benchmarks = read_by_id(model_store.local_path(benchmark_alignment.key))
        benchmark_column = main_benchmark_column(benchmarks.columns, validation_data.version, policy.benchmark_column)
        oracle = evaluation.read_oracle(numerai.oracle_path())
        last_train_era = max(model_store.read_json(m.manifest_key)["training"]["eras_last"] for m in models.values())
        embargo = policy.embargo_eras if policy.embargo_eras is not None else scoring_embargo_for_target(spec.target)
        result = evaluation.evaluate_model(
            spec.name,
            {f"seed{s}": evaluation.read_predictions(model_store.local_path(p.key)) for s, p in sorted(seeds.items())},
            frame,
            benchmarks=benchmarks,
            benchmark_column=benchmark_column,
            features=exposure_features,
            fnc_features=fnc_features,
            oracle=oracle,
            recent_eras=policy.recent_eras,
            target=spec.target,
            last_train_era=last_train_era,
            embargo=embargo,
        )
        headline = result.headline
        stamp = "-".join(m.model_sha256[:8] for _, m in sorted(models.items()))
        folder = f"evaluation/{spec.name}/{stamp}"
        with model_store.writing(f"{folder}/ensemble.parquet") as path:
            evaluation.write_predictions(path, result.ensemble, frame["era"])
        with model_store.writing(f"{folder}/per_era.parquet") as path:
            result.per_era[evaluation.ENSEMBLE].to_parquet(path)
        tracked = tracking.get_tracker(secrets=(numerai.public_id, numerai.secret_key)).log_candidate(
            model_name=spec.name,
            config={
                "engine": spec.engine,
                "params": spec.params,
                "seeds": list(spec.seeds),
                "feature_set": spec.feature_set,
                "target": spec.target,
                "num_boost_round": spec.num_boost_round,
                "dataset_version": validation_data.version,
            },
            per_era=result.per_era[evaluation.ENSEMBLE],
            summary=headline,
            files={f"seed{s}/{Path(m.model_key).name}": model_store.local_path(m.model_key) for s, m in models.items()}
            | {
                f"seed{s}/{Path(m.manifest_key).name}": model_store.local_path(m.manifest_key)
                for s, m in models.items()
            },
            manifest={"model": spec.name, "seeds": {str(s): m.model_sha256 for s, m in models.items()}},
        )
        ref = EvaluationRef(
            spec.name,
            tuple(m for _, m in sorted(models.items())),
            f"{folder}/ensemble.parquet",
            f"{folder}/per_era.parquet",
            headline,
            tracked.artifact,
        )
        by_row = {
            "ensemble": result.summaries["ensemble"],
            **{k: v for k, v in result.summaries.items() if k != "ensemble"},
        }
        chart = charts.cumulative_scores_png(
            result.per_era, oracle=None if result.oracle_per_era is None else result.oracle_per_era["corr"]
        )
        bench_table = "| benchmark | mean per-era Spearman with ensemble |\n|---|---|\n" + "\n".join(
            f"| {c} | {v:.3f} |" for c, v in result.benchmark_corr.items()
        )
        metadata = {k: float(headline[k]) for k in HEADLINE if k in headline}
        if result.oracle_summary is not None:
            metadata["oracle_corr_mean"] = float(result.oracle_summary["corr"]["all"]["mean"])
        metadata |= {
            "metrics": MetadataValue.md(charts.metrics_table_markdown(by_row, result.oracle_summary)),
            "benchmark_correlation": MetadataValue.md(bench_table),
            "cumulative_scores": MetadataValue.md(charts.png_markdown(chart, f"{spec.name} cumulative scores")),
            "tracking": tracked.mode if tracked.run_dir is None else f"{tracked.mode}: {tracked.run_dir}",
            "dataset_version": validation_data.version,
            "benchmark_column": benchmark_column,
            "fnc_feature_set": fnc_set,
            "last_train_era": last_train_era,
            "embargo_eras": embargo,
            "skipped_eras": _era_span(result.skipped_eras),
            "scored_eras": int(result.per_era[evaluation.ENSEMBLE].shape[0]),
        }
        yield Output(ref, metadata=metadata)
        previous = model_store.read_json(ChampionRecord.key(spec.name))
        decision = decide_promotion(
            headline,
            previous["headline"] if previous else None,
            min_sharpe=policy.min_sharpe,
            max_regression=policy.max_regression,
        )
        yield promotion_gate_result(decision, previous)

    @asset(group_name="champions", partitions_def=model_pdef, kinds={"json"})
    def champion(
        context: AssetExecutionContext,
        model_evaluation: EvaluationRef,
        model_store: ModelStore,
        tracking: WandbTrackingResource,
    ) -> Output[ChampionRecord]:
        """The model live rounds use; replaced only by a candidate that passed the promotion gate."""
        previous = model_store.read_json(ChampionRecord.key(model_evaluation.model))
        versions = {model_store.read_json(m.manifest_key)["dataset"]["version"] for m in model_evaluation.seeds}
        if len(versions) != 1:
            raise ValueError(f"{model_evaluation.model}: seeds trained on different dataset versions {versions}")
        record = ChampionRecord(
            model=model_evaluation.model,
            seeds=tuple(vars(m) for m in model_evaluation.seeds),
            headline=model_evaluation.headline,
            promoted_at=datetime.now(UTC).isoformat(timespec="seconds"),
            reason="passed the promotion gate",
            run_id=context.run_id,
            dataset_version=versions.pop(),
            extra={
                "tracked_artifact": model_evaluation.tracked_artifact,
                "ensemble_key": model_evaluation.ensemble_key,
            },
        )
        uri = model_store.write_json(ChampionRecord.key(record.model), json.loads(json.dumps(vars(record))))
        prod = tracking.get_tracker().promote(record.model)
        before = previous["headline"].get("corr_mean") if previous else None
        return Output(
            record,
            metadata={
                "decision": "promoted",
                "record": uri,
                "wandb_prod_alias": prod,
                "corr_mean": float(record.headline.get("corr_mean", float("nan"))),
                "previous_corr_mean": float("nan") if before is None else float(before),
                "seeds": len(record.seeds),
                "dataset_version": record.dataset_version,
            },
        )

    return [model_evaluation, champion]


def _era_span(eras) -> str:
    """``0575..0578 (4 eras)`` for metadata; ``none`` when empty."""
    eras = sorted(eras)
    return "none" if not eras else f"{eras[0]}..{eras[-1]} ({len(eras)} eras)"
