"""Definitions check the roster against the stored features.json when the data store has one."""

import shutil

import pytest
import yaml

from numerai_assets.core.data.dataset import DEFAULT_VERSION
from numerai_assets.core.training.roster import RosterError
from numerai_assets.definitions import build_definitions
from numerai_assets.settings import Settings
from numerai_assets.tournament.info import load_tournament_info


def settings_with_roster(tmp_path, models) -> Settings:
    (tmp_path / "roster.yaml").write_text(yaml.safe_dump({"models": models}))
    return Settings(
        mode="local",
        home=tmp_path,
        api_url="http://127.0.0.1:1",
        dataset_version=DEFAULT_VERSION,
        roster_path=tmp_path / "roster.yaml",
        tracking_mode="disabled",
    )


MODEL = {
    "name": "m1",
    "engine": "lightgbm",
    "slot": "s",
    "seeds": [0],
    "num_boost_round": 5,
    "feature_set": "medium",
    "target": "target",
}


def test_unknown_feature_set_and_target_fail_at_load_once_features_json_is_stored(tmp_path, tournament_template):
    bad = [{**MODEL, "feature_set": "enormous"}, {**MODEL, "name": "m2", "target": "target_nobody_20"}]
    settings = settings_with_roster(tmp_path, bad)
    assert build_definitions(settings)  # no features.json yet: names cannot be checked
    stored = settings.data_dir / "datasets" / settings.dataset_version / "features.json"
    stored.parent.mkdir(parents=True)
    shutil.copyfile(tournament_template / load_tournament_info(tournament_template).version / "features.json", stored)
    with pytest.raises(RosterError) as err:
        build_definitions(settings)
    message = str(err.value)  # both problems at once, each naming model and field
    assert "model 'm1': field 'feature_set'" in message and "enormous" in message
    assert "model 'm2': field 'target': unknown target 'target_nobody_20'" in message


def test_an_unreadable_stored_features_json_warns_and_still_loads(tmp_path):
    settings = settings_with_roster(tmp_path, [MODEL])
    stored = settings.data_dir / "datasets" / settings.dataset_version / "features.json"
    stored.parent.mkdir(parents=True)
    stored.write_text("{")
    with pytest.warns(UserWarning, match="features.json is unreadable"):
        assert build_definitions(settings)
