"""JSON control API (``/admin/*``) of the local tournament: rounds (resolving and decaying them
too), submissions, faults, health, and republishing a dataset file with same-size new content.

Never subject to faults, so a test can always switch a fault off again. Unauthenticated: the
server binds to loopback unless told otherwise. Rounds are shaped like numerapi's (camelCase
times) so one dict type serves both APIs; ``admin.AdminClient`` is the client side.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from numerai_assets.tournament.republish import republish
from numerai_assets.tournament.state import StateError

if TYPE_CHECKING:
    from numerai_assets.tournament.http_handler import Handler
    from numerai_assets.tournament.server import TournamentServer

_OPEN_KEYS = {"number", "staking_window_s", "close_window_s"}


class AdminApi:
    def __init__(self, app: TournamentServer) -> None:
        self.app = app

    def handle(self, h: Handler, method: str, path: str, query: dict[str, list[str]], body: bytes | None) -> None:
        route = (method, path.rstrip("/"))
        try:
            payload = json.loads(body) if body else {}
            if not isinstance(payload, dict):
                raise ValueError("body must be a JSON object")
            status, result = self._dispatch(route, query, payload)
        except StateError as exc:
            status, result = 409, {"error": str(exc)}
        except (ValueError, TypeError) as exc:
            status, result = 400, {"error": str(exc)}
        h._json(status, result)

    def _republish(self, filename: str, round: int | None = None) -> dict[str, Any]:  # noqa: A002
        """Replace a served file (a live one: of `round`, default the latest round) by
        same-size, different content (see republish.py); answers its new sha256, the ETag."""
        app = self.app
        version, name = app.catalog.split(filename)
        number = round if round is not None else app.state.latest_round_number()
        path = app.catalog.path_for(version, name, number)
        if path is None:
            raise ValueError(f"dataset {filename!r} not found for round {number}")
        republish(path)
        return {
            "filename": f"{version}/{name}",
            "round": number,
            "size": path.stat().st_size,
            "sha256": app.catalog.sha256(path),
        }

    def _dispatch(
        self, route: tuple[str, str], query: dict[str, list[str]], payload: dict[str, Any]
    ) -> tuple[int, Any]:
        app = self.app
        if route == ("POST", "/admin/rounds/open"):
            return 200, {"round": app.open_round(**_only(payload, _OPEN_KEYS)).to_dict()}
        if route == ("POST", "/admin/rounds/close"):
            return 200, {"round": app.close_round().to_dict()}
        if route == ("POST", "/admin/rounds/advance"):
            before = app.state.current_round()
            opened = app.advance(**_only(payload, _OPEN_KEYS - {"number"}))
            closed = app.state.get_round(before.number) if before else None
            return 200, {"closed": closed.to_dict() if closed else None, "round": opened.to_dict()}
        if route == ("POST", "/admin/rounds/resolve"):
            payload = _only(payload, {"round", "day"})
            written = app.resolver.resolve(_round_of(payload), payload.get("day"))
            return 200, {"round": payload["round"], "scores_written": written}
        if route == ("POST", "/admin/rounds/decay"):
            payload = _only(payload, {"round", "mode"})
            app.resolver.set_decay(_round_of(payload), str(payload.get("mode")))
            return 200, {"round": payload["round"], "decay": payload["mode"]}
        if route == ("POST", "/admin/datasets/republish"):
            return 200, self._republish(**_only(payload, {"filename", "round"}))
        if route == ("GET", "/admin/rounds/current"):
            current = app.state.current_round()
            return 200, {"round": current.to_dict() if current else None}
        if route == ("GET", "/admin/rounds"):
            return 200, {"rounds": [r.to_dict() for r in app.state.list_rounds()]}
        if route == ("GET", "/admin/submissions"):
            number = int(query["round"][0]) if "round" in query else None
            subs = app.state.submissions(round_number=number)
            return 200, {"submissions": [s.to_dict() for s in subs]}
        if route == ("POST", "/admin/faults"):
            if payload.pop("reset", False):
                app.faults.reset()
            return 200, {"faults": app.faults.set(**payload)}
        if route == ("GET", "/admin/faults"):
            return 200, {"faults": app.faults.to_dict()}
        if route == ("GET", "/admin/health"):
            current = app.state.current_round()
            return 200, {
                "ok": True,
                "url": app.url,
                "version": app.catalog.version,
                "versions": app.catalog.versions(),
                "round": current.number if current else None,
                "models": app.models,
            }
        return 404, {"error": f"no admin route {route[0]} {route[1]}"}


def _only(payload: dict[str, Any], allowed: set[str]) -> dict[str, Any]:
    unknown = set(payload) - allowed
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)}; known: {sorted(allowed)}")
    return payload


def _round_of(payload: dict[str, Any]) -> int:
    if not isinstance(payload.get("round"), int):
        raise ValueError(f"needs an integer 'round', got {payload.get('round')!r}")
    return int(payload["round"])
