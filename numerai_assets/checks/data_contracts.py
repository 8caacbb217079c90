"""Data-contract asset checks: the named contracts of core.data.contracts, one Dagster check each.

One streaming profile of the file serves every named check of a dataset (the profile is the
expensive part), so each dataset gets one ``multi_asset_check`` emitting a result per contract.
All are blocking: a file that breaks its contract stops whatever depends on it in the run.
"""

from collections.abc import Iterator, Sequence

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetIn,
    AssetKey,
    MetadataValue,
    multi_asset_check,
)

from numerai_assets.core.data.contracts import ContractResult, check_dataset, checks_for_kind
from numerai_assets.core.data.dataset import MAIN_TARGET, DatasetFile, FeatureSets

# dataset asset -> contract kind
CONTRACT_KINDS: dict[str, str] = {
    "train_data": "train",
    "validation_data": "validation",
    "train_benchmark_models": "benchmark_models",
    "validation_benchmark_models": "benchmark_models",
    "meta_model": "meta_model",
    "validation_example_preds": "example_preds",
}


def contract_check_specs(
    asset_key: AssetKey | str, kind: str, additional_deps: Sequence[str] = ()
) -> list[AssetCheckSpec]:
    key = AssetKey.from_coercible(asset_key)
    return [
        AssetCheckSpec(
            name=name,
            asset=key,
            blocking=True,
            description=f"data contract: {name}",
            additional_deps=list(additional_deps),
        )
        for name in checks_for_kind(kind)
    ]


def contract_check_results(result: ContractResult, asset_key: AssetKey | str) -> Iterator[AssetCheckResult]:
    """One result per named check; a failure names the columns and values that broke it."""
    key = AssetKey.from_coercible(asset_key)
    failures = {f.check: f for f in result.failures}
    for name in result.checks_run:
        failure = failures.get(name)
        metadata = {"rows": result.rows, "contract_seconds": round(result.seconds, 3)}
        metadata.update(
            {k: MetadataValue.json(v) if isinstance(v, dict) else v for k, v in result.notes.items()}
        )  # e.g. the unresolved validation eras
        if failure is not None:
            metadata["failure"] = MetadataValue.text(failure.message)
            metadata["columns"] = MetadataValue.json(list(failure.columns)[:50])
        yield AssetCheckResult(
            asset_key=key,
            check_name=name,
            passed=failure is None,
            severity=AssetCheckSeverity.ERROR,
            description=failure.message if failure else f"{name}: passed",
            metadata=metadata,
        )


def run_contract(
    handle: DatasetFile, kind: str, sets: FeatureSets, required_features: Sequence[str] = ()
) -> ContractResult:
    return check_dataset(
        handle.path,
        kind,
        features=sets.sets["all"],
        targets=sets.targets or (MAIN_TARGET,),
        required_features=required_features,
    )


def run_live_contract(live: DatasetFile, sets: FeatureSets) -> ContractResult:
    """The live file's contract; its result is recorded beside the file (keyed by its sha256) so
    each slot's gate verdict reads it rather than checking the same file again."""
    from numerai_assets.core.live.verdict import live_contract_entry, store_live_contract

    result = run_contract(live, "live", sets, required_features=sets.sets["all"])
    store_live_contract(
        live.path, live_contract_entry(live.sha256, result.passed, [f"{f.check}: {f.message}" for f in result.failures])
    )
    return result


def build_contract_checks(asset_name: str, kind: str) -> AssetChecksDefinition:
    @multi_asset_check(
        name=f"{asset_name}_contract",
        specs=contract_check_specs(asset_name, kind, additional_deps=["feature_sets"]),
        ins={"dataset": AssetIn(asset_name), "sets": AssetIn("feature_sets")},
    )
    def _contract(
        context: AssetCheckExecutionContext, dataset: DatasetFile, sets: FeatureSets
    ) -> Iterator[AssetCheckResult]:
        result = run_contract(dataset, kind, sets)
        context.log.info(f"{asset_name}: contract over {result.rows:,} rows in {result.seconds:.2f} s")
        yield from contract_check_results(result, asset_name)

    return _contract


dataset_contract_checks = [build_contract_checks(a, k) for a, k in CONTRACT_KINDS.items()]
