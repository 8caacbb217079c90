"""Small types shared by the engine modules (kept apart so engines do not import each other).

``OMP_WAIT_POLICY=PASSIVE`` is set by the package ``__init__`` (before any engine can load libgomp).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from numerai_assets.core.data.batches import FeatureMatrix


@dataclass
class Progress:
    """Reports ``iteration i/n elapsed s metric=v`` every ``every`` iterations (and at the last one)."""

    log: Callable[[str], None]
    every: int
    total: int
    started: float = field(default_factory=time.perf_counter)

    def due(self, iteration: int) -> bool:
        return self.every > 0 and (iteration % self.every == 0 or iteration == self.total)

    def report(self, iteration: int, metric: str | None, value: float | None) -> None:
        line = f"iteration {iteration}/{self.total} elapsed {time.perf_counter() - self.started:.1f}s"
        self.log(line if metric is None else f"{line} {metric}={value:.5f}")


@dataclass(frozen=True)
class TrainingData:
    """Features (streamed) and labels (in memory) of one set of rows."""

    matrix: FeatureMatrix
    labels: np.ndarray


@dataclass
class Fit:
    """What an engine's ``fit`` returns: the booster plus the figures the manifest records."""

    booster: Any
    rounds: int  # boosting rounds kept in the saved model
    best_iteration: int | None  # 1-based, when early stopping ran
    best_score: float | None
    build_seconds: float
    train_seconds: float
