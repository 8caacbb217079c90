"""Synthetic Numerai v5.x tournament data with a planted, drifting signal.

Writes the directory described in docs/ARCHITECTURE.md. Everything derives from per-era random
generators keyed by (seed, stream, era), so files are byte-identical for the same
(scale, seed, version, profile) whatever the batching, and full scale streams row group by row
group with bounded memory (generating the next row group overlaps writing the previous one). Each
file appears atomically; tournament.json is written last and marks a complete tournament. Several
versions can share a root: they have the same rows, ids and targets (v5.3 adds the quantum
features), so the oracle under `_oracle/` serves them all. The profile (profiles.py) picks the
conventions: documented Numerai by default.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from numerai_tools.scoring import numerai_corr

from numerai_assets.tournament.eras import (
    LIVE_ERA,
    MAX_ROUND,
    Batch,
    Era,
    TournamentContext,
    build_batch,
    float_columns,
)
from numerai_assets.tournament.info import (
    TournamentInfo,
    existing_versions,
    load_tournament_info,
    profile_of,
    version_info_path,
    write_infos,
)
from numerai_assets.tournament.profiles import DEFAULT_PROFILE, Profile, get_profile
from numerai_assets.tournament.scales import MAIN_TARGET, Scale, get_scale
from numerai_assets.tournament.versions import sort_versions
from numerai_assets.tournament.writer import (
    AtomicCsvWriter,
    AtomicParquetWriter,
    remove_stale_tmp,
    write_json_atomic,
    write_text_atomic,
)

__all__ = [
    "LIVE_ERA",
    "LIVE_FILES",
    "TOURNAMENT_FILES",
    "TournamentInfo",
    "generate_live_round",
    "generate_tournament",
    "load_tournament_info",
]

ORACLE_DIR = "_oracle"
TOURNAMENT_FILES = (
    "features.json",
    "train.parquet",
    "validation.parquet",
    "train_benchmark_models.parquet",
    "validation_benchmark_models.parquet",
    "meta_model.parquet",
    "validation_example_preds.parquet",
    "validation_example_preds.csv",
)
LIVE_FILES = (
    "live_benchmark_models.parquet",
    "live_example_preds.parquet",
    "live_example_preds.csv",
    "live.parquet",  # written last: all four present means the round is complete
)
META_COL, EXAMPLE_COL = "numerai_meta_model", "validation_example_preds"


def generate_tournament(
    root: Path | str,
    scale: str = "tiny",
    seed: int = 0,
    version: str | None = None,
    profile: str | Profile = DEFAULT_PROFILE,
    versions: Iterable[str] | None = None,
) -> TournamentInfo:
    """Write every version asked for (`versions`, else `version`, else the profile's) under
    `root`, next to any version already there; versions already complete are left alone.
    Returns the info of the newest version asked for."""
    root = Path(root)
    sc = get_scale(scale)
    prof = get_profile(profile) if isinstance(profile, str) else profile
    wanted = sort_versions(list(versions) if versions else [version or prof.version])
    _check_seed(seed)
    done = set(existing_versions(root, scale, seed, prof))
    for v in wanted:
        if v not in done or not all((root / v / f).is_file() for f in TOURNAMENT_FILES):
            _generate_version(root, sc, seed, v, prof)
            done.add(v)
    write_infos(root, sort_versions(list(done)))
    return load_tournament_info(root, wanted[-1])


def generate_live_round(root: Path | str, round_number: int) -> Path:
    """Write one round's live files for every version under `root` (deterministic from seed,
    profile and round); returns the folder of the root's newest version."""
    root = Path(root)
    info = load_tournament_info(root)
    if isinstance(round_number, bool) or not isinstance(round_number, int):
        raise TypeError(f"round_number must be an int, got {round_number!r}")
    if not 0 <= round_number < MAX_ROUND:
        raise ValueError(f"round_number must be in [0, {MAX_ROUND}), got {round_number}")
    odir = root / ORACLE_DIR / "rounds" / str(round_number)
    for version in info.versions:
        out = root / "rounds" / str(round_number) / version
        if all((out / f).is_file() for f in LIVE_FILES):
            continue
        ctx = TournamentContext(get_scale(info.scale), info.seed, version, profile_of(info))
        _write_live(ctx, round_number, out, odir)
    return root / "rounds" / str(round_number) / info.version


