"""Thresholds that decide what is good enough: one resource, visible and settable per deployment."""
from dagster import ConfigurableResource
from pydantic import Field


class EvaluationPolicy(ConfigurableResource):
    """Promotion and alignment thresholds for the evaluation stage."""

    min_sharpe: float = Field(default=0.25, description="candidate CORR Sharpe floor")
    max_regression: float = Field(
        default=0.002, description="how far candidate mean CORR may fall below the champion's"
    )
    recent_eras: int = Field(default=52, description="window of the 'recent' summaries")
    benchmark_column: str = Field(default="v52_lgbm_ender20", description="the BMC reference")
    min_benchmark_coverage: float = Field(
        default=0.9, description="lowest per-era share of our ids the benchmark must cover"
    )
    exposure_feature_set: str = Field(
        default="small", description="features for FNC and feature exposure (FNC costs a fit per era)"
    )
