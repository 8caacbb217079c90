"""Submission gates as asset checks on each slot's live predictions.

Every gate but feature drift is blocking: one failing stops that slot's submission in the run,
while the other slots (separate assets) still submit. Drift is a warning.
"""

from collections.abc import Iterable, Iterator

from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, AssetKey

from numerai_assets.core.live.gates import GATE_NAMES, NON_BLOCKING, GateResult


def gate_check_specs(asset_key: AssetKey) -> list[AssetCheckSpec]:
    return [
        AssetCheckSpec(
            name=name, asset=asset_key, blocking=name not in NON_BLOCKING, description=f"submission gate: {name}"
        )
        for name in GATE_NAMES
    ]


def gate_check_results(results: Iterable[GateResult], asset_key: AssetKey) -> Iterator[AssetCheckResult]:
    for gate in results:
        yield AssetCheckResult(
            asset_key=asset_key,
            check_name=gate.name,
            passed=gate.passed,
            severity=AssetCheckSeverity.ERROR if gate.blocking else AssetCheckSeverity.WARN,
            description=gate.message,
            metadata={k: v for k, v in gate.observed.items() if v is not None},
        )
