"""Training memory, naive vs ours, side by side: peak RSS and time, each run in its own process.

naive: ``pd.read_parquet`` -> ``lgb.Dataset(frame)`` / ``xgb.DMatrix(frame.to_numpy())`` /
       ``catboost.Pool(frame)`` -> train.
ours:  ``numerai_assets.core.training.train.train_model`` (int8 batches -> ``lgb.Sequence`` /
       ``ExtMemQuantileDMatrix(DataIter)`` / a text file quantized by ``catboost.utils.quantize``),
       the code path the platform runs. ``--engines`` defaults to every registered engine.
Both get the same rows and exactly the same engine parameters (``engine_params``: the roster model of
that engine, or for an engine the roster does not use its first model's learning_rate and max_depth;
``--rounds`` trees, seed 0), so their predictions on a fixed sample of validation rows must agree;
the table prints the largest difference. Target: peak <= 1.5 x int8 bytes + 0.5 GB.

``--rows N`` / ``--eras K`` / ``--era-step S`` train on the first N rows (whole eras) / the first K
eras / every S-th era only; the subset is written once to a temporary parquet file (row groups of
100k rows, like the generator's) that both paths then read.

    python benchmarks/training_memory.py --root /tmp/demo --scale demo
    python benchmarks/training_memory.py --root /work/fullscale/tournament --scale full \
        --features all --rounds 30 --paths ours
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from numerai_assets.core.data.dataset import DEFAULT_VERSION
from numerai_assets.core.training.engines import NAMES

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
EVAL_ROWS = 10_000
GB = 1e9


PORTABLE_PARAMS = ("learning_rate", "max_depth")  # names every registered engine reads the same way


def _spec(args: argparse.Namespace):
    """The packaged roster's first model of this engine at the benchmark's features and rounds; for an
    engine the roster does not use, the first model's shape with only the portable params."""
    from dataclasses import replace

    from numerai_assets.core.training.roster import load_roster

    roster = load_roster()
    spec = next((m for m in roster.models if m.engine == args.engine), None)
    if spec is None:
        first = roster.models[0]
        params = {k: v for k, v in first.params.items() if k in PORTABLE_PARAMS}
        spec = replace(first, name=f"{args.engine}_bench", engine=args.engine, params=params)
    return replace(spec, feature_set=args.features, num_boost_round=args.rounds, era_step=1)


