"""Data contracts, naive vs ours, side by side: wall time and peak RSS, each run in its own process.

naive: ``pd.read_parquet`` of the file + one great-expectations expectation per column on the
       DataFrame (in_set 0..4 + not_null per feature, between [0, 1] per target, unique id, era
       regex, data_type in set, not_null on keys), suite built with the fast constructor.
ours:  ``numerai_assets.core.data.contracts.check_dataset``: one streaming pyarrow pass computing exact
       per-column statistics + a constant-size suite over those statistics.

Loading 2.75 M x 2,748 features into pandas needs ~2x 7.6 GB and ~5,500 expectations, so on big
files ``--naive-columns N`` runs naive on the first N and then 2N feature columns (all other
columns included), prints the measured cost per feature column (the slope between the two runs)
and the linear extrapolation to every feature, labelled EXTRAPOLATED. Ours always runs in full.
A full naive run that would need more than half the available memory is skipped (it gets
OOM-killed: 16 GB on full train), with a message.

    python benchmarks/contracts_benchmark.py --root /work/fullscale/tournament \
        --files train,validation,live --naive-columns 100
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

from numerai_assets.tournament.info import load_tournament_info

ROOT = Path(__file__).resolve().parents[1]
NAIVE_SAMPLED_MIN_ROWS = 100_000  # smaller files (live) always run naive in full
KINDS = {"train": "train", "validation": "validation", "live": "live"}


def _peak_rss_mb() -> float:
    from numerai_assets.core.training.train import peak_rss_bytes

    peak = peak_rss_bytes()
    return float("nan") if peak is None else peak / 2**20


def _cpu_s() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _import_gx():
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    t = time.perf_counter()
    import great_expectations as gx
    import great_expectations.expectations as gxe

    return gx, gxe, time.perf_counter() - t


# ----------------------------------------------------------------------------- child processes
def child_ours(args: argparse.Namespace) -> dict:
    start = time.perf_counter()
    _, _, t_import = _import_gx()  # paid by both methods; reported separately
    from numerai_assets.core.data.contracts import check_dataset

    spec = json.loads(Path(args.spec).read_text())
    result = check_dataset(
        args.path,
        args.kind,
        features=spec["features"],
        targets=spec["targets"],
        required_features=spec["required"],
        batch_rows=args.batch_rows,
    )
    prof = result.profile
    return {
        "seconds": time.perf_counter() - start,
        "import_gx_s": t_import,
        "profile_s": prof.seconds,
        "validate_s": result.seconds - prof.seconds,
        "rows": result.rows,
        "batches": prof.batches,
        "batch_rows": prof.batch_rows,
        "expectations": result.expectations,
        "passed": result.passed,
        "failures": [f.message for f in result.failures],
        "peak_rss_mb": _peak_rss_mb(),
        "cpu_s": _cpu_s(),
    }


def child_naive(args: argparse.Namespace) -> dict:
    start = time.perf_counter()
    gx, gxe, t_import = _import_gx()
    import pandas as pd
    import pyarrow.parquet as pq
    from great_expectations.data_context.types.base import ProgressBarsConfig

    # read like the contract child does so both pay the same; the naive baseline takes its columns from the file
    json.loads(Path(args.spec).read_text())
    names = pq.ParquetFile(args.path).schema_arrow.names
    all_features = [c for c in names if c.startswith("feature_")]
    features = all_features[: args.features] if args.features else all_features
    columns = [c for c in names if not c.startswith("feature_")] + features
    t = time.perf_counter()
    df = pd.read_parquet(args.path, columns=[c for c in columns if c != "id"]).reset_index()
    t_read = time.perf_counter() - t
    targets = [c for c in df.columns if c.startswith("target")]
    live = args.kind == "live"
    exps = [gxe.ExpectColumnValuesToBeUnique(column="id")]
    exps += [gxe.ExpectColumnValuesToNotBeNull(column=c) for c in ("id", "era", "data_type")]
    exps.append(
        gxe.ExpectColumnValuesToBeInSet(column="era", value_set=["X"])
        if live
        else gxe.ExpectColumnValuesToMatchRegex(column="era", regex=r"^[0-9]{4}$")
    )
    allowed = {"train": ["train"], "validation": ["validation", "test"], "live": ["live"]}[args.kind]
    exps.append(gxe.ExpectColumnValuesToBeInSet(column="data_type", value_set=allowed))
    exps += [gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0, max_value=1) for c in targets]
    if not live:
        exps.append(
            gxe.ExpectColumnValuesToNotBeNull(
                column="target", row_condition='data_type!="test"', condition_parser="pandas"
            )
        )
    feature_exps = []
    for f in features:
        feature_exps += [
            gxe.ExpectColumnValuesToBeInSet(column=f, value_set=[0, 1, 2, 3, 4]),
            gxe.ExpectColumnValuesToNotBeNull(column=f),
        ]
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    batch = (
        context.data_sources.add_pandas("naive")
        .add_dataframe_asset("file")
        .add_batch_definition_whole_dataframe("all")
        .get_batch(batch_parameters={"dataframe": df})
    )
    # The usual shape: suites built with the constructor (add_expectation is O(n^2)); the
    # non-feature and the feature expectations are two suites so that each part is timed.
    timings, failed = [], []
    for name, suite_exps in (("rest", exps), ("features", feature_exps)):
        t = time.perf_counter()
        results = batch.validate(gx.ExpectationSuite(name=f"naive_{name}", expectations=suite_exps))
        timings.append(time.perf_counter() - t)
        failed += [
            f"{r.expectation_config.type}({r.expectation_config.kwargs.get('column')})"
            for r in results.results
            if not r.success
        ]
    t_rest, t_features = timings
    return {
        "seconds": time.perf_counter() - start,
        "import_gx_s": t_import,
        "read_s": t_read,
        "validate_s": t_rest + t_features,
        "rest_s": t_rest,
        "features_s": t_features,
        "rows": len(df),
        "width": df.shape[1],
        "features_checked": len(features),
        "features_total": len(all_features),
        "expectations": len(exps) + len(feature_exps),
        "feature_expectations": len(feature_exps),
        "passed": not failed,
        "failures": failed[:10],
        "peak_rss_mb": _peak_rss_mb(),
        "cpu_s": _cpu_s(),
    }


def extrapolate(a: dict, b: dict) -> dict:
    """Naive on every feature, from its runs on N and 2N features (a, b): linear in the number of
    features, with the measured slopes (time: read + validation; memory: peak RSS). A lower
    bound if great-expectations' per-expectation cost grows with the DataFrame's width."""
    dn = b["features_checked"] - a["features_checked"]
    rest = b["features_total"] - b["features_checked"]
    work = lambda o: o["read_s"] + o["validate_s"]  # noqa: E731 (imports excluded: noise)
    per_s = max(0.0, (work(b) - work(a)) / dn)
    per_mb = max(0.0, (b["peak_rss_mb"] - a["peak_rss_mb"]) / dn)
    e_full = b["expectations"] + b["feature_expectations"] * rest // b["features_checked"]
    return {
        "wall_s": b["wall_s"] + per_s * rest,
        "peak_rss_mb": b["peak_rss_mb"] + per_mb * rest,
        "per_feature_s": per_s,
        "per_feature_mb": per_mb,
        "expectations": e_full,
    }


# ----------------------------------------------------------------------------- parent
def run_child(method: str, path: Path, kind: str, spec: Path, extra: list[str]) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        method,
        "--path",
        str(path),
        "--kind",
        kind,
        "--spec",
        str(spec),
        *extra,
    ]
    env = dict(os.environ, GX_ANALYTICS_ENABLED="false", PYTHONPATH=str(ROOT))
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        return {"error": f"exit {proc.returncode}: {proc.stderr.strip()[-600:]}", "wall_s": wall}
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["wall_s"] = wall  # process start to exit, imports included
    return out


def naive_memory_gb(rows: int, n_features: int, n_columns: int) -> float:
    """pd.read_parquet holds the Arrow table and the DataFrame: ~2 bytes per int8 feature cell,
    ~8 per float32 cell, ~100 per string cell (measured slopes: 5.3 MB per feature on 2.75 M rows)."""
    others = n_columns - n_features
    return rows * (2 * n_features + 8 * others + 100 * 3) / 2**30


def available_gb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 2**20
    return float("inf")


def find_files(root: Path, names: list[str], round_number: int | None) -> dict[str, Path]:
    version = load_tournament_info(root).version
    files = {n: root / version / f"{n}.parquet" for n in names if n != "live"}
    if "live" in names:
        rounds = (
            sorted((int(p.name) for p in (root / "rounds").glob("*") if p.name.isdigit()), reverse=True)
            if (root / "rounds").is_dir()
            else []
        )
        if round_number is not None:
            rounds = [round_number]
        live = [root / "rounds" / str(r) / version / "live.parquet" for r in rounds]
        files["live"] = next((p for p in live if p.is_file()), None) or _generate_live(root)
    return files


def _generate_live(root: Path) -> Path:
    """No round in ``root``: write round 1's live file into a scratch root (root stays untouched)."""
    from numerai_assets.tournament.generator import generate_live_round

    scratch = Path(tempfile.mkdtemp(prefix="contracts-bench-"))
    shutil.copy(root / "tournament.json", scratch / "tournament.json")
    return generate_live_round(scratch, 1) / "live.parquet"


