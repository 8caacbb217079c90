"""Screenshots of the Dagster UI after ``make demo``, with headless Chromium (not part of CI).

Starts ``dagster dev`` on 127.0.0.1 (a free port) on the demo's ``DAGSTER_HOME``, asks its GraphQL
API for the pages worth looking at (a slot's live predictions, the champion and a
``model_evaluation`` partition, a failed round run if any) and writes one PNG per page:

    .venv/bin/python scripts/ui_screenshots.py [--out DIR] [--budget-ms 20000]

Needs a Chromium binary (Debian: ``apt-get install -y chromium``). It reads the same environment
as the demo (``NUMERAI_ASSETS_HOME``, ``DAGSTER_HOME``); default output
``$NUMERAI_ASSETS_HOME/screenshots`` (ignored by git).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

from numerai_assets.cli import ensure_dagster_home
from numerai_assets.core.live.names import LIVE_PREDICTIONS, slot_asset_path
from numerai_assets.core.training.roster import load_roster
from numerai_assets.dev_server import DagsterDev
from numerai_assets.job_runs import code_location_origin
from numerai_assets.settings import Settings

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
WINDOW = "1600,1000"
NUX_SEEN = "mutation { setNuxSeen }"  # recorded in DAGSTER_HOME, as the dialog's own "Skip" does
FAILED_RUNS_QUERY = """
query { runsOrError(filter: {statuses: [FAILURE]}, limit: 20) {
  ... on Runs { results { runId jobName tags { key value } } } } }"""


def chromium() -> str:
    for name in CHROMIUM_NAMES:
        if path := shutil.which(name):
            return path
    raise SystemExit(f"no Chromium found (tried {', '.join(CHROMIUM_NAMES)}): apt-get install -y chromium")


def screenshot(browser: str, url: str, out: Path, budget_ms: int) -> None:
    """One page as a PNG: the virtual-time budget lets the UI's GraphQL queries finish first."""
    cmd = [
        browser,
        "--headless=new",
        "--no-sandbox",  # root in a container has no user namespace for the sandbox
        "--disable-gpu",
        "--hide-scrollbars",
        f"--window-size={WINDOW}",
        f"--virtual-time-budget={budget_ms}",
        f"--screenshot={out}",
        url,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    if proc.returncode != 0 or not out.exists():
        raise RuntimeError(f"{url}: chromium exited {proc.returncode}: {proc.stderr[-500:]}")
    print(f"{out.name}: {url}")


def pages(dev: DagsterDev, settings: Settings) -> dict[str, str]:
    """Name -> path of every page to capture, from the roster and the runs in this instance."""
    roster = load_roster(settings.roster_path)
    slot = next(iter(roster.slots))
    model = roster.names[0]
    location = f"__repository__@{code_location_origin().location_name}"
    predictions = "/".join(quote(p) for p in slot_asset_path(slot, LIVE_PREDICTIONS))
    found = {
        "01_lineage_global": "/asset-groups",
        "02_lineage_group_live": f"/locations/{location}/asset-groups/live",
        "03_lineage_group_data": f"/locations/{location}/asset-groups/data",
        "04_asset_catalog": "/assets",
        "05_slot_live_predictions": f"/assets/{predictions}",
        "06_slot_live_predictions_checks": f"/assets/{predictions}?view=checks",
        "07_champion_overview": f"/assets/champion?view=overview&partition={quote(model)}",
        "08_model_evaluation_partition": f"/assets/model_evaluation?view=partitions&partition={quote(model)}",
        "09_runs": "/runs",
        "10_overview_timeline": "/overview/activity/timeline",
        "11_jobs": "/jobs",
        "12_backfills": "/runs?view=backfills",
    }
    failed = dev.graphql(FAILED_RUNS_QUERY)["runsOrError"].get("results", [])
    rounds = [r for r in failed if r["jobName"] == "live_round_job"]
    if rounds:
        found["13_failed_round_run"] = f"/runs/{rounds[0]['runId']}"
    else:
        print("no failed live_round_job run in this instance: no failed gate page to capture")
    return found


def main(argv: list[str] | None = None) -> int:
    settings = Settings.from_env()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=settings.home / "screenshots", help="folder for the PNGs")
    parser.add_argument("--budget-ms", type=int, default=20000, help="virtual time each page gets to load")
    args = parser.parse_args(argv)
    browser = chromium()
    home = ensure_dagster_home(settings)
    args.out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    with DagsterDev(env, log=args.out / "dagster_dev.log") as dev:
        dev.graphql(NUX_SEEN)  # else the "Join the Dagster community" dialog covers every page
        for name, path in pages(dev, settings).items():
            screenshot(browser, f"{dev.url}{path}", args.out / f"{name}.png", args.budget_ms)
    print(f"screenshots in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
