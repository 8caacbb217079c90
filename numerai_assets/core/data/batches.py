"""Row-batched feature matrices read straight from parquet, for training and prediction.

The full v5.2 train file is 7.6 GB as int8 and ~30 GB as float32, so no step ever holds the whole
feature matrix: one parquet row group at a time is decoded (a few hundred MB at most), filtered by
a row mask (eras kept, labelled rows) and handed to the engine in ``batch_rows`` slices. Only the
labels (float32) and the mask (1 byte per row) are held whole.

Missing feature values: Numerai's v5 files are int8 with none (a feature missing for an era is
filled with 2), but its docs allow NaN. A file whose selected features are all int8 without nulls
streams as int8; otherwise the matrix is float32 with NaN where a value is missing, which LightGBM
and XGBoost both treat as missing natively, in training and prediction alike (never as 2).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

BATCH_BYTES = 64 << 20  # feature bytes per batch handed to an engine
ROW_GROUP_BYTES = 512 << 20  # row groups up to this many feature bytes are read whole, in column chunks
CHUNK_COLUMNS = 128
STREAM_CELLS = 8 << 20  # cells per iter_batches batch for bigger row groups (~20 bytes each in pyarrow)
# Numerai v5 fills a feature missing for an era with 2, the middle bin. Only scoring's exposure
# and neutralization (linear algebra, no notion of missing) fill NaN with it; the models never do.
MISSING_FEATURE_VALUE = 2
ID_COLUMN = "id"


def default_batch_rows(n_features: int, itemsize: int = 1) -> int:
    return int(min(1_000_000, max(1024, BATCH_BYTES // max(1, n_features * itemsize))))


def feature_dtype(pf: pq.ParquetFile, features: Sequence[str]) -> np.dtype:
    """int8 when every feature column is int8 and the footer statistics show no null in any row
    group; float32 (NaN = missing) otherwise, including when the statistics are absent."""
    schema = pf.schema_arrow
    if not all(schema.field(f).type == pa.int8() for f in features):
        return np.dtype(np.float32)
    meta = pf.metadata
    wanted = set(features)
    positions = [j for j in range(meta.num_columns) if meta.schema.column(j).path in wanted]
    for i in range(meta.num_row_groups):
        group = meta.row_group(i)
        for j in positions:
            stats = group.column(j).statistics
            if stats is None or not stats.has_null_count or stats.null_count:
                return np.dtype(np.float32)
    return np.dtype(np.int8)


@dataclass(frozen=True)
class RowSelection:
    """Rows of one parquet file to train on: a mask over file rows and the labels of those rows."""

    path: str
    mask: np.ndarray  # bool, one per file row
    labels: np.ndarray  # float32, one per selected row
    eras: tuple[str, ...]  # the selected eras, sorted

    @property
    def n_rows(self) -> int:
        return int(self.labels.shape[0])


class EraIndex:
    """The era and target columns of a file (small), to choose training rows by era."""

    def __init__(self, path: str, era: pa.ChunkedArray, target: np.ndarray, target_name: str):
        self.path, self._era, self._target, self.target_name = path, era, target, target_name
        labelled = pc.filter(era, pa.array(np.isfinite(target)))
        self.eras: list[str] = sorted(pc.unique(labelled).to_pylist())  # eras with any label

    @classmethod
    def load(cls, path: str, target: str) -> EraIndex:
        schema = pq.read_schema(path)
        for col in ("era", target):
            if col not in schema.names:
                raise ValueError(f"{path}: no column {col!r}")
        table = pq.read_table(path, columns=["era", target])
        labels = table.column(target).to_numpy().astype(np.float32, copy=False)  # nulls -> NaN
        return cls(str(path), table.column("era"), labels, target)

    def select(self, eras: Iterable[str]) -> RowSelection:
        """Rows in ``eras`` with a finite target (auxiliary targets can be NaN)."""
        wanted = sorted(set(eras))
        in_eras = pc.is_in(self._era, value_set=pa.array(wanted, type=pa.string()))
        mask = in_eras.to_numpy(zero_copy_only=False) & np.isfinite(self._target)
        return RowSelection(self.path, mask, np.ascontiguousarray(self._target[mask]), tuple(wanted))


def _column_values(col: pa.Array | pa.ChunkedArray, dtype: np.dtype, name: str = "") -> np.ndarray:
    """One feature column as ``dtype``: int8 as is; float32 with null/NaN kept as NaN (missing)."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    if dtype == np.int8:
        if col.type != pa.int8() or col.null_count:  # the footer promised neither
            raise ValueError(
                f"feature {name!r}: {col.null_count} nulls / type {col.type} in a "
                f"column read as int8 (footer statistics disagree with the data)"
            )
        return col.to_numpy()
    return col.to_numpy(zero_copy_only=False).astype(np.float32, copy=False)  # nulls -> NaN


