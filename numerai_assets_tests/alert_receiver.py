"""A real HTTP receiver on 127.0.0.1 for alert tests: records every POST (Apprise's ``json://``
plugin posts a JSON body with ``title`` and ``message``). Also a port that refuses connections,
for a receiver that is down."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# credentials in the URL: the tests assert they never show in logs, metadata or outcomes
USER, TOKEN = "alertuser", "s3cr3t-alert-token-7f2c"


class Receiver:
    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.auth: list[str | None] = []
        received = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received.posts.append(json.loads(body or b"{}"))
                received.auth.append(self.headers.get("Authorization"))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"json://{USER}:{TOKEN}@127.0.0.1:{self.port}/hook"

    def messages(self, kind_word: str = "") -> list[dict[str, Any]]:
        return [p for p in self.posts if kind_word in p.get("title", "")]

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def closed_port_url() -> str:
    """A json:// URL whose port nobody listens on (bound, then released): a receiver that is down."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"json://{USER}:{TOKEN}@127.0.0.1:{port}/hook"


def run_sensor_tick(defs: Any, instance: Any, result: Any, notify: Any) -> Any:
    """Evaluate, on a finished run, the alert sensor that reacts to its outcome (failure or success)."""
    import dagster as dg

    name = "alert_run_results_sensor" if result.success else "alert_run_failure_sensor"
    event = result.get_run_success_event() if result.success else result.get_run_failure_event()
    context = dg.build_run_status_sensor_context(
        sensor_name=name,
        dagster_event=event,
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        resources={"notify": notify},
    )
    return defs.resolve_sensor_def(name)(context if result.success else context.for_run_failure())
