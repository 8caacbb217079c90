"""Which roster models need retraining, and whether now is a time to do it (no Dagster here).

A model is stale when a seed it runs on was trained (or predicted validation) on other bytes than
the data store now holds: Numerai republishes files under the same name. A newer dataset version
in Numerai's listing is reported, never switched to: the roster and config choose the version.
Retraining never competes with a live round: while a round is open and a submit-mode slot is not
yet confirmed in the ledger, or a round run is in flight, it waits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

_VERSION = re.compile(r"^v(\d+)(?:\.(\d+))?$")


@dataclass(frozen=True)
class SeedBasis:
    """What one trained seed was built from: data label (e.g. ``train_data``) -> sha256."""

    model: str
    seed: int
    trained_on: Mapping[str, str]


@dataclass(frozen=True)
class WindowDecision:
    wait: bool
    reason: str


def short(sha: str) -> str:
    return sha[:12]


def stale_models(seeds: Iterable[SeedBasis], current: Mapping[str, str]) -> dict[str, list[str]]:
    """Model -> why it is stale (one reason per changed file, seeds folded together).

    A file a seed has no record of is not judged: an untrained model is not stale.
    """
    out: dict[str, list[str]] = {}
    for basis in seeds:
        for label, sha in sorted(basis.trained_on.items()):
            now = current.get(label)
            if now is None or not sha or now == sha:
                continue
            reason = f"{label} sha256 {short(sha)}.. -> {short(now)}.."
            if reason not in out.setdefault(basis.model, []):
                out[basis.model].append(reason)
    return out


def decayed_models(failed_slots: Iterable[str], slots: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """Model -> the decay warning of its slot (the slot's latest band check failed)."""
    out: dict[str, list[str]] = {}
    for slot in sorted(set(failed_slots)):
        if slot not in slots:
            raise ValueError(f"decay warning on slot {slot!r}, which is not in the roster's slots {sorted(slots)}")
        for model in slots[slot]:
            out.setdefault(model, []).append(f"decay warning on slot {slot}")
    return out


def parse_version(version: str) -> tuple[int, int] | None:
    """``v5.3`` -> (5, 3); ``v5`` -> (5, 0); anything else None."""
    match = _VERSION.match(version)
    return (int(match.group(1)), int(match.group(2) or 0)) if match else None


def newer_versions(listed: Iterable[str], configured: str) -> list[str]:
    """Versions in Numerai's listing (``v5.3/train.parquet`` ...) newer than ``configured``, oldest first.

    Raises naming the configured version when it cannot be compared (not ``vMAJOR.MINOR``).
    """
    mine = parse_version(configured)
    if mine is None:
        raise ValueError(f"configured dataset version {configured!r} does not look like 'v5.3'; cannot compare")
    found = {name.split("/", 1)[0] for name in listed if "/" in name}
    newer = [(parsed, v) for v in found if (parsed := parse_version(v)) is not None and parsed > mine]
    return [v for _, v in sorted(newer)]


def round_window(round_number: int | None, unconfirmed: Sequence[str], run_in_flight: bool) -> WindowDecision:
    """Whether retraining (and the data refresh) must wait for the live round."""
    if round_number is None:
        return WindowDecision(False, "no round is open")
    if run_in_flight:
        return WindowDecision(True, f"round {round_number} is open and its run is in flight: waiting")
    if unconfirmed:
        return WindowDecision(
            True,
            f"round {round_number} is open and slots {sorted(unconfirmed)} are not confirmed in the ledger: waiting",
        )
    return WindowDecision(False, f"round {round_number}: every submit slot confirmed")


def retrain_basis(current: Mapping[str, str]) -> str:
    """The data a retraining is for, short: each file's sha256 prefix, in label order."""
    return "-".join(short(current[k]) for k in sorted(current))


def retrain_run_key(basis: str, model: str, seed: int) -> str:
    """Once per (data, model, seed): the daemon never starts a second run with this key."""
    return f"retrain-{basis}-{model}-{seed}"


def retrain_reason(reasons: Mapping[str, Sequence[str]], newer: Sequence[str] = ()) -> str:
    """One line for tags and logs, naming each model's reasons and any newer version listed."""
    parts = [f"{model}: {', '.join(rs)}" for model, rs in sorted(reasons.items())]
    parts += [f"newer version {v} listed (not switched to)" for v in newer]
    return "; ".join(parts)
