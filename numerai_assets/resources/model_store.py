"""The model store: model files, predictions and champion records, the source of truth.

An abstract resource with a local-directory implementation (default) and an fsspec one for
object stores (``s3://``, ``gs://``, ``az://`` with the matching fsspec driver installed), in
the project_ml style. Writes are atomic: a reader never sees half a file or half a record.
"""

import contextlib
import json
import shutil
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dagster import ConfigurableResource
from pydantic import Field

from numerai_assets.core.atomic import atomic_path, sweep_orphans, temp_name, write_bytes_atomic


def _parse_json(data: bytes, uri: str) -> dict[str, Any]:
    """A record, or an error naming the file (a bare JSONDecodeError names only a position)."""
    try:
        record = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{uri} is not valid JSON ({exc}); restore or rewrite it") from None
    if not isinstance(record, dict):
        raise ValueError(f"{uri} holds a {type(record).__name__}, not a JSON object")
    return record


def _object_version(info: dict[str, Any]) -> str:
    """What changes when an object is rewritten: its ETag, else its size and modification time."""
    for field in ("ETag", "etag", "md5Hash"):
        if info.get(field):
            return str(info[field]).strip('"')
    return f"{info.get('size')}:{info.get('LastModified') or info.get('mtime') or info.get('created')}"


class ModelStore(ConfigurableResource, ABC):
    """Keys are relative POSIX paths such as ``models/lgbm_small/0/model.txt``."""

    orphan_age_s: float = Field(
        default=3600.0, description="temp files of killed writers older than this are removed at start"
    )

    @abstractmethod
    def put_file(self, local: Path, key: str) -> str:
        """Store ``local`` under ``key``; returns the stored object's URI."""

    @abstractmethod
    def local_path(self, key: str) -> Path:
        """A local, readable copy of ``key`` (the file itself for a local store)."""

    @abstractmethod
    def write_json(self, key: str, record: dict[str, Any]) -> str:
        """Write a small JSON record atomically; returns its URI."""

    @abstractmethod
    def read_json(self, key: str) -> dict[str, Any] | None:
        """The record under ``key``, or None when there is none."""

    @abstractmethod
    def workdir(self, key: str) -> Path:
        """A local scratch directory for building files before ``put_file``."""

    @abstractmethod
    def uri(self, key: str) -> str:
        """Where ``key`` lives, for metadata and logs."""

    @abstractmethod
    def local_root(self) -> Path:
        """The local directory this store writes temp files under (swept at start)."""

    def setup_for_execution(self, context) -> None:
        """Each step starts by removing temps that writers killed mid-write left behind."""
        removed = sweep_orphans(self.local_root(), self.orphan_age_s)
        if removed and context.log is not None:
            context.log.info(f"model store: removed {len(removed)} orphan temp file(s) under {self.local_root()}")

    @contextlib.contextmanager
    def writing(self, key: str) -> Iterator[Path]:
        """A local path to write ``key`` to; stored when the block succeeds, dropped either way."""
        scratch = self.workdir("scratch") / temp_name(Path(key).name)  # swept if the writer dies
        try:
            yield scratch
            self.put_file(scratch, key)
        finally:
            scratch.unlink(missing_ok=True)


class LocalModelStore(ModelStore):
    root: str = Field(description="base directory of the store")

    def local_root(self) -> Path:
        return Path(self.root)

    def _path(self, key: str) -> Path:
        return Path(self.root) / key

    def put_file(self, local: Path, key: str) -> str:
        dest = self._path(key)
        if Path(local).resolve() != dest.resolve():
            with atomic_path(dest) as tmp:
                shutil.copyfile(local, tmp)
        return self.uri(key)

    def uri(self, key: str) -> str:
        return self._path(key).as_uri()

    def local_path(self, key: str) -> Path:
        path = self._path(key)
        if not path.exists():
            raise FileNotFoundError(f"model store has no {key!r} under {self.root}")
        return path

    def write_json(self, key: str, record: dict[str, Any]) -> str:
        write_bytes_atomic(self._path(key), json.dumps(record, indent=2, sort_keys=True).encode())
        return self.uri(key)

    def read_json(self, key: str) -> dict[str, Any] | None:
        path = self._path(key)
        return _parse_json(path.read_bytes(), self.uri(key)) if path.exists() else None

    def workdir(self, key: str) -> Path:
        path = Path(self.root) / ".work" / key
        path.mkdir(parents=True, exist_ok=True)
        return path


class FsspecModelStore(ModelStore):
    """An object store through fsspec; files are cached locally for reading.

    Callers put content-addressed keys (a model file's key includes its hash), so a cached
    copy can never be stale.
    """

    url: str = Field(description="e.g. s3://bucket/numerai_assets (needs s3fs) or memory://store")
    cache_dir: str = Field(description="local directory for scratch files and read caches")

    def local_root(self) -> Path:
        return Path(self.cache_dir)

    def _fs(self):
        import fsspec

        fs, base = fsspec.core.url_to_fs(self.url)
        return fs, base.rstrip("/")

    def put_file(self, local: Path, key: str) -> str:
        fs, base = self._fs()
        tmp = f"{base}/{key}.{uuid.uuid4().hex}.tmp"
        fs.put_file(str(local), tmp)
        fs.mv(tmp, f"{base}/{key}")  # object stores: the final key appears only when complete
        return self.uri(key)

    def uri(self, key: str) -> str:
        return f"{self.url.rstrip('/')}/{key}"

    def local_path(self, key: str) -> Path:
        """The cached copy, downloaded again only when the object changed (its ETag, or size and
        time where the store has no ETag): a key written again on another host is never read stale."""
        fs, base = self._fs()
        try:
            info = fs.info(f"{base}/{key}")
        except FileNotFoundError:
            raise FileNotFoundError(f"model store has no {key!r} under {self.url}") from None
        version = _object_version(info)
        cached, stamp = Path(self.cache_dir) / "cache" / key, Path(self.cache_dir) / "versions" / key
        if not (cached.exists() and stamp.exists() and stamp.read_text() == version):
            with atomic_path(cached) as tmp:
                fs.get_file(f"{base}/{key}", str(tmp))
            write_bytes_atomic(stamp, version.encode())
        return cached

    def write_json(self, key: str, record: dict[str, Any]) -> str:
        fs, base = self._fs()
        fs.pipe_file(f"{base}/{key}", json.dumps(record, indent=2, sort_keys=True).encode())
        return self.uri(key)

    def read_json(self, key: str) -> dict[str, Any] | None:
        fs, base = self._fs()
        path = f"{base}/{key}"
        return _parse_json(fs.cat_file(path), self.uri(key)) if fs.exists(path) else None

    def workdir(self, key: str) -> Path:
        path = Path(self.cache_dir) / "work" / key
        path.mkdir(parents=True, exist_ok=True)
        return path