# ----------------------------------------------------------------------------- child processes
def _ours(args: argparse.Namespace, spec, features: list[str]) -> tuple[dict, int | None, object]:
    """train_model + predict: the code path the platform runs."""
    from numerai_assets.core.training.train import peak_rss_bytes, predict, train_model

    with tempfile.TemporaryDirectory() as out:
        trained = train_model(
            spec,
            0,
            args.data,
            features,
            out,
            threads=args.threads,
            progress_every=max(1, args.rounds // 3),
            log=lambda s: print(s, file=sys.stderr),
            dataset_sha256={Path(args.data).name: "not-hashed-in-benchmark"},
        )
        t = trained.manifest["training"]
        peak = peak_rss_bytes()
        preds = predict(trained.model_path, args.eval, features).to_numpy()
    figures = {"rows": t["rows"], "load_s": 0.0, "build_s": t["build_seconds"], "train_s": t["train_seconds"]}
    return figures, peak, preds


def _naive_lightgbm(params: dict, X, y, rounds: int, threads: int):
    import lightgbm as lgb

    data = lgb.Dataset(X, label=y, params=params).construct()
    return (
        data,
        lambda: lgb.train(params, data, num_boost_round=rounds),
        lambda booster, sample: booster.predict(sample),
    )


def _naive_xgboost(params: dict, X, y, rounds: int, threads: int):
    import xgboost as xgb

    data = xgb.DMatrix(X.to_numpy(), label=y.to_numpy(), nthread=threads)
    return (
        data,
        lambda: xgb.train(params, data, num_boost_round=rounds),
        lambda booster, sample: booster.predict(xgb.DMatrix(sample.to_numpy())),
    )


def _naive_catboost(params: dict, X, y, rounds: int, threads: int):
    import catboost as cb

    from numerai_assets.core.training.engines.catboost import QUANTIZE_PARAMS

    data = cb.Pool(X, label=y, thread_count=threads)
    fit_params = {k: v for k, v in params.items() if k not in QUANTIZE_PARAMS} | {"iterations": rounds}
    return data, lambda: cb.CatBoost(fit_params).fit(data), lambda booster, sample: booster.predict(sample)


NAIVE = {"lightgbm": _naive_lightgbm, "xgboost": _naive_xgboost, "catboost": _naive_catboost}


def _naive(args: argparse.Namespace, spec, features: list[str], params: dict) -> tuple[dict, int | None, object]:
    """pandas full-frame load, the engine's own in-memory dataset, fit."""
    import pandas as pd

    from numerai_assets.core.training.train import peak_rss_bytes

    start = time.perf_counter()
    frame = pd.read_parquet(args.data, columns=[*features, spec.target])
    frame = frame[frame[spec.target].notna()]
    load_s, t0 = time.perf_counter() - start, time.perf_counter()
    _data, train, predict = NAIVE[args.engine](params, frame[features], frame[spec.target], args.rounds, args.threads)
    build_s, t0 = time.perf_counter() - t0, time.perf_counter()
    booster = train()
    train_s = time.perf_counter() - t0
    peak = peak_rss_bytes()
    preds = predict(booster, pd.read_parquet(args.eval, columns=features))
    return {"rows": len(frame), "load_s": load_s, "build_s": build_s, "train_s": train_s}, peak, preds


def child(args: argparse.Namespace) -> dict:
    import numpy as np

    from numerai_assets.core.training.train import engine_params, peak_rss_bytes

    spec, features = _spec(args), json.loads(Path(args.features_file).read_text())
    params = engine_params(spec, 0, args.threads)
    start, rss_start = time.perf_counter(), peak_rss_bytes()
    if args.path_kind == "ours":
        figures, peak, preds = _ours(args, spec, features)
    else:
        figures, peak, preds = _naive(args, spec, features, params)
    np.save(args.preds_out, np.asarray(preds, dtype=np.float64))
    return {**figures, "total_s": time.perf_counter() - start, "peak_rss": peak, "rss_after_imports": rss_start}


# ----------------------------------------------------------------------------- parent
def _prepare(args: argparse.Namespace, work: Path) -> tuple[str, str, list[str], int]:
    """Feature list, optional row/era subset of train, and the fixed validation sample."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from numerai_assets.core.data.dataset import FeatureSets

    base = Path(args.root) / args.version
    features = FeatureSets.from_json_file(base / "features.json").resolve(args.features)
    (work / "features.json").write_text(json.dumps(features))
    train = str(base / "train.parquet")
    if args.rows or args.eras or args.era_step > 1:
        era = pq.read_table(train, columns=["era"]).column("era")
        keep = np.ones(len(era), dtype=bool)
        if args.eras or args.era_step > 1:
            chosen = sorted(pc.unique(era).to_pylist())[: args.eras or None][:: args.era_step]
            keep &= pc.is_in(era, value_set=pa.array(chosen)).to_numpy(zero_copy_only=False)
        if args.rows:  # whole eras only: stop at the era boundary at or after N rows
            eras = era.to_numpy(zero_copy_only=False)
            cut = min(args.rows, len(eras))
            while cut < len(eras) and eras[cut] == eras[cut - 1]:
                cut += 1
            keep[cut:] = False
        subset = work / "train_subset.parquet"
        pf = pq.ParquetFile(train)
        writer, offset = None, 0
        for batch in pf.iter_batches(batch_size=50_000, columns=["id", "era", "target", *features]):
            part = keep[offset : offset + batch.num_rows]
            offset += batch.num_rows
            if part.any():
                batch = batch.filter(pa.array(part))
                writer = writer or pq.ParquetWriter(subset, batch.schema)
                writer.write_batch(batch, row_group_size=100_000)
        writer.close()
        train = str(subset)
    sample = next(
        pq.ParquetFile(base / "validation.parquet").iter_batches(batch_size=EVAL_ROWS, columns=["id", *features])
    )
    pq.write_table(pa.Table.from_batches([sample]), work / "eval.parquet")
    int8 = pq.ParquetFile(train).metadata.num_rows * len(features)
    return train, str(work / "eval.parquet"), features, int8


def _arguments() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", required=True, help="tournament root (holds <version>/)")
    ap.add_argument("--scale", default="", help="label printed with the results")
    ap.add_argument("--version", default=DEFAULT_VERSION)
    ap.add_argument("--rows", type=int, default=0, help="train on the first N rows (whole eras)")
    ap.add_argument("--eras", type=int, default=0, help="train on the first K eras")
    ap.add_argument("--era-step", type=int, default=1, help="then keep every k-th era (Numerai's [::4])")
    ap.add_argument("--features", default="medium", help="feature set name from features.json")
    ap.add_argument("--rounds", type=int, default=50)
    ap.add_argument("--engines", default=",".join(NAMES), help="comma-separated; default: every registered engine")
    ap.add_argument("--paths", default="naive,ours", help="which paths to run: naive,ours")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--child", choices=["naive", "ours", "prepare"], help=argparse.SUPPRESS)
    for hidden in ("engine", "data", "eval", "features-file", "preds-out", "work"):
        ap.add_argument(f"--{hidden}", help=argparse.SUPPRESS)
    return ap.parse_args()


def _child_command(args: argparse.Namespace, kind: str, engine: str, train: str, sample: str, work: Path) -> list[str]:
    options = {
        "--child": kind,
        "--engine": engine,
        "--root": args.root,
        "--data": train,
        "--eval": sample,
        "--features": args.features,
        "--features-file": str(work / "features.json"),
        "--rounds": str(args.rounds),
        "--threads": str(args.threads),
        "--preds-out": str(work / f"{engine}-{kind}.npy"),
    }
    return [sys.executable, __file__, *(item for pair in options.items() for item in pair)]


def _run_child(cmd: list[str], engine: str, kind: str, int8: int, target: float) -> dict:
    """One engine x path in its own process; the row it printed, or a 'failed' row."""
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        print(
            f"{engine} {kind}: FAILED rc={proc.returncode} after {time.perf_counter() - t0:.0f}s\n"
            f"{proc.stderr[-3000:]}",
            flush=True,
        )
        return {"engine": engine, "path": kind, "failed": proc.returncode}
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    r.update(engine=engine, path=kind, int8_bytes=int8, target_bytes=target, within_target=r["peak_rss"] <= target)
    print(
        f"{engine:8} {kind:5} rows {r['rows']:>9,} load {r['load_s']:6.1f}s build {r['build_s']:6.1f}s "
        f"train {r['train_s']:6.1f}s total {r['total_s']:6.1f}s peak RSS {r['peak_rss'] / GB:6.2f} GB "
        f"(int8 {int8 / GB:.2f} GB, target {target / GB:.2f} GB: {'within' if r['within_target'] else 'OVER'})",
        flush=True,
    )
    return r


def _compare(engine: str, naive, ours) -> dict:
    import numpy as np

    diff, corr = float(np.max(np.abs(naive - ours))), float(np.corrcoef(naive, ours)[0, 1])
    print(
        f"{engine:8} predictions naive vs ours on {len(ours)} validation rows: max |diff| {diff:.2e}, corr {corr:.6f}",
        flush=True,
    )
    return {"engine": engine, "max_abs_diff": diff, "corr": corr}


def main() -> None:
    import numpy as np

    args = _arguments()
    if args.child == "prepare":
        train, sample, _, int8 = _prepare(args, Path(args.work))
        print(json.dumps({"train": train, "eval": sample, "int8": int8}))
        return
    if args.child:
        args.path_kind = args.child
        print(json.dumps(child(args)))
        return
    print(f"uptime: {os.popen('uptime').read().strip()}", flush=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="training-bench-") as tmp:
        work = Path(tmp)
        # the subset is written by a child process, so this parent stays small while children run
        prep = subprocess.run(
            [sys.executable, __file__, *sys.argv[1:], "--child", "prepare", "--work", tmp],
            capture_output=True,
            text=True,
            check=True,
        )
        p = json.loads(prep.stdout.strip().splitlines()[-1])
        train, sample, int8 = p["train"], p["eval"], p["int8"]
        n_features = len(json.loads((work / "features.json").read_text()))
        target = 1.5 * int8 + 0.5 * GB
        print(
            f"{args.scale}: {train}: {int8 / n_features:,.0f} rows x {n_features} features = {int8 / GB:.3f} GB int8; "
            f"target peak {target / GB:.2f} GB; {args.rounds} rounds, {args.threads} threads",
            flush=True,
        )
        for engine in args.engines.split(","):
            preds = {}
            for kind in args.paths.split(","):
                r = _run_child(_child_command(args, kind, engine, train, sample, work), engine, kind, int8, target)
                results.append(r)
                if "failed" not in r:
                    preds[kind] = np.load(work / f"{engine}-{kind}.npy")
            if len(preds) == 2:
                results.append(_compare(engine, preds["naive"], preds["ours"]))
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "results": results}, indent=2))


if __name__ == "__main__":
    main()
