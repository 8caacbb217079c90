"""Is the challenger better than the champion? A paired per-era test on the eras neither trained on.

Each side's per-era CORR comes from its own evaluation, which already left out the eras up to its
embargo after its last training era (``evaluate.evaluate_model``); the eras both series hold are
therefore out of sample for both, and the comparison is paired on exactly those eras. Two methods:

- ``paired_t``: one-sided paired t-test of the per-era CORR differences (challenger - champion);
  better when the p-value is at most ``1 - confidence``.
- ``bootstrap``: the mean difference resampled over eras (seeded, so a re-run gives the same
  figures); better when the one-sided lower bound at ``confidence`` is above 0.

Both treat eras as independent; overlapping targets (20-day targets span 4 weekly eras) make them
somewhat optimistic, which a higher ``confidence`` offsets.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

METHODS = ("paired_t", "bootstrap", "none")
PER_ERA_FILE = "per_era.parquet"  # next to the ensemble predictions in an evaluation's folder


@dataclass(frozen=True)
class EvidenceSettings:
    """How much evidence a challenger needs (the evaluation policy's knobs, as plain values)."""

    method: str = "paired_t"
    confidence: float = 0.9
    min_eras: int = 20
    bootstrap_samples: int = 2000
    seed: int = 0

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"promotion test method {self.method!r} is not one of {METHODS}")
        if not 0 < self.confidence < 1:
            raise ValueError(f"promotion test confidence {self.confidence} is not in (0, 1)")
        if self.min_eras < 2:
            raise ValueError(f"promotion test min_eras {self.min_eras} is below 2 (a test needs 2 eras)")
        if self.bootstrap_samples < 100:
            raise ValueError(f"promotion test bootstrap_samples {self.bootstrap_samples} is below 100")


@dataclass(frozen=True)
class Evidence:
    """Whether the comparison lets the challenger through, why, and the figures it rests on."""

    passed: bool
    reason: str
    figures: dict[str, float | int | str | None] = field(default_factory=dict)


def same_seeds(candidate_sha256s: Iterable[str], champion_seeds: Iterable[Mapping]) -> bool:
    """Are the candidate's models exactly the champion's (a re-run of its evaluation)?"""
    champion = sorted(str(seed.get("model_sha256")) for seed in champion_seeds)
    return sorted(candidate_sha256s) == champion


def champion_per_era_key(extra: Mapping) -> str | None:
    """Where a champion's per-era scores are stored: its record's ``per_era_key``, or for records
    written before that key existed, ``per_era.parquet`` in the folder of its ``ensemble_key``."""
    if extra.get("per_era_key"):
        return str(extra["per_era_key"])
    ensemble = extra.get("ensemble_key")
    if not ensemble or "/" not in str(ensemble):
        return None
    return str(ensemble).rsplit("/", 1)[0] + "/" + PER_ERA_FILE


def skipped(method: str, reason: str) -> Evidence:
    """No test was run (off, a re-run, no champion series): the floors decide, the reason says so."""
    return Evidence(True, reason, {"method": method, "run": "no"})


def _off() -> Evidence:
    return skipped("none", "no paired test (method none): the floors decide")


def judge_challenger(
    candidate_sha256s: Iterable[str],
    candidate_corr: pd.Series,
    champion_record: Mapping,
    read_per_era: Callable[[str], pd.Series | None],
    settings: EvidenceSettings,
) -> Evidence:
    """The evidence about a candidate against the current champion (its stored record):
    a re-run of the champion's own seeds passes without a test (re-runs stay idempotent);
    otherwise the champion's per-era CORR, read by ``read_per_era(key)`` (None: not stored),
    is compared with ``candidate_corr``. A champion whose series cannot be found leaves the
    decision to the floors, and the reason says so."""
    if same_seeds(candidate_sha256s, champion_record.get("seeds", ())):
        return skipped(
            settings.method, "same seeds as the champion (identical model sha256s): a re-run of its evaluation"
        )
    if settings.method == "none":
        return _off()
    key = champion_per_era_key(champion_record.get("extra") or {})
    champion = None if key is None else read_per_era(key)
    if champion is None:
        where = "its record names no evaluation folder" if key is None else f"no {key} in the model store"
        return skipped(settings.method, f"champion's per-era CORR not found ({where}): the floors decide")
    return compare_per_era(candidate_corr, champion, settings)


