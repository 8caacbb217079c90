"""Data contracts for Numerai dataset files: exact statistics + great-expectations over them.

Why this shape: one expectation per column costs ~15 ms of great-expectations overhead (45 s for
2,748 features) and pandas needs the whole file in memory. ``column_profile.profile_parquet``
computes exact per-column statistics in one streaming pass; here great-expectations validates
those statistics tables (one row per column), so the suite has a constant number of
expectations whatever the number of features, and failures still name the offending columns.

great_expectations is imported lazily (~4.5 s) so Dagster definitions never pay for it at load.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from numerai_assets.core.data.column_profile import (
    DatasetProfile,
    allowed_range,
    column_role,
    dtype_class,
    profile_parquet,
)
from numerai_assets.core.data.target_gaps import LABELLED_DATA_TYPES

Kind = Literal["train", "validation", "live", "benchmark_models", "meta_model", "example_preds"]

_COMMON = ("has_rows", "columns_and_dtypes", "no_nulls_where_not_allowed", "unique_ids")
_DATA = ("feature_values_in_range", "targets_in_unit_interval_or_nan", "era_format_and_order", "data_type_values")
_PREDS = ("predictions_in_unit_interval", "era_format_and_order")
#: Stable check names per kind (the Dagster layer declares one asset check per name).
CHECKS_BY_KIND: dict[str, tuple[str, ...]] = {
    "train": _COMMON + _DATA + ("main_target_present",),
    "validation": _COMMON + _DATA + ("main_target_present",),
    "live": _COMMON + _DATA + ("live_targets_absent_or_nan", "live_covers_required_features"),
    "benchmark_models": _COMMON + _PREDS,
    "meta_model": _COMMON + _PREDS,
    "example_preds": _COMMON + ("predictions_in_unit_interval",),
}


def checks_for_kind(kind: str) -> tuple[str, ...]:
    """The stable names of the checks ``check_dataset`` runs for ``kind``."""
    try:
        return CHECKS_BY_KIND[kind]
    except KeyError:
        raise ValueError(f"unknown dataset kind {kind!r}; expected one of {sorted(CHECKS_BY_KIND)}") from None


ALLOWED_DATA_TYPES = {"train": ("train",), "validation": ("validation", "test"), "live": ("live",)}
# Live rows carry one placeholder era whose value Numerai does not fix ("X", "0999", "live"...).
ERA_REGEX = {"live": r"^\S+$", "benchmark_models": r"^(?:[0-9]{4}|X)$"}  # others: 4-digit eras
FEATURE_DTYPE = "int8 or float"  # v5 files are int8; a float column may carry NaN (missing values)
_DISTINCT = "era (distinct)"  # label of the live one-era row
_RESULT_FORMAT = {"result_format": "COMPLETE", "unexpected_index_column_names": ["column"]}
_ORDER = "era (order)"  # label of the era-order row, distinct from any era value
_MAX_NAMED = 10  # columns spelled out in one message; all of them are in `observed`


@dataclass(frozen=True)
class ContractFailure:
    check: str
    columns: tuple[str, ...]
    message: str
    observed: dict[str, Any]


@dataclass(frozen=True)
class ContractResult:
    dataset: str
    kind: str
    passed: bool
    failures: tuple[ContractFailure, ...]
    checks_run: tuple[str, ...]
    rows: int
    seconds: float
    expectations: int = 0
    profile: DatasetProfile | None = field(default=None, repr=False, compare=False)
    notes: dict[str, Any] = field(default_factory=dict)  # accepted conventions worth showing

    def failure(self, check: str) -> ContractFailure | None:
        return next((f for f in self.failures if f.check == check), None)

    def to_markdown(self) -> str:
        verdict = "PASSED" if self.passed else f"FAILED {len(self.failures)}/{len(self.checks_run)}"
        lines = [f"**{self.dataset}** ({self.kind}): {verdict} checks, {self.rows:,} rows, {self.seconds:.1f} s"]
        for check in self.checks_run:
            fail = self.failure(check)
            lines.append(f"- {'FAIL' if fail else 'ok'} `{check}`" + (f": {fail.message}" if fail else ""))
        return "\n".join(lines)


@dataclass
class _Check:
    """One named check: statistics frames (each with a ``column`` label) and their expectations."""

    name: str
    parts: list[tuple[pd.DataFrame, list[tuple[str, dict]]]]
    describe: Callable[[list[str]], tuple[str, dict]]  # failing subjects -> (message, observed)
    columns: tuple[str, ...] | None = None  # the failing columns; None: the failing subjects


def _zero(column: str) -> tuple[str, dict]:
    return "ExpectColumnValuesToBeBetween", {"column": column, "min_value": 0, "max_value": 0}


def _in_set(column: str, values: list) -> tuple[str, dict]:
    return "ExpectColumnValuesToBeInSet", {"column": column, "value_set": values}


def _fmt(x: float) -> str:
    return "nan" if x != x else (f"{int(x)}" if float(x).is_integer() else f"{x:g}")


def _join(items: list[str], sep: str = "; ") -> str:
    more = f"{sep}... and {len(items) - _MAX_NAMED} more" if len(items) > _MAX_NAMED else ""
    return sep.join(items[:_MAX_NAMED]) + more


class _Contract:
    """Builds the checks of one kind from a profile; one method per check name."""

    def __init__(
        self,
        profile: DatasetProfile,
        kind: str,
        features: Sequence[str],
        targets: Sequence[str],
        required_features: Sequence[str],
    ) -> None:
        self.p, self.kind, self.main = profile, kind, profile.main_target
        self.stats = profile.columns.set_index("column")
        self.present = list(profile.schema)
        self.role = {c: column_role(c, self.main) for c in self.present}
        self.required = list(dict.fromkeys(required_features))
        self.expected: dict[str, str] = {"id": "string"}  # column -> dtype class
        self.predictions: list[str] = []
        if kind in ("train", "validation", "live"):
            self.expected.update(era="string", data_type="string")
            self.expected.update({c: FEATURE_DTYPE for c in [*features, *self._of_role("feature")]})
            if kind != "live":  # a live file has no targets (or all-NaN ones, checked apart)
                self.expected.update({c: "float" for c in [self.main, *targets, *self._of_role("target")]})
        else:
            self.expected.update({"era": "string"} if kind != "example_preds" else {})
            self.expected.update({"data_type": "string"} if "data_type" in self.present else {})
            self.predictions = {"meta_model": ["numerai_meta_model"], "example_preds": ["prediction"]}.get(
                kind, [c for c in self.present if self.role[c] != "key"] or ["<benchmark model columns>"]
            )
            self.expected.update({c: "float" for c in self.predictions})
        self.labelled = sum(profile.data_types.get(t, 0) for t in LABELLED_DATA_TYPES)
        gaps = profile.target_gaps
        # eras -> labelled rows without main target, outside the unresolved tail validation may have
        self.gap_eras = {} if gaps is None else gaps.labelled_missing(allow_unresolved_tail=kind == "validation")
        by_type = profile.main_target_missing_by_data_type  # without an era column: no tail, no eras
        self.labelled_missing = (
            sum(self.gap_eras.values()) if gaps is not None else sum(by_type.get(t, 0) for t in LABELLED_DATA_TYPES)
        )

    def _of_role(self, role: str) -> list[str]:
        return [c for c in self.present if self.role[c] == role]

    def _gap_text(self) -> str:
        if not self.gap_eras:
            return "unknown (no era column)"
        where = (
            "; only a trailing block of unresolved eras may lack it"
            if self.kind == "validation"
            else "; train rows must all have it"
        )
        return _join([f"{e} ({n:,} rows)" for e, n in self.gap_eras.items()], ", ") + where

    def notes(self) -> dict[str, Any]:
        """Conventions the file uses that the contract accepts, for metadata."""
        notes: dict[str, Any] = {}
        gaps = self.p.target_gaps
        if self.kind == "validation" and gaps is not None:
            notes.update(gaps.summary())
        feats = self.stats.loc[self._of_role("feature"), ["nulls", "nans"]].sum(axis=1)
        if len(feats):
            notes["feature_missing_values"] = int(feats.sum())
            notes["features_with_missing_values"] = {c: int(n) for c, n in feats[feats > 0].items()}
        return notes

    def has_rows(self) -> _Check:
        frame = pd.DataFrame({"column": [Path(self.p.path).name], "rows": [self.p.rows]})
        return _Check(
            "has_rows",
            [(frame, [("ExpectColumnValuesToBeBetween", {"column": "rows", "min_value": 1})])],
            lambda s: ("the file has no rows", {"rows": self.p.rows}),
            columns=(),
        )

    def columns_and_dtypes(self) -> _Check:
        exp, schema = self.expected, self.p.schema
        actual = [dtype_class(schema.get(c)) for c in exp]
        actual = [
            FEATURE_DTYPE if e == FEATURE_DTYPE and a in ("int8", "float") else a
            for e, a in zip(exp.values(), actual, strict=False)
        ]
        frame = pd.DataFrame({"column": list(exp), "expected": list(exp.values()), "actual": actual})

        def describe(subjects: list[str]) -> tuple[str, dict]:
            missing = [c for c in subjects if c not in schema]
            wrong = [f"{c} ({schema[c]}, expected {exp[c]})" for c in subjects if c in schema]
            msg = " | ".join(
                ([f"missing columns: {_join(missing)}"] if missing else [])
                + ([f"wrong dtypes: {_join(wrong)}"] if wrong else [])
            )
            return msg, {c: {"expected": exp[c], "actual": schema.get(c, "missing")} for c in subjects}

        return _Check(
            "columns_and_dtypes",
            [(frame, [("ExpectColumnPairValuesToBeEqual", {"column_A": "expected", "column_B": "actual"})])],
            describe,
        )

    def _range(self, name: str, cols: Sequence[str], role: str) -> _Check:
        stats = self.stats
        numeric = [c for c in dict.fromkeys(cols) if c in stats.index and stats.at[c, "numeric"]]
        lo, hi = allowed_range(role)
        span = f"{_fmt(lo)}..{_fmt(hi)}" if role == "feature" else f"[{_fmt(lo)}, {_fmt(hi)}]"

        def describe(subjects: list[str]) -> tuple[str, dict]:
            obs = {
                c: {
                    "out_of_range": int(stats.at[c, "out_of_range"]),
                    "min": float(stats.at[c, "min"]),
                    "max": float(stats.at[c, "max"]),
                }
                for c in subjects
            }
            return _join(
                [
                    f"{c}: {o['out_of_range']:,} values outside {span} (min {_fmt(o['min'])}, max {_fmt(o['max'])})"
                    for c, o in obs.items()
                ]
            ), obs

        frame = stats.loc[numeric, ["min", "max", "out_of_range"]].reset_index()
        return _Check(name, [(frame, [_zero("out_of_range")])], describe)

    def feature_values_in_range(self) -> _Check:
        return self._range("feature_values_in_range", self._of_role("feature"), "feature")

    def targets_in_unit_interval_or_nan(self) -> _Check:
        return self._range("targets_in_unit_interval_or_nan", self._of_role("target"), "target")

    def predictions_in_unit_interval(self) -> _Check:
        return self._range("predictions_in_unit_interval", self.predictions, "value")

    def no_nulls_where_not_allowed(self) -> _Check:
        """Nulls and NaN alike; targets may be NaN except the main target on labelled rows."""
        cols = [c for c in self.present if self.role[c] == "key" or c in self.predictions]
        frame = self.stats.loc[cols, ["nulls", "nans"]].reset_index()
        frame["missing"] = frame["nulls"] + frame["nans"]
        labelled_row = (
            self.kind in ("train", "validation") and self.main in self.present and ("data_type" in self.present)
        )
        if labelled_row:
            frame.loc[len(frame)] = {"column": self.main, "nulls": 0, "nans": 0, "missing": self.labelled_missing}

        def describe(subjects: list[str]) -> tuple[str, dict]:
            obs, msgs = {}, []
            for c in subjects:
                if c == self.main and labelled_row:
                    obs[c] = {
                        "missing_on_labelled_rows": self.labelled_missing,
                        "by_data_type": dict(self.p.main_target_missing_by_data_type),
                        "eras": dict(self.gap_eras),
                    }
                    msgs.append(
                        f"{c}: {self.labelled_missing:,} NaN/null on data_type train/validation "
                        f"rows in eras {self._gap_text()}"
                    )
                else:
                    n, nan = int(self.stats.at[c, "nulls"]), int(self.stats.at[c, "nans"])
                    obs[c] = {"nulls": n, "nans": nan}
                    msgs.append(f"{c}: {n + nan:,} missing values ({n:,} null, {nan:,} NaN)")
            return _join(msgs), obs

        return _Check("no_nulls_where_not_allowed", [(frame, [_zero("missing")])], describe)

    def main_target_present(self) -> _Check:
        main, dtype = self.main, self.p.schema.get(self.main, "missing")
        ok = dtype_class(dtype) == "float"
        missing = self.labelled_missing if ok else self.labelled
        frame = pd.DataFrame(
            {"column": [main], "present": [ok], "labelled_rows": [self.labelled], "missing_on_labelled_rows": [missing]}
        )

        def describe(subjects: list[str]) -> tuple[str, dict]:
            if not ok:
                msg = f"{main}: main target column missing or not float ({dtype})"
            elif not self.labelled:
                msg = f"{main}: no rows with data_type train/validation ({self.p.data_types})"
            else:
                msg = (
                    f"{main}: {missing:,} of {self.labelled:,} train/validation rows have no main "
                    f"target, in eras {self._gap_text()}"
                )
            return msg, {
                "dtype": dtype,
                "labelled_rows": self.labelled,
                "missing_on_labelled_rows": missing,
                "eras": dict(self.gap_eras),
            }

        return _Check(
            "main_target_present",
            [
                (
                    frame,
                    [
                        _in_set("present", [True]),
                        _zero("missing_on_labelled_rows"),
                        ("ExpectColumnValuesToBeBetween", {"column": "labelled_rows", "min_value": 1}),
                    ],
                )
            ],
            describe,
        )

    def era_format_and_order(self) -> _Check:
        eras = self.p.eras
        counts = eras.counts if eras else {}
        regex = ERA_REGEX.get(self.kind, r"^[0-9]{4}$")
        era_frame = pd.DataFrame({"column": list(counts), "era": list(counts)})
        order_frame = pd.DataFrame({"column": [_ORDER], "violations": [eras.order_violations if eras else 0]})

        def describe(subjects: list[str]) -> tuple[str, dict]:
            bad = [s for s in subjects if s not in (_ORDER, _DISTINCT)]
            obs: dict[str, Any] = {}
            msgs: list[str] = []
            if bad:
                obs["malformed"] = {s: counts[s] for s in bad}
                msgs.append(
                    f"era: {len(bad)} malformed value(s) not matching {regex}: "
                    + _join([f"{s!r} ({counts[s]:,} rows)" for s in bad], ", ")
                )
            if _ORDER in subjects and eras and eras.first_violation:
                row, prev, cur = eras.first_violation
                obs.update(order_violations=eras.order_violations, first_violation=[row, prev, cur])
                msgs.append(
                    f"era: not non-decreasing, {eras.order_violations:,} decrease(s); first at "
                    f"row {row:,}: {prev!r} followed by {cur!r}"
                )
            if _DISTINCT in subjects:
                obs["distinct"] = dict(counts)
                msgs.append(
                    f"era: a live file has one placeholder era, found {len(counts)}: "
                    + _join([f"{e!r} ({n:,} rows)" for e, n in counts.items()], ", ")
                )
            return " | ".join(msgs), obs

        parts = [
            (era_frame, [("ExpectColumnValuesToMatchRegex", {"column": "era", "regex": regex})]),
            (order_frame, [_zero("violations")]),
        ]
        if self.kind == "live":  # any placeholder value, but exactly one for the whole file
            parts.append(
                (
                    pd.DataFrame({"column": [_DISTINCT], "distinct": [len(counts)]}),
                    [("ExpectColumnValuesToBeBetween", {"column": "distinct", "min_value": 1, "max_value": 1})],
                )
            )
        return _Check("era_format_and_order", parts, describe, columns=("era",))

    def data_type_values(self) -> _Check:
        counts, allowed = self.p.data_types, list(ALLOWED_DATA_TYPES.get(self.kind, ()))
        frame = pd.DataFrame({"column": list(counts), "data_type": list(counts)})

        def describe(subjects: list[str]) -> tuple[str, dict]:
            shown = ", ".join(f"{s!r} ({counts[s]:,} rows)" for s in subjects)
            return (
                f"data_type: unexpected value(s) {shown}; allowed for {self.kind}: {allowed}",
                {s: counts[s] for s in subjects},
            )

        return _Check("data_type_values", [(frame, [_in_set("data_type", allowed)])], describe, columns=("data_type",))

    def unique_ids(self) -> _Check:
        ids = self.p.ids
        frame = pd.DataFrame({"column": ["id"], "duplicate_rows": [ids.duplicate_rows if ids else 0]})

        def describe(subjects: list[str]) -> tuple[str, dict]:
            assert ids is not None  # only called for duplicates, which only id stats report
            examples = ", ".join(f"{i!r} ({n}x)" for i, n in ids.examples)
            return (
                f"id: {ids.duplicate_rows:,} duplicate rows ({ids.duplicated_ids:,} ids repeated), e.g. {examples}",
                {
                    "duplicate_rows": ids.duplicate_rows,
                    "duplicated_ids": ids.duplicated_ids,
                    "examples": list(ids.examples),
                },
            )

        return _Check("unique_ids", [(frame, [_zero("duplicate_rows")])], describe)

    def live_targets_absent_or_nan(self) -> _Check:
        """A live file's targets are not known yet: columns absent, or present with no value."""
        targets = self._of_role("target")
        stats = self.stats
        known = [int(self.p.rows - stats.at[c, "nulls"] - stats.at[c, "nans"]) for c in targets]
        frame = pd.DataFrame({"column": targets, "values": known})
        return _Check(
            "live_targets_absent_or_nan",
            [(frame, [_zero("values")])],
            lambda s: (
                _join(
                    [
                        f"{c}: {known[targets.index(c)]:,} non-NaN values in a live "
                        f"file (targets must be absent or all NaN)"
                        for c in s
                    ]
                ),
                {c: known[targets.index(c)] for c in s},
            ),
        )

    def live_covers_required_features(self) -> _Check:
        req = self.required
        frame = pd.DataFrame({"column": req, "present": [c in self.p.schema for c in req]})
        return _Check(
            "live_covers_required_features",
            [(frame, [_in_set("present", [True])])],
            lambda s: (
                f"missing {len(s)} of {len(req)} required features: {_join(s, ', ')}",
                {"missing": list(s), "required": len(req)},
            ),
        )


