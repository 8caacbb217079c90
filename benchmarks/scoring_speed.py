"""Per-era numerai-tools vs the vectorized engine, side by side, on the same data.

Both engines run through ``per_era_scores`` (same alignment), so the difference is the scoring:
``engine="numerai_tools"`` calls ``numerai_tools.scoring`` once per era; ``engine="vectorized"``
computes every era at once. Predictions are synthetic (meta model + noise, rounded so they tie)
over the file's own scored ids and eras. Prints wall times, the speed-up, and the largest
absolute difference between the engines (it must be < 1e-9).

FNC is numerai-tools in both engines (one lstsq per era); ``--fnc-eras K`` times it on the first
K eras and prints the per-era cost and its linear extrapolation to every era, labelled as such.

    python benchmarks/scoring_speed.py --scale demo --exposure-features small
    python benchmarks/scoring_speed.py --root /work/fullscale/tournament \
        --exposure-features small --fnc-eras 3 --fnc-features small,all
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq

from numerai_assets.core.data.versions import main_benchmark_column
from numerai_assets.core.evaluation.scoring import load_scoring_frame, per_era_scores
from numerai_assets.core.training.train import peak_rss_bytes
from numerai_assets.tournament.info import load_tournament_info


def _feature_list(root: Path, spec: str) -> list[str]:
    sets = json.loads((root / load_tournament_info(root).version / "features.json").read_text())["feature_sets"]
    return sets[spec] if spec in sets else sets["all"][: int(spec)]


def _timed(fn, repeat: int):
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, help="existing tournament directory")
    parser.add_argument("--scale", default="demo", help="generate this scale when no --root")
    parser.add_argument("--exposure-features", default="", help="feature set name or a count")
    parser.add_argument("--fnc-eras", type=int, default=0)
    parser.add_argument("--fnc-features", default="small", help="comma-separated sets/counts")
    parser.add_argument("--repeat", type=int, default=1, help="best of N runs per engine")
    args = parser.parse_args()

    tmp = None
    root = args.root
    if root is None:
        from numerai_assets.tournament.generator import generate_tournament

        tmp = tempfile.TemporaryDirectory()
        root = Path(tmp.name)
        generate_tournament(root, scale=args.scale, seed=0)
    version = load_tournament_info(root).version
    v = root / version
    bench = main_benchmark_column(pq.read_schema(v / "validation_benchmark_models.parquet").names, version)
    exposure = _feature_list(root, args.exposure_features) if args.exposure_features else []
    print(f"load avg {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; root {root}")

    load_s, frame = _timed(
        lambda: load_scoring_frame(
            v / "validation.parquet",
            v / "meta_model.parquet",
            v / "validation_benchmark_models.parquet",
            bench,
            features=exposure,
        ),
        1,
    )
    n_eras = frame["era"].nunique()
    print(
        f"load_scoring_frame: {load_s:.2f} s, {len(frame):,} scored rows, {n_eras} eras, "
        f"{len(exposure)} feature columns, {frame.memory_usage(deep=True).sum() / 1e6:,.0f} MB"
    )
    rng = np.random.default_rng(0)
    meta = frame["numerai_meta_model"].to_numpy(dtype=np.float64)
    preds = pd.Series(
        np.round(np.nan_to_num(meta, nan=0.5) + rng.normal(0, 0.3, len(frame)), 2), index=frame.index, name="prediction"
    )

    runs = [("CORR+MMC+BMC", None)]
    if exposure:
        runs.append((f"CORR+MMC+BMC+exposure ({len(exposure)} features)", frame[exposure]))
    print(f"\n{'metrics':<44} {'numerai-tools':>14} {'vectorized':>11} {'speed-up':>9} {'max |diff|':>11}")
    for label, feats in runs:

        def run(engine: str) -> pd.DataFrame:
            return per_era_scores(
                preds,
                frame["era"],
                frame["target"],
                frame["numerai_meta_model"],
                frame[bench],
                feats,  # noqa: B023 (run is called only within this iteration)
                fnc_features=[],
                engine=engine,
            )

        reference_s, reference = _timed(lambda: run("numerai_tools"), args.repeat)
        vectorized_s, vectorized = _timed(lambda: run("vectorized"), args.repeat)
        diff = float(np.nanmax(np.abs(reference.to_numpy() - vectorized.to_numpy())))
        print(
            f"{label:<44} {reference_s:>12.2f} s {vectorized_s:>9.2f} s "
            f"{reference_s / vectorized_s:>8.1f}x {diff:>11.1e}"
        )

    if args.fnc_eras:
        eras = sorted(frame["era"].unique())[: args.fnc_eras]
        part = frame[frame["era"].isin(eras)]
        print(
            f"\nFNC (numerai_tools.feature_neutral_corr per era), first {len(eras)} eras, "
            f"{len(part) / len(eras):,.0f} rows/era:"
        )
        for spec in args.fnc_features.split(","):
            names = _feature_list(root, spec)
            feats = (
                pq.read_table(  # only these eras: all 2,748 features of every era is ~11 GB
                    v / "validation.parquet", columns=["id", *names], filters=pc.field("era").isin(eras)
                )
                .to_pandas()
                .loc[part.index, names]
            )
            seconds, _ = _timed(
                lambda: per_era_scores(
                    preds.loc[part.index],
                    part["era"],
                    part["target"],
                    features=feats,  # noqa: B023 (timed at once, within this iteration)
                    engine="vectorized",
                ),
                1,
            )
            per_era = seconds / len(eras)
            print(
                f"  {len(names):>5} features: {per_era:6.2f} s/era measured; "
                f"{per_era * n_eras / 60:6.1f} min for {n_eras} eras EXTRAPOLATED"
            )
    peak = peak_rss_bytes()
    print(f"\npeak RSS {peak / 2**30:.2f} GB" if peak else "\npeak RSS unknown (no /proc)")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
