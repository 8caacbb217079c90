"""The paired per-era test a challenger must pass against the champion (no Dagster, no training)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from numerai_assets.core.evaluation.evidence import (
    EvidenceSettings,
    champion_per_era_key,
    compare_per_era,
    judge_challenger,
)
from numerai_assets.core.evaluation.promotion import decide_promotion

T_TEST = EvidenceSettings(method="paired_t", confidence=0.9, min_eras=20)
BOOTSTRAP = EvidenceSettings(method="bootstrap", confidence=0.9, min_eras=20, bootstrap_samples=500)
RULES = {"min_sharpe": 0.0, "max_regression": 0.002}


def eras(first: int, count: int) -> list[str]:
    return [f"{n:04d}" for n in range(first, first + count)]


def corr(first: int, count: int, shift: float = 0.0, noise: float = 0.0, seed: int = 0) -> pd.Series:
    """A per-era CORR series like ``per_era.parquet``'s ``corr`` column: era index, 0.01 +- 0.02."""
    base = np.random.default_rng(1).normal(0.01, 0.02, 200)[:count]
    wiggle = np.random.default_rng(seed).normal(0.0, noise, count) if noise else 0.0
    return pd.Series(base + shift + wiggle, index=pd.Index(eras(first, count), name="era"), name="corr")


CHAMPION = corr(600, 40)


@pytest.mark.parametrize("settings", [T_TEST, BOOTSTRAP], ids=["paired_t", "bootstrap"])
def test_a_clearly_stronger_challenger_passes_and_the_figures_are_recorded(settings) -> None:
    challenger = corr(600, 40, shift=0.02, noise=0.005)
    evidence = compare_per_era(challenger, CHAMPION, settings)
    assert evidence.passed, evidence.reason
    figures = evidence.figures
    assert (figures["method"], figures["eras"], figures["first_era"], figures["last_era"]) == (
        settings.method,
        40,
        "0600",
        "0639",
    )
    assert figures["mean_difference"] == pytest.approx((challenger - CHAMPION).mean())
    assert figures["p_value"] < 0.1 and figures["lower_bound"] > 0 and figures["statistic"] > 0
    assert f"{settings.method} on 40 common eras 0600..0639" in evidence.reason and ": better" in evidence.reason


def test_the_t_statistic_and_p_value_are_scipys_paired_test() -> None:
    from scipy import stats

    challenger = corr(600, 40, shift=0.004, noise=0.01)
    expected = stats.ttest_rel(challenger, CHAMPION, alternative="greater")
    figures = compare_per_era(challenger, CHAMPION, T_TEST).figures
    assert figures["statistic"] == pytest.approx(expected.statistic)
    assert figures["p_value"] == pytest.approx(expected.pvalue)


@pytest.mark.parametrize("settings", [T_TEST, BOOTSTRAP], ids=["paired_t", "bootstrap"])
@pytest.mark.parametrize("shift", [-0.01, 0.0], ids=["weaker", "equal"])
def test_a_weaker_or_equal_challenger_does_not_pass(settings, shift) -> None:
    evidence = compare_per_era(corr(600, 40, shift=shift), CHAMPION, settings)
    assert not evidence.passed
    assert "not shown better" in evidence.reason and evidence.figures["eras"] == 40


def test_a_slightly_better_challenger_fails_at_high_confidence_and_passes_at_low() -> None:
    challenger = corr(600, 40, shift=0.003, noise=0.01, seed=3)
    strict = compare_per_era(challenger, CHAMPION, EvidenceSettings(confidence=0.999, min_eras=20))
    loose = compare_per_era(challenger, CHAMPION, EvidenceSettings(confidence=0.6, min_eras=20))
    assert not strict.passed and loose.passed
    assert strict.figures["p_value"] == loose.figures["p_value"]  # same test, other threshold


def test_only_eras_both_scored_are_compared_and_too_few_are_refused() -> None:
    """The challenger trained on later data: its scored eras start later; NaN eras do not count."""
    challenger = corr(630, 40, shift=0.05)
    challenger.iloc[0] = np.nan
    evidence = compare_per_era(challenger, CHAMPION, T_TEST)
    assert not evidence.passed
    figures = evidence.figures
    assert (figures["eras"], figures["first_era"], figures["last_era"]) == (9, "0631", "0639")
    assert "only 9 eras (0631..0639)" in evidence.reason and "fewer than min_eras 20" in evidence.reason
    assert "p_value" not in evidence.figures
    disjoint = compare_per_era(corr(700, 40), CHAMPION, T_TEST)
    assert not disjoint.passed and "only 0 eras (none)" in disjoint.reason


