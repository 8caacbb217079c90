"""Live scores are kept as served: any name and version, the round's multipliers where a config
matches, and whether the scored submission is ours."""

from numerai_assets.core.scores.live import RoundScores, digest, payout_estimate, rounds_of, summary_markdown

ROWS = (
    {"roundNumber": 7, "submissionId": "ours", "displayName": "corr_v9", "version": "3", "day": 1, "value": 0.01,
     "percentile": 0.4, "resolved": False, "someNewField": "kept"},
    {"roundNumber": 7, "submissionId": "ours", "displayName": "corr_v9", "version": "3", "day": 2, "value": 0.02,
     "percentile": 0.6, "resolved": False},
    {"roundNumber": 7, "submissionId": "ours", "displayName": "mmc", "version": "2", "day": 2, "value": -0.01,
     "percentile": 0.3, "resolved": False},
    {"roundNumber": 7, "submissionId": "ours", "displayName": "mmc", "version": "9", "day": 2, "value": 0.05,
     "percentile": None, "resolved": False},
)  # fmt: skip
CONFIGS = (
    {"name": "corr_v9", "version": "3", "displayName": "CORR", "defaultMultiplier": "0.75", "isPayout": True},
    {"name": "mmc", "version": "2", "displayName": "MMC", "defaultMultiplier": "2.5", "isPayout": True},
)


def test_every_name_and_version_is_summarized_with_its_latest_day_and_multiplier():
    scores = RoundScores("slot_a", 7, "model", ROWS, "ours", CONFIGS, 0.8)
    summary = scores.summary()
    assert set(summary) == {"corr_v9", "mmc_2", "mmc_9"}  # a name with two versions is split
    assert summary["corr_v9"] == {"value": 0.02, "day": 2, "resolved": False, "percentile": 0.6,
                                  "multiplier": 0.75, "payout": True}  # fmt: skip
    assert summary["mmc_2"]["multiplier"] == 2.5 and summary["mmc_9"]["multiplier"] is None
    assert scores.submitted_by_us is True
    assert RoundScores.from_json(scores.to_json()) == scores
    assert scores.to_json()["rows"][0]["someNewField"] == "kept"  # stored as it came


def test_scores_of_a_submission_we_did_not_make_say_so():
    assert RoundScores("slot_a", 7, "model", ROWS, None).submitted_by_us is False
    assert RoundScores("slot_a", 7, "model", ROWS, "another").submitted_by_us is False
    assert RoundScores("slot_a", 7, "model", (), None).submitted_by_us is None


def test_the_fingerprint_changes_with_any_value_and_not_with_order():
    by_round = rounds_of(ROWS + ({"roundNumber": 8, "displayName": "x", "value": 1.0},))
    assert set(by_round) == {7, 8}
    assert digest(list(reversed(by_round[7]))) == digest(by_round[7])
    changed = [dict(r) for r in by_round[7]]
    changed[0]["value"] = 0.011
    assert digest(changed) != digest(by_round[7])


def test_the_payout_follows_the_rounds_configs_and_is_clipped():
    """payout_factor * (0.75 * corr_v9 + 2.5 * mmc_2); mmc version 9 has no config and pays nothing."""
    clipped = tuple(dict(c, clipThreshold="0.05") for c in CONFIGS)
    estimate = payout_estimate(RoundScores("slot_a", 7, "model", ROWS, "ours", clipped, 0.8))
    assert estimate is not None
    assert estimate.unclipped == 0.8 * (0.75 * 0.02 + 2.5 * -0.01)
    assert estimate.share == estimate.unclipped and estimate.clip == 0.05
    big = tuple(dict(r, value=r["value"] * 10) for r in ROWS)  # -0.08 before the clip
    assert payout_estimate(RoundScores("slot_a", 7, "model", big, "ours", clipped, 0.8)).share == -0.05
    assert payout_estimate(RoundScores("slot_a", 7, "model", ROWS, "ours", CONFIGS, None)) is None
    text = summary_markdown(RoundScores("slot_a", 7, "model", ROWS, "ours", clipped, 0.8))
    assert "payout -0.80% of stake = 0.8 x (0.75 x corr_v9 +0.0200 + 2.5 x mmc_2 -0.0100)" in text
    assert text.endswith("clipped to +-0.05 (not resolved yet)")
