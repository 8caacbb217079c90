"""Sending through Apprise without ever failing the caller or leaking a URL.

Apprise URLs hold tokens (``slack://T/B/C``, ``json://user:token@host``): every URL and its
parts are secrets. They are scrubbed from Apprise's and urllib3's own log records (a filter on
those loggers), from our warnings and from the outbox; a receiver is named by scheme and host.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

from numerai_assets.core.alerts.alert import Alert, one_line
from numerai_assets.core.alerts.outbox import Outbox
from numerai_assets.core.redaction import redact

# loggers that may print a receiver's URL, path or query while sending
SCRUBBED_LOGGERS = ("apprise", "urllib3.connectionpool")
_SPLIT = re.compile(r"[\s,]+")


class Log(Protocol):
    def info(self, msg: str) -> Any: ...
    def warning(self, msg: str) -> Any: ...


@dataclass(frozen=True)
class Delivery:
    """What became of one alert: sent, partial, failed, duplicate (sent before) or off (no URLs)."""

    key: str
    status: str
    failures: tuple[str, ...] = ()


def parse_urls(text: str | None) -> list[str]:
    """Apprise URLs from a comma/space separated value (``NUMERAI_ASSETS_NOTIFY``)."""
    return [u for u in _SPLIT.split(text or "") if u]


def url_secrets(url: str) -> list[str]:
    """The URL and every part that may carry a token: user, password, path segments, query values."""
    parts = urlsplit(url)
    try:
        user, password = parts.username, parts.password
    except ValueError:
        user = password = None
    segments = [s for s in parts.path.split("/") if s]
    values = [v for _, v in parse_qsl(parts.query)]
    netloc_secret = parts.netloc if not parts.hostname else None  # e.g. tgram://bottoken/chat
    return [url, url.split("://", 1)[-1], user, password, netloc_secret, *segments, *values]  # type: ignore[list-item]


def redact_url(url: str) -> str:
    """How a receiver is named in logs: scheme and host (``json://127.0.0.1:8080/...``), nothing else.

    Many Apprise services put a token where the host goes (``slack://TOKEN/...``,
    ``discord://ID/TOKEN``): a "host" that is not a domain, an IP or localhost shows as ``?``.
    """
    parts = urlsplit(url)
    try:
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        host, port = "", ""
    if not ("." in host or ":" in host or host == "localhost"):
        host, port = "?", ""
    return f"{parts.scheme or '?'}://{host}{port}/..."


class _Scrub(logging.Filter):
    """Rewrites each record of the scrubbed loggers with every known URL secret masked."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()
        self._lock = threading.Lock()

    def add(self, secrets: Iterable[str | None]) -> None:
        with self._lock:
            self.secrets |= {s for s in secrets if s}

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except (TypeError, ValueError):  # a malformed record: keep its template, never its arguments
            text = str(record.msg)
        record.msg, record.args = redact(text, self.secrets), None
        if record.exc_info:  # a traceback may print the URL: keep its text, scrubbed
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info), self.secrets)
            record.exc_info = None
        return True


_SCRUB = _Scrub()
for _name in SCRUBBED_LOGGERS:
    logging.getLogger(_name).addFilter(_SCRUB)


class Notifier:
    """Sends alerts to every URL, each key once (``outbox``); never raises."""

    def __init__(self, urls: Sequence[str], outbox: Outbox | None, log: Log | None = None) -> None:
        self.urls = list(urls)
        self.outbox = outbox
        self.log: Log = log or logging.getLogger(__name__)
        self.secrets = [s for u in self.urls for s in url_secrets(u) if s]
        _SCRUB.add(self.secrets)

    @property
    def enabled(self) -> bool:
        return bool(self.urls)

    def send(self, alert: Alert) -> Delivery:
        """Claim the key, send to each receiver; a receiver down or refusing is a warning only."""
        if not self.enabled:
            return Delivery(alert.key, "off")
        try:
            if self.outbox is not None and not self.outbox.claim(alert):
                return Delivery(alert.key, "duplicate")
            failures = tuple(f for f in (self._send_one(url, alert) for url in self.urls) if f)
        except Exception as exc:  # noqa: BLE001 - an alert must never fail the run or sensor
            failures = (self._scrub(f"alert {alert.key} not sent: {type(exc).__name__}: {exc}"),)
            self.log.warning(failures[0])
            return Delivery(alert.key, "failed", failures)
        status = "sent" if not failures else "failed" if len(failures) == len(self.urls) else "partial"
        for failure in failures:
            self.log.warning(f"alert {alert.key} not delivered to {failure}")
        if not failures:
            self.log.info(f"alert {alert.key} sent to {len(self.urls)} receiver(s)")
        self._record(alert.key, status, failures)
        return Delivery(alert.key, status, failures)

    def _send_one(self, url: str, alert: Alert) -> str | None:
        """None when delivered, else the receiver (redacted) and why."""
        import apprise  # imported on first send: definitions stay light

        name = redact_url(url)
        try:
            client = apprise.Apprise()
            if not client.add(url):
                return f"{name}: not a valid Apprise URL"
            with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as captured:
                ok = client.notify(title=alert.title, body=alert.body, body_format=apprise.NotifyFormat.MARKDOWN)
            if ok:
                return None
            return f"{name}: {self._scrub(one_line(captured.getvalue())) or 'not delivered'}"
        except Exception as exc:  # noqa: BLE001 - a plugin error is one receiver's failure
            return f"{name}: {self._scrub(f'{type(exc).__name__}: {exc}')}"

    def _record(self, key: str, status: str, failures: tuple[str, ...]) -> None:
        if self.outbox is None:
            return
        try:
            self.outbox.record(key, "; ".join([status, *failures]))
        except Exception as exc:  # noqa: BLE001 - the key is claimed; only the note is lost
            self.log.warning(f"alert {key}: outcome not recorded in the outbox: {exc}")

    def _scrub(self, text: str) -> str:
        return redact(text, self.secrets)
