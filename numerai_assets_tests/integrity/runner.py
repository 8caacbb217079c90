"""``submit_slot`` in a fresh process: what a second round run, or a re-run after kill -9, is.

Run as ``python -c "from numerai_assets_tests.integrity.runner import main; main()" '<json>'``;
prints one JSON line: the outcome, or ``{"error": <type>, "message": ...}`` (exit code 3).
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

from numerai_assets.core.live.ledger import SubmissionLedger
from numerai_assets.core.live.submitting import SubmitTiming, submit_slot
from numerai_assets.core.numerai.client import NumeraiClient, RetryPolicy

CREDENTIALS = ("INTEGRITY-PUB", "INTEGRITY-SECRET")


def main() -> None:
    cfg = json.loads(sys.argv[1])
    client = NumeraiClient(cfg["url"], *CREDENTIALS, policy=RetryPolicy(**cfg.get("policy", {})))
    try:
        with SubmissionLedger(cfg["ledger"], lease_s=cfg.get("lease_s", 60.0)) as ledger:
            outcome = submit_slot(
                client,
                ledger,
                slot=cfg["slot"],
                round_number=cfg["round"],
                csv_path=Path(cfg["csv"]),
                sha256=cfg["sha256"],
                replay=cfg.get("replay", False),
                timing=SubmitTiming(**cfg.get("timing", {})),
                log=lambda msg: print(msg, file=sys.stderr, flush=True),
            )
    except Exception as exc:  # noqa: BLE001 - the test reads which error and why
        print(json.dumps({"error": type(exc).__name__, "message": str(exc)}), flush=True)
        sys.exit(3)
    print(json.dumps(dataclasses.asdict(outcome)), flush=True)
