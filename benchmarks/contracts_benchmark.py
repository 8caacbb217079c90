"""Data contracts, naive vs ours, side by side: wall time and peak RSS, each run in its own process.

naive: ``pd.read_parquet`` of the file + one great-expectations expectation per column on the
       DataFrame (in_set 0..4 + not_null per feature, between [0, 1] per target, unique id, era
       regex, data_type in set, not_null on keys), suite built with the fast constructor.
ours:  ``numerai_assets.core.contracts.check_dataset``: one streaming pyarrow pass computing exact
       per-column statistics + a constant-size suite over those statistics.

Loading 2.75 M x 2,748 features into pandas needs ~2x 7.6 GB and ~5,500 expectations, so on big
files ``--naive-columns N`` runs naive on the first N and then 2N feature columns (all other
columns included), prints the measured cost per feature column (the slope between the two runs)
and the linear extrapolation to every feature, labelled EXTRAPOLATED. Ours always runs in full.

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

ROOT = Path(__file__).resolve().parents[1]
NAIVE_SAMPLED_MIN_ROWS = 100_000  # smaller files (live) always run naive in full
KINDS = {"train": "train", "validation": "validation", "live": "live"}


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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
    from numerai_assets.core.contracts import check_dataset

    spec = json.loads(Path(args.spec).read_text())
    result = check_dataset(args.path, args.kind, features=spec["features"], targets=spec["targets"],
                           required_features=spec["required"], batch_rows=args.batch_rows)
    prof = result.profile
    return {"seconds": time.perf_counter() - start, "import_gx_s": t_import,
            "profile_s": prof.seconds, "validate_s": result.seconds - prof.seconds,
            "rows": result.rows, "batches": prof.batches, "batch_rows": prof.batch_rows,
            "expectations": result.expectations, "passed": result.passed,
            "failures": [f.message for f in result.failures], "peak_rss_mb": _peak_rss_mb()}


def child_naive(args: argparse.Namespace) -> dict:
    start = time.perf_counter()
    gx, gxe, t_import = _import_gx()
    import pandas as pd
    import pyarrow.parquet as pq
    from great_expectations.data_context.types.base import ProgressBarsConfig

    spec = json.loads(Path(args.spec).read_text())
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
    exps.append(gxe.ExpectColumnValuesToBeInSet(column="era", value_set=["X"]) if live else
                gxe.ExpectColumnValuesToMatchRegex(column="era", regex=r"^[0-9]{4}$"))
    allowed = {"train": ["train"], "validation": ["validation", "test"], "live": ["live"]}[args.kind]
    exps.append(gxe.ExpectColumnValuesToBeInSet(column="data_type", value_set=allowed))
    exps += [gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0, max_value=1) for c in targets]
    if not live:
        exps.append(gxe.ExpectColumnValuesToNotBeNull(
            column="target", row_condition='data_type!="test"', condition_parser="pandas"))
    for f in features:
        exps += [gxe.ExpectColumnValuesToBeInSet(column=f, value_set=[0, 1, 2, 3, 4]),
                 gxe.ExpectColumnValuesToNotBeNull(column=f)]
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    batch = context.data_sources.add_pandas("naive").add_dataframe_asset("file") \
        .add_batch_definition_whole_dataframe("all").get_batch(batch_parameters={"dataframe": df})
    t = time.perf_counter()
    suite = gx.ExpectationSuite(name="naive", expectations=exps)  # not add_expectation: O(n^2)
    results = batch.validate(suite)
    t_validate = time.perf_counter() - t
    failed = [r.expectation_config.type + ":" + str(r.expectation_config.kwargs.get("column"))
              for r in results.results if not r.success]
    return {"seconds": time.perf_counter() - start, "import_gx_s": t_import, "read_s": t_read,
            "validate_s": t_validate, "rows": len(df), "features_checked": len(features),
            "features_total": len(all_features), "expectations": len(exps),
            "passed": not failed, "failures": failed[:10], "peak_rss_mb": _peak_rss_mb()}


# ----------------------------------------------------------------------------- parent
def run_child(method: str, path: Path, kind: str, spec: Path, extra: list[str]) -> dict:
    cmd = [sys.executable, __file__, "--child", method, "--path", str(path), "--kind", kind,
           "--spec", str(spec), *extra]
    env = dict(os.environ, GX_ANALYTICS_ENABLED="false", PYTHONPATH=str(ROOT))
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        return {"error": f"exit {proc.returncode}: {proc.stderr.strip()[-600:]}", "wall_s": wall}
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["wall_s"] = wall  # process start to exit, imports included
    return out


def find_files(root: Path, names: list[str], round_number: int | None) -> dict[str, Path]:
    version = json.loads((root / "tournament.json").read_text()).get("version", "v5.2")
    files = {n: root / version / f"{n}.parquet" for n in names if n != "live"}
    if "live" in names:
        rounds = sorted((int(p.name) for p in (root / "rounds").glob("*") if p.name.isdigit()),
                        reverse=True) if (root / "rounds").is_dir() else []
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
    return "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(cols, widths)))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", type=Path, help="a generated tournament root")
    p.add_argument("--scale", default="demo", help="without --root: generate this scale under "
                   "$NUMERAI_ASSETS_HOME/benchmarks/<scale> (reused if there)")
    p.add_argument("--files", default="train,validation,live")
    p.add_argument("--round", type=int, default=None, help="round of the live file (default: latest)")
    p.add_argument("--naive-columns", type=int, default=0, help="on files with more than "
                   f"{NAIVE_SAMPLED_MIN_ROWS:,} rows run naive on N and 2N features and extrapolate")
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
    version = json.loads((root / "tournament.json").read_text()).get("version", "v5.2")
    sets = json.loads((root / version / "features.json").read_text())
    spec_path = Path(tempfile.mkstemp(prefix="contracts-spec-", suffix=".json")[1])
    spec_path.write_text(json.dumps({"features": sets["feature_sets"]["all"], "targets": sets["targets"],
                                     "required": sets["feature_sets"].get("medium", [])}))
    files = find_files(root, [f for f in args.files.split(",") if f], args.round)
    methods = args.methods.split(",")
    print(f"machine: {os.cpu_count()} cores, "
          f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB; root {root}")
    widths = [11, 22, 9, 8, 9, 6, 7, 40]
    print(fmt_row(["file", "method", "wall s", "peak GB", "expect.", "pass", "rows", "phases"], widths))
    records = []
    for name, path in files.items():
        kind = KINDS[name]
        rows = __import__("pyarrow.parquet").parquet.ParquetFile(path).metadata.num_rows
        for method in methods:
            runs: list[tuple[str, list[str]]] = [("", [])]
            if method == "ours" and args.batch_rows:
                runs = [("", ["--batch-rows", str(args.batch_rows)])]
            sampled = method == "naive" and args.naive_columns and rows > NAIVE_SAMPLED_MIN_ROWS
            if sampled:
                n = args.naive_columns
                runs = [(f" ({n} feat.)", ["--features", str(n)]),
                        (f" ({2 * n} feat.)", ["--features", str(2 * n)])]
            outs = []
            for label, extra in runs:
                out = run_child(method, path, kind, spec_path, extra)
                outs.append(out)
                records.append({"file": name, "method": method + label, **out})
                if "error" in out:
                    print(fmt_row([name, method + label, f"{out['wall_s']:.1f}", "-", "-", "ERR", "-",
                                   out["error"][-80:]], widths))
                    continue
                phases = (f"read {out['read_s']:.1f} + gx {out['validate_s']:.1f} + import {out['import_gx_s']:.1f}"
                          if method == "naive" else
                          f"profile {out['profile_s']:.1f} + gx {out['validate_s']:.1f} + import {out['import_gx_s']:.1f}")
                print(fmt_row([name, method + label, f"{out['wall_s']:.1f}", f"{out['peak_rss_mb'] / 1024:.2f}",
                               str(out["expectations"]), "yes" if out["passed"] else "NO",
                               f"{out['rows']:,}", phases], widths), flush=True)
            if sampled and all("error" not in o for o in outs):
                a, b = outs
                dn = b["features_checked"] - a["features_checked"]
                work = lambda o: o["read_s"] + o["validate_s"]  # noqa: E731 (imports excluded: noise)
                per_s = (work(b) - work(a)) / dn
                per_mb = (b["peak_rss_mb"] - a["peak_rss_mb"]) / dn
                rest = b["features_total"] - b["features_checked"]
                est_s, est_gb = b["wall_s"] + per_s * rest, (b["peak_rss_mb"] + per_mb * rest) / 1024
                print(f"{'':11}  measured per feature column: {per_s * 1000:.0f} ms, {per_mb:.1f} MB peak RSS "
                      f"(slope between the {a['features_checked']} and {b['features_checked']}-feature runs)")
                print(fmt_row([name, "naive EXTRAPOLATED", f"~{est_s:.0f}", f"~{est_gb:.1f}",
                               str(b["expectations"] + 2 * rest), "-", f"{b['rows']:,}",
                               f"to all {b['features_total']} features (linear)"], widths), flush=True)
                records.append({"file": name, "method": "naive extrapolated", "wall_s": est_s,
                                "peak_rss_mb": est_gb * 1024, "per_feature_s": per_s,
                                "per_feature_mb": per_mb, "extrapolated": True})
    if args.json:
        args.json.write_text(json.dumps(records, indent=2))
    spec_path.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