def compare_per_era(candidate: pd.Series, champion: pd.Series, settings: EvidenceSettings) -> Evidence:
    """The paired test of ``candidate - champion`` per-era CORR (both indexed by era) on the eras
    both hold a finite score for; refused when there are fewer than ``settings.min_eras``."""
    if settings.method == "none":
        return _off()
    diff = _paired_differences(candidate, champion)
    figures: dict[str, float | int | str | None] = {
        "method": settings.method,
        "run": "yes",
        "confidence": settings.confidence,
        "eras": len(diff),
        "first_era": str(diff.index[0]) if len(diff) else None,
        "last_era": str(diff.index[-1]) if len(diff) else None,
        "mean_difference": float(diff.mean()) if len(diff) else None,
    }
    span = f"{figures['first_era']}..{figures['last_era']}" if len(diff) else "none"
    if len(diff) < settings.min_eras:
        return Evidence(
            False,
            f"only {len(diff)} eras ({span}) scored for both challenger and champion after their "
            f"embargoes, fewer than min_eras {settings.min_eras}: no evidence it is better",
            figures,
        )
    test = _paired_t if settings.method == "paired_t" else _bootstrap
    better, detail, stats = test(diff.to_numpy(dtype=np.float64), settings)
    figures |= {name: _finite(value) for name, value in stats.items()}
    verdict = "better" if better else "not shown better"
    mean = float(diff.mean())
    return Evidence(
        better,
        f"{settings.method} on {len(diff)} common eras {span}: mean CORR difference {mean:+.4f}, {detail}: {verdict}",
        figures,
    )


def _finite(value: float) -> float | None:
    """Figures go to JSON metadata: an infinite statistic (no spread at all) is recorded as None."""
    return value if math.isfinite(value) else None


def _paired_differences(candidate: pd.Series, champion: pd.Series) -> pd.Series:
    """Per-era differences on the common eras with finite scores on both sides, in era order."""
    both = pd.DataFrame({"candidate": candidate, "champion": champion}).replace([np.inf, -np.inf], np.nan)
    both = both.dropna().sort_index()
    return both["candidate"] - both["champion"]


def _paired_t(diff: np.ndarray, settings: EvidenceSettings) -> tuple[bool, str, dict]:
    """One-sided t-test that the mean difference is > 0, and its one-sided lower bound."""
    from scipy import stats

    alpha = 1 - settings.confidence
    mean, sd, n = float(diff.mean()), float(diff.std(ddof=1)), len(diff)
    if np.ptp(diff) <= 1e-12:  # identical series or a constant shift: no spread to test against
        t_stat = math.copysign(math.inf, mean) if mean != 0 else 0.0
        p_value = 0.0 if mean > 0 else 1.0
        lower = mean
    else:
        result = stats.ttest_1samp(diff, 0.0, alternative="greater")
        t_stat, p_value = float(result.statistic), float(result.pvalue)
        lower = mean - float(stats.t.ppf(settings.confidence, n - 1)) * sd / math.sqrt(n)
    better = p_value <= alpha
    detail = f"t = {t_stat:.3f}, p = {p_value:.4f} {'<=' if better else '>'} {alpha:.3f}"
    return better, detail, {"statistic": t_stat, "p_value": p_value, "lower_bound": lower}


def _bootstrap(diff: np.ndarray, settings: EvidenceSettings) -> tuple[bool, str, dict]:
    """Paired bootstrap of the mean difference over eras: its one-sided lower bound at
    ``confidence``, the share of resampled means <= 0 (the bootstrap p-value), and as statistic
    the mean difference over its bootstrap standard error."""
    rng = np.random.default_rng(settings.seed)
    picks = rng.integers(0, len(diff), size=(settings.bootstrap_samples, len(diff)))
    means = diff[picks].mean(axis=1)
    lower = float(np.quantile(means, 1 - settings.confidence))
    p_value = float((means <= 0).mean())
    spread = float(means.std())
    mean = float(diff.mean())
    z = mean / spread if spread > 0 else (0.0 if mean == 0 else math.copysign(math.inf, mean))
    better = lower > 0
    detail = (
        f"{settings.confidence:.0%} lower bound {lower:+.4f} {'>' if better else '<='} 0 "
        f"({settings.bootstrap_samples} resamples, p = {p_value:.4f})"
    )
    return better, detail, {"statistic": z, "p_value": p_value, "lower_bound": lower}
