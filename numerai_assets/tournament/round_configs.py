"""Per-round payout settings numerapi 3.1.1's `list_rounds` reads: `payoutFactor` and
`roundScoreConfigs`.

Since 2026-03-17 Numerai sets the CORR20 and MMC multipliers per round (before: fixed 0.5 and 2)
and pays `stake * clip(payout_factor * (corr20 * corr_mult + mmc * mmc_mult), +-clip)` with
`payout_factor = min(1, 72000 / total at risk)` (/work/shared/reference/numerai.md). Locally
both are drawn deterministically from the round number, so a round always answers the same
settings and consecutive rounds differ, as a platform that hard-codes 0.5/2 must notice.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

_NS = uuid.UUID("a7d3f2b4-5c61-4e0a-9b8e-3f1d2c4b5a69")
CLIP_THRESHOLD = "0.05"
PAYOUT_BUDGET = 72_000.0
_CORR_MULTIPLIERS = (0.5, 0.75, 1.0)
_MMC_MULTIPLIERS = (1.0, 1.5, 2.0, 2.5, 3.0)
# name, version, displayName, isPayout, isCanonScore, (min, max) multiplier, score days
_SCORES = (
    ("corr20", "v2", "CORR20", True, True, (0.0, 2.0), 20),
    ("mmc", "v2", "MMC", True, False, (0.0, 4.0), 20),
    ("bmc", "v2", "BMC", False, False, (0.0, 0.0), 20),
)


def _num(x: float) -> str:
    return f"{x:g}"


def payout_factor(number: int) -> str:
    """`min(1, 72000 / total at risk)` with a total at risk drawn for the round."""
    at_risk = random.Random(f"at-risk-{number}").uniform(50_000.0, 150_000.0)
    return f"{min(1.0, PAYOUT_BUDGET / at_risk):.6f}"


def multipliers(number: int) -> dict[str, float]:
    """The round's payout multiplier per score name (0 for scores that do not pay)."""
    rng = random.Random(f"multipliers-{number}")
    return {"corr20": rng.choice(_CORR_MULTIPLIERS), "mmc": rng.choice(_MMC_MULTIPLIERS),
            "bmc": 0.0}  # fmt: skip


def score_configs(number: int, score_time: str | None, resolve_time: str | None) -> list[dict[str, Any]]:
    """`roundScoreConfigs` of round `number`, shaped as numerapi's query asks for them."""
    mult = multipliers(number)
    return [
        {
            "id": str(uuid.uuid5(_NS, f"{number}/{name}/{version}")),
            "scoreConfigId": str(uuid.uuid5(_NS, f"{name}/{version}")),
            "roundNumberStart": number,
            "roundNumberEnd": number,
            "name": name,
            "version": version,
            "displayName": display,
            "totalScoreDays": days,
            "returnsLagDays": 2,
            "dataDelayDays": 1,
            "universe": "classic",
            "isCanonScore": canon,
            "isPayout": pays,
            "scoringStart": score_time,
            "scoringEnd": resolve_time,
            "minMultiplier": _num(lo),
            "maxMultiplier": _num(hi),
            "defaultMultiplier": _num(mult[name]),
            "clipThreshold": CLIP_THRESHOLD,
            "stakeThreshold": None,
            "payoutFactor": payout_factor(number),
        }
        for name, version, display, pays, canon, (lo, hi), days in _SCORES
    ]
