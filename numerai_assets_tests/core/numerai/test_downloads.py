"""Unchanged downloads are decided by ETag or by content hash, never by size alone.

A tiny ``http.server`` on 127.0.0.1 stands in for the signed-URL file host, so that the file can be
rewritten in place (same size, new bytes) between two downloads.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from numerai_assets.core.numerai.downloads import download_to, probe, sidecar_path


class FileHost:
    """Serves one body at /file, with an ETag (its sha256) when ``etag`` is on; honours If-None-Match."""

    def __init__(self) -> None:
        self.body, self.etag, self.bodies_sent, self.not_modified = b"", False, 0, 0
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                tag = f'"{hashlib.sha256(host.body).hexdigest()}"' if host.etag else None
                if tag and self.headers.get("If-None-Match") == tag:
                    host.not_modified += 1
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(host.body)))
                if tag:
                    self.send_header("ETag", tag)
                self.end_headers()
                self.wfile.write(host.body)
                host.bodies_sent += 1

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/file"


@pytest.fixture
def host() -> Iterator[FileHost]:
    files = FileHost()
    thread = threading.Thread(target=files.server.serve_forever, daemon=True)
    thread.start()
    yield files
    files.server.shutdown()
    files.server.server_close()


@pytest.mark.parametrize("etag", [False, True], ids=["no_etag", "etag"])
def test_same_size_changed_file_is_downloaded_again(host: FileHost, tmp_path: Path, etag: bool) -> None:
    host.etag = etag
    dest = tmp_path / "data" / "live.parquet"
    host.body = b"A" * 1000
    first = download_to(host.url, dest, timeout_s=5)
    assert first.downloaded and dest.read_bytes() == host.body
    mtime = dest.stat().st_mtime_ns

    again = download_to(host.url, dest, timeout_s=5)  # same content: kept, not rewritten
    assert not again.downloaded and again.sha256 == first.sha256 and dest.stat().st_mtime_ns == mtime
    assert host.not_modified == (1 if etag else 0)  # with an ETag the body is not sent again

    host.body = b"B" * 1000  # rewritten in place, same size
    changed = download_to(host.url, dest, timeout_s=5)
    assert changed.downloaded and dest.read_bytes() == b"B" * 1000
    assert changed.sha256 == hashlib.sha256(host.body).hexdigest()
    assert f'"sha256": "{changed.sha256}"' in sidecar_path(dest).read_text()
    assert list(dest.parent.glob("*.tmp")) == []  # no temporary file left behind


def test_probe_tells_a_republished_same_size_file_by_its_etag_without_fetching_it(host: FileHost, tmp_path: Path):
    host.etag = True
    dest = tmp_path / "data" / "train.parquet"
    assert probe(host.url, dest, timeout_s=5) is False  # no local copy: a download is due
    host.body = b"A" * 1000
    download_to(host.url, dest, timeout_s=5)
    assert probe(host.url, dest, timeout_s=5) is True and host.not_modified == 1
    host.body = b"B" * 1000  # republished in place, same size
    assert probe(host.url, dest, timeout_s=5) is False
    assert dest.read_bytes() == b"A" * 1000  # the local copy is untouched; data_job downloads it


def test_probe_without_an_etag_says_only_a_download_can_tell(host: FileHost, tmp_path: Path):
    host.body, dest = b"A" * 1000, tmp_path / "train.parquet"
    download_to(host.url, dest, timeout_s=5)
    assert probe(host.url, dest, timeout_s=5) is None
