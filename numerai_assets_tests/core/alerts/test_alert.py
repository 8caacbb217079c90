"""What each alert says (slot, round, reason) and its key: the same event, the same key."""

import pytest

from numerai_assets.core.alerts import Alert
from numerai_assets.core.alerts import alert as alerts


def test_a_run_failure_names_job_run_round_slots_and_the_error_in_one_line():
    a = alerts.run_failure("live_round_job", "r-1", "ValueError: gate\n  Traceback...", 12, ["demo_slot_a"])
    assert a.key == "run_failure:r-1" and a.title == "Run failed: live_round_job (round 12)"
    assert a.body.splitlines() == [
        "- job: live_round_job",
        "- run: r-1",
        "- round: 12",
        "- slots: demo_slot_a",
        "- reason: ValueError: gate",
    ]


def test_decay_keys_differ_per_entry_into_the_warning_and_are_stable_for_one():
    first = alerts.decay_warning("demo_slot_a", 6, "CORR20 below the band", episode="run-6")
    assert first == alerts.decay_warning("demo_slot_a", 6, "CORR20 below the band", episode="run-6")
    assert first.key != alerts.decay_warning("demo_slot_a", 9, "CORR20 below the band", episode="run-9").key
    assert "- slot: demo_slot_a" in first.body and "- round: 6" in first.body and "CORR20" in first.body


def test_round_reports_go_out_per_stage_with_the_markdown_as_body():
    settled, finished = (alerts.round_report(8, s, "## Round 8") for s in ("settled", "finished"))
    assert (settled.key, finished.key) == ("round_report:8:settled", "round_report:8:finished")
    assert settled.body == "## Round 8"
    with pytest.raises(ValueError, match="round 8: report stage 'later'"):
        alerts.round_report(8, "later", "x")


def test_a_check_failure_names_asset_check_slot_and_round():
    a = alerts.check_failed("demo_slot_a/demo_slot_a_live_predictions", "max_feature_exposure", "r-2", "0.4 > 0.3", 5,
                            "demo_slot_a", "5")  # fmt: skip
    assert a.key == "check_failed:r-2:demo_slot_a/demo_slot_a_live_predictions:max_feature_exposure:5"
    assert "- slot: demo_slot_a" in a.body and "- round: 5" in a.body and "- reason: 0.4 > 0.3" in a.body


def test_unknown_kinds_and_foreign_keys_are_refused():
    with pytest.raises(ValueError, match="'page' is not one of"):
        Alert("page", "page:1", "t", "b")
    with pytest.raises(ValueError, match="must start with its kind"):
        Alert("missed_round", "round:1", "t", "b")


def test_one_line_takes_the_first_line_and_cuts_it():
    assert alerts.one_line("\n  first  \nsecond") == "first"
    assert alerts.one_line("x" * 400, limit=10) == "xxxxxxx..."
    assert alerts.one_line("1 check failed:\n  gate_x: 0.4\nmore") == "1 check failed: gate_x: 0.4"  # its subject
