"""Atomic, streaming file writing for the generator: Parquet by row groups, CSV, JSON, ids.

Every file is written under a temporary name in its final directory and `os.replace`d into place
only when complete, so a reader (the server, a download) never sees a half-written file. Parquet
files carry pandas metadata that makes `id` the index, as Numerai's files do.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from pathlib import Path
from types import TracebackType
from typing import Self

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

TMP_MARK = ".tmp-"
_MASK60 = np.uint64((1 << 60) - 1)
_MIX = ((0x9E3779B97F4A7C15, 31), (0xBF58476D1CE4E5B9, 29), (0x94D049BB133111EB, 32))
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def tmp_path(path: Path) -> Path:
    """A unique temporary sibling of `path` (unique per process and thread)."""
    tag = f"{os.getpid()}-{threading.get_ident()}-{uuid.uuid4().hex[:8]}"
    return path.with_name(f".{path.name}{TMP_MARK}{tag}")


def remove_stale_tmp(directory: Path) -> None:
    """Delete temporary files left by processes that died; live writers' files are kept."""
    if not directory.is_dir():
        return
    for p in directory.iterdir():
        if not (p.name.startswith(".") and TMP_MARK in p.name and p.is_file()):
            continue
        pid = p.name.split(TMP_MARK, 1)[1].split("-", 1)[0]
        if not (pid.isdigit() and _alive(int(pid))):
            p.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_text_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_path(path)
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json_atomic(path: Path, obj: object) -> None:
    write_text_atomic(path, json.dumps(obj, indent=2) + "\n")


def frame_schema(fields: list[tuple[str, pa.DataType]]) -> pa.Schema:
    """Schema with `id` (string) first and pandas metadata that restores it as the index."""
    sample = pd.DataFrame(
        {name: pd.Series([], dtype=_pandas_dtype(t)) for name, t in fields},
        index=pd.Index([], dtype=str, name="id"),
    )
    metadata = pa.Schema.from_pandas(sample, preserve_index=True).metadata
    columns = [pa.field("id", pa.string())] + [pa.field(n, t) for n, t in fields]
    return pa.schema(columns, metadata=metadata)


def _pandas_dtype(t: pa.DataType) -> object:
    return str if pa.types.is_string(t) else t.to_pandas_dtype()


def make_ids(counters: np.ndarray, seed: int) -> pa.Array:
    """Ids `n` + 15 hex digits from a keyed bijection of 60-bit counters: distinct counters give
    distinct ids, and the ids look random and differ between seeds."""
    key = np.uint64(np.random.default_rng([seed, 7]).integers(0, 1 << 60))
    x = (counters.astype(np.uint64) + key) & _MASK60
    for mult, shift in _MIX:
        x = (x * np.uint64(mult)) & _MASK60
        x ^= x >> np.uint64(shift)
    shifts = np.arange(56, -1, -4, dtype=np.uint64)
    chars = np.empty((len(x), 16), dtype=np.uint8)
    chars[:, 0] = ord("n")
    chars[:, 1:] = _HEX[((x[:, None] >> shifts) & np.uint64(0xF)).astype(np.intp)]
    return _fixed_width_strings(chars)


def repeat_string(value: str, n: int) -> pa.Array:
    raw = np.frombuffer(value.encode(), dtype=np.uint8)
    return _fixed_width_strings(np.broadcast_to(raw, (n, len(raw))))


def _fixed_width_strings(chars: np.ndarray) -> pa.Array:
    n, width = chars.shape
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    data = np.ascontiguousarray(chars).tobytes()
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets.tobytes()), pa.py_buffer(data))


class _AtomicWriter:
    """A writer into a temp sibling, `os.replace`d into place on a clean exit only."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.path, self.schema = path, schema
        path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = tmp_path(path)
        self._writer = self._open()

    def _open(self):  # the format's batch writer, writing to self._tmp
        raise NotImplementedError

    def write(self, columns: list[pa.Array]) -> None:
        """Write one batch (a row group for parquet) from arrays in schema order."""
        self._writer.write_table(pa.Table.from_arrays(columns, schema=self.schema))

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self._writer.close()
            if exc_type is None:
                os.replace(self._tmp, self.path)
        finally:
            self._tmp.unlink(missing_ok=True)


class AtomicParquetWriter(_AtomicWriter):
    """Parquet, snappy, dictionary encoding for every column but the unique `id`."""

    def _open(self) -> pq.ParquetWriter:
        dictionary = [f.name for f in self.schema if f.name != "id"]
        return pq.ParquetWriter(self._tmp, self.schema, compression="snappy", use_dictionary=dictionary)


class AtomicCsvWriter(_AtomicWriter):
    """`id,prediction` CSV (unquoted, like Numerai's)."""

    def _open(self) -> pacsv.CSVWriter:
        options = pacsv.WriteOptions(quoting_style="none", quoting_header="none")
        return pacsv.CSVWriter(str(self._tmp), self.schema, write_options=options)
