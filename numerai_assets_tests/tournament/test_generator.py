"""Behaviour of the synthetic tournament generator that the server, pipeline and users rely on."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from numerai_tools.scoring import numerai_corr

from numerai_assets.tournament import eras as eras_module
from numerai_assets.tournament.generator import (
    LIVE_ERA,
    LIVE_FILES,
    TOURNAMENT_FILES,
    TournamentInfo,
    generate_live_round,
    generate_tournament,
    load_tournament_info,
)
from numerai_assets.tournament.layout import build_layout
from numerai_assets.tournament.planted_signal import SignalModel
from numerai_assets.tournament.scales import SCALES, Scale, get_scale
from numerai_assets.tournament.versions import n_quantum_features
from numerai_assets.tournament.writer import TMP_MARK

V = "v5.3"  # the default version
TINY = get_scale("tiny")
ORACLE_FILES = ("_oracle/validation_oracle.parquet",)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    r = tmp_path_factory.mktemp("tournament")
    generate_tournament(r, "tiny", seed=0)  # the default: documented Numerai, v5.3
    generate_live_round(r, 1)
    generate_live_round(r, 2)
    return r


@pytest.fixture(scope="module")
def train(root: Path) -> pd.DataFrame:
    return pd.read_parquet(root / V / "train.parquet")


@pytest.fixture(scope="module")
def validation(root: Path) -> pd.DataFrame:
    return pd.read_parquet(root / V / "validation.parquet")


@pytest.fixture(scope="module")
def features_json(root: Path) -> dict:
    return json.loads((root / V / "features.json").read_text())


def _files(root: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under root."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_writes_the_contract_layout(root: Path) -> None:
    files = set(_files(root))
    expected = {"tournament.json", f"_versions/{V}.json", *ORACLE_FILES}
    expected |= {f"{V}/{f}" for f in TOURNAMENT_FILES}
    for n in (1, 2):
        expected |= {f"rounds/{n}/{V}/{f}" for f in LIVE_FILES}
        expected.add(f"_oracle/rounds/{n}/live_targets.parquet")
    assert files == expected


def test_no_temp_files_left_behind(root: Path) -> None:
    assert not [p for p in root.rglob("*") if TMP_MARK in p.name]


def test_info_round_trips_and_matches_files(root: Path, train: pd.DataFrame) -> None:
    info = load_tournament_info(root)
    assert TournamentInfo.from_json(info.to_json()) == info
    assert (info.scale, info.seed, info.version, info.profile) == ("tiny", 0, V, "numerai")
    assert info.versions == [V]
    assert info.train_eras == ("0001", f"{TINY.n_train_eras:04d}")
    assert info.n_train_rows == len(train)
    assert info.live_era == LIVE_ERA == "X"


def test_dtypes_and_id_index(train: pd.DataFrame, root: Path) -> None:
    assert train.index.name == "id" and train.index.is_unique
    assert all(re.fullmatch(r"n[0-9a-f]{15}", i) for i in train.index[:50])
    assert pd.api.types.is_string_dtype(train["era"]) and train["era"].str.fullmatch(r"\d{4}").all()
    assert set(train["data_type"]) == {"train"}
    feats = [c for c in train if c.startswith("feature_")]
    assert len(feats) == load_tournament_info(root).n_features > TINY.n_features  # + quantum
    assert (train[feats].dtypes == np.int8).all()
    values = train[feats].to_numpy()
    assert values.min() == 0 and values.max() == 4
    share = np.bincount(values.ravel(), minlength=5) / values.size
    assert np.allclose(share, 0.2, atol=0.02)  # per-era quintile-like
    targets = [c for c in train if c.startswith("target")]
    assert (train[targets].dtypes == np.float32).all()
    schema = pq.read_schema(root / V / "train.parquet")
    assert str(schema.field("id").type) == "string"


def test_features_json_matches_columns(features_json: dict, train: pd.DataFrame, root: Path) -> None:
    sets, targets = features_json["feature_sets"], features_json["targets"]
    feats = [c for c in train if c.startswith("feature_")]
    assert sets["all"] == feats
    assert set(sets["small"]) < set(sets["medium"]) < set(sets["all"])
    assert len(sets["small"]) == TINY.n_small_features
    assert len(sets["medium"]) == TINY.n_medium_features
    assert sets["fncv3_features"] and set(sets["fncv3_features"]) <= set(feats)
    assert set(sets["quantum"]) == set(feats[TINY.n_features :])
    groups = [g for g in sets if g not in ("small", "medium", "all", "fncv3_features", "quantum")]
    assert len(groups) == 8 and "constitution" in groups
    grouped = [f for g in groups for f in sets[g]]
    assert len(grouped) == len(set(grouped)) and set(grouped) < set(feats)
    assert targets == [c for c in train if c.startswith("target")]
    assert targets[0] == "target" and len(targets) == TINY.n_targets
    assert load_tournament_info(root).feature_sets == {k: len(v) for k, v in sets.items()}


def test_main_target_is_ender_and_binned(train: pd.DataFrame, validation: pd.DataFrame, root: Path) -> None:
    info = load_tournament_info(root)
    assert info.target_alias == "target_ender_20"
    resolved = validation[validation["era"] < info.unresolved_eras[0]]
    for df in (train, resolved):
        assert df["target"].equals(df["target_ender_20"])
        assert df["target"].notna().all()
    assert set(np.unique(train["target"])) == {0.0, 0.25, 0.5, 0.75, 1.0}
    share = train["target"].value_counts(normalize=True).sort_index().to_numpy()
    assert np.allclose(share, [0.05, 0.2, 0.5, 0.2, 0.05], atol=0.01)


def test_auxiliary_targets_have_nans_and_follow_main(train: pd.DataFrame) -> None:
    aux = [c for c in train if c.startswith("target_") and c != "target_ender_20"]
    nan_share = train[aux].isna().mean()
    assert nan_share.max() > 0 and nan_share.mean() < 0.1
    corr = train[aux].corrwith(train["target"])
    assert (corr > 0.1).all()


def test_newest_validation_eras_are_validation_rows_without_targets(validation: pd.DataFrame, root: Path) -> None:
    """Documented Numerai: the unresolved tail is data_type "validation" with NaN targets."""
    info = load_tournament_info(root)
    eras = sorted(validation["era"].unique())
    assert eras[0] == f"{TINY.n_train_eras + 1:04d}" and (eras[0], eras[-1]) == info.validation_eras
    assert set(validation["data_type"]) == {"validation"} == {info.unresolved_data_type}
    targets = [c for c in validation if c.startswith("target")]
    no_target = validation[validation[targets].isna().all(axis=1)]
    assert sorted(no_target["era"].unique()) == eras[-TINY.n_test_eras :]
    assert info.unresolved_eras == (eras[-TINY.n_test_eras], eras[-1])
    assert validation.loc[validation["era"] < info.unresolved_eras[0], "target"].notna().all()


def test_ids_unique_across_files_and_fresh_each_round(
    root: Path, train: pd.DataFrame, validation: pd.DataFrame
) -> None:
    live = [pd.read_parquet(root / f"rounds/{n}/{V}/live.parquet") for n in (1, 2)]
    ids = np.concatenate([train.index, validation.index] + [lv.index for lv in live])
    assert len(ids) == len(set(ids))


def test_live_round_files(root: Path, train: pd.DataFrame) -> None:
    folder = root / "rounds" / "1" / V
    live = pd.read_parquet(folder / "live.parquet")
    assert abs(len(live) - TINY.live_rows) <= 0.05 * TINY.live_rows
    assert list(live.columns) == [c for c in train.columns if not c.startswith("target")]
    assert set(live["era"]) == {LIVE_ERA} and set(live["data_type"]) == {"live"}
    bench = pd.read_parquet(folder / "live_benchmark_models.parquet")
    preds = pd.read_parquet(folder / "live_example_preds.parquet")
    csv = pd.read_csv(folder / "live_example_preds.csv")
    assert list(csv.columns) == ["id", "prediction"]
    for ids in (bench.index, preds.index, pd.Index(csv["id"])):
        assert ids.equals(live.index)
    assert preds["prediction"].between(0, 1, inclusive="neither").all()
    assert np.allclose(csv["prediction"], preds["prediction"])


def test_prediction_files_cover_their_rows(root: Path, train: pd.DataFrame, validation: pd.DataFrame) -> None:
    info = load_tournament_info(root)
    tb = pd.read_parquet(root / V / "train_benchmark_models.parquet")
    assert tb["era"].min() == info.benchmark_train_start_era > train["era"].min()
    assert tb.index.equals(train.index[train["era"] >= info.benchmark_train_start_era])
    vb = pd.read_parquet(root / V / "validation_benchmark_models.parquet")
    assert vb.index.equals(validation.index)
    assert list(vb.columns) == ["era", "data_type", *info.benchmark_columns]
    assert info.benchmark_columns[0] == "v53_lgbm_ender20" and len(info.benchmark_columns) == 8
    for col in info.benchmark_columns:
        assert vb[col].dtype == np.float32 and vb[col].between(0, 1, inclusive="neither").all()
    meta = pd.read_parquet(root / V / "meta_model.parquet")
    assert meta.index.equals(validation.index[validation["era"] < info.unresolved_eras[0]])
    assert meta["numerai_meta_model"].dtype == np.float32
    preds = pd.read_parquet(root / V / "validation_example_preds.parquet")
    assert preds.index.equals(validation.index) and list(preds.columns) == ["prediction"]
    csv = pd.read_csv(root / V / "validation_example_preds.csv")
    assert list(csv.columns) == ["id", "prediction"] and len(csv) == len(validation)


def test_oracle_file_and_recorded_corr(root: Path, validation: pd.DataFrame) -> None:
    info = load_tournament_info(root)
    oracle = pd.read_parquet(root / "_oracle" / "validation_oracle.parquet")
    assert oracle.index.equals(validation.index) and list(oracle.columns) == ["era", "oracle"]
    df = oracle.join(validation[["target"]])
    df = df[df["era"] < info.unresolved_eras[0]]
    per_era = [numerai_corr(g[["oracle"]], g["target"])["oracle"] for _, g in df.groupby("era")]
    assert info.oracle_validation_corr_mean == pytest.approx(np.mean(per_era), abs=1e-6)
    assert info.oracle_validation_corr_mean > 0


def test_oracle_beats_fake_models_which_beat_zero(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Large enough eras for the planted signal to show through sampling noise."""
    check = Scale(
        name="check", n_features=24, n_train_eras=8, train_rows_per_era=200,
        n_validation_eras=30, validation_rows_per_era=1500, n_test_eras=0, live_rows=100,
        n_small_features=6, n_medium_features=12, n_signal_features=8,
        target_names=("ender",),
    )  # fmt: skip
    monkeypatch.setitem(SCALES, "check", check)
    info = generate_tournament(tmp_path, "check", seed=0)
    others = info.validation_corr_mean
    assert 0.04 < info.oracle_validation_corr_mean < 0.1
    assert info.oracle_validation_corr_mean > max(others.values())
    assert min(others.values()) > 0


