"""The GraphQL transport under numerapi, made bounded and explicit.

numerapi 3.1.1 posts to the module global ``numerapi.base_api.API_TOURNAMENT_URL`` with no
timeout, sleeps 5 s + 10 s on 5xx, and swallows transport errors so that callers fail later
with ``KeyError('data')``. ``BoundedNumerAPI`` keeps every numerapi method as it is and
replaces only ``raw_query``: a per-instance endpoint (no process-global state), a deadline on
every request, and typed errors. Retrying is left to :class:`NumeraiClient`.
"""

from __future__ import annotations

import numerapi
import requests

TOURNAMENT = 8


class TransportError(Exception):
    """A request that may succeed if tried again: no connection, no answer in time, 5xx."""


def is_transport_failure(exc: BaseException) -> bool:
    """True for failures worth retrying; refusals (``ValueError``) are never retried."""
    if isinstance(exc, TransportError):
        return True
    if isinstance(exc, KeyError) and exc.args == ("data",):  # numerapi's swallowed transport error
        return True
    return isinstance(
        exc,
        (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError),
    )


def graphql_error_message(errors) -> str:
    """The message numerapi's ``_handle_call_error`` extracts (the last one), without logging it."""
    if isinstance(errors, list):
        messages = [e["message"] for e in errors if isinstance(e, dict) and "message" in e]
        return messages[-1] if messages else ""
    if isinstance(errors, dict):
        return str(errors.get("detail", ""))
    return ""


class BoundedNumerAPI(numerapi.NumerAPI):
    """numerapi with a per-instance GraphQL endpoint and a timeout on every POST."""

    def __init__(self, api_url: str, public_id: str | None, secret_key: str | None) -> None:
        super().__init__(public_id=public_id, secret_key=secret_key, verbosity="WARNING", show_progress_bars=False)
        self.api_url = api_url
        self.tournament_id = TOURNAMENT
        # Set by NumeraiClient before each attempt so one attempt never outlives the budget.
        self.attempt_timeout_s: float = 30.0

    def raw_query(self, query, variables=None, authorization=False, **_numerapi_retry_args):  # noqa: D102
        headers = {"Content-type": "application/json", "Accept": "application/json"}
        if authorization:
            if not self.token:
                raise ValueError("API keys required for this action.")
            public_id, secret_key = self.token
            headers["Authorization"] = f"Token {public_id}${secret_key}"
        timeout = self.attempt_timeout_s
        try:
            resp = requests.post(
                self.api_url,
                json={"query": query, "variables": variables},
                headers=headers,
                timeout=timeout,
            )
        except requests.Timeout:
            raise TransportError(f"no answer from {self.api_url} within {timeout:.1f} s") from None
        except requests.ConnectionError as exc:
            raise TransportError(f"cannot connect to {self.api_url}: {type(exc).__name__}") from None
        if resp.status_code >= 500:
            raise TransportError(f"{self.api_url} answered HTTP {resp.status_code}")
        try:
            result = resp.json()
        except requests.exceptions.JSONDecodeError:
            if resp.status_code >= 400:
                raise ValueError(f"HTTP {resp.status_code} from {self.api_url}") from None
            raise TransportError(f"{self.api_url} answered invalid JSON") from None
        if isinstance(result, dict) and "errors" in result:
            # not numerapi's _handle_call_error: it logs every answer at ERROR, the between-round
            # "not open" included; NumeraiClient logs the refusals that are errors
            raise ValueError(graphql_error_message(result["errors"]) or "unknown GraphQL error")
        if resp.status_code >= 400:
            raise ValueError(f"HTTP {resp.status_code} from {self.api_url}")
        return result
