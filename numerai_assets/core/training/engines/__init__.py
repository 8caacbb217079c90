"""The engine registry: one line per training engine, one module each (imported only when used).

An engine module provides ``engine_params(spec, seed, threads)``, ``fit(...) -> Fit``,
``model_bytes(fit)``, ``load(path, threads)`` and ``predict_batch(booster, batch)``. Everything that
depends on the engine name (dispatch, roster validation, model file suffixes, asset kinds) reads
:data:`REGISTRY`, so adding an engine is its module plus one :class:`EngineInfo` line below. This
package imports nothing heavy: importing lightgbm or xgboost costs ~1.7 s each.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

# Round counts and seeds have their own roster fields; the same knob in two places would be ambiguous.
COMMON_RESERVED = frozenset(
    {
        "n_estimators",
        "num_iterations",
        "num_iteration",
        "num_boost_round",
        "num_round",
        "num_rounds",
        "num_trees",
        "num_tree",
        "n_iter",
        "seed",
        "random_state",
        "random_seed",
    }
)


@dataclass(frozen=True)
class EngineInfo:
    """What the rest of the package needs to know about an engine without importing it."""

    name: str
    suffix: str  # model file suffix, e.g. ".lgb.txt"
    threads: str  # the engine parameter holding the thread count
    seeds: tuple[str, ...]  # the engine parameter(s) holding the seed
    rounds: tuple[str, ...] = ()  # round-count parameter names beyond COMMON_RESERVED

    @property
    def module(self) -> str:
        return f"{__name__}.{self.name}"

    @property
    def reserved(self) -> frozenset[str]:
        """Params a roster may not set for this engine: seeds and round counts have their own fields."""
        return COMMON_RESERVED | set(self.seeds) | set(self.rounds)

    def load(self) -> ModuleType:
        return importlib.import_module(self.module)


REGISTRY: dict[str, EngineInfo] = {
    e.name: e
    for e in (
        EngineInfo("lightgbm", ".lgb.txt", threads="num_threads", seeds=("seed",)),
        EngineInfo("xgboost", ".xgb.ubj", threads="nthread", seeds=("seed",)),
        EngineInfo("catboost", ".cbm", threads="thread_count", seeds=("random_seed",), rounds=("iterations",)),
    )
}
NAMES: tuple[str, ...] = tuple(REGISTRY)


def info(name: str, *, where: str = "") -> EngineInfo:
    """The registry entry of ``name``; ``where`` (a model or file) prefixes the error if unknown."""
    try:
        return REGISTRY[name]
    except KeyError:
        prefix = f"{where}: " if where else ""
        raise ValueError(f"{prefix}unknown engine {name!r}; known: {list(NAMES)}") from None


def load(name: str, *, where: str = "") -> ModuleType:
    """The engine module of ``name``, imported on first use."""
    return info(name, where=where).load()
