"""The model roster: which models to train, how, and which Numerai slot each one submits to.

The roster is data (``numerai_assets/roster.yaml``, overridable by path), validated in full on
load so a typo fails when definitions load, naming the model and field, not hours into a run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from numerai_assets.core.data.dataset import MAIN_TARGET, FeatureSets
from numerai_assets.core.training import engines

DEFAULT_ROSTER_PATH = Path(__file__).resolve().parents[2] / "roster.yaml"
ENGINES = engines.NAMES
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")  # names end up in paths and partition keys
_MODEL_KEYS = {
    "name",
    "engine",
    "params",
    "feature_set",
    "target",
    "seeds",
    "num_boost_round",
    "era_step",
    "early_stopping",
    "slot",
}
_EARLY_STOPPING_KEYS = {"eval_eras", "patience", "embargo", "refit"}
SLOT_MODES = ("submit", "compute")  # submit: our round run uploads; compute: Numerai runs our pickle
_SLOT_KEYS = {"mode", "docker_image", "data_version"}


class RosterError(ValueError):
    """A roster file that cannot be used; the message lists every problem found."""


@dataclass(frozen=True)
class EarlyStopping:
    """Stop on the last walk-forward fold: the final ``eval_eras`` eras, after an embargo gap.

    ``embargo`` None picks it from the target horizon (see :func:`cv.embargo_for_target`).
    ``refit`` retrains on all eras for the best round count, so the newest eras are not lost.
    """

    eval_eras: int = 52
    patience: int = 50
    embargo: int | None = None
    refit: bool = False


@dataclass(frozen=True)
class ModelSpec:
    """One roster entry. ``params`` go to the engine as they are (plus seed and threads)."""

    name: str
    engine: str
    slot: str
    seeds: tuple[int, ...]
    num_boost_round: int
    feature_set: str | tuple[str, ...] = "medium"
    target: str = MAIN_TARGET
    era_step: int = 1
    params: dict[str, Any] = field(default_factory=dict)
    early_stopping: EarlyStopping | None = None

    def features(self, feature_sets: FeatureSets) -> list[str]:
        """The feature columns this model trains on, in ``features.json`` 'all' order."""
        return feature_sets.resolve(self.feature_set)


@dataclass(frozen=True)
class SlotConfig:
    """How a slot reaches Numerai. ``compute``: a pickle built from its champions is proven in the
    ``docker_image``'s sandbox and uploaded (``data_version`` None: the configured dataset version)."""

    mode: str = "submit"
    docker_image: str | None = None
    data_version: str | None = None


@dataclass(frozen=True)
class Roster:
    models: tuple[ModelSpec, ...]
    source: str = ""
    slot_configs: dict[str, SlotConfig] = field(default_factory=dict)

    def slot_config(self, slot: str) -> SlotConfig:
        return self.slot_configs.get(slot, SlotConfig())

    def slots_in_mode(self, mode: str) -> dict[str, list[str]]:
        return {s: m for s, m in self.slots.items() if self.slot_config(s).mode == mode}

    def only_mode(self, mode: str) -> Roster:
        """The roster restricted to the models of slots in ``mode`` (the round run's submit slots)."""
        keep = tuple(m for m in self.models if self.slot_config(m.slot).mode == mode)
        return Roster(keep, self.source, {s: c for s, c in self.slot_configs.items() if c.mode == mode})

    @property
    def names(self) -> list[str]:
        return [m.name for m in self.models]

    @property
    def slots(self) -> dict[str, list[str]]:
        """{slot: [model names]}: several models may feed one Numerai slot (an ensemble)."""
        out: dict[str, list[str]] = {}
        for m in self.models:
            out.setdefault(m.slot, []).append(m.name)
        return out

    def get(self, name: str) -> ModelSpec:
        for m in self.models:
            if m.name == name:
                return m
        raise KeyError(f"no model {name!r} in roster {self.source}; known: {self.names}")


def load_roster(path: str | Path | None = None, *, feature_sets: FeatureSets | None = None) -> Roster:
    """Read and validate a roster file (default: the packaged ``roster.yaml``).

    With ``feature_sets`` also checks every feature set and target against ``features.json``.
    """
    path = Path(path) if path is not None else DEFAULT_ROSTER_PATH
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise RosterError(f"roster {path}: cannot read: {exc}") from None
    except yaml.YAMLError as exc:
        raise RosterError(f"roster {path}: invalid YAML: {exc}") from None
    return parse_roster(raw, source=str(path), feature_sets=feature_sets)


