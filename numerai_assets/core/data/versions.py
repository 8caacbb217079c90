"""Names that change with the dataset version, derived from the data instead of hard-coded.

Numerai renames its benchmark columns with every release (``v5_lgbm_cyrusd20`` in v5.0,
``v52_lgbm_ender20`` in v5.2, ``v53_lgbm_ender20`` in v5.3): the BMC / gate reference is the
version's ``*_lgbm_ender20`` column of the benchmark file, unless config names one explicitly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pandas as pd

MAIN_BENCHMARK_MODEL = "lgbm_ender20"  # the benchmark trained on the main 20-day target
_VERSION = re.compile(r"^v(\d+)\.(\d+)$")


def benchmark_prefixes(version: str) -> tuple[str, ...]:
    """Column prefixes Numerai uses for ``version``: ``v5.3`` -> ``v53_``; ``v5.0`` -> also ``v5_``."""
    match = _VERSION.match(version)
    if not match:
        raise ValueError(f"dataset version {version!r} does not look like 'v5.3'")
    major, minor = match.groups()
    return (f"v{major}{minor}_",) + ((f"v{major}_",) if minor == "0" else ())


def main_benchmark_column(columns: Iterable[str], version: str, configured: str | None = None) -> str:
    """The benchmark column BMC and the live gate compare with.

    ``configured`` (policy config) wins when set and must be one of ``columns``; otherwise the
    version's ``*_lgbm_ender20`` column. Raises naming the version and the columns on offer.
    """
    columns = list(columns)
    if configured is not None:
        if configured not in columns:
            raise ValueError(
                f"configured benchmark column {configured!r} is not in the {version} "
                f"benchmark file; its columns: {_shown(columns)}"
            )
        return configured
    wanted = [p + MAIN_BENCHMARK_MODEL for p in benchmark_prefixes(version)]
    found = [c for c in wanted if c in columns]
    if not found:
        raise ValueError(
            f"no main benchmark column ({' or '.join(wanted)}) for dataset version "
            f"{version} in the benchmark file; its columns: {_shown(columns)}; set "
            f"benchmark_column in the policy config to choose one"
        )
    return found[0]


def benchmark_series(frame: pd.DataFrame, version: str, configured: str | None = None) -> pd.Series | None:
    """The main benchmark column of a benchmark frame, or None when the file has none."""
    try:
        return frame[main_benchmark_column(frame.columns, version, configured)]
    except ValueError:
        return None


def _shown(columns: list[str], limit: int = 12) -> str:
    shown = [c for c in columns if c not in ("id", "era", "data_type")]
    return ", ".join(shown[:limit]) + (f" ... and {len(shown) - limit} more" if len(shown) > limit else "")
