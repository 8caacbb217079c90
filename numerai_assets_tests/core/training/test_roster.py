"""Roster: the packaged roster loads and resolves; every kind of mistake fails naming model and field."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from numerai_assets.core.data.dataset import FeatureSets
from numerai_assets.core.training.roster import DEFAULT_ROSTER_PATH, RosterError, load_roster, parse_roster
from numerai_assets.tournament.info import load_tournament_info

GOOD = {
    "name": "m1",
    "engine": "lightgbm",
    "slot": "slot_a",
    "feature_set": "small",
    "target": "target",
    "seeds": [0, 1],
    "num_boost_round": 10,
    "params": {"learning_rate": 0.1},
}


@pytest.fixture(scope="module")
def feature_sets(tournament_template: Path) -> FeatureSets:
    return FeatureSets.from_json_file(
        tournament_template / load_tournament_info(tournament_template).version / "features.json"
    )


def roster_with(**changes) -> dict:
    model = copy.deepcopy(GOOD)
    for key, value in changes.items():
        if value is ...:
            model.pop(key)
        else:
            model[key] = value
    return {"models": [model]}


def test_default_roster_loads_and_resolves(feature_sets: FeatureSets) -> None:
    roster = load_roster(feature_sets=feature_sets)
    assert roster.source == str(DEFAULT_ROSTER_PATH)
    assert {m.engine for m in roster.models} == {"lightgbm", "xgboost"}
    assert roster.slots == {"demo_slot_a": ["lgbm_medium"], "demo_slot_b": ["xgb_medium"]}
    for spec in roster.models:
        assert len(spec.seeds) == 3
        assert spec.features(feature_sets) == list(feature_sets.sets["medium"])
    assert roster.get("xgb_medium").params["max_bin"] == 8
    with pytest.raises(KeyError, match="nope"):
        roster.get("nope")


def test_override_path_and_feature_group_union(tmp_path: Path, feature_sets: FeatureSets) -> None:
    doc = roster_with(feature_set=["small", "constitution"], name="m2")
    doc["models"].append({**GOOD, "name": "m3"})  # same slot: an ensemble of two models
    path = tmp_path / "roster.yaml"
    path.write_text(yaml.safe_dump(doc))
    roster = load_roster(path, feature_sets=feature_sets)
    assert roster.names == ["m2", "m3"] and roster.slots == {"slot_a": ["m2", "m3"]}
    wanted = set(feature_sets.sets["small"]) | set(feature_sets.sets["constitution"])
    assert roster.get("m2").features(feature_sets) == [f for f in feature_sets.sets["all"] if f in wanted]
    assert roster.get("m2").era_step == 1 and roster.get("m2").early_stopping is None


@pytest.mark.parametrize(
    ("changes", "field", "detail"),
    [
        ({"engine": "nosuchengine"}, "engine", "unknown engine 'nosuchengine'"),
        ({"feature_set": "huge"}, "feature_set", "unknown feature set"),
        ({"feature_set": []}, "feature_set", "non-empty list"),
        ({"target": "target_nobody_20"}, "target", "unknown target"),
        ({"seeds": []}, "seeds", "non-empty list"),
        ({"seeds": [1, 1]}, "seeds", "duplicate seeds"),
        ({"seeds": [1, "2"]}, "seeds", "integers"),
        ({"slot": ...}, "slot", "missing"),
        ({"slot": 7}, "slot", "non-empty string"),
        ({"num_boost_round": "300"}, "num_boost_round", "integer"),
        ({"num_boost_round": True}, "num_boost_round", "integer"),
        ({"era_step": 0}, "era_step", ">= 1"),
        ({"params": [1, 2]}, "params", "mapping"),
        ({"params": {"n_estimators": 5}}, "params", "num_boost_round"),
        ({"colour": "red"}, "colour", "unknown field"),
        ({"early_stopping": {"eval_eras": 0}}, "early_stopping", "eval_eras"),
        ({"early_stopping": {"wait": 3}}, "early_stopping", "unknown key"),
        ({"name": "bad name/x"}, "name", "must match"),
    ],
)
def test_invalid_model_names_model_and_field(changes, field, detail, feature_sets: FeatureSets) -> None:
    with pytest.raises(RosterError) as err:
        parse_roster(roster_with(**changes), source="r.yaml", feature_sets=feature_sets)
    message = str(err.value)
    assert "r.yaml" in message and field in message and detail in message
    name = changes.get("name", "m1")
    assert f"model {name!r}" in message


def test_duplicate_names_and_document_errors(tmp_path: Path) -> None:
    with pytest.raises(RosterError, match=r"model 'm1': field 'name': duplicate model name"):
        parse_roster({"models": [GOOD, GOOD]})
    with pytest.raises(RosterError, match="non-empty list"):
        parse_roster({"models": []})
    with pytest.raises(RosterError, match="unknown top-level"):
        parse_roster({"models": [GOOD], "extra": 1})
    with pytest.raises(RosterError, match=r"model #1: expected a mapping"):
        parse_roster({"models": ["m1"]})
    bad = tmp_path / "bad.yaml"
    bad.write_text("models: [\n")
    with pytest.raises(RosterError, match="invalid YAML"):
        load_roster(bad)
    with pytest.raises(RosterError, match="cannot read"):
        load_roster(tmp_path / "missing.yaml")


def test_all_problems_reported_at_once() -> None:
    doc = roster_with(engine="nosuchengine", seeds=[], slot=...)
    with pytest.raises(RosterError) as err:
        parse_roster(doc)
    assert all(f in str(err.value) for f in ("'engine'", "'seeds'", "'slot'"))


def test_without_feature_sets_names_are_not_checked() -> None:
    roster = parse_roster(
        roster_with(
            feature_set="huge", target="target_x_60", early_stopping={"eval_eras": 4, "patience": 3, "refit": True}
        )
    )
    spec = roster.models[0]
    assert spec.feature_set == "huge" and spec.early_stopping.refit and spec.early_stopping.embargo is None


def test_models_must_share_their_seeds_naming_the_models() -> None:
    """The seed dimension is shared: a model's evaluation would wait on seeds it never trains."""
    doc = {
        "models": [
            {**GOOD, "name": "m1"},
            {**GOOD, "name": "m2", "slot": "slot_b"},
            {**GOOD, "name": "m3", "seeds": [0, 1, 2]},
        ]
    }
    with pytest.raises(RosterError) as err:
        parse_roster(doc, source="r.yaml")
    message = str(err.value)
    assert "field 'seeds'" in message and "same seeds" in message
    assert "['m1', 'm2'] have [0, 1]" in message and "['m3'] have [0, 1, 2]" in message
    same = parse_roster({"models": [{**GOOD, "name": "m1"}, {**GOOD, "name": "m2", "seeds": [1, 0]}]})
    assert [m.seeds for m in same.models] == [(0, 1), (1, 0)]