def test_deterministic_and_seed_sensitive(root: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    generate_tournament(again, "tiny", seed=0, version=V, profile="numerai")
    for n in (1, 2):
        generate_live_round(again, n)
    assert _files(again) == _files(root)
    other = tmp_path / "other"
    generate_tournament(other, "tiny", seed=1, version=V)
    generate_live_round(other, 1)
    a, b = _files(root), _files(other)
    for name in (f"{V}/train.parquet", f"{V}/validation.parquet", f"rounds/1/{V}/live.parquet"):
        assert a[name] != b[name]
    ids0 = pd.read_parquet(root / V / "train.parquet", columns=["era"]).index
    ids1 = pd.read_parquet(other / V / "train.parquet", columns=["era"]).index
    assert not set(ids0) & set(ids1)


def test_rerun_is_a_no_op_and_other_params_fail(root: Path) -> None:
    before = {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}
    assert generate_tournament(root, "tiny", seed=0, version=V) == load_tournament_info(root)
    assert generate_live_round(root, 1) == root / "rounds" / "1" / V
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()} == before
    with pytest.raises(ValueError, match="seed=0"):
        generate_tournament(root, "tiny", seed=3, version=V)
    with pytest.raises(ValueError, match="scale='tiny'"):
        generate_tournament(root, "demo", seed=0, version=V)
    with pytest.raises(ValueError, match="profile='numerai'"):
        generate_tournament(root, "tiny", seed=0, profile="feature_nan")


