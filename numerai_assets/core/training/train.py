"""Train one (model, seed) from a parquet file with bounded memory, and predict with it.

Memory: features stream from parquet in int8 batches into each engine's own binned format
(LightGBM ``Sequence``, XGBoost ``QuantileDMatrix``), so a step peaks near the binned data plus a
batch, not at a float copy of the whole matrix (see docs/training.md for measured figures).
Reproducibility: same data, params and seed give a byte-identical model file; the manifest beside
it records dataset hashes, features, params, versions and eras. :func:`predict` is the one path used
for validation and live predictions, so both see exactly the same reading code.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from numerai_assets.core.atomic import write_bytes_atomic
from numerai_assets.core.data.batches import EraIndex, FeatureMatrix, iter_id_batches
from numerai_assets.core.data.dataset import DEFAULT_VERSION, DatasetFile
from numerai_assets.core.training import cv, engines
from numerai_assets.core.training import manifest as mf
from numerai_assets.core.training.base import Fit, Progress, TrainingData
from numerai_assets.core.training.roster import ModelSpec

PREDICTION_COLUMN = "prediction"


def _engine(name: str, where: str) -> ModuleType:
    """The engine module from the registry (imported on first use); ``where`` names the model or file."""
    return engines.load(name, where=where)


def default_threads() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def engine_params(spec: ModelSpec, seed: int, threads: int | None = None) -> dict[str, Any]:
    """The exact parameters ``train_model`` passes to the engine (also for in-memory comparisons)."""
    return _engine(spec.engine, f"model {spec.name!r}").engine_params(spec, seed, threads or default_threads())


def model_path_for(out_dir: str | Path, spec: ModelSpec, seed: int) -> Path:
    return Path(out_dir) / f"{spec.name}-seed{seed}{mf.MODEL_SUFFIXES[spec.engine]}"


@dataclass(frozen=True)
class TrainedModel:
    model_path: Path
    manifest_path: Path
    manifest: dict[str, Any]
    seconds: float


@dataclass(frozen=True)
class _Rows:
    """Which rows a run reads: the kept eras, and with early stopping the last fold's split."""

    path: str
    features: list[str]
    index: EraIndex
    kept: list[str]
    train_eras: list[str]
    fold: cv.Fold | None
    batch_rows: int | None

    def data(self, eras: Sequence[str]) -> TrainingData:
        sel = self.index.select(eras)
        return TrainingData(FeatureMatrix(self.path, self.features, sel.mask, batch_rows=self.batch_rows), sel.labels)


@dataclass(frozen=True)
class _Fitted:
    """The fits of one run (the first, then the refit if any) and the rows the final one saw."""

    fits: list[Fit]
    data: TrainingData
    eras: list[str]

    @property
    def final(self) -> Fit:
        return self.fits[-1]


def train_model(
    spec: ModelSpec,
    seed: int,
    train: DatasetFile | str | Path,
    features: Sequence[str],
    out_dir: str | Path,
    *,
    log: Callable[[str], None] = print,
    progress_every: int = 50,
    dataset_sha256: dict[str, str] | None = None,
    dataset_version: str = DEFAULT_VERSION,
    threads: int | None = None,
    batch_rows: int | None = None,
) -> TrainedModel:
    """Train ``spec`` with ``seed`` on every ``era_step``-th era of ``train``; write model + manifest.

    With ``spec.early_stopping`` the newest eras (after an embargo) are the eval set; ``refit``
    then retrains on all kept eras for the best number of rounds.
    """
    started, t0 = mf.utc_now(), time.perf_counter()
    path = str(train.path if isinstance(train, DatasetFile) else train)
    name = train.name if isinstance(train, DatasetFile) else Path(path).name
    features = list(features)
    if not features:
        raise ValueError(f"{spec.name}: empty feature list")
    engine = _engine(spec.engine, f"model {spec.name!r}")
    threads = threads or default_threads()
    params = engine.engine_params(spec, seed, threads)
    rows = _rows(spec, path, features, batch_rows)
    try:
        fitted = _fit(engine, params, spec, seed, rows, Progress(log, progress_every, spec.num_boost_round), log)
    except MemoryError as exc:  # an engine's memory budget (or the machine) said no: name the model
        raise type(exc)(f"model {spec.name!r} seed {seed}: {exc}") from exc
    model_path = model_path_for(out_dir, spec, seed)
    model_bytes = _write_model(model_path, engine.model_bytes(fitted.final))
    summary = _training_summary(spec, fitted, rows, name, threads)
    manifest = mf.build_manifest(
        model=spec.name,
        slot=spec.slot,
        engine=spec.engine,
        seed=seed,
        target=spec.target,
        features=features,
        feature_set=spec.feature_set,
        params=params,
        dataset_version=dataset_version,
        dataset_sha256=_dataset_hashes(train, name, path, dataset_sha256),
        training=summary,
        model_file=model_path.name,
        model_sha256=hashlib.sha256(model_bytes).hexdigest(),
        started_utc=started,
    )
    manifest_path = mf.manifest_path_for(model_path)
    mf.write_manifest(manifest_path, manifest)  # after the model: a manifest always has its model
    seconds = time.perf_counter() - t0
    _log_saved(log, spec, seed, model_path, fitted.final.rounds, seconds, summary["peak_rss_bytes"])
    return TrainedModel(model_path, manifest_path, manifest, seconds)


