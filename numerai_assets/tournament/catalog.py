"""Which dataset files the local server offers, where they live on disk, and their checksums.

Live files belong to a round (``<root>/rounds/<N>/<version>/``), everything else to the version
(``<root>/<version>/``). Every version generated under the root is offered (``tournament.json``
lists them, re-read when it changes, so a version generated while serving appears); a bare name
means the newest. Names are whitelisted, so a URL can never reach outside the root.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from numerai_assets.tournament.profiles import DEFAULT_VERSION
from numerai_assets.tournament.scales import MAIN_TARGET
from numerai_assets.tournament.versions import sort_versions

# The 12 names real Numerai lists for every v5.x version, in its order.
DATASET_NAMES = (
    "features.json",
    "live.parquet",
    "live_benchmark_models.parquet",
    "live_example_preds.csv",
    "live_example_preds.parquet",
    "meta_model.parquet",
    "train.parquet",
    "train_benchmark_models.parquet",
    "validation.parquet",
    "validation_benchmark_models.parquet",
    "validation_example_preds.csv",
    "validation_example_preds.parquet",
)
LIVE_NAMES = frozenset(n for n in DATASET_NAMES if n.startswith("live"))
_VERSION_RE = re.compile(r"^v\d+\.\d+$")
_HASH_CHUNK = 4 * 1024 * 1024


def read_info(root: Path) -> dict:
    """The raw ``tournament.json`` (empty when the root has none)."""
    info = root / "tournament.json"
    return json.loads(info.read_text()) if info.is_file() else {}


class Catalog:
    """Maps ``<version>/<name>`` (+ round) to files, with a sha256 cache keyed by
    (path, size, mtime, inode): a file replaced by another of the same size hashes again."""

    def __init__(self, root: Path, version: str | None = None) -> None:
        if version is not None and not _VERSION_RE.match(version):
            raise ValueError(f"bad dataset version {version!r}")
        self.root = root
        self._fixed_version = version
        self._lock = threading.Lock()
        self._sha: dict[tuple[str, int, int, int], str] = {}
        self._hashing: dict[str, threading.Lock] = {}  # one hasher per path at a time
        self._universe: dict[tuple[int, int, int], pd.Series] = {}
        self._info: tuple[tuple[int, int], dict] = ((-1, -1), {})

    def _read_info(self) -> dict:
        path = self.root / "tournament.json"
        st = path.stat() if path.is_file() else None
        mtime = (st.st_mtime_ns, st.st_ino) if st else (0, 0)
        with self._lock:
            if self._info[0] == mtime:
                return self._info[1]
        info = read_info(self.root)
        with self._lock:
            self._info = (mtime, info)
        return info

    @property
    def version(self) -> str:
        """The version a bare file name means: the one asked for, else the newest generated."""
        if self._fixed_version:
            return self._fixed_version
        version = self._read_info().get("version")
        if isinstance(version, str) and _VERSION_RE.match(version):
            return version
        return DEFAULT_VERSION

    def versions(self) -> list[str]:
        """Every version served, oldest first."""
        listed = self._read_info().get("versions") or [self.version]
        return sort_versions([v for v in listed if _VERSION_RE.match(v)] + [self.version])

    def target_alias(self) -> str:
        """The target column `target` equals (a round's ``target``), as the generator recorded."""
        return self._read_info().get("target_alias") or MAIN_TARGET

    def live_dir(self, round_number: int, version: str | None = None) -> Path:
        return self.root / "rounds" / str(round_number) / (version or self.version)

    def path_for(self, version: str, name: str, round_number: int | None) -> Path | None:
        """The file for a dataset name, or None when the name/version/round is not served."""
        if name not in DATASET_NAMES or version not in self.versions():
            return None
        if name in LIVE_NAMES:
            if round_number is None or round_number < 1:
                return None
            path = self.live_dir(round_number, version) / name
        else:
            path = self.root / version / name
        return path if path.is_file() else None

    def split(self, filename: str) -> tuple[str, str]:
        """``"v5.3/train.parquet"`` -> ("v5.3", "train.parquet"); a bare name means the newest."""
        version, _, name = filename.rpartition("/")
        return (version or self.version), name

    def list(self, round_number: int | None) -> list[str]:
        """``vX.Y/<name>`` of every served file of every version, as Numerai lists them."""
        return [
            f"{version}/{name}"
            for version in self.versions()
            for name in DATASET_NAMES
            if self.path_for(version, name, round_number) is not None
        ]

    def sha256(self, path: Path) -> str:
        with self._lock:
            path_lock = self._hashing.setdefault(str(path), threading.Lock())
        with path_lock:  # a second caller waits for the first hash instead of re-reading GBs
            st = path.stat()
            key = (str(path), st.st_size, st.st_mtime_ns, st.st_ino)
            with self._lock:
                cached = self._sha.get(key)
            if cached is not None:
                return cached
            digest = hashlib.sha256()
            with path.open("rb") as fh:
                while chunk := fh.read(_HASH_CHUNK):
                    digest.update(chunk)
            value = digest.hexdigest()
            with self._lock:
                self._sha[key] = value
            return value

    def warm(self) -> None:
        """Hash the versions' files ahead of the first download (ETag needs the sha256)."""
        for version in self.versions():
            for name in DATASET_NAMES:
                path = self.path_for(version, name, None)
                if path is not None:
                    self.sha256(path)

    def live_ids(self, round_number: int) -> pd.Series:
        """The round's live universe as a string Series: what a submission must cover."""
        path = self.live_dir(round_number) / "live.parquet"
        if not path.is_file():
            raise FileNotFoundError(f"round {round_number} has no live.parquet")
        st = path.stat()
        key = (round_number, st.st_size, st.st_mtime_ns)
        with self._lock:
            cached = self._universe.get(key)
        if cached is not None:
            return cached
        pf = pq.ParquetFile(path)
        if "id" in pf.schema_arrow.names:
            ids = pf.read(columns=["id"]).column("id").to_pandas()
        else:  # id stored as an unnamed pandas index: fall back to the full read
            ids = pd.read_parquet(path).index.to_series()
        universe = pd.Series(ids.astype(str).to_numpy(), name="id")
        with self._lock:
            self._universe[key] = universe
        return universe