def fmt_row(cols: list[str], widths: list[int]) -> str:
    return "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(cols, widths, strict=False)))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", type=Path, help="a generated tournament root")
    p.add_argument(
        "--scale",
        default="demo",
        help="without --root: generate this scale under $NUMERAI_ASSETS_HOME/benchmarks/<scale> (reused if there)",
    )
    p.add_argument("--files", default="train,validation,live")
    p.add_argument("--round", type=int, default=None, help="round of the live file (default: latest)")
    p.add_argument(
        "--naive-columns",
        type=int,
        default=0,
        help=f"on files with more than {NAIVE_SAMPLED_MIN_ROWS:,} rows run naive on N and 2N features and extrapolate",
    )
    p.add_argument("--batch-rows", type=int, default=None, help="ours: rows per batch (default: auto)")
    p.add_argument("--methods", default="naive,ours")
    p.add_argument("--json", type=Path, help="also write the raw figures here")
    p.add_argument("--child", choices=["naive", "ours"], help=argparse.SUPPRESS)
    p.add_argument("--path", help=argparse.SUPPRESS)
    p.add_argument("--kind", help=argparse.SUPPRESS)
    p.add_argument("--spec", help=argparse.SUPPRESS)
    p.add_argument("--features", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps((child_ours if args.child == "ours" else child_naive)(args)))
        return 0

    root = args.root
    if root is None:
        from numerai_assets.tournament.generator import generate_tournament

        root = Path(os.environ.get("NUMERAI_ASSETS_HOME", ROOT / ".numerai_assets")) / "benchmarks" / args.scale
        generate_tournament(root, scale=args.scale, seed=0)
    version = load_tournament_info(root).version
    sets = json.loads((root / version / "features.json").read_text())
    spec_path = Path(tempfile.mkstemp(prefix="contracts-spec-", suffix=".json")[1])
    spec_path.write_text(
        json.dumps(
            {
                "features": sets["feature_sets"]["all"],
                "targets": sets["targets"],
                "required": sets["feature_sets"].get("medium", []),
            }
        )
    )
    files = find_files(root, [f for f in args.files.split(",") if f], args.round)
    methods = args.methods.split(",")
    print(
        f"machine: {os.cpu_count()} cores, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB; root {root}; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    widths = [11, 22, 9, 8, 8, 9, 6, 10, 40]
    print(fmt_row(["file", "method", "wall s", "cpu s", "peak GB", "expect.", "pass", "rows", "phases (s)"], widths))
    records = []
    for name, path in files.items():
        kind = KINDS[name]
        schema = pq.ParquetFile(path).schema_arrow
        rows = pq.ParquetFile(path).metadata.num_rows
        n_features = sum(c.startswith("feature_") for c in schema.names)
        for method in methods:
            runs: list[tuple[str, list[str]]] = [("", [])]
            if method == "ours" and args.batch_rows:
                runs = [("", ["--batch-rows", str(args.batch_rows)])]
            sampled = (
                method == "naive"
                and args.naive_columns
                and rows > NAIVE_SAMPLED_MIN_ROWS
                and 2 * args.naive_columns < n_features
            )
            if method == "naive" and not sampled:
                need, free = naive_memory_gb(rows, n_features, len(schema.names)), available_gb()
                if need > 0.5 * free:  # GX copies the frame too; full train was OOM-killed at 16 GB
                    print(
                        fmt_row(
                            [
                                name,
                                "naive SKIPPED",
                                "-",
                                "-",
                                f"~{need:.0f}",
                                "-",
                                "-",
                                f"{rows:,}",
                                f"needs ~{need:.0f} GB, {free:.0f} GB free: --naive-columns N",
                            ],
                            widths,
                        ),
                        flush=True,
                    )
                    continue
            if sampled:
                n = args.naive_columns
                runs = [(f" ({n} feat.)", ["--features", str(n)]), (f" ({2 * n} feat.)", ["--features", str(2 * n)])]
            outs = []
            for label, extra in runs:
                out = run_child(method, path, kind, spec_path, extra)
                outs.append(out)
                records.append({"file": name, "method": method + label, **out})
                if "error" in out:
                    print(
                        fmt_row(
                            [
                                name,
                                method + label,
                                f"{out['wall_s']:.1f}",
                                "-",
                                "-",
                                "-",
                                "ERR",
                                "-",
                                out["error"][-80:],
                            ],
                            widths,
                        )
                    )
                    continue
                phases = (
                    f"read {out['read_s']:.1f} + gx {out['rest_s']:.1f} + {out['features_s']:.1f}"
                    f" + import {out['import_gx_s']:.1f}"
                    if method == "naive"
                    else f"profile {out['profile_s']:.1f} + gx {out['validate_s']:.1f}"
                    f" + import {out['import_gx_s']:.1f}"
                )
                print(
                    fmt_row(
                        [
                            name,
                            method + label,
                            f"{out['wall_s']:.1f}",
                            f"{out['cpu_s']:.1f}",
                            f"{out['peak_rss_mb'] / 1024:.2f}",
                            str(out["expectations"]),
                            "yes" if out["passed"] else "NO",
                            f"{out['rows']:,}",
                            phases,
                        ],
                        widths,
                    ),
                    flush=True,
                )
            if sampled and all("error" not in o for o in outs):
                x = extrapolate(*outs)
                print(
                    f"{'':11}  measured per feature column: {x['per_feature_s'] * 1000:.0f} ms, "
                    f"{x['per_feature_mb']:.1f} MB peak RSS (slope between the "
                    f"{outs[0]['features_checked']}- and {outs[1]['features_checked']}-feature runs)"
                )
                print(
                    fmt_row(
                        [
                            name,
                            "naive EXTRAPOLATED",
                            f"~{x['wall_s']:.0f}",
                            "-",
                            f"~{x['peak_rss_mb'] / 1024:.1f}",
                            str(x["expectations"]),
                            "-",
                            f"{outs[1]['rows']:,}",
                            f"linear to all {outs[1]['features_total']} features",
                        ],
                        widths,
                    ),
                    flush=True,
                )
                records.append({"file": name, "method": "naive extrapolated", "extrapolated": True, **x})
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (other work on the machine slows both methods)")
    if args.json:
        args.json.write_text(json.dumps(records, indent=2))
    spec_path.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