def test_bad_scale_names_the_valid_ones(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="demo, full, tiny"):
        get_scale("huge")
    with pytest.raises(ValueError, match="valid scales"):
        generate_tournament(tmp_path, "huge")
    with pytest.raises(ValueError, match="'5.3'"):
        generate_tournament(tmp_path, "tiny", version="5.3")
    assert not list(tmp_path.iterdir())


def test_live_round_needs_a_tournament_and_a_valid_number(root: Path, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        generate_live_round(tmp_path, 1)
    with pytest.raises(ValueError):
        generate_live_round(root, -1)


def test_failure_mid_write_leaves_no_partial_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"n": 0}
    real = eras_module.build_batch

    def flaky(ctx, group):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk on fire")
        return real(ctx, group)

    monkeypatch.setattr("numerai_assets.tournament.generator.build_batch", flaky)
    monkeypatch.setitem(SCALES, "tiny", Scale(**{**TINY.__dict__, "row_group_rows": 500}))
    with pytest.raises(RuntimeError, match="disk on fire"):
        generate_tournament(tmp_path, "tiny")
    left = [p.name for p in tmp_path.rglob("*") if p.is_file()]
    assert left == ["features.json"]  # complete on its own; no parquet, no tournament.json


def test_full_scale_has_the_v52_and_v53_shapes() -> None:
    full = get_scale("full")
    layout = build_layout(full, seed=0)
    sets = layout.feature_sets()
    assert [len(sets[k]) for k in ("small", "medium", "all")] == [42, 780, 2748]
    assert "quantum" not in sets
    v53 = build_layout(full, seed=0, n_quantum=n_quantum_features("v5.3", full.n_features))
    assert len(v53.feature_sets()["quantum"]) == 807 and v53.n_features == 3_555
    assert v53.names[:2748] == layout.names
    assert [len(sets[g]) for g in ("constitution", "charisma", "intelligence")] == [335, 290, 35]
    assert len(SignalModel(full, 0, layout).target_columns) == 41
    assert len(set(layout.signal) & set(layout.small)) >= 5


