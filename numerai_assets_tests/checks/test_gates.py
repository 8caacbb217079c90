"""Gate check results as the UI shows them: subject named, figures rounded, drift never blocks."""

from dagster import AssetKey

from numerai_assets.checks.gates import blocking_gate_failure, gate_check_results
from numerai_assets.core.live.gates import GateResult

KEY = AssetKey(["a", "a_live_predictions"])
EXPOSURE = GateResult("max_feature_exposure", False, "exposure 0.4123 > 0.3", {"exposure": 0.41234567891})
DRIFT = GateResult("feature_drift", False, "psi 0.31 on feature_x", {"psi": 0.312345678})


def test_results_name_slot_and_round_and_round_their_figures():
    [result] = gate_check_results([EXPOSURE], KEY, slot="a", round_number=1234)
    assert result.description == "slot a, round 1234: exposure 0.4123 > 0.3"
    assert result.metadata["exposure"].value == 0.4123


def test_a_failed_blocking_gate_fails_with_its_reason_and_drift_alone_does_not():
    assert blocking_gate_failure([DRIFT], slot="a", round_number=7) is None
    failure = blocking_gate_failure([DRIFT, EXPOSURE], slot="a", round_number=7)
    assert failure is not None
    assert failure.description == (
        "slot a, round 7: not submitted, blocking gates failed: max_feature_exposure: exposure 0.4123 > 0.3"
    )
    assert failure.metadata["gates_failed"].value == {"max_feature_exposure": "exposure 0.4123 > 0.3"}