def _rows(spec: ModelSpec, path: str, features: list[str], batch_rows: int | None) -> _Rows:
    """Kept eras (every ``era_step``-th), split on the last embargoed fold when early stopping."""
    index = EraIndex.load(path, spec.target)
    kept = cv.keep_every(index.eras, spec.era_step)
    es = spec.early_stopping
    if es is None:
        return _Rows(path, features, index, kept, kept, None, batch_rows)
    embargo = es.embargo if es.embargo is not None else cv.embargo_for_target(spec.target)
    fold = cv.last_fold(kept, eval_eras=es.eval_eras, embargo=embargo)
    return _Rows(path, features, index, kept, list(fold.train_eras), fold, batch_rows)


def _fit(
    engine: ModuleType,
    params: dict[str, Any],
    spec: ModelSpec,
    seed: int,
    rows: _Rows,
    progress: Progress,
    log: Callable[[str], None],
) -> _Fitted:
    """Fit on the training eras (stopping on the eval eras if asked), then refit on all if asked."""
    es = spec.early_stopping
    valid = rows.data(rows.fold.eval_eras) if rows.fold is not None else None
    data = rows.data(rows.train_eras)
    _log_data(log, spec, seed, data, rows.train_eras, valid)
    first = engine.fit(
        params,
        data,
        spec.num_boost_round,
        features=rows.features,
        valid=valid,
        patience=es.patience if es else None,
        progress=progress,
    )
    if first.best_iteration is None:
        return _Fitted([first], data, rows.train_eras)
    log(f"early stopping: best iteration {first.best_iteration} eval score {first.best_score:.5f}")
    if es is None or not es.refit:
        return _Fitted([first], data, rows.train_eras)
    log(f"refit on all {len(rows.kept)} eras for {first.best_iteration} rounds")
    data = rows.data(rows.kept)
    refit = engine.fit(
        params,
        data,
        first.best_iteration,
        features=rows.features,
        progress=Progress(progress.log, progress.every, first.best_iteration),
    )
    return _Fitted([first, refit], data, rows.kept)


def _write_model(model_path: Path, model_bytes: bytes) -> bytes:
    model_path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(model_path, model_bytes)
    return model_bytes


def _dataset_hashes(
    train: DatasetFile | str | Path, name: str, path: str, known: dict[str, str] | None
) -> dict[str, str]:
    """sha256 of the train file by name: given, from the DatasetFile, or hashed here (~10 s at full size)."""
    hashes = dict(known or {})
    if name not in hashes:
        hashes[name] = train.sha256 if isinstance(train, DatasetFile) else mf.file_sha256(path)
    return hashes


