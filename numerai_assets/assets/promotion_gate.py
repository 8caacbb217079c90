"""The blocking ``promotion_gate`` check of ``model_evaluation``: the candidate against the floors
and, by a paired per-era CORR test (``core.evaluation.evidence``), the current champion.

Its result names the model judged, the verdict, the figures compared and the test's figures
(``test_method``, ``test_statistic``, ``test_p_value``, ``test_eras``, ...).
"""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, MetadataValue, StaticPartitionsDefinition

from numerai_assets.assets.metadata import readable
from numerai_assets.checks.partitioned import building_partitioned_specs
from numerai_assets.core.artifacts import ChampionRecord, EvaluationRef
from numerai_assets.resources.model_store import ModelStore
from numerai_assets.resources.policy import EvaluationPolicy

if TYPE_CHECKING:  # heavy at definitions load: imported inside the steps
    import pandas as pd

    from numerai_assets.core.evaluation.evidence import EvidenceSettings
    from numerai_assets.core.evaluation.promotion import PromotionDecision


def promotion_gate_spec(model_pdef: StaticPartitionsDefinition) -> AssetCheckSpec:
    """Partitioned by model like ``model_evaluation``: each result records the model it judged."""
    with building_partitioned_specs():
        return AssetCheckSpec(
            "promotion_gate",
            asset="model_evaluation",
            blocking=True,
            description="mean CORR > 0, Sharpe floor, no regression, and a paired per-era CORR test "
            "against the champion on the eras neither trained on",
            partitions_def=model_pdef,
        )


def promotion_gate(
    ref: EvaluationRef, per_era_corr: "pd.Series", model_store: ModelStore, policy: EvaluationPolicy
) -> AssetCheckResult:
    """The blocking check: the candidate against the floors and, by a paired per-era test, the
    current champion."""
    from numerai_assets.core.evaluation.evidence import judge_challenger
    from numerai_assets.core.evaluation.promotion import decide_promotion

    previous = model_store.read_json(ChampionRecord.key(ref.model))
    evidence = None
    if previous is not None:
        shas = [m.model_sha256 for m in ref.seeds]
        reader = _per_era_reader(model_store)
        evidence = judge_challenger(shas, per_era_corr, previous, reader, evidence_settings(policy))
    decision = decide_promotion(
        ref.headline,
        previous["headline"] if previous else None,
        min_sharpe=policy.min_sharpe,
        max_regression=policy.max_regression,
        evidence=evidence,
    )
    return promotion_gate_result(ref.model, decision, previous)


def evidence_settings(policy: EvaluationPolicy) -> "EvidenceSettings":
    """The policy's paired-test knobs as the plain values the core takes."""
    from numerai_assets.core.evaluation.evidence import EvidenceSettings

    return EvidenceSettings(
        method=policy.promotion_test,
        confidence=policy.promotion_confidence,
        min_eras=policy.promotion_min_eras,
        bootstrap_samples=policy.bootstrap_samples,
    )


def _per_era_reader(model_store: ModelStore):
    """Reads a stored per-era scores parquet's CORR column; None when the store has no such key."""
    import pandas as pd

    def read(key: str) -> "pd.Series | None":
        try:
            path = model_store.local_path(key)
        except FileNotFoundError:
            return None
        return pd.read_parquet(path)["corr"] if path.exists() else None

    return read


def promotion_gate_result(model: str, decision: "PromotionDecision", previous: Mapping | None) -> AssetCheckResult:
    """The check result names the model it judged, the verdict and the figures compared."""
    from numerai_assets.core.evaluation.report import promotion_description

    compared = {k: v for k, v in decision.compared.items() if v is not None}
    return AssetCheckResult(
        check_name="promotion_gate",
        passed=decision.promote,
        severity=AssetCheckSeverity.ERROR,
        description=promotion_description(model, decision),
        metadata={
            "model": model,
            "decision": "promote" if decision.promote else "keep champion",
            "reason": decision.reason,
            "compared": MetadataValue.json(readable(compared)),
            "has_champion": previous is not None,
            **readable(_evidence_entries(decision.evidence)),
        },
    )


def _evidence_entries(figures: Mapping[str, Any]) -> dict[str, Any]:
    """The paired test's figures as their own entries (``test_method``, ``test_statistic``, ...);
    figures that were not computed are left out."""
    return {f"test_{name}": value for name, value in figures.items() if value is not None}
