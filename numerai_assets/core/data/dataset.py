"""Dataset files as small typed handles, and the feature sets of ``features.json``.

Large files never travel between steps as DataFrames: assets pass a :class:`DatasetFile`
(path, checksum, shape) and readers open the parquet file themselves, in row batches.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from numerai_assets.core.atomic import atomic_path
from numerai_assets.core.data.target_gaps import target_gaps

DEFAULT_VERSION = "v5.3"  # the one place: every other default derives from it
MAIN_TARGET = "target"


@dataclass(frozen=True)
class DatasetFile:
    """A downloaded dataset file: where it is, what it is, and its exact content hash."""

    name: str  # e.g. "train.parquet"
    version: str
    path: str
    sha256: str
    bytes: int
    rows: int | None = None
    eras: int | None = None
    features: int | None = None
    columns: tuple[str, ...] = ()
    round_number: int | None = None
    # validation: the trailing eras whose targets are not resolved yet (scoring drops those rows)
    unresolved: dict[str, object] | None = None

    def metadata(self) -> dict[str, object]:
        """Figures shown on the asset in the UI."""
        meta: dict[str, object] = {
            "version": self.version,
            "path": self.path,
            "sha256": self.sha256,
            "bytes": self.bytes,
        }
        for key in ("rows", "eras", "features", "round_number"):
            value = getattr(self, key)
            if value is not None:
                meta[key] = value
        meta.update(self.unresolved or {})
        return meta


@dataclass(frozen=True)
class LiveRoundData:
    """The files of one tournament round."""

    round_number: int
    live: DatasetFile
    benchmark_models: DatasetFile


@dataclass(frozen=True)
class FeatureSets:
    """Named feature sets and groups from ``features.json``, plus its target list."""

    sets: Mapping[str, tuple[str, ...]]
    targets: tuple[str, ...] = field(default=())
    source: str = ""  # the features.json it was read from, for error messages
    version: str | None = None

    @classmethod
    def from_json_file(cls, path: str | Path, version: str | None = None) -> FeatureSets:
        """Every set and group the file has (v5.3 adds ``quantum``; ``fncv3_features``...)."""
        raw = json.loads(Path(path).read_text())
        try:
            sets = {name: tuple(cols) for name, cols in raw["feature_sets"].items()}
        except (KeyError, AttributeError, TypeError):
            raise ValueError(f"{path}: features.json has no 'feature_sets' mapping") from None
        if "all" not in sets:
            raise ValueError(f"{path}: features.json has no 'all' feature set")
        return cls(sets=sets, targets=tuple(raw.get("targets", ())), source=str(path), version=version)

    def resolve(self, names: str | Sequence[str]) -> list[str]:
        """Features of one named set, or the union (in 'all' order) of several sets/groups."""
        wanted = [names] if isinstance(names, str) else list(names)
        unknown = [n for n in wanted if n not in self.sets]
        if unknown:
            where = getattr(self, "source", "") or "features.json"
            version = getattr(self, "version", None)
            raise ValueError(
                f"unknown feature set(s) {unknown}: not in {where}"
                + (f" (dataset {version})" if version else "")
                + f"; it has: {sorted(self.sets)}"
            )
        chosen = set().union(*(self.sets[n] for n in wanted))
        return [f for f in self.sets["all"] if f in chosen]


def _read_parquet_footer(path: Path) -> None:
    pq.ParquetFile(path).metadata  # noqa: B018 (reading the footer is the point: it raises on a torn file)


def _read_json(path: Path) -> None:
    json.loads(Path(path).read_text())


def _read_csv_header(path: Path) -> None:
    with open(path, encoding="utf-8") as fh:
        if not fh.readline().strip():
            raise ValueError("empty CSV")


def readability_check(filename: str) -> Callable[[Path], None] | None:
    """The check a downloaded ``filename`` must pass before it is renamed into place."""
    suffix = Path(filename).suffix
    return {".parquet": _read_parquet_footer, ".json": _read_json, ".csv": _read_csv_header}.get(suffix)


def read_by_id(path: str | Path, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Columns of a parquet file as a DataFrame indexed by ``id``, however the file stores it."""
    wanted = None if columns is None else ["id", *[c for c in columns if c != "id"]]
    table = pq.read_table(path, columns=wanted).replace_schema_metadata(None)
    return table.to_pandas().set_index("id")


def write_by_id(path: str | Path, frame: pd.DataFrame) -> Path:
    """Write an id-indexed frame as parquet atomically, ``id`` typed ``string`` as Numerai's files.

    pandas 3 would write ``large_string``, which pyarrow refuses to join with Numerai's ``string``.
    """
    table = pa.Table.from_pandas(frame.rename_axis("id").reset_index(), preserve_index=False)
    table = table.set_column(0, "id", table.column("id").cast(pa.string()))
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
    return Path(path)


def describe_parquet(
    path: str | Path, *, name: str, version: str, sha256: str, round_number: int | None = None
) -> DatasetFile:
    """Build the handle from the parquet footer plus one read of the era column."""
    pf = pq.ParquetFile(path)
    columns = tuple(pf.schema_arrow.names)
    eras = None
    if "era" in columns:
        eras = len(pc.unique(pf.read(columns=["era"]).column("era")))
    gaps = target_gaps(path, MAIN_TARGET) if "data_type" in columns else None
    return DatasetFile(
        name=name,
        version=version,
        path=str(path),
        sha256=sha256,
        bytes=Path(path).stat().st_size,
        rows=pf.metadata.num_rows,
        eras=eras,
        columns=columns,
        features=sum(c.startswith("feature_") for c in columns),
        round_number=round_number,
        # the trailing block of unresolved eras ("none" when every era is resolved); a live file,
        # all of it unresolved, has no such block
        unresolved=gaps.summary() if gaps is not None and len(gaps.unresolved_eras) < (eras or 0) else None,
    )
