"""What a participant reads: the model comparison, the headline figures, the promotion line."""

from __future__ import annotations

from numerai_assets.core.evaluation.promotion import decide_promotion
from numerai_assets.core.evaluation.report import comparison_table, headline_figures, promotion_description
from numerai_assets.core.evaluation.scoring import flatten_summary, summarize
from numerai_assets_tests.core.evaluation.test_charts import per_era


def cells(table: str) -> dict[str, list[str]]:
    """row title -> its cells, from a markdown table."""
    rows = [line.strip("|").split("|") for line in table.splitlines()[2:]]
    return {row[0].strip(): [c.strip() for c in row[1:]] for row in rows}


def test_comparison_puts_models_side_by_side_with_rows_from_the_metrics_they_have() -> None:
    full = flatten_summary(summarize(per_era(0, ("corr", "mmc", "bmc", "fnc"))))
    corr_only = flatten_summary(summarize(per_era(1, ("corr",))))
    table = comparison_table([("lgbm (candidate)", full), ("xgb (champion)", corr_only), ("new (no champion)", None)])
    header = table.splitlines()[0]
    assert header == "| | lgbm (candidate) | xgb (champion) | new (no champion) |"
    rows = cells(table)
    assert list(rows) == [
        "CORR mean",
        "CORR Sharpe",
        "CORR max drawdown",
        "CORR hit rate",
        "MMC mean",
        "BMC mean",
        "FNC mean",
        "eras used",
    ]
    assert rows["CORR mean"][0] == f"{full['corr_mean']:.4g}"
    assert rows["CORR Sharpe"][1] == f"{corr_only['corr_sharpe']:.4g}"
    assert rows["MMC mean"][1:] == ["-", "-"]  # not computed for xgb; nothing for a model never evaluated
    assert rows["eras used"] == ["60", "60", "-"]


def test_headline_figures_derive_from_the_metrics_the_evaluation_produced() -> None:
    headline = flatten_summary(summarize(per_era(0, ("corr", "bmc", "brand_new_score"))))
    figures = headline_figures(headline)
    assert list(figures) == [
        "corr_mean",
        "corr_sharpe",
        "corr_max_drawdown",
        "corr_hit_rate",
        "corr_recent_mean",
        "bmc_mean",
        "brand_new_score_mean",
    ]
    assert figures["corr_mean"] == headline["corr_mean"]  # full precision: the metadata layer rounds


def test_the_promotion_line_names_the_model_verdict_and_reason() -> None:
    rules = {"min_sharpe": 0.5, "max_regression": 0.002}
    rejected = decide_promotion({"corr_mean": 0.01, "corr_sharpe": 0.41}, None, **rules)
    line = promotion_description("lgbm_small", rejected)
    assert line.startswith("promotion of lgbm_small: keep the current champion — ")
    assert "Sharpe 0.410 < floor 0.500" in line
    promoted = decide_promotion({"corr_mean": 0.01, "corr_sharpe": 0.9}, None, **rules)
    assert promotion_description("xgb", promoted).startswith("promotion of xgb: promote — promoted: first candidate")
