"""The gate verdict: what the gates said about one predictions file, stored beside it.

The verdict travels with the file it judged (keyed by the file's sha256), so the submission
step of ANY run, also one that materializes only the submission, uploads a file only when its
own verdict says every blocking gate and the live file's contract passed. Blocking asset checks
alone stop downstream steps only within the run that evaluated them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from numerai_assets.core.atomic import write_bytes_atomic
from numerai_assets.core.live.gates import GateResult
from numerai_assets.core.live.names import LIVE_PREDICTIONS, slot_asset_name

VERDICT_SCHEMA = 1
PENDING = "gates not evaluated yet (written before the predictions; a killed step leaves this)"


def predictions_csv_key(round_number: int, slot: str) -> str:
    """Where a slot's predictions CSV of a round lives in the model store (its verdict beside it)."""
    return f"submissions/round{round_number}/{slot}/predictions.csv"


def verdict_key(csv_key: str) -> str:
    """Where the verdict of the predictions file ``csv_key`` lives: beside it."""
    return f"{csv_key}.verdict.json"


def live_contract_entry(sha256: str, passed: bool, failures: Sequence[str]) -> dict[str, Any]:
    return {"sha256": sha256, "passed": bool(passed), "failures": list(failures)}


def _live_contract_path(live_path: str | Path) -> Path:
    return Path(f"{live_path}.contract.json")


def store_live_contract(live_path: str | Path, entry: Mapping[str, Any]) -> None:
    """``live_data`` records its contract result beside the live file, so every slot's verdict
    reads it instead of profiling and validating the same file again on the round's hot path."""
    write_bytes_atomic(_live_contract_path(live_path), json.dumps(dict(entry)).encode())


def stored_live_contract(live_path: str | Path, sha256: str) -> dict[str, Any] | None:
    """The recorded contract result of exactly this live file (same sha256), else None."""
    try:
        entry = json.loads(_live_contract_path(live_path).read_text())
    except (OSError, ValueError):
        return None
    ok = isinstance(entry, dict) and entry.get("sha256") == sha256 and isinstance(entry.get("passed"), bool)
    return entry if ok else None


def build_verdict(
    *,
    round_number: int,
    slot: str,
    sha256: str | None,
    gates: Iterable[GateResult],
    live_contract: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """A JSON-ready verdict. ``sha256`` None with no gates is the pending placeholder."""
    return {
        "schema": VERDICT_SCHEMA,
        "round": round_number,
        "slot": slot,
        "sha256": sha256,
        "gates": [
            {
                "name": g.name,
                "passed": bool(g.passed),
                "blocking": g.blocking,
                "message": g.message,
                "observed": _jsonable(g.observed),
            }
            for g in gates
        ],
        "live_contract": dict(live_contract) if live_contract is not None else None,
    }


def pending_verdict(round_number: int, slot: str) -> dict[str, Any]:
    return build_verdict(round_number=round_number, slot=slot, sha256=None, gates=(), live_contract=None)


def refusal(verdict: Mapping[str, Any] | None, *, source: str, sha256: str, round_number: int, slot: str) -> str | None:
    """Why this file must not be uploaded, or None when its verdict clears it."""
    if verdict is None:
        asset = slot_asset_name(slot, LIVE_PREDICTIONS)
        return f"no gate verdict {source}: re-materialize {asset} for round {round_number}"
    try:
        if verdict.get("sha256") is None:
            return f"gate verdict {source} is pending: {PENDING}"
        if verdict["sha256"] != sha256:
            return (
                f"gate verdict {source} judged sha256 {str(verdict['sha256'])[:12]}, but the file "
                f"to upload is {sha256[:12]}: the predictions changed after their gates ran"
            )
        if (verdict["round"], verdict["slot"]) != (round_number, slot):
            return (
                f"gate verdict {source} is for round {verdict['round']} slot {verdict['slot']}, "
                f"not round {round_number} slot {slot}"
            )
        failed = [g["name"] for g in verdict["gates"] if g["blocking"] and not g["passed"]]
        contract = verdict["live_contract"]
        if contract is None or not contract["passed"]:
            detail = "; ".join(contract["failures"]) if contract else "not recorded"
            failed.append(f"live contract ({detail})")
        if not verdict["gates"]:
            failed.append("no gates recorded")
    except (KeyError, TypeError, AttributeError) as exc:
        return f"gate verdict {source} is malformed ({type(exc).__name__}: {exc})"
    if failed:
        return f"blocking gates failed for slot {slot} round {round_number}: {', '.join(failed)} ({source})"
    return None


def _jsonable(observed: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in observed.items():
        if hasattr(value, "item"):  # numpy scalars
            value = value.item()
        out[key] = value if isinstance(value, (str, int, float, bool)) or value is None else str(value)
    return out
