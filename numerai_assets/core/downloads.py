"""Atomic, verified file downloads.

numerapi writes ``dest.temp`` beside the destination, resumes it blindly and has a fixed
600 s timeout, which is how users end up with corrupted parquet files (numerapi#76). Here a
download streams into a private temporary file, is hashed on the way, must match the
announced length and pass a readability check, and only then is renamed into place. A
sidecar records size, ETag and sha256 so an unchanged file is not fetched again.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests

from numerai_assets.core.atomic import atomic_path, write_bytes_atomic
from numerai_assets.core.numerai_transport import TransportError

CHUNK_BYTES = 1 << 20
Validator = Callable[[Path], None]


class DownloadError(ValueError):
    """The server answered, but with something that is not the file (4xx, unreadable)."""


@dataclass(frozen=True)
class DownloadResult:
    path: Path
    sha256: str
    bytes: int
    downloaded: bool  # False when the local copy was already current


def sidecar_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".sha256.json")


def _cached(dest: Path, size: int, etag: str | None) -> dict | None:
    side = sidecar_path(dest)
    if not (dest.exists() and side.exists()):
        return None
    try:
        meta = json.loads(side.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    if meta.get("bytes") != size or dest.stat().st_size != size:
        return None
    if etag and meta.get("etag") != etag:
        return None
    return meta


def _write_sidecar(dest: Path, sha256: str, size: int, etag: str | None) -> None:
    payload = json.dumps({"sha256": sha256, "bytes": size, "etag": etag}).encode()
    write_bytes_atomic(sidecar_path(dest), payload)


def download_to(
    url: str, dest: Path, *, timeout_s: float, validate: Validator | None = None
) -> DownloadResult:
    """Fetch ``url`` into ``dest``; raise TransportError (retryable) or DownloadError."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        resp = requests.get(url, stream=True, timeout=(timeout_s, timeout_s))
    except requests.Timeout:
        raise TransportError(f"download got no answer within {timeout_s:.1f} s") from None
    except requests.ConnectionError as exc:
        raise TransportError(f"download connection failed: {type(exc).__name__}") from None
    with resp:
        if resp.status_code >= 500:
            raise TransportError(f"download answered HTTP {resp.status_code}")
        if resp.status_code >= 400:
            raise DownloadError(f"{dest.name}: download answered HTTP {resp.status_code}")
        expected = int(resp.headers.get("Content-Length", -1))
        etag = resp.headers.get("ETag")
        cached = _cached(dest, expected, etag) if expected >= 0 else None
        if cached:
            return DownloadResult(dest, cached["sha256"], expected, downloaded=False)
        with atomic_path(dest) as tmp:  # renamed into place only if every check below passes
            digest, size = hashlib.sha256(), 0
            with open(tmp, "wb") as fh:
                for chunk in resp.iter_content(CHUNK_BYTES):
                    fh.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
            if 0 <= expected != size:
                raise TransportError(f"{dest.name}: truncated download ({size} of {expected} bytes)")
            if validate is not None:
                try:
                    validate(tmp)
                except Exception as exc:  # noqa: BLE001 - any reader error means unreadable
                    raise DownloadError(f"{dest.name}: downloaded file is unreadable: {exc}") from None
    _write_sidecar(dest, digest.hexdigest(), size, etag)
    return DownloadResult(dest, digest.hexdigest(), size, downloaded=True)
