"""``python -m numerai_assets run|demo|ui``: the main job (both modes) and the UI launcher.

``demo`` runs the whole flow headless on the embedded default: it generates the demo
tournament (once), serves it on 127.0.0.1, opens a round, and executes the jobs of
``definitions.py`` against the Dagster instance in ``DAGSTER_HOME``, as runs of the
``workspace.yaml`` code location's jobs, so the UI lists them under their jobs afterwards.
``run`` is ``demo`` in local mode; in numerai mode it runs the same jobs
against the server ``NUMERAI_ASSETS_API_URL`` names (real Numerai by default) and the round
open there, if any, with credentials from the environment. ``ui`` starts the tournament server
and ``dagster dev`` bound to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

from numerai_assets.settings import Settings
from numerai_assets.tournament.admin import AdminClient

DAGSTER_YAML = Path(__file__).resolve().parent.parent / "dagster.yaml.template"
TELEMETRY_OFF = "telemetry:\n  enabled: false\n"
CONSOLE_INFO = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


def ensure_dagster_home(settings: Settings) -> Path:
    """DAGSTER_HOME with a dagster.yaml that turns telemetry off (kept across runs)."""
    home = Path(os.environ.get("DAGSTER_HOME") or settings.home / "dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML.read_text() if DAGSTER_YAML.exists() else TELEMETRY_OFF)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


@contextlib.contextmanager
def local_tournament(settings: Settings, scale: str) -> Iterator[AdminClient]:
    """Use the tournament already serving at the configured URL, or serve one in-thread."""
    admin = AdminClient(settings.api_url)
    if admin.alive():
        yield admin
        return
    from numerai_assets.tournament.generator import generate_tournament
    from numerai_assets.tournament.server import TournamentServer

    started = time.monotonic()
    # the version the platform asks for (NUMERAI_ASSETS_DATASET_VERSION, default core.data.dataset's)
    generate_tournament(settings.tournament_dir, scale=scale, seed=0, version=settings.dataset_version)
    print(f"tournament data ready in {time.monotonic() - started:.1f} s: {settings.tournament_dir}")
    url = urlparse(settings.api_url)
    with TournamentServer(settings.tournament_dir, host=url.hostname, port=url.port).start():
        yield admin


def run_demo(settings: Settings, scale: str, min_sharpe: float | None = None) -> int:
    """data -> every model x seed -> evaluation and promotion per model -> the open round."""
    from dagster import DagsterInstance

    if settings.mode != "local":
        raise SystemExit("the demo runs on the embedded default: unset NUMERAI_ASSETS_MODE")
    roster = _prepare(settings)
    with local_tournament(settings, scale) as admin, DagsterInstance.get() as instance:
        current = admin.current_round() or admin.open_round()
        print(f"round {current['number']} open until staking close {current['closeStakingTime']}")
        late = datetime.now(UTC) >= datetime.fromisoformat(current["closeStakingTime"])
        ok = _execute_plan(instance, _plan(roster, current["number"], late), _run_config(min_sharpe))
    print("main job " + ("succeeded" if ok else "FAILED"))
    return 0 if ok else 1


def run_numerai(settings: Settings, min_sharpe: float | None = None) -> int:
    """The main job against a Numerai(-compatible) server: data, training, evaluation, the open round.

    Credentials reach the resources through ``dagster.EnvVar`` (only their presence is checked
    here); finding the open round needs none.
    """
    from dagster import DagsterInstance

    from numerai_assets.core.numerai.client import NumeraiClient, NumeraiError
    from numerai_assets.settings import ENV_PUBLIC_ID, ENV_SECRET_KEY

    unset = [name for name in (ENV_PUBLIC_ID, ENV_SECRET_KEY) if not os.environ.get(name)]
    if unset:  # the resources read them through EnvVar: fail before any run, naming them
        print(f"numerai mode needs {' and '.join(unset)} in the environment (the account's API key)")
        return 2
    roster = _prepare(settings)
    try:
        current = NumeraiClient(settings.api_url).current_round()
    except NumeraiError as exc:
        print(f"cannot ask {settings.api_url} for the open round: {exc}")
        return 1
    print(
        f"{settings.api_url}: dataset {settings.dataset_version}, "
        + (
            f"round {current.number} open until staking close {current.close_staking_time}"
            if current
            else "no round open: data, training and evaluation only"
        )
    )
    late = bool(current and datetime.now(UTC) >= current.close_staking_time)
    with DagsterInstance.get() as instance:
        plan = _plan(roster, current.number if current else None, late)
        ok = _execute_plan(instance, plan, _run_config(min_sharpe))
    print("main job " + ("succeeded" if ok else "FAILED"))
    return 0 if ok else 1


def _prepare(settings: Settings):
    """DAGSTER_HOME ready and the roster the plan runs (the definitions load the same one)."""
    from numerai_assets.core.training.roster import load_roster

    ensure_dagster_home(settings)
    return load_roster(settings.roster_path)


def _run_config(min_sharpe: float | None) -> dict:
    """Console logs at INFO; ``min_sharpe`` overrides the promotion floor (EvaluationPolicy) for the run."""
    if min_sharpe is None:
        return CONSOLE_INFO
    return CONSOLE_INFO | {"resources": {"policy": {"config": {"min_sharpe": min_sharpe}}}}


PlanStep = tuple[str, list, dict[str, str]]  # job, its partitions (None: unpartitioned), run tags


def _plan(roster, round_number: int | None, late: bool = False) -> list[PlanStep]:
    """data -> every model x seed -> evaluation and promotion per model -> the round, if open,
    with the tags the round-open sensor puts on a round's run."""
    from numerai_assets.partitions import model_seed_keys
    from numerai_assets.sensors.rounds import round_tags

    plan: list[PlanStep] = [
        ("data_job", [None], {}),
        ("training_job", model_seed_keys(roster), {}),
        ("evaluation_job", roster.names, {}),
    ]
    if round_number is not None:
        plan.append(("live_round_job", [str(round_number)], round_tags(round_number, late)))
    return plan


