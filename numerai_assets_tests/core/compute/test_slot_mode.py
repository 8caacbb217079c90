"""The roster's slot mode: the old form stays valid (submit), compute slots are validated on load."""

from __future__ import annotations

import pytest

from numerai_assets.core.compute.images import UnknownImageError, image_spec
from numerai_assets.core.training.roster import RosterError, SlotConfig, parse_roster

MODEL = {"name": "m1", "engine": "lightgbm", "slot": "a", "seeds": [0], "num_boost_round": 5}


def roster(slots=None) -> dict:
    doc: dict = {"models": [MODEL, {**MODEL, "name": "m2", "slot": "b"}]}
    if slots is not None:
        doc["slots"] = slots
    return doc


def test_old_form_is_submit_mode() -> None:
    parsed = parse_roster(roster())
    assert parsed.slot_config("a") == SlotConfig() and parsed.slot_config("a").mode == "submit"
    assert parsed.slots_in_mode("compute") == {}


def test_compute_slot_is_read() -> None:
    parsed = parse_roster(roster({"b": {"mode": "compute", "docker_image": "Python 3.12", "data_version": "v5.3"}}))
    assert parsed.slot_config("b") == SlotConfig("compute", "Python 3.12", "v5.3")
    assert parsed.slots_in_mode("compute") == {"b": ["m2"]}
    assert parsed.slots_in_mode("submit") == {"a": ["m1"]}


@pytest.mark.parametrize(
    ("slots", "message"),
    [
        ({"b": {"mode": "hosted"}}, r"slot 'b': field 'mode': 'hosted' is not one of \['submit', 'compute'\]"),
        ({"b": {"mode": "compute"}}, r"slot 'b': field 'docker_image': required in compute mode"),
        ({"zz": {"mode": "submit"}}, r"slot 'zz': no model submits to it"),
        (
            {"b": {"mode": "compute", "docker_image": "Python 3.12", "gpu": 1}},
            r"slot 'b': unknown field\(s\) \['gpu'\]",
        ),
        ({"b": {"mode": "compute", "docker_image": 3}}, r"slot 'b': field 'docker_image': expected a non-empty string"),
    ],
)
def test_bad_slot_settings_name_slot_and_field(slots: dict, message: str) -> None:
    with pytest.raises(RosterError, match=message):
        parse_roster(roster(slots), source="r.yaml")


def test_image_pins_come_from_the_image_name() -> None:
    assert image_spec("Python 3.11").pins["lightgbm"] == "4.6.0"
    assert image_spec("py3.12").pins["pyarrow"] == "18.1.0"
    with pytest.raises(UnknownImageError, match=r"'Python 3.9' runs Python 3.9, but only \['3.11', '3.12'\]"):
        image_spec("Python 3.9")
    with pytest.raises(UnknownImageError, match="no Python version in its name"):
        image_spec("latest")
