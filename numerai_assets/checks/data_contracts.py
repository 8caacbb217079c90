"""Data-contract asset checks: the named contracts of core.data.contracts, one Dagster check each.

One streaming profile of the file serves every named check of a dataset (the profile is the
expensive part), so each dataset gets one ``multi_asset_check`` emitting a result per contract.
All are blocking: a file that breaks its contract stops whatever depends on it in the run.
"""

from collections.abc import Iterator, Sequence
from typing import Any

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

from numerai_assets.assets.metadata import readable
from numerai_assets.core.data.contracts import ContractFailure, ContractResult, check_dataset, checks_for_kind
from numerai_assets.core.data.dataset import MAIN_TARGET, DatasetFile, FeatureSets
from numerai_assets.core.data.files import DatasetFileSpec, contracted_files


def contract_check_specs(
    asset_key: AssetKey | str, kind: str, additional_deps: Sequence[str] = ()
) -> list[AssetCheckSpec]:
    """One blocking check spec per named check of the contract ``kind``."""
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


def contract_check_results(
    result: ContractResult, asset_key: AssetKey | str, subject: str
) -> Iterator[AssetCheckResult]:
    """One result per named check; its description names ``subject`` (the file, and the round of a
    live file) and, on failure, the columns and values that broke it."""
    key = AssetKey.from_coercible(asset_key)
    failures = {f.check: f for f in result.failures}
    for name in result.checks_run:
        failure = failures.get(name)
        yield AssetCheckResult(
            asset_key=key,
            check_name=name,
            passed=failure is None,
            severity=AssetCheckSeverity.ERROR,
            description=f"{subject}: {failure.message if failure else f'{name} passed'}",
            metadata=_result_metadata(result, subject, failure),
        )


def _result_metadata(result: ContractResult, subject: str, failure: ContractFailure | None) -> dict[str, Any]:
    """Rows, timing and the conventions the file uses (e.g. its unresolved eras), rounded for
    reading; a failure adds its message and the columns concerned."""
    metadata: dict[str, Any] = {"file": subject, "rows": result.rows, "contract_seconds": result.seconds}
    metadata.update({k: MetadataValue.json(v) if isinstance(v, dict) else v for k, v in result.notes.items()})
    if failure is not None:
        metadata["failure"] = MetadataValue.text(failure.message)
        metadata["columns"] = MetadataValue.json(list(failure.columns)[:50])
    return readable(metadata)


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


def build_contract_checks(spec: DatasetFileSpec) -> AssetChecksDefinition:
    """The contract of one file of the table in ``core.data.files``: one profile, a result per check."""
    assert spec.contract is not None, spec  # contracted_files() holds only files with a contract
    kind = spec.contract

    @multi_asset_check(
        name=f"{spec.asset}_contract",
        specs=contract_check_specs(spec.asset, kind, additional_deps=["feature_sets"]),
        ins={"dataset": AssetIn(spec.asset), "sets": AssetIn("feature_sets")},
    )
    def _contract(
        context: AssetCheckExecutionContext, dataset: DatasetFile, sets: FeatureSets
    ) -> Iterator[AssetCheckResult]:
        result = run_contract(dataset, kind, sets)
        context.log.info(f"{spec.asset}: contract over {result.rows:,} rows in {result.seconds:.2f} s")
        yield from contract_check_results(result, spec.asset, subject=f"{dataset.name} ({dataset.version})")

    return _contract


dataset_contract_checks = [build_contract_checks(spec) for spec in contracted_files()]
