"""Promotion rules: floors, regression tolerance, first candidate, reasons with figures."""

from __future__ import annotations

from numerai_assets.core.evaluation.promotion import decide_promotion


def summary(mean: float, sharpe: float) -> dict:
    return {"corr": {"all": {"mean": mean, "sharpe": sharpe}, "recent": {}}}


RULES = {"min_sharpe": 0.5, "max_regression": 0.002}


def test_first_passing_candidate_is_promoted() -> None:
    decision = decide_promotion(summary(0.012, 0.8), None, **RULES)
    assert decision.promote
    assert "first candidate" in decision.reason and "0.0120" in decision.reason
    assert decision.compared["champion_corr_mean"] is None


def test_failing_floors_are_not_promoted() -> None:
    low_sharpe = decide_promotion(summary(0.012, 0.3), None, **RULES)
    assert not low_sharpe.promote
    assert "Sharpe 0.300 < floor 0.500" in low_sharpe.reason
    negative = decide_promotion(summary(-0.001, 0.9), None, **RULES)
    assert not negative.promote and "mean CORR -0.0010 is not > 0" in negative.reason
    nan = decide_promotion(summary(float("nan"), float("nan")), None, **RULES)
    assert not nan.promote


def test_regressing_candidate_is_not_promoted() -> None:
    decision = decide_promotion(summary(0.010, 0.9), summary(0.013, 1.0), **RULES)
    assert not decision.promote
    assert "regresses below champion 0.0130" in decision.reason and "0.0110" in decision.reason
    assert decision.compared["regression_floor"] == 0.013 - 0.002


def test_small_regression_within_tolerance_is_promoted() -> None:
    decision = decide_promotion(summary(0.0115, 0.9), summary(0.013, 1.0), **RULES)
    assert decision.promote and "champion 0.0130" in decision.reason


def test_flat_summaries_are_accepted() -> None:
    candidate = {"corr_mean": 0.02, "corr_sharpe": 1.1}
    champion = {"corr_mean": 0.015, "corr_sharpe": 0.9}
    decision = decide_promotion(candidate, champion, **RULES)
    assert decision.promote
    assert decision.compared["candidate_corr_mean"] == 0.02