def _training_summary(spec: ModelSpec, fitted: _Fitted, rows: _Rows, file: str, threads: int) -> dict[str, Any]:
    """The manifest's ``training`` section: rows, eras, rounds, early stopping, times and memory."""
    first, es, fold = fitted.fits[0], spec.early_stopping, rows.fold
    return {
        "file": file,
        "rows": fitted.data.matrix.n_rows,
        "eras_first": fitted.eras[0],
        "eras_last": fitted.eras[-1],
        "eras_count": len(fitted.eras),
        "era_step": spec.era_step,
        "num_boost_round": spec.num_boost_round,
        "rounds": fitted.final.rounds,
        "best_iteration": first.best_iteration,
        "best_score": first.best_score,
        "early_stopping": None
        if fold is None or es is None
        else {**fold.summary(), "patience": es.patience, "refit": es.refit},
        "build_seconds": round(sum(f.build_seconds for f in fitted.fits), 3),
        "train_seconds": round(sum(f.train_seconds for f in fitted.fits), 3),
        "threads": threads,
        "int8_bytes": fitted.data.matrix.nbytes,
        "peak_rss_bytes": peak_rss_bytes(),
        "feature_dtype": str(fitted.data.matrix.dtype),  # float32: the file has missing values (NaN)
    }


def _log_saved(
    log: Callable[[str], None], spec: ModelSpec, seed: int, path: Path, rounds: int, seconds: float, peak: int | None
) -> None:
    log(
        f"{spec.name} seed {seed}: saved {path.name} ({rounds} rounds) in {seconds:.1f}s"
        + (f", peak RSS {peak / 1e9:.2f} GB" if peak else "")
    )


def _log_data(
    log: Callable[[str], None],
    spec: ModelSpec,
    seed: int,
    data: TrainingData,
    eras: Sequence[str],
    valid: TrainingData | None,
) -> None:
    rows, cols = data.matrix.shape
    extra = f"; eval {valid.matrix.n_rows} rows" if valid is not None else ""
    log(
        f"{spec.name} seed {seed}: {spec.engine} on {rows} rows x {cols} features "
        f"({data.matrix.nbytes / 1e6:.0f} MB {data.matrix.dtype}), {len(eras)} eras {eras[0]}..{eras[-1]} "
        f"step {spec.era_step}{extra}"
    )


def peak_rss_bytes() -> int | None:
    """This process's peak resident memory so far (VmHWM), None where /proc is unavailable."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


@dataclass
class Predictor:
    """A loaded model plus its manifest: the features it expects and the engine that reads it."""

    engine: str
    booster: Any
    features: list[str]
    manifest: dict[str, Any] = field(default_factory=dict)

    def predict_batch(self, batch: np.ndarray) -> np.ndarray:
        return _engine(self.engine, f"model {self.manifest.get('model')!r}").predict_batch(self.booster, batch)


def load_model(model_path: str | Path, *, threads: int | None = None, verify: bool = True) -> Predictor:
    """Load a model file; the engine and features come from its manifest, whose hash it must match."""
    manifest = mf.read_manifest(model_path)
    if verify and mf.file_sha256(model_path) != manifest["model_sha256"]:
        raise ValueError(f"{model_path}: file does not match the sha256 in its manifest")
    info = engines.info(manifest["engine"], where=f"model file {model_path}")
    booster = info.load().load(str(model_path), threads or manifest["params"].get(info.threads))
    return Predictor(manifest["engine"], booster, list(manifest["features"]), manifest)


def predict(
    model: Predictor | str | Path,
    parquet_path: str | Path,
    features: Sequence[str] | None = None,
    *,
    batch_rows: int | None = None,
) -> pd.Series:
    """Predictions for every row of ``parquet_path`` (index ``id``), read and scored in batches."""
    predictor = model if isinstance(model, Predictor) else load_model(model)
    if features is not None and list(features) != predictor.features:
        raise ValueError(
            f"features differ from the model's ({len(list(features))} given, "
            f"{len(predictor.features)} trained; sha256 {predictor.manifest.get('features_sha256')})"
        )
    ids, preds = [], []
    for batch_ids, batch in iter_id_batches(str(parquet_path), predictor.features, batch_rows=batch_rows):
        ids.append(batch_ids)
        preds.append(np.asarray(predictor.predict_batch(batch), dtype=np.float64))
    index = pd.Index(np.concatenate(ids) if ids else np.array([], dtype=object), name="id")
    return pd.Series(np.concatenate(preds) if preds else np.array([]), index=index, name=PREDICTION_COLUMN)
