"""Era-aware validation splits: walk-forward folds with an embargo between train and eval eras.

Numerai targets look 20 (or 60) trading days ahead while eras are one week apart, so the targets of
neighbouring eras overlap; training on eras just before an eval era leaks its outcome. Numerai purges
8 eras for 20-day targets and 16 for 60-day targets. The gap is measured in era *numbers*, so it stays
correct when only every k-th era is kept (``era_step``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

EMBARGO_20D = 8
EMBARGO_60D = 16
_HORIZON = re.compile(r"_(\d+)$")


def target_horizon_days(target: str) -> int:
    """Trading days a target looks ahead: the ``_20`` / ``_60`` suffix; ``target`` is 20-day."""
    match = _HORIZON.search(target)
    return int(match.group(1)) if match else 20


def embargo_for_target(target: str) -> int:
    """Embargo in eras for a target name: 16 for ``*_60`` (longer horizons), else 8 (``target`` is 20-day)."""
    return EMBARGO_60D if target_horizon_days(target) > 20 else EMBARGO_20D


def scoring_embargo_for_target(target: str) -> int:
    """Validation eras to skip after the last training era: the weeks the target overlaps
    (20 trading days = 4 weekly eras, as Numerai's notebooks skip; 60 days = 12)."""
    return max(1, target_horizon_days(target) // 5)


def embargoed_eras(eras: Iterable[str], last_train_era: str, embargo: int) -> list[str]:
    """Eras not later than ``embargo`` eras after ``last_train_era`` (by era number): their
    targets overlap the training targets, so scoring them would flatter the model."""
    numbers = era_numbers([*eras, last_train_era])
    limit = numbers[last_train_era] + embargo
    return sorted(e for e in set(eras) if numbers[e] <= limit)


@dataclass(frozen=True)
class Fold:
    """One walk-forward split: train on ``train_eras``, evaluate on the later ``eval_eras``."""

    train_eras: tuple[str, ...]
    eval_eras: tuple[str, ...]
    embargo: int

    def summary(self) -> dict[str, object]:
        return {
            "train_first": self.train_eras[0],
            "train_last": self.train_eras[-1],
            "train_count": len(self.train_eras),
            "eval_first": self.eval_eras[0],
            "eval_last": self.eval_eras[-1],
            "eval_count": len(self.eval_eras),
            "embargo": self.embargo,
        }


def era_numbers(eras: Iterable[str]) -> dict[str, int]:
    """Era -> position on the weekly time line: its number when eras are numeric ("0001"), else its rank."""
    ordered = sorted(set(eras))
    if all(e.isdigit() for e in ordered):
        return {e: int(e) for e in ordered}
    return {e: i for i, e in enumerate(ordered)}


def walk_forward_splits(
    eras: Iterable[str],
    *,
    n_folds: int = 4,
    eval_eras: int = 52,
    embargo: int = EMBARGO_20D,
    window: int | None = None,
    min_train_eras: int = 1,
) -> list[Fold]:
    """Folds over sorted unique ``eras``, oldest first; the last fold evaluates on the newest eras.

    Each eval block holds ``eval_eras`` consecutive eras; its training eras are all eras more than
    ``embargo`` era numbers before the block (expanding window), or only the newest ``window`` of them.
    Folds with fewer than ``min_train_eras`` training eras are dropped; none left raises ValueError.
    """
    if n_folds < 1 or eval_eras < 1 or embargo < 0 or min_train_eras < 1:
        raise ValueError("n_folds, eval_eras and min_train_eras must be >= 1 and embargo >= 0")
    numbers = era_numbers(eras)
    ordered = sorted(numbers, key=numbers.__getitem__)
    folds: list[Fold] = []
    for k in range(n_folds):
        end = len(ordered) - k * eval_eras
        start = end - eval_eras
        if start <= 0:
            break
        block = ordered[start:end]
        cutoff = numbers[block[0]] - embargo  # training eras must be strictly before this number
        train = [e for e in ordered[:start] if numbers[e] < cutoff]
        if window is not None:
            train = train[-window:]
        if len(train) >= min_train_eras:
            folds.append(Fold(tuple(train), tuple(block), embargo))
    if not folds:
        raise ValueError(
            f"no walk-forward fold fits {len(ordered)} eras with eval_eras={eval_eras}, "
            f"embargo={embargo}, min_train_eras={min_train_eras}"
        )
    return folds[::-1]


def last_fold(eras: Iterable[str], *, eval_eras: int, embargo: int, min_train_eras: int = 1) -> Fold:
    """The newest walk-forward fold: what early stopping evaluates on."""
    return walk_forward_splits(eras, n_folds=1, eval_eras=eval_eras, embargo=embargo, min_train_eras=min_train_eras)[-1]


def embargo_violations(fold: Fold, numbers: dict[str, int] | None = None) -> list[tuple[str, str]]:
    """(train era, eval era) pairs closer than the embargo allows; empty for a sound fold."""
    numbers = numbers or era_numbers([*fold.train_eras, *fold.eval_eras])
    return [(t, v) for v in fold.eval_eras for t in fold.train_eras if abs(numbers[v] - numbers[t]) <= fold.embargo]


def keep_every(eras: Sequence[str], step: int) -> list[str]:
    """Every ``step``-th era of the sorted unique eras, starting with the first (Numerai's ``[::4]``)."""
    if step < 1:
        raise ValueError(f"era_step must be >= 1, got {step}")
    return sorted(set(eras))[::step]