def parse_roster(raw: Any, *, source: str = "<roster>", feature_sets: FeatureSets | None = None) -> Roster:
    """Validate an already-parsed roster document; raises :class:`RosterError` listing all problems."""
    errors: list[str] = []
    if not isinstance(raw, Mapping):
        raise RosterError(f"roster {source}: expected a mapping with a 'models' list")
    unknown = sorted(set(raw) - {"models", "slots"})
    if unknown:
        errors.append(f"unknown top-level key(s) {unknown}; expected 'models' and optionally 'slots'")
    entries = raw.get("models")
    if not isinstance(entries, list) or not entries:
        errors.append("'models' must be a non-empty list")
        entries = []
    models: list[ModelSpec] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        label = f"model #{i + 1}"
        if isinstance(entry, Mapping) and isinstance(entry.get("name"), str):
            label = f"model {entry['name']!r}"
        problems: list[str] = []
        spec = _parse_model(entry, problems, feature_sets)
        errors.extend(f"{label}: {p}" for p in problems)
        if spec is not None:
            if spec.name in seen:
                errors.append(f"{label}: field 'name': duplicate model name")
            seen.add(spec.name)
            models.append(spec)
    errors.extend(_seed_mismatch(models))
    slot_configs = _slot_configs(raw.get("slots"), {m.slot for m in models}, errors)
    if errors:
        raise RosterError(f"roster {source}:\n  " + "\n  ".join(errors))
    return Roster(models=tuple(models), source=source, slot_configs=slot_configs)


