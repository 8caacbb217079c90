"""Streaming training on the tiny tournament: signal, determinism, equality with the in-memory
path, progress lines, manifest contents, era thinning, early stopping, and the batch readers."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import catboost as cb  # noqa: E402  (after numerai_assets...training, which sets OMP_WAIT_POLICY)
import lightgbm as lgb  # noqa: E402
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import xgboost as xgb  # noqa: E402

import numerai_assets
from numerai_assets.core.data import batches
from numerai_assets.core.data.batches import FeatureMatrix, SequentialRows, iter_id_batches
from numerai_assets.core.data.dataset import FeatureSets
from numerai_assets.core.training import engines
from numerai_assets.core.training.cv import Fold, embargo_violations
from numerai_assets.core.training.engines.catboost import QUANTIZE_PARAMS
from numerai_assets.core.training.manifest import features_sha256, file_sha256
from numerai_assets.core.training.roster import EarlyStopping, ModelSpec
from numerai_assets.core.training.train import engine_params, load_model, predict, train_model

ENGINES = list(engines.NAMES)
# One thread: conftest has already loaded scikit-learn's libgomp (which XGBoost shares) with busy-waiting
# threads, and two spinning threads on a busy 2-core machine made these tests 10x slower.
THREADS = 1


@pytest.fixture(scope="module")
def data(tournament_template: Path, dataset_version: str) -> dict:
    v = tournament_template / dataset_version
    fs = FeatureSets.from_json_file(v / "features.json")
    return {
        "train": str(v / "train.parquet"),
        "validation": str(v / "validation.parquet"),
        "version": dataset_version,
        "oracle": tournament_template / "_oracle" / "validation_oracle.parquet",
        "features": list(fs.sets["all"]),
    }


SHALLOW = {  # each engine's own names for "few rows per leaf, every column"
    "lightgbm": {"num_leaves": 4, "min_data_in_leaf": 200, "colsample_bytree": 1.0},
    "xgboost": {"min_child_weight": 50, "colsample_bytree": 1.0},
    "catboost": {"min_data_in_leaf": 200, "rsm": 1.0},
}


def make_spec(engine: str, **changes) -> ModelSpec:
    """Shallow trees: with 4,000 rows and a weak planted signal, deep ones only fit noise."""
    params = {"learning_rate": 0.02, "max_depth": 2} | SHALLOW[engine]
    spec = ModelSpec(
        name=f"t_{engine}", engine=engine, slot="s", seeds=(0,), num_boost_round=200, feature_set="all", params=params
    )
    return replace(spec, **changes)


def train(engine: str, data: dict, out: Path, *, log=None, **changes):
    lines: list[str] = []
    trained = train_model(
        make_spec(engine, **changes),
        0,
        data["train"],
        data["features"],
        out,
        log=log or lines.append,
        progress_every=50,
        threads=THREADS,
        batch_rows=700,
        dataset_version=data["version"],
    )
    return trained, lines


@pytest.fixture(scope="module")
def trained(data: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("models")
    return {engine: train(engine, data, out / engine) for engine in ENGINES}


@pytest.mark.parametrize("engine", ENGINES)
def test_predictions_carry_the_planted_signal(engine: str, data: dict, trained: dict) -> None:
    model, _ = trained[engine]
    preds = predict(model.model_path, data["validation"], data["features"], batch_rows=500)
    truth = pd.read_parquet(data["validation"], columns=["target"])
    assert preds.index.name == "id" and preds.index.equals(truth.index)  # every row, file order
    labelled = truth["target"].notna()
    assert np.corrcoef(preds[labelled], truth.loc[labelled, "target"])[0, 1] > 0  # weak signal, noisy
    oracle = pd.read_parquet(data["oracle"])["oracle"].reindex(preds.index)
    ok = oracle.notna()
    assert np.corrcoef(preds[ok], oracle[ok])[0, 1] > 0.05  # E[target]: a much less noisy check


@pytest.mark.parametrize("engine", ENGINES)
def test_same_seed_gives_byte_identical_model(engine: str, data: dict, trained: dict, tmp_path: Path) -> None:
    again, _ = train(engine, data, tmp_path)
    first = trained[engine][0]
    assert again.model_path.read_bytes() == first.model_path.read_bytes()
    assert again.manifest["model_sha256"] == first.manifest["model_sha256"]
    other = train_model(
        make_spec(engine, num_boost_round=20),
        1,
        data["train"],
        data["features"],
        tmp_path / "seed1",
        log=lambda _: None,
        threads=THREADS,
    )
    assert other.model_path.name.endswith("-seed1" + first.model_path.name.split("-seed0")[1])


@pytest.mark.parametrize("engine", ENGINES)
def test_streaming_matches_in_memory_training(engine: str, data: dict, tmp_path: Path) -> None:
    spec = make_spec(engine, era_step=3, num_boost_round=60)
    if engine == "lightgbm":  # bins from a 500-row sample of 1,346 rows: ours and LightGBM's differ
        spec = replace(spec, params={**spec.params, "bin_construct_sample_cnt": 500})
    ours = train_model(
        spec, 0, data["train"], data["features"], tmp_path, log=lambda _: None, threads=THREADS, batch_rows=333
    )  # batches cross era and mask boundaries
    frame = pd.read_parquet(data["train"])
    frame = frame[frame["era"].isin(sorted(frame["era"].unique())[::3])]
    X, y = frame[data["features"]], frame["target"].to_numpy()
    params = engine_params(spec, 0, THREADS)
    valid = pd.read_parquet(data["validation"], columns=data["features"])
    if engine == "lightgbm":
        naive = lgb.train(params, lgb.Dataset(X, label=y, params=params), num_boost_round=60)
        expected = naive.predict(valid)
    elif engine == "xgboost":
        naive = xgb.train(params, xgb.DMatrix(X.to_numpy(), label=y), num_boost_round=60)
        expected = naive.predict(xgb.DMatrix(valid.to_numpy()))
    else:  # CatBoost's own in-memory path: a float32 Pool quantized in memory
        fit_params = {k: v for k, v in params.items() if k not in QUANTIZE_PARAMS} | {"iterations": 60}
        naive = cb.CatBoost(fit_params).fit(cb.Pool(X.to_numpy(np.float32), label=y))
        expected = naive.predict(valid.to_numpy(np.float32))
    got = predict(ours.model_path, data["validation"], data["features"])
    assert ours.manifest["training"]["rows"] == len(frame)
    np.testing.assert_allclose(got.to_numpy(), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("engine", ENGINES)
def test_progress_lines(engine: str, trained: dict) -> None:
    _, lines = trained[engine]
    metric = "train_l2" if engine == "lightgbm" else "train_rmse"  # catboost: RMSE, lower-cased
    pattern = re.compile(rf"^iteration (\d+)/200 elapsed \d+\.\ds {metric}=\d+\.\d{{5}}$")
    its = [int(m.group(1)) for line in lines if (m := pattern.match(line))]
    assert its == [50, 100, 150, 200]


@pytest.mark.parametrize("engine", ENGINES)
def test_manifest(engine: str, data: dict, trained: dict, tmp_path: Path) -> None:
    model, _ = trained[engine]
    m = model.manifest
    assert model.manifest_path.exists() and m == __import__("json").loads(model.manifest_path.read_text())
    assert (m["engine"], m["seed"], m["target"], m["model"], m["slot"]) == (engine, 0, "target", f"t_{engine}", "s")
    assert m["features"] == data["features"] and m["feature_count"] == len(data["features"])
    assert m["features_sha256"] == features_sha256(data["features"])
    assert m["model_sha256"] == file_sha256(model.model_path) and m["model_file"] == model.model_path.name
    assert m["dataset"] == {"version": data["version"], "sha256": {"train.parquet": file_sha256(data["train"])}}
    assert m["versions"][engine] == {"lightgbm": lgb, "xgboost": xgb, "catboost": cb}[engine].__version__
    assert {"numpy", "pyarrow", "python"} <= set(m["versions"])
    assert m["versions"]["numerai_assets"] == numerai_assets.__version__
    assert m["git_sha"] is None or re.fullmatch(r"[0-9a-f]{40}", m["git_sha"])
    t = m["training"]
    eras = pd.read_parquet(data["train"], columns=["era"])["era"]
    assert (t["eras_first"], t["eras_last"], t["eras_count"], t["era_step"]) == (
        eras.min(),
        eras.max(),
        eras.nunique(),
        1,
    )
    assert t["rows"] == len(eras) and t["rounds"] == 200 and t["threads"] == THREADS
    assert m["params"][engines.REGISTRY[engine].seeds[0]] == 0 and m["started_utc"] <= m["finished_utc"]
    fewer = train_model(
        make_spec(engine, num_boost_round=5),
        0,
        data["train"],
        data["features"][:-1],
        tmp_path,
        log=lambda _: None,
        threads=THREADS,
        dataset_sha256={"x": "y"},
    )
    assert fewer.manifest["features_sha256"] != m["features_sha256"]
    assert set(fewer.manifest["dataset"]["sha256"]) == {"x", "train.parquet"}


def test_era_step_keeps_every_kth_era(data: dict, tmp_path: Path) -> None:
    model = train_model(
        make_spec("xgboost", era_step=3, num_boost_round=5),
        0,
        data["train"],
        data["features"],
        tmp_path,
        log=lambda _: None,
        threads=THREADS,
    )
    eras = pd.read_parquet(data["train"], columns=["era"])["era"]
    kept = sorted(eras.unique())[::3]
    t = model.manifest["training"]
    assert (t["eras_first"], t["eras_last"], t["eras_count"], t["era_step"]) == (kept[0], kept[-1], len(kept), 3)
    assert t["rows"] == int(eras.isin(kept).sum())


@pytest.mark.parametrize("engine", ENGINES)
def test_early_stopping_on_embargoed_last_fold(engine: str, data: dict, tmp_path: Path) -> None:
    es = EarlyStopping(eval_eras=8, patience=5, embargo=None, refit=True)
    lines: list[str] = []
    model = train_model(
        make_spec(engine, params={"learning_rate": 0.5, "max_depth": 6}, early_stopping=es, num_boost_round=300),
        0,
        data["train"],
        data["features"],
        tmp_path,
        log=lines.append,
        threads=THREADS,
        progress_every=1,
    )
    t = model.manifest["training"]
    split = t["early_stopping"]
    assert split["eval_count"] == 8 and split["embargo"] == 8 and split["refit"]
    fold = Fold(
        tuple(f"{i:04d}" for i in range(int(split["train_first"]), int(split["train_last"]) + 1)),
        tuple(f"{i:04d}" for i in range(int(split["eval_first"]), int(split["eval_last"]) + 1)),
        8,
    )
    assert embargo_violations(fold) == [] and int(split["eval_first"]) - int(split["train_last"]) > 8
    assert 1 <= t["best_iteration"] < 300 and t["rounds"] == t["best_iteration"]
    assert t["eras_count"] == 40  # refit on every era
    assert any(line.startswith("early stopping: best iteration") for line in lines)
    assert any(re.match(r"iteration \d+/300 elapsed .* eval_\w+=", line) for line in lines)


def test_load_model_rejects_tampered_file_and_wrong_features(data: dict, trained: dict, tmp_path: Path) -> None:
    model, _ = trained["xgboost"]
    predictor = load_model(model.model_path)
    assert predictor.engine == "xgboost" and predictor.features == data["features"]
    with pytest.raises(ValueError, match="features differ"):
        predict(predictor, data["validation"], data["features"][::-1])
    copy = tmp_path / model.model_path.name
    copy.write_bytes(model.model_path.read_bytes() + b" ")
    (tmp_path / model.manifest_path.name).write_bytes(model.manifest_path.read_bytes())
    with pytest.raises(ValueError, match="does not match"):
        load_model(copy)


@pytest.mark.parametrize("row_group_bytes", [None, 1])  # 1: every row group takes iter_batches
def test_feature_matrix_streams_exactly_the_selected_rows(
    data: dict, tmp_path: Path, row_group_bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    if row_group_bytes:
        monkeypatch.setattr(batches, "ROW_GROUP_BYTES", row_group_bytes)
    features = data["features"][:7]
    frame = pd.read_parquet(data["train"], columns=["era", *features])
    path = tmp_path / "train.parquet"
    pq.write_table(pa.Table.from_pandas(frame), path, row_group_size=450)  # 9 row groups
    mask = (frame["era"].isin(["0002", "0003", "0017", "0040"])).to_numpy()  # skips whole row groups
    matrix = FeatureMatrix(str(path), features, mask, batch_rows=97)
    expected = frame.loc[mask, features].to_numpy()
    got = list(matrix.batches())
    assert all(b.dtype == np.int8 and b.flags.c_contiguous and len(b) <= 97 for b in got)
    np.testing.assert_array_equal(np.concatenate(got), expected)
    assert matrix.n_rows == len(expected) and matrix.nbytes == expected.size
    picked = np.array([0, 96, 97, 250, len(expected) - 1])  # batch edges and the last row
    np.testing.assert_array_equal(matrix.take_rows(picked, np.float32), expected[picked].astype(np.float32))
    with pytest.raises(ValueError, match="sorted"):
        matrix.take_rows(np.array([5, 3]))
    rows = SequentialRows(matrix)
    np.testing.assert_array_equal(rows.take(90, 250), expected[90:250])  # crosses batches
    np.testing.assert_array_equal(rows.take(3, 4), expected[3:4])  # backwards: a new pass
    assert rows.passes == 2
    with pytest.raises(IndexError):
        rows.take(0, len(expected) + 1)
    ids, values = zip(*iter_id_batches(str(path), features, batch_rows=300), strict=False)
    assert list(np.concatenate(ids)) == list(frame.index)
    np.testing.assert_array_equal(np.concatenate(values), frame[features].to_numpy())


def test_missing_feature_values_read_as_nan_float32_and_int8_files_stay_int8(tmp_path: Path) -> None:
    path = tmp_path / "live.parquet"
    table = pa.table(
        {
            "id": ["a", "b", "c"],
            "feature_x": pa.array([1, None, 4], pa.int8()),
            "feature_y": pa.array([0.0, 3.0, float("nan")], pa.float32()),
        }
    )
    pq.write_table(table, path)
    ((ids, batch),) = iter_id_batches(str(path), ["feature_x", "feature_y"])
    assert list(ids) == ["a", "b", "c"] and batch.dtype == np.float32
    np.testing.assert_array_equal(batch, np.array([[1, 0], [np.nan, 3], [4, np.nan]], dtype=np.float32))
    matrix = FeatureMatrix(str(path), ["feature_x", "feature_y"])
    assert matrix.dtype == np.float32 and matrix.nbytes == 3 * 2 * 4  # the memory figure follows
    clean = tmp_path / "clean.parquet"
    pq.write_table(pa.table({"id": ["a"], "feature_x": pa.array([3], pa.int8())}), clean)
    ((_, batch),) = iter_id_batches(str(clean), ["feature_x"])
    assert batch.dtype == np.int8  # Numerai's int8 files keep the int8 path and its memory bound


def nan_signal_file(path: Path, n_eras: int = 20, per_era: int = 200) -> Path:
    """feature_a float with NaN: target 1 where it is NaN, 0 where it is 2, 0.5 elsewhere."""
    rng = np.random.default_rng(0)
    n = n_eras * per_era
    a = rng.integers(0, 5, n).astype(np.float32)
    a[rng.random(n) < 0.3] = np.nan
    target = np.where(np.isnan(a), 1.0, np.where(a == 2, 0.0, 0.5)).astype(np.float32)
    frame = pd.DataFrame(
        {
            "era": np.repeat([f"{e:04d}" for e in range(1, n_eras + 1)], per_era),
            "data_type": "train",
            "feature_a": a,
            "feature_b": rng.integers(0, 5, n).astype(np.int8),
            "target": target,
        },
        index=pd.Index([f"n{i:06d}" for i in range(n)], name="id"),
    )
    frame.to_parquet(path)
    return path


@pytest.mark.parametrize("engine", ENGINES)
def test_nan_feature_is_learned_and_predicted_as_missing_not_as_two(engine: str, tmp_path: Path) -> None:
    path = nan_signal_file(tmp_path / "train.parquet")
    params = {"learning_rate": 0.2, "max_depth": 3}
    params |= {
        "lightgbm": {"num_leaves": 8, "min_data_in_leaf": 20, "colsample_bytree": 1.0},
        "xgboost": {"colsample_bytree": 1.0},
    }.get(engine, {})
    spec = ModelSpec(
        name=f"nan_{engine}", engine=engine, slot="s", seeds=(0,), num_boost_round=40, feature_set="all", params=params
    )
    trained = train_model(
        spec, 0, path, ["feature_a", "feature_b"], tmp_path / "out", log=lambda _: None, threads=THREADS
    )
    assert trained.manifest["training"]["feature_dtype"] == "float32"
    preds = predict(load_model(trained.model_path), path)  # the validation / live predict path
    feature_a = pd.read_parquet(path, columns=["feature_a"])["feature_a"].reindex(preds.index)
    on_nan, on_two = preds[feature_a.isna()].mean(), preds[feature_a == 2].mean()
    assert on_nan > 0.9 and on_two < 0.1, (on_nan, on_two)  # coded as 2 they would be equal
