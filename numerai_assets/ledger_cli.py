"""``numerai-assets-ledger show|reconcile``: look at the submission ledger, rebuild it from Numerai.

Defaults come from the same environment as the Dagster code (``NUMERAI_ASSETS_HOME``,
``NUMERAI_ASSETS_MODE``, ``NUMERAI_ASSETS_TOURNAMENT_URL``); credentials only from
``NUMERAI_PUBLIC_ID`` / ``NUMERAI_SECRET_KEY`` (never from the command line, never printed).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from numerai_assets.core.live.ledger import LedgerUnusableError, SubmissionLedger


def _defaults() -> tuple[Path, str, str]:
    from numerai_assets.settings import Settings

    settings = Settings.from_env()
    return settings.store_dir / "ledger.sqlite", settings.api_url, settings.mode


def cmd_show(args: argparse.Namespace) -> int:
    if not args.ledger.exists():
        print(f"error: no ledger at {args.ledger}", file=sys.stderr)
        return 2
    with SubmissionLedger(args.ledger) as ledger:
        print(f"ledger {args.ledger}")
        for e in ledger.entries(args.round, args.slot):
            kind = "dry-run" if e.dry_run else ("late" if e.late else "live")
            print(
                f"#{e.entry_id} round {e.round} {e.slot} {e.status} {kind} "
                f"submission={e.submission_id or '-'} remote={e.remote_filename or '-'} "
                f"sha256={(e.sha256 or '-')[:12]} updated={e.updated_at} {e.detail or ''}".rstrip()
            )
        for round_number, slot, owner, beat in ledger.claims.holders():
            print(f"claim round {round_number} {slot}: {owner.describe()} heartbeat at epoch {beat:.0f}")
    return 0


def cmd_reconcile(args: argparse.Namespace) -> int:
    from numerai_assets.core.live.reconcile import reconcile
    from numerai_assets.core.numerai.client import NumeraiClient

    public_id, secret_key = os.environ.get("NUMERAI_PUBLIC_ID"), os.environ.get("NUMERAI_SECRET_KEY")
    if not (public_id and secret_key) and args.mode == "local":
        from numerai_assets.resources.numerai import LOCAL_CREDENTIALS

        public_id, secret_key = LOCAL_CREDENTIALS
    client = NumeraiClient(args.api_url, public_id, secret_key)
    slots = args.slots.split(",") if args.slots else None
    report = reconcile(args.ledger, client, slots)
    return 1 if report.left_uncertain else 0


def build_parser() -> argparse.ArgumentParser:
    ledger, api_url, mode = _defaults()
    parser = argparse.ArgumentParser(prog="numerai-assets-ledger", description=__doc__.split("\n")[0])
    parser.add_argument("--ledger", type=Path, default=ledger, help=f"ledger file (default {ledger})")
    sub = parser.add_subparsers(dest="command", required=True)
    show = sub.add_parser("show", help="list ledger entries and held claims")
    show.add_argument("--round", type=int)
    show.add_argument("--slot")
    show.set_defaults(func=cmd_show)
    rec = sub.add_parser("reconcile", help="rebuild/reconcile the ledger from Numerai's records")
    rec.add_argument("--api-url", default=api_url, help=f"GraphQL endpoint (default {api_url})")
    rec.add_argument("--mode", default=mode, choices=("local", "numerai"))
    rec.add_argument("--slots", help="comma-separated model names (default: every account model)")
    rec.set_defaults(func=cmd_reconcile)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except LedgerUnusableError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
