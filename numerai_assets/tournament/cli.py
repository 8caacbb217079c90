"""``numerai-tournament``: generate data, serve the local tournament, and drive its rounds.

``serve`` runs the server in the foreground (one line with the URL on stdout, then request logs on
stderr) until SIGTERM/SIGINT; the other commands talk to a running server's ``/admin`` API (``--url``, default
``$NUMERAI_ASSETS_TOURNAMENT_URL``, else ``http://127.0.0.1:8765``).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import json
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import requests

from numerai_assets.tournament.admin import DEFAULT_URL, ENV_URL, AdminClient, AdminError, tournament_url
from numerai_assets.tournament.calendar import ScaledClock
from numerai_assets.tournament.profiles import DEFAULT_PROFILE, DEFAULT_VERSION, PROFILES

ADMIN_TIMEOUT_S = 60.0  # republishing a full-scale file takes a while


@contextlib.contextmanager
def _admin(url: str) -> Iterator[AdminClient]:
    """The admin client for ``url``; a refusal or an unreachable server ends the command with a
    one-line message naming the URL, not a traceback."""
    try:
        yield AdminClient(url, timeout_s=ADMIN_TIMEOUT_S)
    except AdminError as exc:
        raise SystemExit(str(exc)) from None
    except requests.ConnectionError as exc:
        raise SystemExit(f"cannot reach the tournament at {url} (set --url or {ENV_URL}): {exc}") from None


def _print(obj: Any) -> int:
    """Prints ``obj`` as JSON; returns 0, the exit status of the commands that only print."""
    print(json.dumps(obj, indent=2, default=str))
    return 0


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def cmd_generate(args: argparse.Namespace) -> int:
    from numerai_assets.tournament.generator import generate_tournament

    info = generate_tournament(
        Path(args.root), scale=args.scale, seed=args.seed, version=args.version, profile=args.profile
    )
    _print(dataclasses.asdict(info) if dataclasses.is_dataclass(info) else info)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from numerai_assets.tournament.server import TournamentServer

    logging.basicConfig(
        level=getattr(logging, args.log_level.upper()), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    clock = None
    if args.clock_scale is not None or args.clock_start is not None:
        start = dt.datetime.fromisoformat(args.clock_start) if args.clock_start else None
        clock = ScaledClock.starting_now(args.clock_scale or 1.0, start)
    server = TournamentServer(
        args.root,
        host=args.host,
        port=args.port,
        models=models,
        allow_remote=args.allow_remote,
        clock=clock,
        late_submissions=not args.no_late_submissions,
    )
    with server.start():
        if args.open_round and server.current_round() is None:
            server.open_round(staking_window_s=args.staking_window_s)
        if clock is not None:
            server.start_clock()
        print(f"serving {server.url}", flush=True)
        while not stop.wait(1.0):
            pass
    return 0


def cmd_open_round(args: argparse.Namespace) -> int:
    """Open a round when none is open; with one open, say so and point at ``advance``."""
    with _admin(args.url) as admin:
        current = admin.current_round()
        if current is not None:
            print(
                f"round {current['number']} is already open (staking closes {current['closeStakingTime']}): "
                "`numerai-tournament advance` closes it and opens the next",
                file=sys.stderr,
            )
            return 1
        return _print({"round": admin.open_round(args.number, args.staking_window_s)})


def cmd_faults(args: argparse.Namespace) -> int:
    payload: dict[str, Any] = {"reset": True} if args.reset else {}
    for item in args.set or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--set expects key=value, got {item!r}")
        payload[key.strip()] = _parse_value(value.strip())
    with _admin(args.url) as admin:
        return _print({"faults": admin.set_faults(payload) if payload else admin.faults()})


def _admin_command(call: Callable[[AdminClient, argparse.Namespace], Any]) -> Callable[[argparse.Namespace], int]:
    """A command that asks the server once and prints the answer as JSON."""

    def run(args: argparse.Namespace) -> int:
        with _admin(args.url) as admin:
            return _print(call(admin, args))

    return run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="numerai-tournament", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="write Numerai-shaped data under --root")
    gen.add_argument("--root", required=True)
    gen.add_argument("--scale", choices=("tiny", "demo", "full"), default="tiny")
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument(
        "--version",
        default=None,
        help=f"dataset version (default: the profile's, {DEFAULT_VERSION} for "
        f"{DEFAULT_PROFILE}); run again with another to add it to --root",
    )
    gen.add_argument(
        "--profile",
        default=DEFAULT_PROFILE,
        choices=sorted(PROFILES),
        help="convention profile (see numerai_assets/tournament/profiles.py)",
    )
    gen.set_defaults(func=cmd_generate)

    serve = sub.add_parser("serve", help="serve the tournament in --root until SIGTERM/SIGINT")
    serve.add_argument("--root", required=True)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    serve.add_argument("--models", default="demo_slot_a,demo_slot_b")
    serve.add_argument("--open-round", action="store_true", help="open a round if none is open")
    serve.add_argument(
        "--staking-window-s",
        type=float,
        default=None,
        help="with --open-round: staking window length (default: the calendar)",
    )
    serve.add_argument(
        "--clock-scale",
        type=float,
        default=None,
        help="open and close rounds by the calendar, X times faster than real time (3600: an hour per second)",
    )
    serve.add_argument(
        "--no-late-submissions",
        action="store_true",
        help="calendar rounds end at closeStakingTime (no round until the next "
        "opening) instead of taking late submissions until then",
    )
    serve.add_argument("--clock-start", default=None, help="calendar time at start, ISO-8601 with zone (default: now)")
    serve.add_argument("--allow-remote", action="store_true", help="permit a non-loopback host")
    serve.add_argument("--log-level", default="INFO")
    serve.set_defaults(func=cmd_serve)

    def with_url(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text)
        p.add_argument(
            "--url",
            default=tournament_url(),
            help=f"base URL of a running server (default: ${ENV_URL}, else {DEFAULT_URL})",
        )
        return p

    op = with_url("open-round", "open the next (or --number) round when none is open (else: use advance)")
    op.add_argument("--number", type=int)
    op.add_argument("--staking-window-s", type=float)
    op.set_defaults(func=cmd_open_round)
    with_url("close-round", "close the open round").set_defaults(
        func=_admin_command(lambda admin, _: admin.close_round())
    )
    with_url("advance", "close the open round and open the next").set_defaults(
        func=_admin_command(lambda admin, _: {"round": admin.advance()})
    )
    with_url("current-round", "show the open round").set_defaults(
        func=_admin_command(lambda admin, _: {"round": admin.current_round()})
    )
    subs = with_url("submissions", "list recorded submissions (JSON)")
    subs.add_argument("--round", type=int)
    subs.set_defaults(func=_admin_command(lambda admin, a: {"submissions": admin.submissions(a.round)}))
    rep = with_url("republish", "replace a served file by same-size, different content")
    rep.add_argument("--filename", required=True, help="e.g. v5.3/train.parquet")
    rep.add_argument("--round", type=int, help="round of a live file (default: the latest)")
    rep.set_defaults(func=_admin_command(lambda admin, a: admin.republish(a.filename, a.round)))
    faults = with_url("faults", "show or set fault switches")
    faults.add_argument("--set", nargs="+", metavar="KEY=VALUE")
    faults.add_argument("--reset", action="store_true", help="clear every fault first")
    faults.set_defaults(func=cmd_faults)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
