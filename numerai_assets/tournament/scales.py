"""Sizes of the synthetic tournament: tiny (unit tests), demo (the README job), full (v5.2 shape).

One frozen record per scale keeps every size decision in one place, so the generator, the server
and the benchmarks agree on what "demo" means.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Scale:
    """Row, era and column counts of one tournament size.

    `n_validation_eras` counts the eras with targets; `n_test_eras` more eras follow them in
    validation.parquet with no targets at all (not resolved yet), labelled as the profile says
    (data_type "validation" by default). Rows per era vary by about +-10%
    around the `*_rows_per_era` means, as real eras do.
    """

    name: str
    n_features: int
    n_train_eras: int
    train_rows_per_era: int
    n_validation_eras: int
    validation_rows_per_era: int
    n_test_eras: int
    live_rows: int
    n_small_features: int
    n_medium_features: int
    n_signal_features: int
    target_names: tuple[str, ...]
    row_group_rows: int = 100_000

    @property
    def n_targets(self) -> int:
        """Target columns including `target`: one `_20` and one `_60` column per name."""
        return 1 + 2 * len(self.target_names)


ALL_TARGET_NAMES: tuple[str, ...] = (
    "agnes", "alpha", "bravo", "caroline", "charlie", "claudia", "cyrusd", "delta", "echo",
    "ender", "jasper", "jeremy", "ralph", "rowan", "sam", "teager2b", "tyler", "victor",
    "waldo", "xerxes",
)  # fmt: skip
BENCHMARK_TARGET_NAMES: tuple[str, ...] = ("ender", "cyrusd", "teager2b", "jasper")
MAIN_TARGET = "target_ender_20"  # the column `target` equals (planted_signal makes ender main)

SCALES: dict[str, Scale] = {
    "tiny": Scale(
        name="tiny",
        n_features=36,
        n_train_eras=40,
        train_rows_per_era=100,
        n_validation_eras=16,
        validation_rows_per_era=100,
        n_test_eras=2,
        live_rows=200,
        n_small_features=8,
        n_medium_features=18,
        n_signal_features=8,
        target_names=BENCHMARK_TARGET_NAMES,
    ),
    "demo": Scale(
        name="demo",
        n_features=160,
        n_train_eras=240,
        train_rows_per_era=450,
        n_validation_eras=90,
        validation_rows_per_era=450,
        n_test_eras=4,
        live_rows=2_000,
        n_small_features=16,
        n_medium_features=64,
        n_signal_features=24,
        target_names=BENCHMARK_TARGET_NAMES,
    ),
    "full": Scale(
        name="full",
        n_features=2_748,
        n_train_eras=574,
        train_rows_per_era=4_790,
        n_validation_eras=619,
        validation_rows_per_era=6_260,
        n_test_eras=4,
        live_rows=6_800,
        n_small_features=42,
        n_medium_features=780,
        n_signal_features=64,
        target_names=ALL_TARGET_NAMES,
    ),
}


def lookup(table: Mapping[str, T], name: str, what: str) -> T:
    """``table[name]``; an unknown name fails loudly with the valid choices (scales, profiles)."""
    try:
        return table[name]
    except KeyError:
        valid = ", ".join(sorted(table))
        raise ValueError(f"unknown tournament {what} {name!r}; valid {what}s: {valid}") from None


def get_scale(name: str) -> Scale:
    """Look a scale up by name."""
    return lookup(SCALES, name, "scale")
