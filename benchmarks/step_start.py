"""How local steps start, naive vs ours, side by side: the whole main job, each in a fresh home.

naive: ``NUMERAI_ASSETS_STEP_START=spawn`` (Dagster's default): every step of a multiprocess run
       starts a fresh interpreter that imports dagster and the definitions again (~3 s here).
ours:  ``forkserver`` (the default): one server per run imports the definitions once and every
       step process forks from it; each step still runs in its own process.
Each variant runs ``python -m numerai_assets run --scale <scale>`` (embedded tournament, tiny
roster unless ``--roster``), and the table lists every job run's time as the main job printed it.

    PYTHONPATH=. .venv/bin/python benchmarks/step_start.py --scale tiny
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from numerai_assets.dev_server import free_port

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = {"naive (spawn)": "spawn", "ours (forkserver)": "forkserver"}
RUN_LINE = re.compile(r"^(?P<run>\S+): (?P<status>success|FAILED) in (?P<seconds>[\d.]+) s$", re.MULTILINE)


def main_job(step_start: str, scale: str, roster: Path, home: Path) -> tuple[float, dict[str, float]]:
    """(process wall seconds, {run label: seconds}) of one main job in a fresh home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NUMERAI_", "DAGSTER_"))} | {
        "PYTHONPATH": str(ROOT),
        "NUMERAI_ASSETS_HOME": str(home),
        "NUMERAI_ASSETS_ROSTER": str(roster),
        "NUMERAI_ASSETS_TOURNAMENT_URL": f"http://127.0.0.1:{free_port()}",
        "NUMERAI_ASSETS_TRACKING": "disabled",
        "NUMERAI_ASSETS_STEP_START": step_start,
        "OMP_WAIT_POLICY": "PASSIVE",
        "GX_ANALYTICS_ENABLED": "false",
    }
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "numerai_assets", "run", "--scale", scale, "--min-sharpe", "-100"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{step_start}: main job failed\n{(proc.stdout + proc.stderr)[-4000:]}")
    return wall, {m["run"]: float(m["seconds"]) for m in RUN_LINE.finditer(proc.stdout)}


def table(results: dict[str, tuple[float, dict[str, float]]]) -> str:
    names = list(results)
    runs = list(dict.fromkeys(r for _, per_run in results.values() for r in per_run))
    lines = ["| run | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for run in runs:
        lines.append(f"| {run} | " + " | ".join(f"{results[n][1].get(run, float('nan')):.1f} s" for n in names) + " |")
    lines.append("| **main job, whole process** | " + " | ".join(f"**{results[n][0]:.1f} s**" for n in names) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="tiny", help="embedded tournament scale (tiny, small, ...)")
    parser.add_argument("--roster", type=Path, help="roster YAML (default: the tests' tiny roster)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="step_start_") as tmp:
        roster = args.roster
        if roster is None:
            from numerai_assets_tests.platform import TINY_ROSTER

            roster = Path(tmp) / "roster.yaml"
            roster.write_text(TINY_ROSTER)
        results = {name: main_job(start, args.scale, roster, Path(tmp) / start) for name, start in VARIANTS.items()}
    print(table(results))


if __name__ == "__main__":
    main()
