"""Champion / candidate promotion on validation CORR.

A candidate replaces the champion only if it is worth submitting on its own (positive mean CORR,
Sharpe above a floor), is not a step back from what is live now (mean CORR no more than
``max_regression`` below the champion's), and, when a paired test is configured, the evidence
says it is better than the champion on the eras neither trained on (``evidence``). Every decision
carries its reason and the figures it compared, so a refusal can be read in the UI without
re-running anything.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from numerai_assets.core.evaluation.evidence import Evidence
from numerai_assets.core.evaluation.scoring import summary_stat


@dataclass(frozen=True)
class PromotionDecision:
    promote: bool
    reason: str
    compared: dict[str, float | None] = field(default_factory=dict)
    evidence: dict[str, float | int | str | None] = field(default_factory=dict)  # the paired test's figures


def corr_stat(summary: Mapping, stat: str) -> float:
    """A CORR figure of either summary form (see ``scoring.summary_stat``); NaN when absent."""
    value = summary_stat(summary, "corr", stat)
    return float("nan") if value is None else float(value)  # type: ignore[arg-type]  # summaries hold numbers


def decide_promotion(
    candidate: Mapping,
    champion: Mapping | None,
    *,
    min_sharpe: float,
    max_regression: float,
    evidence: Evidence | None = None,
) -> PromotionDecision:
    """Promote when all of: candidate mean CORR > 0; candidate CORR Sharpe >= ``min_sharpe``;
    candidate mean CORR >= champion mean CORR - ``max_regression``; and ``evidence`` passed (the
    paired per-era test against the champion, ``evidence.compare_per_era``, or the reason none
    was run). The champion rules are skipped with no champion, so the floors alone decide the
    first promotion. NaN figures fail their rule.

    ``max_regression`` stays as an extra floor when a test is on: the test compares the common
    eras only, the floor the whole-validation means, so a challenger cannot win on a short overlap
    while its full record is clearly worse; with ``method none`` it is the only champion rule."""
    mean, sharpe = corr_stat(candidate, "mean"), corr_stat(candidate, "sharpe")
    compared: dict[str, float | None] = {
        "candidate_corr_mean": mean,
        "candidate_corr_sharpe": sharpe,
        "min_sharpe": min_sharpe,
        "max_regression": max_regression,
        "champion_corr_mean": None,
        "regression_floor": None,
    }
    failures = _floor_failures(mean, sharpe, min_sharpe)
    if champion is not None:
        failures += _regression_failures(mean, corr_stat(champion, "mean"), max_regression, compared)
    judged = evidence if champion is not None else None  # no champion: nothing to compare with
    if judged is not None and not judged.passed:
        failures.append(judged.reason)
    tested = {} if judged is None else judged.figures
    if failures:
        return PromotionDecision(False, "not promoted: " + "; ".join(failures), compared, tested)
    reason = _promoted_reason(mean, sharpe, min_sharpe, max_regression, compared)
    return PromotionDecision(True, reason if judged is None else f"{reason}; {judged.reason}", compared, tested)


def _floor_failures(mean: float, sharpe: float, min_sharpe: float) -> list[str]:
    """Is the candidate worth submitting on its own? (NaN fails.)"""
    failures = []
    if not mean > 0:
        failures.append(f"mean CORR {mean:.4f} is not > 0")
    if not sharpe >= min_sharpe:
        failures.append(f"CORR Sharpe {sharpe:.3f} < floor {min_sharpe:.3f}")
    return failures


def _regression_failures(
    mean: float, champion_mean: float, max_regression: float, compared: dict[str, float | None]
) -> list[str]:
    """Is the candidate a step back from the champion? Records the figures in ``compared``."""
    compared["champion_corr_mean"] = champion_mean
    if math.isnan(champion_mean):
        return ["champion has no mean CORR to compare against"]
    floor = champion_mean - max_regression
    compared["regression_floor"] = floor
    if mean >= floor:
        return []
    return [
        f"mean CORR {mean:.4f} regresses below champion {champion_mean:.4f} - "
        f"tolerance {max_regression:.4f} = {floor:.4f}"
    ]


def _promoted_reason(
    mean: float, sharpe: float, min_sharpe: float, max_regression: float, compared: Mapping[str, float | None]
) -> str:
    """The figures that let the candidate through, and the champion it beat (if any)."""
    passed = f"mean CORR {mean:.4f} > 0"
    if compared["champion_corr_mean"] is None:
        return (
            f"promoted: first candidate, {passed} and Sharpe {sharpe:.3f} >= {min_sharpe:.3f}; "
            "no champion to compare against"
        )
    return (
        f"promoted: {passed}, Sharpe {sharpe:.3f} >= {min_sharpe:.3f}, and {mean:.4f} >= champion "
        f"{compared['champion_corr_mean']:.4f} - {max_regression:.4f}"
    )
