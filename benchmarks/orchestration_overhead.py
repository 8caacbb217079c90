"""Orchestrated training vs a bare script: the same (model, seed), each in a fresh process.

bare:         python imports core.training.train and calls train_model on the train file.
orchestrated: python materializes the one `trained_model` partition through Dagster (instance in
              DAGSTER_HOME, resources, IO manager, model store, metadata).
Both are timed as whole processes (interpreter start + imports + work), and inside: the set-up
(imports, roster / definitions, instance) and the work (the training call / the run).
Needs `make demo` first (data in the instance, demo tournament on disk).

    .venv/bin/python benchmarks/orchestration_overhead.py --model lgbm_medium --seed 0 --repeat 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

BARE = """
import json, sys, time, tempfile
t0 = time.perf_counter()
from numerai_assets.core.data.dataset import FeatureSets
from numerai_assets.core.training.roster import load_roster
from numerai_assets.core.training.train import train_model
from numerai_assets.settings import Settings
s = Settings.from_env()
spec = load_roster(s.roster_path).get(sys.argv[1])
data = s.data_dir / "datasets" / s.dataset_version
features = spec.features(FeatureSets.from_json_file(data / "features.json"))
t1 = time.perf_counter()
train_model(spec, int(sys.argv[2]), data / "train.parquet", features, tempfile.mkdtemp(), log=lambda _: None)
print(json.dumps({"setup": t1 - t0, "work": time.perf_counter() - t1}))
"""
ORCHESTRATED = """
import json, sys, time
t0 = time.perf_counter()
import dagster as dg
from numerai_assets.definitions import build_definitions
from numerai_assets.settings import Settings
defs = build_definitions(Settings.from_env())
key = f"{sys.argv[1]}|{sys.argv[2]}"
with dg.DagsterInstance.get() as instance:
    t1 = time.perf_counter()
    result = dg.materialize(defs.assets, selection="trained_model", partition_key=key,
                            instance=instance, resources=defs.resources)
    assert result.success
print(json.dumps({"setup": t1 - t0, "work": time.perf_counter() - t1}))
"""


def run(code: str, model: str, seed: int) -> tuple[float, float, float]:
    """(process wall, set-up before the work, the work) in seconds, for one fresh process."""
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code, model, str(seed)], check=True, capture_output=True, text=True, env=os.environ
    )
    wall = time.perf_counter() - started
    timings = json.loads(out.stdout.strip().splitlines()[-1])
    return wall, timings["setup"], timings["work"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="lgbm_medium")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    os.environ.setdefault("DAGSTER_HOME", os.path.abspath(".numerai_assets/dagster_home"))
    os.environ.setdefault("NUMERAI_ASSETS_TRACKING", "disabled")
    rows = {"bare": [], "orchestrated": []}
    for _ in range(args.repeat):  # interleaved, so both see the same machine load
        rows["bare"].append(run(BARE, args.model, args.seed))
        rows["orchestrated"].append(run(ORCHESTRATED, args.model, args.seed))
    print(f"{args.model} seed {args.seed}, {args.repeat} runs each (median), load {os.getloadavg()[0]:.2f}")
    print(f"{'path':14s} {'process wall s':>15s} {'set-up s':>10s} {'training/run s':>15s}")
    med = {k: [statistics.median(column) for column in zip(*v, strict=False)] for k, v in rows.items()}
    for name, (wall, setup, work) in med.items():
        print(f"{name:14s} {wall:15.2f} {setup:10.2f} {work:15.2f}")
    (bw, _, bx), (ow, _, ox) = med["bare"], med["orchestrated"]
    print(f"overhead: process {100 * (ow / bw - 1):+.1f}%, in-process {100 * (ox / bx - 1):+.1f}%")


if __name__ == "__main__":
    main()