def _execute_plan(instance, plan: list[PlanStep], run_config: dict) -> bool:
    """Each job partition as a run of its job in the workspace's code location (listed under the
    job in the UI), executed here; print each one's summary."""
    from numerai_assets.job_runs import execute_job_run
    from numerai_assets.partitions import rounds_partitions

    ok = True
    for job_name, partitions, tags in plan:
        for partition in partitions:
            if job_name == "live_round_job":
                instance.add_dynamic_partitions(rounds_partitions.name, [partition])
            started = time.monotonic()
            result = execute_job_run(instance, job_name, partition, tags, run_config)
            ok &= result.success
            label = job_name if partition is None else f"{job_name}[{partition}]"
            print(_summarize(label, result, time.monotonic() - started))
    return ok


SUMMARY_FIGURES = (
    "rows",
    "rounds",
    "train_seconds",
    "peak_rss_gb",
    "corr_mean",
    "corr_sharpe",
    "mmc_mean",
    "bmc_mean",
    "oracle_corr_mean",
    "decision",
    "status",
    "submission_id",
    "exposure",
    "benchmark_corr",
)


def _summarize(label: str, result, seconds: float) -> str:
    lines = [f"{label}: {'success' if result.success else 'FAILED'} in {seconds:.1f} s"]
    materializations = [e.event_specific_data.materialization for e in result.get_asset_materialization_events()]
    width = max((len(m.asset_key.to_user_string()) for m in materializations), default=0)
    for mat in materializations:
        figures = " ".join(f"{k}={_fmt(mat.metadata[k].value)}" for k in SUMMARY_FIGURES if k in mat.metadata)
        lines.append(f"  {mat.asset_key.to_user_string():{width}s} {figures}")
    for event in result.get_asset_check_evaluations():
        if not event.passed:
            lines.append(
                f"  CHECK FAILED {event.asset_key.to_user_string()}:{event.check_name} {event.description or ''}"
            )
    checks = result.get_asset_check_evaluations()
    if checks:
        lines.append(f"  checks passed: {sum(c.passed for c in checks)}/{len(checks)}")
    return "\n".join(lines)


def _fmt(value: object) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def run_ui(settings: Settings, scale: str, port: int) -> int:
    """Tournament server + ``dagster dev`` on 127.0.0.1, both stopped together on Ctrl-C."""
    from numerai_assets.dev_server import DagsterDev, spawn, stop_process_group

    home = ensure_dagster_home(settings)
    tournament = None
    try:
        if settings.mode == "local" and not AdminClient(settings.api_url).alive():
            from numerai_assets.tournament.generator import generate_tournament

            generate_tournament(settings.tournament_dir, scale=scale, seed=0, version=settings.dataset_version)
            url = urlparse(settings.api_url)
            tournament = spawn(
                [
                    sys.executable,
                    "-m",
                    "numerai_assets.tournament.cli",
                    "serve",
                    "--root",
                    str(settings.tournament_dir),
                    "--host",
                    url.hostname,
                    "--port",
                    str(url.port),
                ]
            )
        with DagsterDev(os.environ, port=port) as dev:
            print(f"Dagster UI: {dev.url}  (DAGSTER_HOME={home}); Ctrl-C stops everything")
            dev.proc.wait()
    except KeyboardInterrupt:
        pass
    finally:
        if tournament is not None:
            stop_process_group(tournament)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="numerai_assets", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run",
        help="the main job: 'demo' in local mode; in numerai mode against NUMERAI_ASSETS_API_URL and its open round",
    )
    run.add_argument(
        "--scale",
        default="demo",
        choices=["tiny", "demo", "full"],
        help="local mode only: the generated tournament's size",
    )
    run.add_argument(
        "--min-sharpe",
        type=float,
        default=None,
        help="promotion floor on CORR Sharpe for this run (default: EvaluationPolicy's)",
    )
    demo = sub.add_parser("demo", help="run the main job on the embedded local tournament")
    demo.add_argument("--scale", default="demo", choices=["tiny", "demo", "full"])
    ui = sub.add_parser("ui", help="start the local tournament and the Dagster UI on 127.0.0.1")
    ui.add_argument("--scale", default="demo", choices=["tiny", "demo", "full"])
    ui.add_argument("--port", type=int, default=3000)
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if args.command == "run":
        if settings.mode == "numerai":
            return run_numerai(settings, args.min_sharpe)
        return run_demo(settings, args.scale, args.min_sharpe)
    if args.command == "demo":
        return run_demo(settings, args.scale)
    return run_ui(settings, args.scale, args.port)


if __name__ == "__main__":
    sys.exit(main())
