"""Sensor cursors are JSON objects; one reader for all of them."""

import json
from typing import Any


def read_cursor(text: str | None) -> dict[str, Any]:
    """The cursor's object; {} when unset, unreadable or not an object (an older cursor's form)."""
    try:
        data = json.loads(text or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
