"""Monitoring live scores against the validation band: names read by their words, the band's
arithmetic, and the warning after `decay_rounds` rounds below it (not before)."""

import numpy as np
import pandas as pd
import pytest

from numerai_assets.core.scores.live import RoundScores
from numerai_assets.core.scores.monitoring import chart_inputs, metric_for, monitor, psi_trend

METRICS = ["corr", "mmc", "bmc", "fnc", "feature_exposure"]


@pytest.mark.parametrize(
    ("name", "metric"),
    [("v2_corr20", "corr"), ("CORR20", "corr"), ("corr_v9", "corr"), ("canon_mmc", "mmc"), ("BMC", "bmc"),
     ("tc", None), ("fnc_v4", "fnc")],
)  # fmt: skip
def test_live_names_map_to_validation_metrics_by_their_words(name, metric):
    assert metric_for(name, METRICS) == metric


def test_an_explicit_mapping_wins_over_the_words():
    assert metric_for("tc", METRICS, {"tc": "mmc"}) == "mmc"


def records(values: list[float], name: str = "corr_v9", extra: dict | None = None) -> list[RoundScores]:
    """One resolved score per round (plus earlier daily values, which must not count)."""
    out = []
    for i, v in enumerate(values, start=1):
        rows = [
            {"roundNumber": i, "submissionId": f"s{i}", "displayName": name, "version": "1", "day": 1,
             "value": 99.0, "resolved": False},
            {"roundNumber": i, "submissionId": f"s{i}", "displayName": name, "version": "1", "day": 20,
             "value": v, "resolved": True},
        ]  # fmt: skip
        rows += [
            {"roundNumber": i, "displayName": k, "day": 20, "value": x, "resolved": True}
            for k, x in (extra or {}).items()
        ]
        out.append(RoundScores("slot", i, "m", tuple(rows), f"s{i}"))
    return out


VALIDATION = pd.DataFrame({"corr": np.tile([0.01, 0.03], 50), "mmc": np.tile([0.0, 0.01], 50)})  # mean .02, std .01


def test_the_band_is_the_validation_mean_within_z_standard_errors():
    report = monitor(records([0.02, 0.02, 0.02, 0.02]), VALIDATION, z=2.0)
    frame = report.tracks["corr_v9"].frame
    n = np.arange(1, 5)
    assert frame["lower"].to_numpy() == pytest.approx(0.02 - 2.0 * 0.01 / np.sqrt(n))
    assert frame["upper"].to_numpy() == pytest.approx(0.02 + 2.0 * 0.01 / np.sqrt(n))
    assert frame["value"].tolist() == [0.02] * 4  # the resolved value, not the earlier daily 99
    assert report.warnings == []


def test_decay_warns_after_decay_rounds_below_the_band_and_not_before():
    live = [0.02, 0.03, 0.02, -0.03, -0.03, -0.03, -0.03]
    warned = []
    for k in range(1, len(live) + 1):
        report = monitor(records(live[:k]), VALIDATION, z=1.96, decay_rounds=3)
        warned.append(bool(report.warnings))
    cum = np.cumsum(live) / np.arange(1, len(live) + 1)
    below = cum < 0.02 - 1.96 * 0.01 / np.sqrt(np.arange(1, len(live) + 1))
    first_below = int(np.argmax(below))
    assert below[first_below:].all() and not below[:first_below].any()
    assert warned == [k >= first_below + 2 for k in range(len(live))]  # the 3rd round below warns
    message = monitor(records(live), VALIDATION, decay_rounds=3).warnings[0]
    assert "corr_v9" in message and "corr" in message and f"({first_below + 1}-{len(live)}" in message


def test_a_score_without_a_validation_counterpart_is_tracked_without_a_band():
    report = monitor(records([0.01, -0.5, -0.5, -0.5], extra={"tc": -1.0}), VALIDATION, decay_rounds=1)
    assert report.tracks["tc"].metric is None and not report.tracks["tc"].warn(1)
    assert any("tc" in n for n in report.notes)
    assert report.tracks["corr_v9"].warn(1)
    frames, names = chart_inputs(report)
    assert set(names) == {"corr_v9", "tc"} and set(frames) >= {"live", "validation mean"}
    lower_cum = next(f for k, f in frames.items() if k.startswith("band"))["corr_v9"].cumsum()
    n = np.arange(1, 5)
    assert lower_cum.to_numpy() == pytest.approx(n * report.tracks["corr_v9"].frame["lower"].to_numpy())


def test_no_champion_figures_means_no_band_and_no_warning():
    report = monitor(records([-1.0] * 5), None, decay_rounds=1)
    assert report.warnings == [] and report.tracks["corr_v9"].metric is None


def test_psi_trend_reads_the_drift_gate_of_each_round():
    verdicts = [
        {"round": 2, "gates": [{"name": "feature_drift", "observed": {"max_psi": 0.3, "drifted": 4}}]},
        {"round": 1, "gates": [{"name": "feature_drift", "observed": {"max_psi": 0.01, "drifted": 0}}]},
        {"round": 3, "gates": [{"name": "std_above_floor", "observed": {}}]},
    ]
    trend = psi_trend(verdicts)
    assert trend.index.tolist() == [1, 2] and trend["max_psi"].tolist() == [0.01, 0.3]