def record_batch_values(
    batch: pa.RecordBatch | pa.Table,
    columns: Sequence[str],
    dtype: np.dtype = np.dtype(np.int8),  # noqa: B008 (np.dtype is immutable)
) -> np.ndarray:
    """A C-contiguous (rows, features) ``dtype`` array from ``columns`` of an Arrow batch or table."""
    stacked = np.stack([_column_values(batch.column(c), dtype, c) for c in columns], axis=0)
    return np.ascontiguousarray(stacked.T)  # column-major stack + one transpose copy: the fastest way


class FeatureMatrix:
    """The features of the selected rows of one parquet file, readable as a stream of batches
    (``dtype`` int8, or float32 with NaN when the file has missing values; see module docstring)."""

    def __init__(
        self, path: str, features: Sequence[str], mask: np.ndarray | None = None, *, batch_rows: int | None = None
    ):
        self.path, self.features = str(path), list(features)
        pf = pq.ParquetFile(self.path)
        names = set(pf.schema_arrow.names)  # schema_arrow builds a new schema on every access
        missing = [f for f in self.features if f not in names]
        if missing:
            raise ValueError(f"{path}: {len(missing)} feature column(s) missing, e.g. {missing[:3]}")
        meta = pf.metadata
        if mask is not None and len(mask) != meta.num_rows:
            raise ValueError(f"{path}: row mask has {len(mask)} rows, file has {meta.num_rows}")
        self.mask = mask
        self.dtype = feature_dtype(pf, self.features)
        self.batch_rows = batch_rows or default_batch_rows(len(self.features), self.dtype.itemsize)
        self.n_rows = int(mask.sum()) if mask is not None else meta.num_rows
        self._groups = [(i, meta.row_group(i).num_rows) for i in range(meta.num_row_groups)]

    @property
    def shape(self) -> tuple[int, int]:
        return self.n_rows, len(self.features)

    @property
    def nbytes(self) -> int:
        """Bytes of the selected matrix as ``dtype`` (what the memory target is measured against)."""
        return self.n_rows * len(self.features) * self.dtype.itemsize

    def batches(self) -> Iterator[np.ndarray]:
        """Selected rows, in file order, as C-contiguous ``dtype`` (rows, features) arrays."""
        for _, matrix in self._read(with_ids=False):
            yield matrix

    def take_rows(self, rows: np.ndarray, dtype: np.dtype | type = np.int8) -> np.ndarray:
        """The selected rows at sorted positions ``rows``, in one pass, as a ``(len(rows), features)``
        array of ``dtype``: a row sample without ever holding more than one batch besides it."""
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) and (rows[0] < 0 or rows[-1] >= self.n_rows or np.any(np.diff(rows) <= 0)):
            raise ValueError(f"{self.path}: row positions must be unique, sorted and in 0:{self.n_rows}")
        out = np.empty((len(rows), len(self.features)), dtype=dtype)
        offset = taken = 0
        for batch in self.batches():
            stop = int(np.searchsorted(rows, offset + len(batch)))
            out[taken:stop] = batch[rows[taken:stop] - offset]
            offset, taken = offset + len(batch), stop
            if taken == len(rows):
                break
        return out

    def _read(self, *, with_ids: bool) -> Iterator[tuple[np.ndarray | None, np.ndarray]]:
        """Row groups up to ``ROW_GROUP_BYTES`` are read whole, ``CHUNK_COLUMNS`` columns at a time,
        then split into ``batch_rows`` views. pyarrow's ``iter_batches`` keeps ~20 bytes of decode
        state per cell of a batch (1.4 GB for 24k rows x 2,748 columns) and is 2.5x slower with
        batches small enough to avoid that, so it only serves bigger row groups. Row groups with no
        selected row (e.g. the eval eras) are skipped.
        """
        pf = pq.ParquetFile(self.path)
        start = 0
        for i, n in self._groups:
            keep = self.mask[start : start + n] if self.mask is not None else None
            start += n
            if keep is not None and not keep.any():
                continue
            keep = None if keep is None or keep.all() else keep
            if n * len(self.features) * self.dtype.itemsize > ROW_GROUP_BYTES:
                yield from self._stream_row_group(pf, i, keep, with_ids)
                continue
            ids = _ids(pf.read_row_group(i, columns=[ID_COLUMN]), keep) if with_ids else None
            matrix = self._read_row_group(pf, i, keep)
            for lo in range(0, len(matrix), self.batch_rows):
                hi = lo + self.batch_rows
                yield (ids[lo:hi] if ids is not None else None), matrix[lo:hi]
            del matrix, ids  # before the next row group is read

    def _read_row_group(self, pf: pq.ParquetFile, i: int, keep: np.ndarray | None) -> np.ndarray:
        rows = int(keep.sum()) if keep is not None else pf.metadata.row_group(i).num_rows
        out = np.empty((rows, len(self.features)), dtype=self.dtype)
        for lo in range(0, len(self.features), CHUNK_COLUMNS):
            names = self.features[lo : lo + CHUNK_COLUMNS]
            table = pf.read_row_group(i, columns=names)
            columns = [_column_values(table.column(c), self.dtype, c) for c in names]
            del table
            np.stack(columns if keep is None else [c[keep] for c in columns], axis=1, out=out[:, lo : lo + len(names)])
        return out

    def _stream_row_group(
        self, pf: pq.ParquetFile, i: int, keep: np.ndarray | None, with_ids: bool
    ) -> Iterator[tuple[np.ndarray | None, np.ndarray]]:
        rows = min(self.batch_rows, max(256, STREAM_CELLS // len(self.features)))
        columns = [ID_COLUMN, *self.features] if with_ids else self.features
        offset = 0
        for batch in pf.iter_batches(batch_size=rows, row_groups=[i], columns=columns):
            part = keep[offset : offset + batch.num_rows] if keep is not None else None
            offset += batch.num_rows
            if part is not None and not part.any():
                continue
            ids = _ids(batch, part) if with_ids else None
            matrix = record_batch_values(batch, self.features, self.dtype)
            del batch
            yield ids, (matrix if part is None else matrix[part])


def _ids(data: pa.RecordBatch | pa.Table, keep: np.ndarray | None) -> np.ndarray:
    ids = data.column(ID_COLUMN).to_numpy(zero_copy_only=False)
    return ids if keep is None else ids[keep]


class SequentialRows:
    """Row ranges of a :class:`FeatureMatrix` by index, for readers that walk forward (lgb.Sequence).

    Holds one batch; a request before the current batch restarts the stream (a new pass).
    """

    def __init__(self, matrix: FeatureMatrix):
        self.matrix = matrix
        self.passes = 0
        self._restart()

    def _restart(self) -> None:
        self._stream = self.matrix.batches()
        self._empty = np.empty((0, len(self.matrix.features)), dtype=self.matrix.dtype)
        self._batch = self._empty
        self._start = 0
        self.passes += 1

    def take(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` (a view when they lie in one batch)."""
        if not 0 <= start <= stop <= self.matrix.n_rows:
            raise IndexError(f"rows {start}:{stop} out of range 0:{self.matrix.n_rows}")
        if start < self._start:
            self._restart()
        pieces = []
        while start < stop:
            end = self._start + len(self._batch)
            if start >= end:
                self._batch = self._empty  # let the previous row group go before reading the next
                self._start, self._batch = end, next(self._stream)
                continue
            hi = min(stop, end)
            piece = self._batch[start - self._start : hi - self._start]
            pieces.append(piece if hi == stop else piece.copy())  # a view would pin its row group
            start = hi
        if not pieces:
            return self._empty
        return pieces[0] if len(pieces) == 1 else np.concatenate(pieces)


def iter_id_batches(
    path: str, features: Sequence[str], *, batch_rows: int | None = None
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(ids, features) batches of a whole file: the one reader behind every prediction."""
    if ID_COLUMN not in pq.read_schema(path).names:
        raise ValueError(f"{path}: no {ID_COLUMN!r} column")
    for ids, values in FeatureMatrix(path, features, batch_rows=batch_rows)._read(with_ids=True):
        assert ids is not None  # with_ids=True
        yield ids, values
