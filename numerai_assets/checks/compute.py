"""The proof of a model-upload pickle as blocking checks on its ``<slot>/<slot>_compute_pickle`` asset:
one failing stops the upload in the run (and the upload re-reads the stored proof in any run)."""

from __future__ import annotations

from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, AssetKey

from numerai_assets.core.compute.proof import CHECKS, Proof

_DESCRIPTIONS = {
    "loads_in_image": "the image's Python and pinned libraries unpickle and call it",
    "within_limits": "it finishes under the memory and time limits, 1 CPU, no network",
    "valid_submission": "its output passes Numerai's runner checks and numerai-tools' validator",
    "equals_live_path": "it equals our live path's predictions for the latest live file",
}


def proof_check_specs(asset_key: AssetKey) -> list[AssetCheckSpec]:
    return [
        AssetCheckSpec(name=f"pickle_{name}", asset=asset_key, blocking=True, description=_DESCRIPTIONS[name])
        for name in CHECKS
    ]


def proof_check_results(proof: Proof, asset_key: AssetKey) -> list[AssetCheckResult]:
    return [
        AssetCheckResult(
            check_name=f"pickle_{v.name}",
            asset_key=asset_key,
            passed=v.passed,
            severity=AssetCheckSeverity.ERROR,
            metadata={"reason": v.reason},
        )
        for v in proof.verdicts
    ]
