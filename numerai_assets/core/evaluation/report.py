"""What a participant reads about an evaluation: headline figures, tables, the promotion verdict.

Metric names come from the evaluation itself (the keys of a flat headline, see
``scoring.flatten_summary``), so a metric the scorer adds shows up without a change here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import pandas as pd

from numerai_assets.core.evaluation import charts
from numerai_assets.core.evaluation.evaluate import ENSEMBLE, ModelEvaluation
from numerai_assets.core.evaluation.promotion import PromotionDecision

MAIN_METRIC = "corr"
# beyond each metric's mean, the main metric's risk figures (keys of scoring.series_stats)
MAIN_STATS = (("sharpe", "Sharpe"), ("max_drawdown", "max drawdown"), ("hit_rate", "hit rate"))
MEAN = "_mean"
RECENT = "_recent_"


def metrics_in(headline: Mapping[str, object]) -> list[str]:
    """The metrics a flat headline holds (``corr``, ``mmc``, ...), in the order it holds them."""
    return [key[: -len(MEAN)] for key in headline if key.endswith(MEAN) and RECENT not in key]


def headline_figures(headline: Mapping[str, float]) -> dict[str, float]:
    """The figures worth a metadata entry: each metric's mean, the main metric's risk figures and
    its recent mean; full precision (the metadata layer rounds)."""
    keys: list[str] = []
    for metric in metrics_in(headline):
        keys.append(f"{metric}{MEAN}")
        if metric == MAIN_METRIC:
            keys += [f"{metric}_{stat}" for stat, _ in MAIN_STATS] + [f"{metric}{RECENT}mean"]
    return {key: float(headline[key]) for key in keys if key in headline}


def comparison_table(columns: Sequence[tuple[str, Mapping[str, float] | None]]) -> str:
    """Models side by side: one column per ``(label, flat headline)`` (None: not evaluated, ``-``),
    one row per headline metric of any column, then eras used."""
    metrics = list(dict.fromkeys(m for _, headline in columns for m in metrics_in(headline or {})))
    rows: list[tuple[str, str]] = []
    for metric in metrics:
        title = charts.TITLES.get(metric, metric)
        rows.append((f"{title} mean", f"{metric}{MEAN}"))
        if metric == MAIN_METRIC:
            rows += [(f"{title} {label}", f"{metric}_{stat}") for stat, label in MAIN_STATS]
    rows.append(("eras used", f"{MAIN_METRIC}_n_eras"))
    lines = ["| | " + " | ".join(label for label, _ in columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for title, key in rows:
        cells = [_cell((headline or {}).get(key)) for _, headline in columns]
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(value: object) -> str:
    """4 significant digits for a reader; ``-`` where a figure was not computed."""
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def metrics_table(result: ModelEvaluation) -> str:
    """The per-seed table: the ensemble first, then each seed, then the oracle when known."""
    by_row = {ENSEMBLE: result.summaries[ENSEMBLE], **{k: v for k, v in result.summaries.items() if k != ENSEMBLE}}
    return charts.metrics_table_markdown(by_row, result.oracle_summary)


def benchmark_table(benchmark_corr: Mapping[str, float]) -> str:
    """How much the ensemble resembles each of Numerai's benchmark models."""
    return "| benchmark | mean per-era Spearman with ensemble |\n|---|---|\n" + "\n".join(
        f"| {column} | {value:.3f} |" for column, value in benchmark_corr.items()
    )


def scores_chart(result: ModelEvaluation) -> bytes:
    """Cumulative lines of the ensemble and every seed, per-era bars of the ensemble, the oracle."""
    oracle = None if result.oracle_per_era is None else result.oracle_per_era["corr"]
    return charts.cumulative_scores_png(result.per_era, oracle=oracle, bars=ENSEMBLE)


def oracle_corr_mean(result: ModelEvaluation) -> dict[str, float]:
    """The local tournament's oracle mean CORR: the ceiling the planted signal allows (empty elsewhere)."""
    if result.oracle_summary is None:
        return {}
    return {"oracle_corr_mean": float(result.oracle_summary["corr"]["all"]["mean"])}


def era_span(eras: Iterable[str]) -> str:
    """``0575..0578 (4 eras)`` for metadata; ``none`` when empty."""
    ordered = sorted(eras)
    return "none" if not ordered else f"{ordered[0]}..{ordered[-1]} ({len(ordered)} eras)"


def promotion_description(model: str, decision: PromotionDecision) -> str:
    """The check result's one line, naming the model it judged: ``promotion of lgbm: keep ...``."""
    verdict = "promote" if decision.promote else "keep the current champion"
    return f"promotion of {model}: {verdict} — {decision.reason}"


def coverage_table(coverage: pd.DataFrame) -> str:
    """Per benchmark column: its worst era's and its mean share of our scored ids."""
    worst = coverage.min()
    return "| benchmark | min era coverage | mean coverage |\n|---|---|---|\n" + "\n".join(
        f"| {c} | {worst[c]:.3f} | {coverage[c].mean():.3f} |" for c in coverage.columns
    )
