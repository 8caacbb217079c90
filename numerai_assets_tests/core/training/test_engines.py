"""The engine registry: every engine keeps the module contract, unknown engines are named with the
known ones and the model or file concerned, and reading the registry imports no engine library."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from numerai_assets.core.training import engines
from numerai_assets.core.training.manifest import MODEL_SUFFIXES, manifest_path_for
from numerai_assets.core.training.roster import ENGINES, RosterError, parse_roster
from numerai_assets.core.training.train import load_model

CONTRACT = ("engine_params", "fit", "model_bytes", "load", "predict_batch")


@pytest.mark.parametrize("name", engines.NAMES)
def test_every_registered_engine_module_keeps_the_contract(name: str) -> None:
    module = engines.load(name)
    missing = [f for f in CONTRACT if not callable(getattr(module, f, None))]
    assert not missing, f"engine {name} ({module.__name__}) lacks {missing}"


def test_roster_and_manifest_read_the_registry() -> None:
    assert ENGINES == engines.NAMES
    assert MODEL_SUFFIXES == {name: e.suffix for name, e in engines.REGISTRY.items()}
    assert len(set(MODEL_SUFFIXES.values())) == len(MODEL_SUFFIXES), "two engines share a model file suffix"
    for suffix in MODEL_SUFFIXES.values():
        assert manifest_path_for(f"/m/x-seed0{suffix}").name == "x-seed0.manifest.json"


def test_unknown_engine_names_the_model_and_the_known_engines() -> None:
    doc = {"models": [{"name": "m9", "engine": "nope", "slot": "s", "seeds": [0], "num_boost_round": 3}]}
    with pytest.raises(RosterError) as err:
        parse_roster(doc, source="r.yaml")
    assert "model 'm9': field 'engine': unknown engine 'nope'" in str(err.value)
    assert all(name in str(err.value) for name in engines.NAMES)


def test_model_file_of_an_unknown_engine_names_the_file(tmp_path: Path) -> None:
    model = tmp_path / "m-seed0.lgb.txt"
    model.write_text("not a model")
    manifest_path_for(model).write_text(json.dumps({"engine": "nope", "params": {}, "model_sha256": "x"}))
    with pytest.raises(ValueError, match=r"m-seed0\.lgb\.txt: unknown engine 'nope'; known: \[") as err:
        load_model(model, verify=False)
    assert all(name in str(err.value) for name in engines.NAMES)


@pytest.mark.parametrize("name", engines.NAMES)
def test_seed_params_are_reserved_per_engine(name: str) -> None:
    info = engines.REGISTRY[name]
    for param in info.seeds:
        doc = {"models": [{"name": "m1", "engine": name, "slot": "s", "seeds": [0], "num_boost_round": 3}]}
        doc["models"][0]["params"] = {param: 7}
        with pytest.raises(RosterError, match=rf"model 'm1': field 'params': \['{param}'\] not allowed"):
            parse_roster(doc)


def test_reading_the_registry_imports_no_engine_library() -> None:
    code = (
        "import sys, numerai_assets.core.training.roster, numerai_assets.core.training.manifest;"
        "print(sorted(n for n in sys.modules if n.split('.')[0] in "
        f"{sorted(engines.NAMES)!r}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
