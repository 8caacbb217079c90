"""Switchable failures of the local tournament server, so clients' retry paths can be tested.

Each switch reproduces a failure seen against the real Numerai API: 5xx bursts, slow or hanging
GraphQL answers, rejected presigned uploads, and downloads cut off mid-body, a create_submission
that lands but answers after the client gave up, and a slow upload PUT.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, fields
from typing import Any


@dataclass
class Faults:
    """Thread-safe fault switches; set attributes via :meth:`set` (Python) or ``POST /admin/faults``."""

    graphql_5xx: int = 0  # answer the next N GraphQL POSTs with 503
    graphql_delay_s: float = 0.0  # sleep before answering every GraphQL POST
    graphql_hang: bool = False  # accept GraphQL POSTs and never answer until cleared/stopped
    upload_put_status: int = 403  # status for faulted upload PUTs (nothing is stored)
    upload_put_count: int = 0  # how many of the next upload PUTs are faulted
    truncate_downloads: int = 0  # next N file GETs send the full Content-Length, half the body
    create_delay_s: float = 0.0  # create_submission records the submission, then answers this late
    upload_put_delay_s: float = 0.0  # sleep inside every upload PUT before the file is stored
    _cond: threading.Condition = field(default_factory=threading.Condition, repr=False)

    KEYS = (
        "graphql_5xx",
        "graphql_delay_s",
        "graphql_hang",
        "upload_put_status",
        "upload_put_count",
        "truncate_downloads",
        "create_delay_s",
        "upload_put_delay_s",
    )

    def set(self, **values: Any) -> dict[str, Any]:
        """Set switches by name (values are coerced to the field's type); returns all switches."""
        types = {f.name: f.type for f in fields(self) if f.name in self.KEYS}
        unknown = sorted(set(values) - set(types))
        if unknown:
            raise ValueError(f"unknown fault keys {unknown}; known: {list(self.KEYS)}")
        coerced = {k: _coerce(types[k], k, v) for k, v in values.items()}
        with self._cond:
            for key, value in coerced.items():
                setattr(self, key, value)
            self._cond.notify_all()
        return self.to_dict()

    def reset(self) -> dict[str, Any]:
        return self.set(**{f.name: f.default for f in fields(self) if f.name in self.KEYS})

    def to_dict(self) -> dict[str, Any]:
        with self._cond:
            return {k: getattr(self, k) for k in self.KEYS}

    def take_graphql_5xx(self) -> bool:
        return self._take("graphql_5xx")

    def take_upload_put(self) -> int | None:
        """The status to answer this PUT with, or None to store it normally."""
        with self._cond:
            if self.upload_put_count > 0:
                self.upload_put_count -= 1
                return self.upload_put_status
            return None

    def take_truncate(self) -> bool:
        return self._take("truncate_downloads")

    def _take(self, key: str) -> bool:
        with self._cond:
            if getattr(self, key) > 0:
                setattr(self, key, getattr(self, key) - 1)
                return True
            return False

    def wake(self) -> None:
        """Wake waiters (server stop) so they re-check their stop event."""
        with self._cond:
            self._cond.notify_all()

    def wait_delay(self, key: str, stopped: threading.Event) -> bool:
        """Sleep for the delay switch ``key``, cut short when a test lowers it to 0 (so a held
        request is released on cue); False when the server stopped meanwhile."""
        with self._cond:
            end = time.monotonic() + getattr(self, key)
            while getattr(self, key) > 0 and not stopped.is_set():
                remaining = end - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
        return not stopped.is_set()

    def wait_graphql(self, stopped: threading.Event) -> bool:
        """Apply delay and hang; True when the request should still be answered."""
        with self._cond:
            delay = self.graphql_delay_s
        if delay > 0 and stopped.wait(delay):
            return False
        with self._cond:
            while self.graphql_hang and not stopped.is_set():
                self._cond.wait(0.5)
        return not stopped.is_set()


def _coerce(kind: Any, key: str, value: Any) -> Any:
    name = kind if isinstance(kind, str) else kind.__name__
    if name == "bool":
        if isinstance(value, str):
            if value.lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                raise ValueError(f"{key} must be a boolean, got {value!r}")
            return value.lower() in ("1", "true", "yes", "on")
        return bool(value)
    try:
        result = float(value) if name == "float" else int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{key} must be a {name}, got {value!r}") from None
    if result < 0:
        raise ValueError(f"{key} must be >= 0, got {value!r}")
    return result
