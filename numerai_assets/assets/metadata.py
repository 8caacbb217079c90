"""Figures in asset and check metadata, rounded for reading in the UI.

Dagster prints a float with all 17 digits; a participant reads 4 significant ones. Full precision
stays in the stored JSON/parquet artifacts, so rounding here loses nothing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

SIGNIFICANT_DIGITS = 4


def readable_number(value: float, digits: int = SIGNIFICANT_DIGITS) -> float:
    """``0.012345678`` -> ``0.01235``; ``123456.7`` -> ``123457.0``; NaN and inf stay as they are."""
    value = float(value)
    if value == 0 or not math.isfinite(value):
        return value
    decimals = digits - 1 - math.floor(math.log10(abs(value)))
    return round(value, max(decimals, 0))


def readable(metadata: Mapping[str, Any], digits: int = SIGNIFICANT_DIGITS) -> dict[str, Any]:
    """The same metadata with every plain float (numpy floats too) rounded; other values unchanged."""
    return {key: _readable_value(value, digits) for key, value in metadata.items()}


def _readable_value(value: Any, digits: int) -> Any:
    if isinstance(value, float | np.floating):
        return readable_number(value, digits)
    return value
