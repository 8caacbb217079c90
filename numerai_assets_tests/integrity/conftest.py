"""Crash-and-race scenarios: real processes (``kill -9`` where it says kill), the real local
tournament server on 127.0.0.1, real numerapi underneath, real sqlite ledgers. Small timeouts
keep the suite short; every wait is bounded and driven by fault switches or observed state."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from numerai_assets.core.live.ledger import SubmissionLedger
from numerai_assets.core.numerai.client import NumeraiClient, RetryPolicy
from numerai_assets.tournament.server import TournamentServer
from numerai_assets_tests.integrity.runner import CREDENTIALS
from numerai_assets_tests.tournament.helpers import predictions, sha256

REPO = Path(__file__).resolve().parents[2]
FAST = {"timeout_s": 5.0, "max_attempts": 3, "budget_s": 15.0, "backoff_initial_s": 0.05, "backoff_max_s": 0.2}
TIMING = {"claim_wait_s": 30.0, "outcome_margin_s": 1.0, "poll_s": 0.1}


@dataclass
class Case:
    """One slot-round to submit: the server, the predictions file and the ledger."""

    server: TournamentServer
    round: int
    slot: str
    csv: Path
    sha256: str
    ledger: Path

    def config(self, **overrides: Any) -> dict[str, Any]:
        cfg = {
            "url": self.server.url,
            "ledger": str(self.ledger),
            "slot": self.slot,
            "round": self.round,
            "csv": str(self.csv),
            "sha256": self.sha256,
            "policy": FAST,
            "timing": TIMING,
            "lease_s": 60.0,
        }
        return {**cfg, **overrides}

    def spawn(self, **overrides: Any) -> subprocess.Popen:
        code = "from numerai_assets_tests.integrity.runner import main; main()"
        env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_WAIT_POLICY": "PASSIVE"}
        return subprocess.Popen(
            [sys.executable, "-c", code, json.dumps(self.config(**overrides))],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def client(self, **policy: float) -> NumeraiClient:
        return NumeraiClient(self.server.url, *CREDENTIALS, policy=RetryPolicy(**{**FAST, **policy}))

    def landed(self) -> list:
        """Submissions the server accepted for this slot and round (the ground truth)."""
        return [s for s in self.server.state.submissions(round_number=self.round) if s.model_name == self.slot]

    def open_ledger(self) -> SubmissionLedger:
        return SubmissionLedger(self.ledger, lease_s=60.0)


def finish(proc: subprocess.Popen, timeout: float = 60) -> dict[str, Any]:
    """Wait for a runner; its JSON result, with its log (stderr) under ``log``."""
    out, err = proc.communicate(timeout=timeout)
    lines = [line for line in out.splitlines() if line.startswith("{")]
    assert lines, f"runner printed no result (rc {proc.returncode}); stderr:\n{err[-3000:]}"
    return {**json.loads(lines[-1]), "log": err, "rc": proc.returncode}


def wait_for(what: str, condition: Callable[[], Any], timeout: float = 30.0) -> Any:
    """Poll ``condition`` until truthy (bounded): the test proceeds on observed state, not sleeps."""
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def kill9(proc: subprocess.Popen) -> None:
    proc.kill()  # SIGKILL: no cleanup, no finally blocks, the claim row stays behind
    proc.wait(timeout=10)  # reaped, so its pid is really gone


@pytest.fixture
def case(open_server: TournamentServer, tmp_path: Path) -> Case:
    csv = tmp_path / "predictions.csv"
    rnd = open_server.current_round().number
    predictions(open_server, rnd).to_csv(csv, index=False)
    return Case(open_server, rnd, "demo_slot_a", csv, sha256(csv), tmp_path / "store" / "ledger.sqlite")