def test_several_versions_share_a_root_rows_and_targets(root: Path, tmp_path: Path) -> None:
    """A second version generated into a root sits next to the first, same ids and targets."""
    other = tmp_path / "both"
    info = generate_tournament(other, "tiny", seed=0, versions=["v5.2", V])
    assert info.version == V and info.versions == ["v5.2", V]
    assert load_tournament_info(other, "v5.2").versions == ["v5.2", V]
    assert _files(other)[f"{V}/train.parquet"] == _files(root)[f"{V}/train.parquet"]
    generate_live_round(other, 1)
    old = pd.read_parquet(other / "v5.2" / "train.parquet")
    new = pd.read_parquet(other / V / "train.parquet")
    assert new[old.columns].equals(old) and len(new.columns) > len(old.columns)
    live = {v: pd.read_parquet(other / f"rounds/1/{v}/live.parquet") for v in ("v5.2", V)}
    assert live[V].index.equals(live["v5.2"].index)
    with pytest.raises(FileNotFoundError, match="v5.0"):
        load_tournament_info(other, "v5.0")


def test_a_root_from_generator_1_is_read_and_refused_by_name(root: Path, tmp_path: Path) -> None:
    """Roots written before profiles ("test" tail, live targets) still load; regenerating one
    with the new defaults says which profile it holds instead of mixing conventions."""
    raw = json.loads((root / "tournament.json").read_text())
    raw["test_eras"] = raw.pop("unresolved_eras")
    for key in ("unresolved_data_type", "target_alias", "profile", "profile_switches", "versions"):
        raw.pop(key)
    raw.update(version="v5.2", generator_version=1)
    (tmp_path / "tournament.json").write_text(json.dumps(raw))
    info = load_tournament_info(tmp_path)
    assert (info.unresolved_data_type, info.profile, info.versions) == ("test", "legacy", ["v5.2"])
    with pytest.raises(ValueError, match="profile='legacy'.*delete this one"):
        generate_tournament(tmp_path, "tiny", seed=0)


def test_oracle_sharpe_follows_the_platforms_one_sharpe_convention():
    from numerai_assets.core.evaluation.scoring_fast import sharpe
    from numerai_assets.tournament.generator import _sharpe

    values = list(np.random.default_rng(3).normal(0.02, 0.03, 40))
    assert _sharpe(values) == pytest.approx(sharpe(values), rel=1e-12)
