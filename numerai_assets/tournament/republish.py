"""Replace a served dataset file by one with other content but exactly the same size.

Numerai republishes files under the same name; numerapi 3.1.1 skips a download when the local
file has the server's Content-Length, so only the ETag tells a client that a file changed. This
module makes that case reproducible: two values of one column swap places (parquet), two data
lines swap (CSV) or a list reverses (JSON), and the file keeps its byte count. The file is
replaced atomically (a new inode), as the generator writes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from numerai_assets.tournament.writer import tmp_path, write_text_atomic

PAD_KEY = "local_tournament_republished"
_MAX_TRIES = 8


def republish(path: Path) -> Path:
    """Rewrite `path` in place with changed content of the same size; returns the path."""
    kinds = {".parquet": _parquet, ".csv": _csv, ".json": _json}
    if path.suffix not in kinds:
        raise ValueError(f"cannot republish {path.name}: only {sorted(kinds)} files")
    kinds[path.suffix](path)
    return path


def _csv(path: Path) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    if len(lines) < 3 or lines[1] == lines[2]:
        raise ValueError(f"{path.name}: needs two different data lines to swap")
    lines[1], lines[2] = lines[2], lines[1]
    if not lines[1].endswith(b"\n"):  # the old last line moved up: keep line breaks intact
        raise ValueError(f"{path.name}: too short to republish")
    _write_bytes(path, b"".join(lines))


def _json(path: Path) -> None:
    obj = json.loads(path.read_text(encoding="utf-8"))
    target = obj.get("feature_sets", {}).get("small") if isinstance(obj, dict) else None
    if not target or len(target) < 2:
        raise ValueError(f"{path.name}: no feature_sets.small list to reorder")
    target.reverse()
    text = json.dumps(obj, indent=2) + "\n"
    if len(text.encode()) != path.stat().st_size:
        raise ValueError(f"{path.name}: not in the generator's JSON layout; cannot keep its size")
    write_text_atomic(path, text)


def _parquet(path: Path) -> None:
    """Swap two differing values of one column in the first row group, drop the embedded
    Arrow schema (the pandas metadata stays) and pad the footer back to the old size."""
    size = path.stat().st_size
    pf = pq.ParquetFile(path)
    groups = [pf.read_row_group(i) for i in range(pf.num_row_groups)]
    groups[0] = _swap_two_values(groups[0], path)
    pad = 0
    for _ in range(_MAX_TRIES):  # the pad's own length prefix can grow a byte: adjust again
        data = _parquet_bytes(pf.schema_arrow, groups, pad)
        missing = size - len(data)
        if missing == 0:
            _write_bytes(path, data)
            return
        if pad + missing < 0:
            break
        pad += missing
    raise ValueError(f"{path.name}: could not rewrite it at its size of {size} bytes")


def _swap_two_values(table: pa.Table, path: Path) -> pa.Table:
    for col in reversed(table.column_names):
        if col in ("id", "era", "data_type"):
            continue
        values = table.column(col).to_numpy(zero_copy_only=False).copy()
        known = np.flatnonzero(~pd.isna(values))  # NaN never equals itself: leave NaN alone
        differ = known[values[known] != values[known[0]]] if len(known) else known
        if len(differ):
            i, j = int(known[0]), int(differ[0])
            values[i], values[j] = values[j], values[i]
            i = table.column_names.index(col)
            return table.set_column(i, table.field(i), pa.array(values, table.field(i).type))
    raise ValueError(f"{path.name}: no column has two different values to swap")


def _parquet_bytes(schema: pa.Schema, groups: list[pa.Table], pad: int) -> bytes:
    sink = pa.BufferOutputStream()
    dictionary = [f.name for f in schema if f.name != "id"]
    with pq.ParquetWriter(sink, schema, compression="snappy", use_dictionary=dictionary, store_schema=False) as writer:
        for g in groups:
            writer.write_table(g)
        kv = {k.decode(): v.decode() for k, v in (schema.metadata or {}).items()}
        writer.add_key_value_metadata(kv | {PAD_KEY: "0" * pad})  # pandas: `id` is the index
    return sink.getvalue().to_pybytes()


def _write_bytes(path: Path, data: bytes) -> None:
    tmp = tmp_path(path)
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
