"""Atomic, verified file downloads.

numerapi writes ``dest.temp`` beside the destination, resumes it blindly and has a fixed
600 s timeout, which is how users end up with corrupted parquet files (numerapi#76). Here a
download streams into a private temporary file, is hashed on the way, must match the
announced length and pass a readability check, and only then is renamed into place. A
sidecar records size, ETag and sha256: an unchanged file is recognised by its ETag (not fetched
again) or, when the server sends none, by its sha256 (fetched, compared, the local copy kept).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests

from numerai_assets.core.atomic import atomic_path, write_bytes_atomic
from numerai_assets.core.numerai.transport import TransportError

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


def _sidecar(dest: Path) -> dict | None:
    """What we recorded about the local copy, or None when there is no usable local copy."""
    side = sidecar_path(dest)
    if not (dest.exists() and side.exists()):
        return None
    try:
        meta = json.loads(side.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return meta if dest.stat().st_size == meta.get("bytes") else None


def _write_sidecar(dest: Path, sha256: str, size: int, etag: str | None) -> None:
    payload = json.dumps({"sha256": sha256, "bytes": size, "etag": etag}).encode()
    write_bytes_atomic(sidecar_path(dest), payload)


def _get(url: str, timeout_s: float, headers: dict[str, str]) -> requests.Response:
    try:
        return requests.get(url, stream=True, timeout=(timeout_s, timeout_s), headers=headers)
    except requests.Timeout:
        raise TransportError(f"download got no answer within {timeout_s:.1f} s") from None
    except requests.ConnectionError as exc:
        raise TransportError(f"download connection failed: {type(exc).__name__}") from None


def download_to(url: str, dest: Path, *, timeout_s: float, validate: Validator | None = None) -> DownloadResult:
    """Fetch ``url`` into ``dest``; raise TransportError (retryable) or DownloadError.

    "Unchanged" is decided by ETag when the server sends one (a conditional GET, and the same
    ETag on a 200), otherwise by the sha256 of the content: never by size alone, since a file
    rewritten in place often keeps its size.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    cached = _sidecar(dest)
    headers = {"If-None-Match": cached["etag"]} if cached and cached.get("etag") else {}
    resp = _get(url, timeout_s, headers)
    with resp:
        if resp.status_code == 304 and cached:
            return DownloadResult(dest, cached["sha256"], cached["bytes"], downloaded=False)
        if resp.status_code >= 500:
            raise TransportError(f"download answered HTTP {resp.status_code}")
        if resp.status_code >= 400 or resp.status_code == 304:
            raise DownloadError(f"{dest.name}: download answered HTTP {resp.status_code}")
        expected = int(resp.headers.get("Content-Length", -1))
        etag = resp.headers.get("ETag")
        if cached and etag and cached.get("etag") == etag and cached["bytes"] == expected:
            return DownloadResult(dest, cached["sha256"], expected, downloaded=False)
        try:
            with atomic_path(dest) as tmp:  # renamed into place only if every check below passes
                sha256, size = _receive(resp, tmp, dest.name, expected)
                if not etag and cached and cached["sha256"] == sha256:  # same content: keep ours
                    raise _Unchanged
                _validate(tmp, dest.name, validate)
        except _Unchanged:
            return DownloadResult(dest, sha256, size, downloaded=False)
    _write_sidecar(dest, sha256, size, etag)
    return DownloadResult(dest, sha256, size, downloaded=True)


def probe(url: str, dest: Path, timeout_s: float) -> bool | None:
    """Whether the local copy at ``dest`` is the server's current file, by a conditional GET whose
    body is never read: False without a local copy; None when no ETag was recorded or served."""
    cached = _sidecar(dest)
    if cached is None:
        return False
    if not cached.get("etag"):
        return None
    with _get(url, timeout_s, {"If-None-Match": cached["etag"]}) as resp:
        if resp.status_code == 304:
            return True
        if resp.status_code >= 500:
            raise TransportError(f"check answered HTTP {resp.status_code}")
        if resp.status_code >= 400:
            raise DownloadError(f"{dest.name}: check answered HTTP {resp.status_code}")
        etag = resp.headers.get("ETag")
        return None if etag is None else etag == cached["etag"]


class _Unchanged(Exception):
    """Raised inside ``atomic_path`` so the identical download is dropped, not renamed."""


def _receive(resp: requests.Response, tmp: Path, name: str, expected: int) -> tuple[str, int]:
    """Stream the body into ``tmp``: (sha256, bytes); a short body is a transport failure."""
    digest, size = hashlib.sha256(), 0
    with open(tmp, "wb") as fh:
        for chunk in resp.iter_content(CHUNK_BYTES):
            fh.write(chunk)
            digest.update(chunk)
            size += len(chunk)
    if 0 <= expected != size:
        raise TransportError(f"{name}: truncated download ({size} of {expected} bytes)")
    return digest.hexdigest(), size


def _validate(tmp: Path, name: str, validate: Validator | None) -> None:
    if validate is not None:
        try:
            validate(tmp)
        except Exception as exc:  # noqa: BLE001 - any reader error means unreadable
            raise DownloadError(f"{name}: downloaded file is unreadable: {exc}") from None