def _write_live(ctx: TournamentContext, round_number: int, out: Path, odir: Path) -> None:
    for d in (out, odir):
        d.mkdir(parents=True, exist_ok=True)
        remove_stale_tmp(d)
    b = build_batch(ctx, [ctx.live_era(round_number)])
    if not (odir / "live_targets.parquet").is_file():  # the same for every version
        with AtomicParquetWriter(odir / "live_targets.parquet", ctx.live_oracle_schema) as w:
            w.write([b.ids, b.era_col, pa.array(b.oracle)] + float_columns(b.targets))
    with AtomicParquetWriter(out / "live_benchmark_models.parquet", ctx.bench_schema) as w:
        w.write(ctx.bench_base(b) + float_columns(b.bench))
    with AtomicParquetWriter(out / "live_example_preds.parquet", ctx.preds_schema) as w:
        w.write([b.ids, pa.array(b.example)])
    with AtomicCsvWriter(out / "live_example_preds.csv", ctx.csv_schema) as w:
        w.write([b.ids, pa.array(b.example)])
    with AtomicParquetWriter(out / "live.parquet", ctx.live_schema) as w:
        w.write(ctx.data_columns(b, live=True))


def _generate_version(root: Path, sc: Scale, seed: int, version: str, prof: Profile) -> None:
    """Write one version's files, then `_versions/<version>.json` (marks it complete)."""
    ctx = TournamentContext(sc, seed, version, prof)
    vdir, odir = root / version, root / ORACLE_DIR
    for d in (root, vdir, odir):
        d.mkdir(parents=True, exist_ok=True)
        remove_stale_tmp(d)
    targets = ctx.model.target_columns
    write_json_atomic(vdir / "features.json", {"feature_sets": ctx.layout.feature_sets(), "targets": targets})
    n_train = _write_train(ctx, vdir)
    n_validation, scores = _write_validation(ctx, vdir, odir)

    def label(i: int) -> str:
        return ctx.era(i).label

    mean = {c: float(np.mean(v)) for c, v in scores.items()}
    sharpe = {c: _sharpe(v) for c, v in scores.items()}
    unresolved = (label(ctx.n_resolved), label(ctx.n_eras - 1)) if sc.n_test_eras else None
    info = TournamentInfo(
        version=version,
        scale=sc.name,
        seed=seed,
        n_features=ctx.layout.n_features,
        feature_sets={k: len(v) for k, v in ctx.layout.feature_sets().items()},
        targets=targets,
        benchmark_columns=list(ctx.bench_cols),
        train_eras=(label(0), label(sc.n_train_eras - 1)),
        validation_eras=(label(sc.n_train_eras), label(ctx.n_eras - 1)),
        oracle_validation_corr_mean=mean.pop("oracle"),
        oracle_validation_corr_sharpe=sharpe.pop("oracle"),
        unresolved_eras=unresolved,
        unresolved_data_type=prof.unresolved_data_type,
        benchmark_train_start_era=label(ctx.bench_start - 1),
        n_train_rows=n_train,
        n_validation_rows=n_validation,
        validation_corr_mean=mean,
        validation_corr_sharpe=sharpe,
        target_alias=MAIN_TARGET,
        live_era=prof.live_era,
        profile=prof.name,
        profile_switches=prof.to_dict(),
        versions=[version],
    )
    write_text_atomic(version_info_path(root, version), info.to_json())


def _check_seed(seed: int) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")


def _sharpe(values: list[float]) -> float:
    """mean / std with ddof=0: the platform's one Sharpe convention (core.evaluation.scoring_fast.sharpe,
    numerai-tools), so oracle figures and evaluations compare like with like (a test pins it)."""
    std = float(np.std(values, ddof=0)) if len(values) > 1 else 0.0
    return float(np.mean(values)) / std if std > 0 else math.nan


