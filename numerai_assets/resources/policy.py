"""Thresholds that decide what is good enough: one resource, visible and settable per deployment."""

from typing import Literal

from dagster import ConfigurableResource
from pydantic import Field


class EvaluationPolicy(ConfigurableResource):
    """Promotion and alignment thresholds for the evaluation stage."""

    min_sharpe: float = Field(default=0.25, description="candidate CORR Sharpe floor")
    max_regression: float = Field(
        default=0.002,
        description="how far candidate mean CORR may fall below the champion's (a floor, kept with a test on)",
    )
    promotion_test: Literal["paired_t", "bootstrap", "none"] = Field(
        default="paired_t",
        description="paired per-era CORR test a challenger must pass against the champion on the eras "
        "neither trained on; none: the floors alone decide",
    )
    promotion_confidence: float = Field(
        default=0.9, gt=0, lt=1, description="confidence the test needs that the challenger is better"
    )
    promotion_min_eras: int = Field(
        default=20, ge=2, description="fewest common out-of-sample eras the test accepts (fewer: not promoted)"
    )
    bootstrap_samples: int = Field(default=2000, ge=100, description="resamples of the bootstrap test")
    recent_eras: int = Field(default=52, description="window of the 'recent' summaries")
    benchmark_column: str | None = Field(
        default=None, description="the BMC reference; None: the version's *_lgbm_ender20 column"
    )
    min_benchmark_coverage: float = Field(
        default=0.9, description="lowest per-era share of our ids the benchmark must cover"
    )
    exposure_feature_set: str = Field(
        default="small", description="features for feature exposure (and FNC when fnc_feature_set is absent)"
    )
    fnc_feature_set: str = Field(
        default="fncv3_features", description="features FNC neutralizes against, when features.json has them"
    )
    embargo_eras: int | None = Field(
        default=None,
        description="validation eras skipped after the last training era; "
        "None: the target's horizon in weeks (4 for 20-day targets, 12 for 60-day)",
    )


class GatePolicy(ConfigurableResource):
    """Thresholds of the submission gates (see core.live.gates)."""

    std_floor: float = Field(default=0.01, description="minimum std of a slot's predictions")
    exposure_ceiling: float = Field(
        default=0.5, description="maximum |corr| with any single feature (a model riding one feature)"
    )
    benchmark_corr_floor: float = Field(default=0.05, description="minimum corr with the live benchmark")
    psi_threshold: float = Field(default=0.25, description="PSI above which a feature counts as drifted")
    benchmark_column: str | None = Field(
        default=None, description="live benchmark to compare with; None: the version's *_lgbm_ender20"
    )

    def thresholds(self):
        from numerai_assets.core.live.gates import GateThresholds

        return GateThresholds(self.std_floor, self.exposure_ceiling, self.benchmark_corr_floor, self.psi_threshold)


class RetrainPolicy(ConfigurableResource):
    """What, besides changed data, makes the retrain sensor retrain a slot's models."""

    on_decay: bool = Field(
        default=False,
        description="retrain a slot's models when its latest live_within_band check failed (a decay warning)",
    )
