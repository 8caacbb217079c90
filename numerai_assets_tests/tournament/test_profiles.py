"""Each convention profile generates documented Numerai plus exactly its one deviation."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from numerai_assets.tournament.generator import (
    generate_live_round,
    generate_tournament,
    load_tournament_info,
)
from numerai_assets.tournament.profiles import PROFILES, get_profile
from numerai_assets.tournament.scales import get_scale

TINY = get_scale("tiny")
ROUND = 3
BENCH_FILES = ("train_benchmark_models.parquet", "validation_benchmark_models.parquet", "meta_model.parquet")
# What each profile must produce, written out by hand (not read from the profile's switches).
EXPECTED = {
    # name: (version, unresolved tail label, live targets, bench data_type, live era, n NaN feats)
    "numerai":                ("v5.3", "validation", False, True, "X", 0),
    "v52_layout":             ("v5.2", "validation", False, True, "X", 0),
    "v53_layout":             ("v5.3", "validation", False, True, "X", 0),
    "unresolved_tail_test":   ("v5.3", "test", False, True, "X", 0),
    "live_nan_targets":       ("v5.3", "validation", True, True, "X", 0),
    "benchmark_no_data_type": ("v5.3", "validation", False, False, "X", 0),
    "live_era_placeholder":   ("v5.3", "validation", False, True, f"{58 + ROUND:04d}", 0),
    "feature_nan":            ("v5.3", "validation", False, True, "X", 2),
}  # fmt: skip


@pytest.fixture(scope="module")
def roots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = {}
    for name in EXPECTED:
        root = tmp_path_factory.mktemp(name)
        generate_tournament(root, "tiny", seed=0, profile=name)
        generate_live_round(root, ROUND)
        out[name] = root
    return out


def _read(root: Path, rel: str) -> pd.DataFrame:
    return pd.read_parquet(root / rel)


def test_every_profile_is_covered_and_unknown_ones_name_the_valid_ones(tmp_path: Path) -> None:
    assert set(EXPECTED) == set(PROFILES)
    with pytest.raises(ValueError, match="valid profiles: .*feature_nan.*numerai"):
        generate_tournament(tmp_path, "tiny", profile="nope")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_profile_conventions(roots: dict[str, Path], name: str) -> None:
    version, tail, live_targets, bench_type, live_era, n_nan = EXPECTED[name]
    root = roots[name]
    info = load_tournament_info(root)
    assert (info.profile, info.version, info.unresolved_data_type) == (name, version, tail)
    assert json.loads((root / "tournament.json").read_text())["profile"] == name

    validation = _read(root, f"{version}/validation.parquet")
    targets = [c for c in validation if c.startswith("target")]
    tail_rows = validation[validation["era"] >= info.unresolved_eras[0]]
    assert set(tail_rows["data_type"]) == {tail}
    assert tail_rows[targets].isna().all().all()
    assert set(validation["data_type"]) == {"validation", tail}

    live = _read(root, f"rounds/{ROUND}/{version}/live.parquet")
    live_target_cols = [c for c in live if c.startswith("target")]
    assert live_target_cols == (targets if live_targets else [])
    assert live[live_target_cols].isna().all().all()
    assert set(live["era"]) == {live_era} and set(live["data_type"]) == {"live"}

    for rel in [f"{version}/{f}" for f in BENCH_FILES] + [f"rounds/{ROUND}/{version}/live_benchmark_models.parquet"]:
        assert ("data_type" in _read(root, rel).columns) == bench_type, rel

    train = _read(root, f"{version}/train.parquet")
    for df in (train, validation, live):
        feats = df.filter(like="feature_")
        floats = [c for c in feats if feats[c].dtype == np.float32]
        assert len(floats) == n_nan
        assert (feats.drop(columns=floats).dtypes == np.int8).all()
        assert all(feats[c].isna().any() and feats[c].dropna().isin(range(5)).all()
                   for c in floats)  # fmt: skip


def test_v53_names_extend_v52_and_add_the_quantum_set(roots: dict[str, Path]) -> None:
    v52 = json.loads((roots["v52_layout"] / "v5.2" / "features.json").read_text())
    v53 = json.loads((roots["v53_layout"] / "v5.3" / "features.json").read_text())
    s52, s53 = v52["feature_sets"], v53["feature_sets"]
    assert "quantum" not in s52 and len(s52["all"]) == TINY.n_features
    assert s53["all"][: TINY.n_features] == s52["all"]
    assert s53["quantum"] == s53["all"][TINY.n_features :] and len(s53["quantum"]) >= 3
    for sets in (s52, s53):
        assert set(sets["small"]) < set(sets["medium"]) and sets["fncv3_features"]
        assert set(sets["fncv3_features"]) <= set(sets["all"])
    assert v53["targets"] == v52["targets"] and "target_ender_20" in v53["targets"]
    bench = {n: load_tournament_info(roots[n]).benchmark_columns for n in ("v52_layout", "numerai")}
    assert bench["v52_layout"][0] == "v52_lgbm_ender20"
    assert bench["numerai"][0] == "v53_lgbm_ender20"
    assert [c[4:] for c in bench["numerai"]] == [c[4:] for c in bench["v52_layout"]]


def test_a_profile_is_deterministic(roots: dict[str, Path], tmp_path: Path) -> None:
    generate_tournament(tmp_path, "tiny", seed=0, profile="feature_nan")
    generate_live_round(tmp_path, ROUND)

    def digest(root: Path) -> dict[str, str]:
        return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(root.rglob("*")) if p.is_file()}  # fmt: skip

    assert digest(tmp_path) == digest(roots["feature_nan"])


def test_combined_deviations_are_allowed_in_code(tmp_path: Path) -> None:
    from dataclasses import replace

    combo = replace(get_profile("benchmark_no_data_type"), name="combo", unresolved_data_type="test", version="v5.2")
    info = generate_tournament(tmp_path, "tiny", seed=0, profile=combo)
    assert (info.version, info.unresolved_data_type, info.profile) == ("v5.2", "test", "combo")
    assert "data_type" not in _read(tmp_path, "v5.2/meta_model.parquet").columns


def test_profile_template_fixture_serves_the_profile(profile_template, tmp_path: Path) -> None:
    """The session fixture other packages' tests use to run against each profile."""
    root = profile_template("benchmark_no_data_type")
    assert profile_template("benchmark_no_data_type") is root
    assert load_tournament_info(root).profile == "benchmark_no_data_type"
    assert "data_type" not in _read(root, "v5.3/validation_benchmark_models.parquet").columns
