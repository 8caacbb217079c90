"""The one client of the local tournament's admin API (round control, files, faults).

Used by the ``numerai-tournament`` CLI, the main job, the UI launcher and tests that drive a
tournament in another process.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import requests

ENV_URL = "NUMERAI_ASSETS_TOURNAMENT_URL"  # the same variable the Dagster code reads (settings.py)
DEFAULT_URL = "http://127.0.0.1:8765"


def tournament_url(env: Mapping[str, str] = os.environ) -> str:
    """Where the local tournament serves: ``NUMERAI_ASSETS_TOURNAMENT_URL``, else the default."""
    return env.get(ENV_URL) or DEFAULT_URL


class AdminError(RuntimeError):
    """The server refused an admin request (e.g. 409: a round is already open)."""

    def __init__(self, path: str, status: int, detail: str) -> None:
        super().__init__(f"tournament admin {path}: HTTP {status}: {detail}")
        self.status = status


class AdminClient:
    def __init__(self, base_url: str, timeout_s: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s

    def _request(self, method: str, path: str, payload: dict | None = None) -> Any:
        resp = requests.request(method, f"{self.base_url}/admin/{path}", json=payload, timeout=self.timeout_s)
        if resp.status_code >= 400:
            raise AdminError(path, resp.status_code, resp.text[:300])
        return resp.json()

    def alive(self) -> bool:
        try:
            return requests.get(f"{self.base_url}/admin/health", timeout=2).ok
        except requests.RequestException:
            return False

    def current_round(self) -> dict | None:
        """The open round as ``{number, openTime, closeStakingTime, ...}``, or None."""
        return self._request("GET", "rounds/current").get("round")

    def open_round(self, number: int | None = None, staking_window_s: float | None = None) -> dict:
        payload = {k: v for k, v in {"number": number, "staking_window_s": staking_window_s}.items() if v is not None}
        return self._request("POST", "rounds/open", payload)["round"]

    def close_round(self) -> dict:
        return self._request("POST", "rounds/close", {})

    def advance(self) -> dict:
        return self._request("POST", "rounds/advance", {})["round"]

    def submissions(self, round_number: int | None = None) -> list[dict]:
        path = "submissions" if round_number is None else f"submissions?round={round_number}"
        return self._request("GET", path)["submissions"]

    def republish(self, filename: str, round_number: int | None = None) -> dict:
        """Replace ``vX.Y/<name>`` (a live file: of ``round_number``, default the latest round)
        by different content of the same size; answers its new sha256 (the ETag)."""
        payload: dict[str, Any] = {"filename": filename}
        if round_number is not None:
            payload["round"] = round_number
        return self._request("POST", "datasets/republish", payload)

    def faults(self) -> dict:
        """The fault switches as they are now."""
        return self._request("GET", "faults")["faults"]

    def set_faults(self, faults: Mapping[str, Any]) -> dict:
        """Set switches (``reset: True`` clears every one first); answers them all."""
        return self._request("POST", "faults", dict(faults))["faults"]