def _pipeline(
    ctx: TournamentContext,
    groups: list[list[Era]],
    write: Callable[[Batch], None],
    inspect: Callable[[Batch], None] | None = None,
) -> int:
    """Generate batch k+1 while a writer thread writes batch k; returns the rows written."""
    pending: Future[None] | None = None
    n_rows = 0
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tournament-writer") as pool:
        for group in groups:
            batch = build_batch(ctx, group)
            if inspect is not None:
                inspect(batch)
            n_rows += batch.n_rows
            if pending is not None:
                pending.result()
            pending = pool.submit(write, batch)
        if pending is not None:
            pending.result()
    return n_rows


def _write_train(ctx: TournamentContext, vdir: Path) -> int:
    groups = ctx.era_groups(range(ctx.scale.n_train_eras))
    with ExitStack() as stack:
        data = stack.enter_context(AtomicParquetWriter(vdir / "train.parquet", ctx.data_schema))
        bench = stack.enter_context(AtomicParquetWriter(vdir / "train_benchmark_models.parquet", ctx.bench_schema))

        def write(b: Batch) -> None:
            data.write(ctx.data_columns(b))
            lo, hi = b.rows_of(lambda e: e.index >= ctx.bench_start - 1)
            if hi > lo:
                bench.write(_slice(ctx.bench_base(b), lo, hi)
                            + float_columns(b.bench[:, lo:hi]))  # fmt: skip

        return _pipeline(ctx, groups, write)


def _write_validation(ctx: TournamentContext, vdir: Path, odir: Path) -> tuple[int, dict[str, list[float]]]:
    groups = ctx.era_groups(range(ctx.scale.n_train_eras, ctx.n_eras))
    scores: dict[str, list[float]] = {}
    with ExitStack() as stack:

        def open_(path: Path, schema: pa.Schema) -> AtomicParquetWriter:
            return stack.enter_context(AtomicParquetWriter(path, schema))

        data = open_(vdir / "validation.parquet", ctx.data_schema)
        bench = open_(vdir / "validation_benchmark_models.parquet", ctx.bench_schema)
        meta = open_(vdir / "meta_model.parquet", ctx.meta_schema)
        preds = open_(vdir / "validation_example_preds.parquet", ctx.preds_schema)
        oracle = open_(odir / "validation_oracle.parquet", ctx.oracle_schema)
        csv = stack.enter_context(AtomicCsvWriter(vdir / "validation_example_preds.csv", ctx.csv_schema))

        def write(b: Batch) -> None:
            base = ctx.bench_base(b)
            data.write(ctx.data_columns(b))
            bench.write(base + float_columns(b.bench))
            lo, hi = b.rows_of(lambda e: e.resolved)
            if hi > lo:
                meta.write(_slice(base, lo, hi) + [pa.array(b.meta[lo:hi])])
            preds.write([b.ids, pa.array(b.example)])
            csv.write([b.ids, pa.array(b.example)])
            oracle.write([b.ids, b.era_col, pa.array(b.oracle)])

        def score(b: Batch) -> None:
            lo = 0
            for e in b.eras:
                hi = lo + e.n_rows
                if e.resolved:
                    for col, value in _era_corr(ctx, b, lo, hi).items():
                        scores.setdefault(col, []).append(value)
                lo = hi

        n_rows = _pipeline(ctx, groups, write, score)
    return n_rows, scores


def _era_corr(ctx: TournamentContext, b: Batch, lo: int, hi: int) -> dict[str, float]:
    """Per-era numerai CORR of the oracle and the fake models against `target`."""
    preds = pd.DataFrame(
        {"oracle": b.oracle[lo:hi]}
        | dict(zip(ctx.bench_cols, b.bench[:, lo:hi], strict=False))
        | {META_COL: b.meta[lo:hi], EXAMPLE_COL: b.example[lo:hi]}
    )
    target = pd.Series(b.targets[0, lo:hi], name="target")
    return {k: float(v) for k, v in numerai_corr(preds, target).items()}


def _slice(arrays: list[pa.Array | pa.ChunkedArray], lo: int, hi: int) -> list:
    return [a.slice(lo, hi - lo) for a in arrays]
