"""Round latency: from a round opening to every slot's submission accepted, through real dagster dev.

Needs trained champions in the home (run `make demo` first, which trains the default roster on the
demo-scale tournament). Starts the local tournament server and `dagster dev` (sensor polling every
--poll-s), opens --rounds rounds one after another and prints, per round: sensor wait (round open
-> run created, includes the polling interval), run launch (created -> started), each step's
duration (live_data = download + data contract; <slot>/<slot>_live_predictions = prediction + gates;
<slot>/<slot>_submission = upload + verification) and the total with and without the sensor wait.

    .venv/bin/python benchmarks/round_latency.py --rounds 3 --poll-s 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path

from numerai_assets.core.artifacts import ChampionRecord
from numerai_assets.core.training.roster import load_roster
from numerai_assets.dev_server import DagsterDev
from numerai_assets.job_runs import code_location_origin
from numerai_assets.settings import Settings
from numerai_assets.tournament.server import TournamentServer


def step_durations(events: list[dict]) -> dict[str, float]:
    starts, out = {}, {}
    for e in events:
        kind, step = e["__typename"], e.get("stepKey")
        if kind == "ExecutionStepStartEvent":
            starts[step] = float(e["timestamp"]) / 1000
        elif kind in ("ExecutionStepSuccessEvent", "ExecutionStepFailureEvent") and step in starts:
            out[step] = float(e["timestamp"]) / 1000 - starts[step]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--poll-s", type=int, default=5)
    args = parser.parse_args()
    settings = Settings.from_env()
    roster = load_roster(settings.roster_path)
    missing = [m for m in roster.names if not (settings.store_dir / ChampionRecord.key(m)).exists()]
    if missing:
        raise SystemExit(f"no champions for {missing} under {settings.home}: run `make demo` first")
    home = Path(tempfile.mkdtemp(prefix="latency_dagster_home_"))
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    results = []
    with TournamentServer(settings.tournament_dir) as server:
        env = {
            **os.environ,
            "DAGSTER_HOME": str(home),
            "NUMERAI_ASSETS_HOME": str(settings.home),
            "NUMERAI_ASSETS_TOURNAMENT_URL": server.url,
            "NUMERAI_ASSETS_ROUND_POLL_S": str(args.poll_s),
            "GX_ANALYTICS_ENABLED": "false",
        }
        with DagsterDev(env, log=home / "dagster_dev.log") as dev:
            # the data assets the round reads come from this instance: materialize them once
            data = dev.graphql(
                """mutation Launch($location: String!) { launchRun(executionParams: {selector: {
                repositoryLocationName: $location, repositoryName: "__repository__",
                jobName: "data_job"}}) { __typename ... on LaunchRunSuccess { run { runId } }
                ... on PythonError { message } } }""",
                {"location": code_location_origin().location_name},
            )["launchRun"]
            assert data["__typename"] == "LaunchRunSuccess", data
            assert dev.wait_for_run(run_id=data["run"]["runId"])["status"] == "SUCCESS"
            for _ in range(args.rounds):
                opened = time.time()
                rnd = server.advance()
                run = dev.wait_for_run({"numerai/round": str(rnd.number)}, poll_s=0.2)
                subs = server.state.submissions(round_number=rnd.number)
                accepted = (
                    max(datetime.fromisoformat(s.inserted_at.replace("Z", "+00:00")).timestamp() for s in subs)
                    if subs
                    else float("nan")
                )
                steps = step_durations(dev.events(run["runId"]))
                results.append(
                    {
                        "round": rnd.number,
                        "status": run["status"],
                        "slots": len(subs),
                        "sensor_wait": run["creationTime"] - opened,
                        "launch": run["startTime"] - run["creationTime"],
                        "run": run["endTime"] - run["startTime"],
                        "open_to_accepted": accepted - opened,
                        "excl_sensor": accepted - run["creationTime"],
                        **steps,
                    }
                )
    keys = [k for k in results[0] if k not in ("round", "status", "slots")]
    print(
        f"rounds: {args.rounds}, poll interval {args.poll_s} s, slots {results[0]['slots']}, "
        f"status {[r['status'] for r in results]}"
    )
    print(f"{'phase':42s} " + " ".join(f"r{r['round']:>6}" for r in results) + "   median")
    for key in keys:
        values = [r.get(key, float("nan")) for r in results]
        print(f"{key:42s} " + " ".join(f"{v:7.2f}" for v in values) + f"  {statistics.median(values):7.2f}")


if __name__ == "__main__":
    main()
