"""Which models are stale, which listed versions are newer, and when retraining must wait."""

import pytest

from numerai_assets.core.training.staleness import (
    SeedBasis,
    decayed_models,
    newer_versions,
    retrain_basis,
    retrain_reason,
    retrain_run_key,
    round_window,
    stale_models,
)

OLD, NEW, VAL = "a" * 64, "b" * 64, "c" * 64


def test_a_model_whose_seed_was_trained_on_other_train_bytes_is_stale_once_per_file():
    seeds = [
        SeedBasis("lgbm", 0, {"train_data": OLD, "validation_data": VAL}),
        SeedBasis("lgbm", 1, {"train_data": OLD, "validation_data": VAL}),
        SeedBasis("xgb", 0, {"train_data": NEW, "validation_data": VAL}),
    ]
    stale = stale_models(seeds, {"train_data": NEW, "validation_data": VAL})
    assert stale == {"lgbm": [f"train_data sha256 {OLD[:12]}.. -> {NEW[:12]}.."]}


def test_changed_validation_makes_a_model_stale_too():
    seeds = [SeedBasis("lgbm", 0, {"train_data": NEW, "validation_data": OLD})]
    assert stale_models(seeds, {"train_data": NEW, "validation_data": VAL}) == {
        "lgbm": [f"validation_data sha256 {OLD[:12]}.. -> {VAL[:12]}.."]
    }


def test_a_seed_with_no_record_of_a_file_is_not_judged_on_it():
    """An untrained model, or data never materialized, is not 'stale'."""
    assert stale_models([SeedBasis("lgbm", 0, {})], {"train_data": NEW}) == {}
    assert stale_models([SeedBasis("lgbm", 0, {"train_data": OLD})], {}) == {}


def test_newer_versions_come_from_the_listing_oldest_first():
    listed = ["v5.0/train.parquet", "v5.2/live.parquet", "v5.10/train.parquet", "v5.1/features.json", "v6/x.json"]
    assert newer_versions(listed, "v5.1") == ["v5.2", "v5.10", "v6"]
    assert newer_versions(listed, "v6.0") == []
    assert newer_versions(["signals/v2.0/x.parquet", "README"], "v5.0") == []


def test_an_unparseable_configured_version_is_named():
    with pytest.raises(ValueError, match="'latest'"):
        newer_versions(["v5.0/train.parquet"], "latest")


def test_a_decay_warning_names_the_slot_for_each_of_its_models():
    slots = {"slot_a": ["m1", "m2"], "slot_b": ["m3"]}
    assert decayed_models(["slot_a"], slots) == {
        "m1": ["decay warning on slot slot_a"],
        "m2": ["decay warning on slot slot_a"],
    }
    with pytest.raises(ValueError, match="'gone'"):
        decayed_models(["gone"], slots)


def test_an_open_round_with_unconfirmed_slots_makes_retraining_wait_naming_round_and_slots():
    decision = round_window(812, ["slot_b", "slot_a"], run_in_flight=False)
    assert decision.wait
    assert "round 812" in decision.reason and "['slot_a', 'slot_b']" in decision.reason


def test_a_round_run_in_flight_makes_retraining_wait_even_when_slots_are_confirmed():
    decision = round_window(812, [], run_in_flight=True)
    assert decision.wait and "round 812" in decision.reason and "in flight" in decision.reason


def test_no_open_round_or_every_slot_confirmed_lets_retraining_run():
    assert not round_window(None, [], run_in_flight=False).wait
    done = round_window(812, [], run_in_flight=False)
    assert not done.wait and done.reason == "round 812: every submit slot confirmed"


def test_run_keys_are_once_per_data_model_and_seed_and_the_reason_reads_as_one_line():
    basis = retrain_basis({"validation_data": VAL, "train_data": NEW})
    assert basis == f"{NEW[:12]}-{VAL[:12]}"
    keys = {retrain_run_key(basis, m, s) for m in ("lgbm", "xgb") for s in (0, 1)}
    assert len(keys) == 4
    assert retrain_run_key(retrain_basis({"train_data": OLD, "validation_data": VAL}), "lgbm", 0) not in keys
    reason = retrain_reason({"xgb": ["decay warning on slot b"], "lgbm": ["train_data sha256 a.. -> b.."]}, ["v9.9"])
    assert reason == (
        "lgbm: train_data sha256 a.. -> b..; xgb: decay warning on slot b; newer version v9.9 listed (not switched to)"
    )
