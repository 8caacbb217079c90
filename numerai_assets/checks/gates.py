"""Submission gates as asset checks on each slot's live predictions.

Every gate but feature drift is blocking: one failing stops that slot's submission in the run,
while the other slots (separate assets) still submit. Drift is a warning. Each result names its
slot and round (the UI's check history lists results without their asset's partition), and a
failing blocking gate fails the step with the gates' own reasons as the run's failure message.
"""

from collections.abc import Iterable, Iterator

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    Failure,
    MetadataValue,
    PartitionsDefinition,
)

from numerai_assets.assets.metadata import readable
from numerai_assets.checks.partitioned import building_partitioned_specs
from numerai_assets.core.live.gates import GATE_NAMES, NON_BLOCKING, GateResult


def gate_check_specs(asset_key: AssetKey, partitions_def: PartitionsDefinition | None = None) -> list[AssetCheckSpec]:
    """One spec per gate; partitioned like the asset so each result records its round."""
    with building_partitioned_specs():
        return [
            AssetCheckSpec(
                name=name,
                asset=asset_key,
                blocking=name not in NON_BLOCKING,
                description=f"submission gate: {name}",
                partitions_def=partitions_def,
            )
            for name in GATE_NAMES
        ]


def gate_subject(slot: str, round_number: int) -> str:
    return f"slot {slot}, round {round_number}"


def gate_check_results(
    results: Iterable[GateResult], asset_key: AssetKey, *, slot: str, round_number: int
) -> Iterator[AssetCheckResult]:
    subject = gate_subject(slot, round_number)
    for gate in results:
        yield AssetCheckResult(
            asset_key=asset_key,
            check_name=gate.name,
            passed=gate.passed,
            severity=AssetCheckSeverity.ERROR if gate.blocking else AssetCheckSeverity.WARN,
            description=f"{subject}: {gate.message}",
            metadata=readable({k: v for k, v in gate.observed.items() if v is not None}),
        )


def blocking_gate_failure(results: Iterable[GateResult], *, slot: str, round_number: int) -> Failure | None:
    """The step's failure when a blocking gate failed: its description is what the run page shows."""
    failed = [g for g in results if g.blocking and not g.passed]
    if not failed:
        return None
    reasons = "; ".join(f"{g.name}: {g.message}" for g in failed)
    return Failure(
        description=f"{gate_subject(slot, round_number)}: not submitted, blocking gates failed: {reasons}",
        metadata={
            "slot": slot,
            "round": round_number,
            "gates_failed": MetadataValue.json({g.name: g.message for g in failed}),
        },
        allow_retries=False,
    )
