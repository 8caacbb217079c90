"""Where a file's main target is missing, era by era: Numerai's unresolved validation tail.

Numerai's newest validation eras are rows whose targets are NaN (not resolved yet). A contract
must accept that trailing block, and only it; this module finds it, in the contract's streaming
pass (:class:`TargetGapTracker`) or from three columns of a file (:func:`target_gaps`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

LABELLED_DATA_TYPES = ("train", "validation")  # rows whose main target must be resolved


def decode(arr: pa.Array) -> pa.Array:
    """Dictionary-encoded strings as plain strings (anything else as is)."""
    return arr.dictionary_decode() if pa.types.is_dictionary(arr.type) else arr


def merge_counts(into: dict, value_counts: pa.StructArray) -> None:
    """Add a ``pc.value_counts`` result into ``into`` (null counted under ``"<null>"``)."""
    for value, count in zip(value_counts.field(0).to_pylist(), value_counts.field(1).to_pylist(), strict=False):
        key = "<null>" if value is None else value
        into[key] = into.get(key, 0) + count


@dataclass(frozen=True)
class TargetGaps:
    """Where the main target is missing, by era.

    Numerai's newest validation eras are not resolved yet: a trailing block of eras in which no
    row has a main target (``unresolved_eras``; their rows may be data_type validation or test).
    Anywhere else a labelled row (data_type train/validation) without its main target is a
    broken file; train files allow no unresolved block at all.
    """

    unresolved_eras: tuple[str, ...]  # the trailing block, oldest first
    unresolved_rows: int
    labelled_missing_by_era: dict[str, int]  # era -> labelled rows without main target (all eras)

    def labelled_missing(self, *, allow_unresolved_tail: bool) -> dict[str, int]:
        """Era -> labelled rows lacking the main target that the contract must reject."""
        skip = set(self.unresolved_eras) if allow_unresolved_tail else set()
        return {e: n for e, n in self.labelled_missing_by_era.items() if e not in skip}

    def summary(self) -> dict[str, object]:
        """Metadata figures: which eras are unresolved (first..last) and how many rows."""
        eras = self.unresolved_eras
        span = "none" if not eras else (eras[0] if len(eras) == 1 else f"{eras[0]}..{eras[-1]}")
        return {"unresolved_eras": span, "unresolved_era_count": len(eras), "unresolved_rows": self.unresolved_rows}


class TargetGapTracker:
    """Per-era counts of rows, resolved rows and labelled rows without the main target."""

    def __init__(self) -> None:
        self.rows: dict[str, int] = {}
        self.resolved: dict[str, int] = {}
        self.labelled_missing: dict[str, int] = {}

    def update(self, era: pa.Array, data_type: pa.Array | None, target: pa.Array) -> None:
        missing = pc.is_null(target, nan_is_null=True)
        merge_counts(self.rows, pc.value_counts(era))
        merge_counts(self.resolved, pc.value_counts(era.filter(pc.invert(missing))))
        labelled = (
            missing
            if data_type is None
            else pc.and_(missing, pc.is_in(data_type, value_set=pa.array(LABELLED_DATA_TYPES)))
        )
        merge_counts(self.labelled_missing, pc.value_counts(era.filter(labelled)))

    def result(self) -> TargetGaps:
        tail: list[str] = []
        for era in sorted(self.rows, reverse=True):
            if self.resolved.get(era, 0):
                break
            tail.append(era)
        tail.reverse()
        missing = {e: n for e, n in sorted(self.labelled_missing.items()) if n}
        return TargetGaps(tuple(tail), sum(self.rows[e] for e in tail), missing)


def target_gaps(path: str | Path, main_target: str = "target") -> TargetGaps | None:
    """The :class:`TargetGaps` of a file, reading only era, data_type and the main target."""
    names = pq.read_schema(path).names
    if "era" not in names or main_target not in names:
        return None
    has_type = "data_type" in names
    table = pq.read_table(path, columns=["era", main_target] + (["data_type"] if has_type else []))
    tracker = TargetGapTracker()
    for batch in table.to_batches():
        tracker.update(
            decode(batch.column("era")),
            decode(batch.column("data_type")) if has_type else None,
            batch.column(main_target),
        )
    return tracker.result()
