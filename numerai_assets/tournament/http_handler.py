"""HTTP routes of the local tournament server: GraphQL, files, presigned uploads, admin.

HTTP/1.1 with explicit Content-Length everywhere, so keep-alive clients (requests.Session) work
and a truncated body is detectable. Log lines carry method, redacted path and status only:
never headers, so API keys cannot leak into logs.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import logging
import os
import re
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from numerai_assets.tournament.graphql_api import RequestContext, parse_token

if TYPE_CHECKING:
    from numerai_assets.tournament.server import TournamentServer

logger = logging.getLogger("numerai_assets.tournament.server")

MAX_BODY = 256 * 1024 * 1024
_FILES = re.compile(r"^/files/(\d+)/([^/]+)/([^/]+)$")
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_CONTENT_TYPES = {".json": "application/json", ".csv": "text/csv", ".parquet": "application/octet-stream"}


class Handler(BaseHTTPRequestHandler):
    """One request; ``self.server.app`` is the owning :class:`TournamentServer`."""

    protocol_version = "HTTP/1.1"
    server_version = "numerai-local-tournament"
    timeout = 120  # idle keep-alive connections and stalled sends give their thread back

    @property
    def app(self) -> TournamentServer:
        return self.server.app  # type: ignore[attr-defined]

    def setup(self) -> None:
        super().setup()
        self.app._track(self.connection, add=True)

    def finish(self) -> None:
        self.app._track(self.connection, add=False)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        logger.debug("%s - %s", self.address_string(), format % args)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = re.sub(r"/uploads/[^/?]+", "/uploads/<token>", urlsplit(self.path).path)
        logger.info("%s %s -> %s", self.command, path, code)

    # plumbing -------------------------------------------------------------------------------

    def _body(self) -> bytes | None:
        """The request body, or None after answering 411/413 (a body we will not read)."""
        length = self.headers.get("Content-Length")
        if length is None:
            if self.command in ("GET", "HEAD"):
                return b""
            self._reply(HTTPStatus.LENGTH_REQUIRED, b"Content-Length required\n", close=True)
            return None
        if not length.isdigit() or int(length) > MAX_BODY:
            self._reply(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, b"body too large\n", close=True)
            return None
        return self.rfile.read(int(length))

    def _reply(
        self,
        status: int,
        body: bytes = b"",
        content_type: str = "text/plain",
        headers: dict[str, str] | None = None,
        close: bool = False,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, payload: Any) -> None:
        self._reply(status, json.dumps(payload).encode(), "application/json")

    # verbs ----------------------------------------------------------------------------------

    def do_GET(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        if url.path.startswith("/admin/"):
            self.app.admin.handle(self, "GET", url.path, parse_qs(url.query), None)
        elif m := _FILES.match(url.path):
            path = self.app.catalog.path_for(m.group(2), m.group(3), int(m.group(1)))
            self._file(path)
        elif url.path.startswith("/submissions/"):
            sub = self.app.state.get_submission(url.path.rsplit("/", 1)[1])
            self._file(Path(sub.path) if sub else None, sub.sha256 if sub else None)
        elif url.path == "/":
            self._json(200, {"service": "local Numerai tournament", "graphql": "POST /"})
        else:
            self._reply(404, b"not found\n")

    do_HEAD = do_GET

    def do_POST(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        body = self._body()
        if body is None:
            return
        if url.path.startswith("/admin/"):
            self.app.admin.handle(self, "POST", url.path, parse_qs(url.query), body)
        elif url.path == "/":
            self._graphql(body)
        else:
            self._reply(404, b"not found\n")

    def do_PUT(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        body = self._body()
        if body is None:
            return
        token = url.path[len("/uploads/") :] if url.path.startswith("/uploads/") else ""
        upload = self.app.state.get_upload(token=token) if token and "/" not in token else None
        if upload is None:
            self._reply(404, b"<Error><Code>NoSuchUpload</Code></Error>", "application/xml")
            return
        faulted = self.app.faults.take_upload_put()
        if faulted is not None:
            self._reply(faulted, b"<Error><Code>AccessDenied</Code></Error>", "application/xml")
            return
        if not self.app.faults.wait_delay("upload_put_delay_s", self.app.stopped):
            return
        dest = self.app.uploads_dir / f"{token}.csv"
        tmp = dest.with_suffix(".tmp")
        tmp.write_bytes(body)
        os.replace(tmp, dest)
        sha = hashlib.sha256(body).hexdigest()
        self.app.state.store_upload(token, sha, str(dest))
        self._reply(200, b"", headers={"ETag": f'"{sha}"'})

    # GraphQL --------------------------------------------------------------------------------

    def _graphql(self, raw: bytes) -> None:
        faults, stopped = self.app.faults, self.app.stopped
        if not faults.wait_graphql(stopped):
            self.close_connection = True  # stopped while hanging: drop without an answer
            return
        if faults.take_graphql_5xx():
            self._json(503, {"errors": [{"message": "Service Unavailable (injected fault)"}]})
            return
        try:
            body = json.loads(raw or b"{}")
            if not isinstance(body, dict):
                raise ValueError("body must be a JSON object")
        except ValueError as exc:
            self._json(400, {"errors": [{"message": f"invalid JSON body: {exc}"}]})
            return
        ctx = RequestContext(parse_token(self.headers.get("Authorization")), self.app.url)
        result = self.app.api.execute(body, ctx)
        created = isinstance(result.get("data"), dict) and result["data"].get("create_submission")
        if created and not faults.wait_delay("create_delay_s", stopped):
            self.close_connection = True  # recorded, but the answer never leaves
            return
        self._json(200, result)

    # files ----------------------------------------------------------------------------------

    def _file(self, path: Path | None, sha256: str | None = None) -> None:
        """Serve a file with ETag (sha256: given when known, e.g. a submission's, else hashed once
        per version by the catalog), single Range (206/416) and the truncation fault."""
        if path is None or not path.is_file():
            self._reply(404, b"not found\n")
            return
        st = path.stat()
        size = st.st_size
        etag = f'"{sha256 or self.app.catalog.sha256(path)}"'
        headers = {
            "ETag": etag,
            "Accept-Ranges": "bytes",
            "Last-Modified": email.utils.formatdate(st.st_mtime, usegmt=True),
        }
        if self.headers.get("If-None-Match") == etag:
            self._reply(304, headers=headers)
            return
        start, end, status = 0, size - 1, 200
        rng = self.headers.get("Range")
        if rng and self.headers.get("If-Range", etag) == etag:
            parsed = _parse_range(rng, size)
            if isinstance(parsed, str):  # "unsatisfiable"
                self._reply(416, headers={**headers, "Content-Range": f"bytes */{size}"})
                return
            if parsed is not None:
                start, end = parsed
                status = 206
                headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        length = end - start + 1
        truncate = self.command == "GET" and self.app.faults.take_truncate()
        self.send_response(status)
        self.send_header("Content-Type", _CONTENT_TYPES.get(path.suffix, "application/octet-stream"))
        self.send_header("Content-Length", str(length))
        for key, value in headers.items():
            self.send_header(key, value)
        if truncate:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command == "HEAD":
            return
        send = length // 2 if truncate else length
        with path.open("rb") as fh:
            if send > 0:
                self.connection.sendfile(fh, start, send)
        if truncate:
            self.close_connection = True


def _parse_range(header: str, size: int) -> tuple[int, int] | str | None:
    """One ``bytes=`` range -> (start, end) inclusive; None to ignore (serve all); or unsatisfiable."""
    m = _RANGE.match(header.strip())
    if not m or (not m.group(1) and not m.group(2)):
        return None  # multiple or malformed ranges: a full 200 is a valid answer
    first, last = m.group(1), m.group(2)
    if not first:  # suffix range: the last N bytes
        n = int(last)
        return (max(size - n, 0), size - 1) if n > 0 and size > 0 else "unsatisfiable"
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        return "unsatisfiable"
    return start, end