def _slot_configs(value: Any, used: set[str], errors: list[str]) -> dict[str, SlotConfig]:
    """``slots: {name: {mode, docker_image, data_version}}``; absent slots are ``submit``."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        errors.append(f"'slots': expected a mapping of slot names to settings, got {value!r}")
        return {}
    out = {}
    for slot, entry in value.items():
        label = f"slot {slot!r}"
        if slot not in used:
            errors.append(f"{label}: no model submits to it (models name slots {sorted(used)})")
        if not isinstance(entry, Mapping):
            errors.append(f"{label}: expected a mapping with 'mode', got {entry!r}")
            continue
        start = len(errors)
        unknown = sorted(set(entry) - _SLOT_KEYS)
        if unknown:
            errors.append(f"{label}: unknown field(s) {unknown}; known: {sorted(_SLOT_KEYS)}")
        mode = entry.get("mode", "submit")
        if mode not in SLOT_MODES:
            errors.append(f"{label}: field 'mode': {mode!r} is not one of {list(SLOT_MODES)}")
        for key in ("docker_image", "data_version"):
            if entry.get(key) is not None and (not isinstance(entry[key], str) or not entry[key].strip()):
                errors.append(f"{label}: field {key!r}: expected a non-empty string, got {entry[key]!r}")
        if mode == "compute" and entry.get("docker_image") is None:
            errors.append(f"{label}: field 'docker_image': required in compute mode (e.g. 'Python 3.12')")
        if len(errors) == start:
            out[str(slot)] = SlotConfig(mode, entry.get("docker_image"), entry.get("data_version"))
    return out


def _seed_mismatch(models: Sequence[ModelSpec]) -> list[str]:
    """The seed partitions are one dimension shared by every model, and a model's evaluation
    reads all of them: models with different seeds would wait on partitions nobody trains."""
    by_seeds: dict[tuple[int, ...], list[str]] = {}
    for m in models:
        by_seeds.setdefault(tuple(sorted(m.seeds)), []).append(m.name)
    if len(by_seeds) <= 1:
        return []
    groups = "; ".join(f"models {names} have {list(seeds)}" for seeds, names in by_seeds.items())
    return [f"field 'seeds': every model must train the same seeds (the seed partitions are shared): {groups}"]


def _parse_model(entry: Any, errors: list[str], feature_sets: FeatureSets | None) -> ModelSpec | None:
    if not isinstance(entry, Mapping):
        errors.append(f"expected a mapping, got {type(entry).__name__}")
        return None
    unknown = sorted(set(entry) - _MODEL_KEYS)
    if unknown:
        errors.append(f"unknown field(s) {unknown}; known: {sorted(_MODEL_KEYS)}")
    start = len(errors)
    name = _str(entry, "name", errors)
    if name is not None and not NAME_PATTERN.match(name):
        errors.append(f"field 'name': {name!r} must match {NAME_PATTERN.pattern}")
    engine = _str(entry, "engine", errors)
    if engine is not None and engine not in ENGINES:
        errors.append(f"field 'engine': unknown engine {engine!r}; known: {list(ENGINES)}")
    reserved_params = engines.REGISTRY[engine].reserved if engine in ENGINES else engines.COMMON_RESERVED
    slot = _str(entry, "slot", errors)
    target = _str(entry, "target", errors, default=MAIN_TARGET)
    seeds = _seeds(entry.get("seeds"), errors)
    rounds = _int(entry, "num_boost_round", errors, minimum=1)
    era_step = _int(entry, "era_step", errors, minimum=1, default=1)
    feature_set = _feature_set(entry.get("feature_set", "medium"), errors)
    params = entry.get("params", {}) or {}
    if not isinstance(params, Mapping) or not all(isinstance(k, str) for k in params):
        errors.append("field 'params': expected a mapping of parameter names to values")
        params = {}
    reserved = sorted(set(params) & reserved_params)
    if reserved:
        errors.append(f"field 'params': {reserved} not allowed here; use 'num_boost_round' and 'seeds'")
    early = _early_stopping(entry.get("early_stopping"), errors)
    if feature_sets is not None:
        if feature_set is not None:
            try:
                feature_sets.resolve(feature_set)
            except ValueError as exc:
                errors.append(f"field 'feature_set': {exc}")
        if target is not None and feature_sets.targets and target not in feature_sets.targets:
            errors.append(
                f"field 'target': unknown target {target!r}; features.json lists {len(feature_sets.targets)} targets"
            )
    required = (name, engine, slot, target, seeds, rounds, era_step, feature_set)
    if len(errors) > start or any(v is None for v in required):  # a None always came with its error
        return None
    assert name and engine and slot and target and seeds and rounds and era_step and feature_set  # for mypy
    return ModelSpec(
        name=name,
        engine=engine,
        slot=slot,
        seeds=seeds,
        num_boost_round=rounds,
        feature_set=feature_set,
        target=target,
        era_step=era_step,
        params=dict(params),
        early_stopping=early,
    )


def _str(entry: Mapping, key: str, errors: list[str], default: str | None = None) -> str | None:
    value = entry.get(key, default)
    if value is None:
        errors.append(f"field {key!r}: missing")
    elif not isinstance(value, str) or not value.strip():
        errors.append(f"field {key!r}: expected a non-empty string, got {value!r}")
        return None
    return value


def _int(entry: Mapping, key: str, errors: list[str], *, minimum: int, default: int | None = None) -> int | None:
    value = entry.get(key, default)
    if value is None:
        errors.append(f"field {key!r}: missing")
    elif isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        errors.append(f"field {key!r}: expected an integer >= {minimum}, got {value!r}")
        return None
    return value


def _seeds(value: Any, errors: list[str]) -> tuple[int, ...] | None:
    if not isinstance(value, list) or not value:
        errors.append(f"field 'seeds': expected a non-empty list of integers, got {value!r}")
        return None
    if any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in value):
        errors.append(f"field 'seeds': expected non-negative integers, got {value!r}")
        return None
    if len(set(value)) != len(value):
        errors.append(f"field 'seeds': duplicate seeds in {value!r}")
        return None
    return tuple(value)


def _feature_set(value: Any, errors: list[str]) -> str | tuple[str, ...] | None:
    if isinstance(value, str) and value:
        return value
    if (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and value
        and all(isinstance(v, str) and v for v in value)
    ):
        return tuple(value)
    errors.append(f"field 'feature_set': expected a set name or a non-empty list of names, got {value!r}")
    return None


def _early_stopping(value: Any, errors: list[str]) -> EarlyStopping | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        errors.append(f"field 'early_stopping': expected a mapping, got {value!r}")
        return None
    start = len(errors)
    unknown = sorted(set(value) - _EARLY_STOPPING_KEYS)
    if unknown:
        errors.append(f"field 'early_stopping': unknown key(s) {unknown}; known: {sorted(_EARLY_STOPPING_KEYS)}")
    sub: list[str] = []
    defaults = EarlyStopping()
    eval_eras = _int(value, "eval_eras", sub, minimum=1, default=defaults.eval_eras)
    patience = _int(value, "patience", sub, minimum=1, default=defaults.patience)
    embargo = value.get("embargo")
    if embargo is not None and (isinstance(embargo, bool) or not isinstance(embargo, int) or embargo < 0):
        sub.append(f"field 'embargo': expected an integer >= 0 or null, got {embargo!r}")
    refit = value.get("refit", False)
    if not isinstance(refit, bool):
        sub.append(f"field 'refit': expected true or false, got {refit!r}")
    errors.extend(f"field 'early_stopping': {e.removeprefix('field ')}" for e in sub)
    if len(errors) > start:
        return None
    assert eval_eras is not None and patience is not None  # _int appends an error whenever it returns None
    return EarlyStopping(eval_eras=eval_eras, patience=patience, embargo=embargo, refit=refit)