def _import_gx():
    os.environ["GX_ANALYTICS_ENABLED"] = "false"  # no usage analytics, no network
    import great_expectations as gx
    import great_expectations.expectations as gxe

    # GX logs an INFO line per ephemeral context ("Created temporary directory"): noise in run logs.
    # Its import sets that module logger's own level to INFO, so it is quietened after the import.
    for name in ("great_expectations", "great_expectations.data_context.types.base"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return gx, gxe


def run_checks(checks: list[_Check], dataset: str) -> tuple[list[ContractFailure], int]:
    """Validate every check's statistics frames with great-expectations (ephemeral context)."""
    gx, gxe = _import_gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    source = context.data_sources.add_pandas("contract_statistics")
    failures, n_expectations = [], 0
    for check in checks:
        subjects: list[str] = []
        errors: list[str] = []
        for i, (frame, specs) in enumerate(check.parts):
            name = f"{check.name}_{i}"
            batch = (
                source.add_dataframe_asset(name)
                .add_batch_definition_whole_dataframe("all")
                .get_batch(batch_parameters={"dataframe": frame})
            )
            suite = gx.ExpectationSuite(
                name=f"{dataset}.{name}",
                expectations=[getattr(gxe, cls)(**kwargs, meta={"check": check.name}) for cls, kwargs in specs],
            )
            n_expectations += len(specs)
            for res in batch.validate(suite, result_format=_RESULT_FORMAT).results:
                if res.exception_info and res.exception_info.get("raised_exception"):
                    errors.append(f"{res.expectation_config.type}: {res.exception_info['exception_message']}")
                elif not res.success:
                    subjects += [str(d["column"]) for d in res.result.get("unexpected_index_list") or []]
        subjects = list(dict.fromkeys(subjects))
        if subjects or errors:
            message, observed = check.describe(subjects) if subjects else ("", {})
            if errors:
                message = " | ".join(filter(None, [message, "great_expectations error: " + "; ".join(errors)]))
            columns = tuple(subjects) if check.columns is None else check.columns
            failures.append(ContractFailure(check.name, columns, message, observed))
    return failures, n_expectations


def check_dataset(
    path_or_profile: str | Path | DatasetProfile,
    kind: Kind,
    *,
    features: Sequence[str] = (),
    targets: Sequence[str] = (),
    required_features: Sequence[str] = (),
    main_target: str = "target",
    batch_rows: int | None = None,
    dataset: str | None = None,
) -> ContractResult:
    """Profile the file (unless a profile is given) and run the contract of ``kind``.

    ``features``/``targets``: columns the file must have (present ``feature_*``/``target*`` columns
    are checked either way); ``required_features``: the model's features a live file must cover.
    """
    start = time.perf_counter()
    profile = (
        path_or_profile
        if isinstance(path_or_profile, DatasetProfile)
        else profile_parquet(path_or_profile, main_target=main_target, batch_rows=batch_rows)
    )
    contract = _Contract(profile, kind, features, targets, required_features)
    checks = [getattr(contract, name)() for name in checks_for_kind(kind)]
    name = dataset or Path(profile.path).name
    failures, n_expectations = run_checks(checks, name)
    seconds = time.perf_counter() - start + (profile.seconds if profile is path_or_profile else 0.0)
    return ContractResult(
        dataset=name,
        kind=kind,
        passed=not failures,
        failures=tuple(failures),
        checks_run=tuple(c.name for c in checks),
        rows=profile.rows,
        seconds=seconds,
        expectations=n_expectations,
        profile=profile,
        notes=contract.notes(),
    )