def test_the_bootstrap_is_reproducible_and_follows_its_seed() -> None:
    challenger = corr(600, 40, shift=0.004, noise=0.01)
    first = compare_per_era(challenger, CHAMPION, BOOTSTRAP)
    again = compare_per_era(challenger, CHAMPION, BOOTSTRAP)
    other = compare_per_era(challenger, CHAMPION, EvidenceSettings("bootstrap", 0.9, 20, 500, seed=7))
    assert first == again
    assert other.figures["lower_bound"] != first.figures["lower_bound"]


def test_method_none_leaves_the_decision_to_the_floors() -> None:
    evidence = compare_per_era(corr(600, 40, shift=-0.01), CHAMPION, EvidenceSettings(method="none"))
    assert evidence.passed and "floors decide" in evidence.reason and evidence.figures["run"] == "no"


def test_settings_refuse_unknown_methods_and_out_of_range_values() -> None:
    with pytest.raises(ValueError, match="'ttest' is not one of"):
        EvidenceSettings(method="ttest")
    with pytest.raises(ValueError, match="confidence 1.5"):
        EvidenceSettings(confidence=1.5)
    with pytest.raises(ValueError, match="min_eras 1"):
        EvidenceSettings(min_eras=1)


def record(shas: list[str], extra: dict) -> dict:
    return {"seeds": [{"model_sha256": sha} for sha in shas], "extra": extra}


def test_a_rerun_of_the_champions_own_seeds_passes_without_a_test() -> None:
    """Re-running evaluation on unchanged models must stay green, whatever its scores."""
    champion = record(["bb", "aa"], {"per_era_key": "evaluation/m/x/per_era.parquet"})
    read = lambda key: pytest.fail(f"read {key}: a re-run needs no champion series")  # noqa: E731
    evidence = judge_challenger(["aa", "bb"], corr(600, 40, shift=-0.05), champion, read, T_TEST)
    assert evidence.passed and "re-run of its evaluation" in evidence.reason


def test_an_older_champion_record_is_found_through_its_ensemble_key_or_left_to_the_floors() -> None:
    assert champion_per_era_key({"ensemble_key": "evaluation/m/ab-cd/ensemble.parquet"}) == (
        "evaluation/m/ab-cd/per_era.parquet"
    )
    asked: list[str] = []

    def read(key: str) -> pd.Series | None:
        asked.append(key)
        return CHAMPION if key == "evaluation/m/ab-cd/per_era.parquet" else None

    old = record(["cc"], {"ensemble_key": "evaluation/m/ab-cd/ensemble.parquet"})
    weaker = judge_challenger(["dd"], corr(600, 40, shift=-0.01), old, read, T_TEST)
    assert asked == ["evaluation/m/ab-cd/per_era.parquet"] and not weaker.passed
    gone = judge_challenger(["dd"], CHAMPION, record(["cc"], {"ensemble_key": "elsewhere/e.parquet"}), read, T_TEST)
    assert gone.passed and "(no elsewhere/per_era.parquet in the model store): the floors decide" in gone.reason
    bare = judge_challenger(["dd"], CHAMPION, record(["cc"], {}), read, T_TEST)
    assert bare.passed and "its record names no evaluation folder" in bare.reason


def headline(mean: float, sharpe: float = 1.0) -> dict:
    return {"corr_mean": mean, "corr_sharpe": sharpe}


def test_the_decision_needs_the_evidence_and_the_floors() -> None:
    stronger = compare_per_era(corr(600, 40, shift=0.02, noise=0.005), CHAMPION, T_TEST)
    weaker = compare_per_era(corr(600, 40, shift=-0.01), CHAMPION, T_TEST)
    promoted = decide_promotion(headline(0.03), headline(0.01), **RULES, evidence=stronger)
    assert promoted.promote and "paired_t on 40 common eras" in promoted.reason
    assert promoted.evidence["p_value"] == stronger.figures["p_value"]
    kept = decide_promotion(headline(0.012), headline(0.01), **RULES, evidence=weaker)
    assert not kept.promote and "not shown better" in kept.reason and kept.evidence["eras"] == 40
    below_floor = decide_promotion(headline(-0.001), headline(-0.02), **RULES, evidence=stronger)
    assert not below_floor.promote and "is not > 0" in below_floor.reason


def test_with_no_champion_the_floors_alone_decide() -> None:
    first = decide_promotion(headline(0.01), None, **RULES, evidence=None)
    assert first.promote and "first candidate" in first.reason and first.evidence == {}
