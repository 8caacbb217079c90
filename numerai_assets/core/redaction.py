"""Scrub secrets from any text that may reach logs, metadata, tracked runs or exceptions."""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "***"
_TOKEN_HEADER = re.compile(r"(Token\s+)[^\s'\"]+", re.IGNORECASE)


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """Return ``text`` with every known secret and any ``Token pub$secret`` header value masked.

    Secrets shorter than 4 characters are ignored: masking them would mangle ordinary words
    and they are not credentials anyway.
    """
    out = _TOKEN_HEADER.sub(lambda m: m.group(1) + REDACTED, text)
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        out = out.replace(secret, REDACTED)
    return out
