"""Resolvers for the GraphQL subset numerapi 3.1.1 sends (see ``schema.graphql``).

Refusals are GraphQL errors answered with HTTP 200, as Numerai does: numerapi turns them into
``ValueError(message)``, which is how a caller learns *why* (e.g. the validator's message).
"""

from __future__ import annotations

import os
import re
import secrets
import uuid
from dataclasses import dataclass
from importlib import resources
from typing import Any

import pandas as pd
from graphql import GraphQLError, build_schema, graphql_sync
from numerai_tools.submissions import validate_submission_numerai

from numerai_assets.tournament.catalog import Catalog
from numerai_assets.tournament.compute import TournamentCompute
from numerai_assets.tournament.resolution import Resolver, ScoreRow
from numerai_assets.tournament.round_configs import payout_factor, score_configs
from numerai_assets.tournament.state import Round, Submission, TournamentState, Upload, parse_iso, utcnow

TOURNAMENT = 8  # Numerai Classic
NOT_OPEN = "Current round not open for submissions"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_ROUND_NS = uuid.UUID("0b8f6c1e-3a4d-4f59-8e21-7c6d5b4a3f20")
SCHEMA = build_schema(resources.files("numerai_assets.tournament").joinpath("schema.graphql").read_text())


@dataclass(frozen=True)
class RequestContext:
    """Per-request facts resolvers need: the caller's API token and the server's base URL."""

    token: str | None
    base_url: str


def parse_token(authorization: str | None) -> str | None:
    """``Token pub$secret`` -> ``pub$secret``; any non-empty token is accepted locally."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    return value if scheme.lower() == "token" and value else None


def _resolve(parent: Any, info: Any, /, **args: Any) -> Any:
    """graphql-core's default resolver, positional-only: create_submission has an argument
    named ``source``, which collides with the default resolver's own ``source`` parameter."""
    name = info.field_name
    value = parent.get(name) if isinstance(parent, dict) else getattr(parent, name, None)
    return value(info, **args) if callable(value) else value


class GraphQLApi:
    """Executes GraphQL documents against the tournament state and file catalog."""

    resolver: Resolver | None = None  # set by the server: rounds resolve, scores are served
    score_names: dict[str, str] = {}  # served displayName per score name (a renamed-score server)

    def __init__(self, state: TournamentState, catalog: Catalog, models: dict[str, str], uploads_dir: str) -> None:
        self.state = state
        self.catalog = catalog
        self.models = models  # name -> id
        self.uploads_dir = uploads_dir
        self.compute: TournamentCompute | None = None  # model uploads; set by the server

    def execute(self, body: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        query = body.get("query")
        if not isinstance(query, str):
            return {"errors": [{"message": "request body needs a 'query' string"}]}
        variables = body.get("variables") if isinstance(body.get("variables"), dict) else None
        result = graphql_sync(
            SCHEMA,
            query,
            root_value=self,
            context_value=ctx,
            variable_values=variables,
            operation_name=body.get("operationName"),
            field_resolver=_resolve,
        )
        return dict(result.formatted)

    # helpers --------------------------------------------------------------------------------

    @staticmethod
    def _auth(info: Any) -> str:
        if info.context.token is None:
            raise GraphQLError("API keys required: send 'Authorization: Token <public_id>$<secret_key>'")
        return info.context.token

    @staticmethod
    def _tournament(tournament: int | None) -> None:
        if tournament not in (None, TOURNAMENT):
            raise GraphQLError(f"tournament {tournament} is not served here (only {TOURNAMENT})")

    def _model_id(self, model_id: str | None) -> str:
        ids = list(self.models.values())
        if model_id is None:
            if len(ids) != 1:
                raise GraphQLError(f"modelId is required: this account has {len(ids)} models")
            return ids[0]
        if model_id not in ids:
            raise GraphQLError(f"model {model_id} not found in this account")
        return model_id

    def _round_or_latest(self, number: int | None) -> int:
        if number:
            return number
        current = self.state.current_round()
        return current.number if current else self.state.latest_round_number()

    def _round(self, rnd: Round) -> dict[str, Any]:
        resolved = self.resolver is not None and rnd.number in self.resolver.resolved_rounds()
        status = "OPEN" if rnd.status == "open" else "RESOLVED" if resolved else "RESOLVING"
        return {
            "id": str(uuid.uuid5(_ROUND_NS, str(rnd.number))),
            "tournament": TOURNAMENT,
            "number": rnd.number,
            "target": self.catalog.target_alias(),
            "status": status,
            "openTime": rnd.open_time,
            "closeStakingTime": rnd.close_staking_time,
            "closeTime": rnd.close_time,
            "scoreTime": rnd.score_time,
            "resolveTime": rnd.resolve_time,
            "resolvedGeneral": resolved,
            "resolvedStaking": resolved,
            "payoutFactor": payout_factor(rnd.number),
            "stakeThreshold": None,
            "dataDatestamp": int(rnd.open_time[:10].replace("-", "")),
            "roundScoreConfigs": score_configs(rnd.number, rnd.score_time, rnd.resolve_time),
        }

    def _submission(self, sub: Submission, latest: set[str]) -> dict[str, Any]:
        rnd = self.state.get_round(sub.round)
        return {
            "id": sub.id,
            "filename": sub.filename,
            "insertedAt": sub.inserted_at,
            "sha256": sub.sha256,
            "late": sub.late,
            "selected": sub.id in latest,
            "round": self._round(rnd) if rnd else None,
            "modelId": sub.model_id,
            "modelName": sub.model_name,
        }

    def _submissions(self, model_ids: list[str]) -> list[dict[str, Any]]:
        subs = self.state.submissions(model_ids=model_ids)
        latest = {s.id for s in {(s.model_id, s.round): s for s in subs}.values()}
        return [self._submission(s, latest) for s in subs]

    def _model(self, name: str, model_id: str) -> dict[str, Any]:
        def submissions(_info: Any) -> list[dict[str, Any]]:
            return self._submissions([model_id])

        return {"id": model_id, "name": name, "tournament": TOURNAMENT, "submissions": submissions}

    # queries --------------------------------------------------------------------------------

    def rounds(
        self,
        info: Any,
        tournament: int | None = None,
        number: int | None = None,
        target: str | None = None,
        status: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        self._tournament(tournament)
        if number == 0:  # numerapi's alias for "the current round"
            current = self.state.current_round()
            if current is None:
                raise GraphQLError(NOT_OPEN)
            return [self._round(current)]
        rounds = [self._round(r) for r in self.state.list_rounds() if number is None or r.number == number]
        rounds = [r for r in rounds if status is None or r["status"] == status]
        return rounds[:limit] if limit else rounds

    def listDatasets(
        self,
        info: Any,
        round: int | None = None,  # noqa: A002,N802
        tournament: int | None = None,
    ) -> list[str]:
        self._tournament(tournament)
        return self.catalog.list(self._round_or_latest(round))

    def dataset(
        self,
        info: Any,
        filename: str,
        round: int | None = None,  # noqa: A002
        tournament: int | None = None,
    ) -> str:
        self._tournament(tournament)
        number = self._round_or_latest(round)
        version, name = self.catalog.split(filename)
        if self.catalog.path_for(version, name, number) is None:
            raise GraphQLError(f"dataset {filename!r} not found for round {number}")
        return f"{info.context.base_url}/files/{number}/{version}/{name}"

    def account(self, info: Any) -> dict[str, Any]:
        self._auth(info)
        models = [self._model(n, i) for n, i in self.models.items()]
        return {"id": "local-account", "username": "local", "models": models}

    def model(self, info: Any, modelId: str | None = None) -> dict[str, Any]:  # noqa: N803
        self._auth(info)
        model_id = self._model_id(modelId)
        name = next(n for n, i in self.models.items() if i == model_id)
        return self._model(name, model_id)

    def submissions(self, info: Any, modelId: str | None = None) -> list[dict[str, Any]]:  # noqa: N803
        self._auth(info)
        ids = list(self.models.values()) if modelId is None else [self._model_id(modelId)]
        return self._submissions(ids)

    def submission_upload_auth(
        self, info: Any, filename: str, tournament: int, modelId: str | None = None
    ) -> dict[str, str]:  # noqa: N803
        self._auth(info)
        self._tournament(tournament)
        model_id = self._model_id(modelId)
        stem, ext = os.path.splitext(os.path.basename(filename))
        stem = _SAFE_NAME.sub("_", stem)[:64] or "predictions"
        key = f"{stem}-{uuid.uuid4().hex[:12]}{_SAFE_NAME.sub('', ext)[:8] or '.csv'}"
        token = secrets.token_urlsafe(24)
        self.state.add_upload(token, key, model_id)
        return {"filename": key, "url": f"{info.context.base_url}/uploads/{token}"}

    def submissionDownloadAuth(self, info: Any, id: str | None = None) -> dict[str, str]:  # noqa: A002,N802
        self._auth(info)
        sub = self.state.get_submission(id or "")
        if sub is None or sub.model_id not in self.models.values():
            raise GraphQLError(f"submission {id} not found")
        return {"filename": sub.filename, "url": f"{info.context.base_url}/submissions/{sub.id}"}

    # model uploads (Numerai Compute; see compute.py) ------------------------------------------

    def _compute(self, info: Any) -> TournamentCompute:
        self._auth(info)
        if self.compute is None:
            raise GraphQLError("model uploads are not enabled on this server")
        return self.compute

    def computePickleUploadAuth(self, info: Any, filename: str, modelId: str | None = None) -> dict[str, str]:  # noqa: N802,N803
        self._compute(info)
        if not filename.endswith(".pkl"):
            raise GraphQLError(f"model upload {filename!r}: the file name must end with .pkl")
        return self.submission_upload_auth(info, filename, TOURNAMENT, modelId)

    def computePickleDataVersions(self, info: Any) -> list[dict[str, str]]:  # noqa: N802
        return self._compute(info).data_versions()

    def computePickleDockerImages(self, info: Any) -> list[dict[str, str]]:  # noqa: N802
        return self._compute(info).docker_images()

    def computePickles(self, info: Any, modelId: str | None = None) -> list[dict[str, Any]]:  # noqa: N802,N803
        compute = self._compute(info)
        return compute.pickles(list(self.models.values()) if modelId is None else [self._model_id(modelId)])

    def computePickleRuns(  # noqa: N802
        self,
        info: Any,
        modelId: str | None = None,  # noqa: N803
        round: int | None = None,  # noqa: A002
    ) -> list[dict[str, Any]]:
        compute = self._compute(info)
        return compute.runs(list(self.models.values()) if modelId is None else [self._model_id(modelId)], round)

    def createComputePickleUpload(  # noqa: N802
        self,
        info: Any,
        filename: str,
        tournament: int,
        modelId: str | None = None,  # noqa: N803
        dataVersionId: str | None = None,  # noqa: N803
        dockerImageId: str | None = None,  # noqa: N803
    ) -> dict[str, str]:
        compute = self._compute(info)
        self._tournament(tournament)
        upload = self.state.get_upload(filename=filename)
        if upload is None:
            raise GraphQLError(f"no upload {filename!r}: call computePickleUploadAuth first")
        if modelId is not None and self._model_id(modelId) != upload.model_id:
            raise GraphQLError(f"upload {filename!r} was authorized for another model")
        try:
            return {"id": compute.create(upload, dataVersionId, dockerImageId)}
        except ValueError as exc:
            raise GraphQLError(str(exc)) from None

    def submit_computed(self, round_number: int, upload: Upload) -> str:
        """A round-open pickle run's output, checked as an uploaded CSV is, recorded as a submission."""
        assert upload.path is not None  # the run wrote it
        self._validate(round_number, upload.path)
        name = self.state.model_name(upload.model_id) or upload.model_id
        return self.state.add_submission(round_number, upload, name, late=False).id

    def submissionScores(  # noqa: N802
        self,
        info: Any,
        modelId: str,  # noqa: N803
        displayName: str | None = None,  # noqa: N803
        version: str | None = None,
        day: int | None = None,
        resolved: bool | None = None,
        tournament: int | None = None,
        lastNRounds: int | None = None,  # noqa: N803
        distinctOnRound: bool | None = None,  # noqa: N803
    ) -> list[dict[str, Any]]:
        """Public (no keys), like Numerai's: the model's daily and resolved scores, newest round
        first; `distinctOnRound` keeps the latest score (highest day) of each round."""
        self._tournament(tournament)
        if self.resolver is None:
            return []
        self.resolver.update()  # scores due on the clock appear when first asked for
        rows = [self._score(r) for r in self.resolver.scores(modelId)]
        rows = [
            r
            for r in rows
            if (displayName is None or r["displayName"] == displayName)
            and (version is None or r["version"] == version)
            and (day is None or r["day"] == day)
            and (resolved is None or r["resolved"] == resolved)
        ]
        if lastNRounds:
            keep = sorted({r["roundNumber"] for r in rows}, reverse=True)[:lastNRounds]
            rows = [r for r in rows if r["roundNumber"] in keep]
        if distinctOnRound:
            latest: dict[int, dict[str, Any]] = {}
            for r in rows:
                if r["roundNumber"] not in latest or r["day"] > latest[r["roundNumber"]]["day"]:
                    latest[r["roundNumber"]] = r
            rows = list(latest.values())
        return rows

    def _score(self, row: ScoreRow) -> dict[str, Any]:
        rnd = self.state.get_round(row.round)
        assert rnd is not None  # a score row exists only for a stored round
        display = {c["name"]: c["displayName"] for c in score_configs(rnd.number, None, None)}
        return {
            "roundId": str(uuid.uuid5(_ROUND_NS, str(rnd.number))),
            "submissionId": row.submission_id,
            "roundNumber": row.round,
            "roundResolveTime": rnd.resolve_time,
            "roundScoreTime": rnd.score_time,
            "roundCloseStakingTime": rnd.close_staking_time,
            "value": row.value,
            "percentile": row.percentile,
            "displayName": self.score_names.get(row.name, display.get(row.name, row.name)),
            "version": row.version,
            "date": row.date,
            "day": row.day,
            "resolveDate": rnd.resolve_time,
            "resolved": row.resolved,
        }

    # mutations ------------------------------------------------------------------------------

    def create_submission(
        self,
        info: Any,
        filename: str,
        tournament: int,
        modelId: str | None = None,
        triggerId: str | None = None,  # noqa: N803
        source: str | None = None,
        dataDatestamp: int | None = None,  # noqa: N803
    ) -> dict[str, str]:
        self._auth(info)
        self._tournament(tournament)
        upload = self.state.get_upload(filename=filename)
        if upload is None:
            raise GraphQLError(f"no upload {filename!r}: call submission_upload_auth first")
        if modelId is not None and self._model_id(modelId) != upload.model_id:
            raise GraphQLError(f"upload {filename!r} was authorized for another model")
        if upload.path is None:
            raise GraphQLError(f"file {filename!r} was never uploaded to its upload URL")
        rnd = self.state.current_round()
        now = utcnow()
        if rnd is None:
            raise GraphQLError(NOT_OPEN)
        if now > parse_iso(rnd.close_time):
            raise GraphQLError(f"round {rnd.number} is closed for submissions")
        self._validate(rnd.number, upload.path)
        name = self.state.model_name(upload.model_id) or upload.model_id
        late = now > parse_iso(rnd.close_staking_time)
        sub = self.state.add_submission(rnd.number, upload, name, late=late)
        return {"id": sub.id}

    def _validate(self, round_number: int, path: str) -> None:
        """Numerai's own check: ``validate_submission_numerai`` against the round's live ids."""
        try:
            universe = self.catalog.live_ids(round_number)
        except FileNotFoundError as exc:
            raise GraphQLError(str(exc)) from None
        try:
            submission = pd.read_csv(path)
        except Exception as exc:  # noqa: BLE001 - any unreadable upload is the caller's error
            raise GraphQLError(f"invalid_submission_file: cannot read CSV ({exc})") from None
        try:
            validate_submission_numerai(universe=universe, submission=submission)
        except AssertionError as exc:
            raise GraphQLError(str(exc)) from None
        except Exception as exc:  # noqa: BLE001 - e.g. non-numeric predictions
            raise GraphQLError(f"invalid_submission_values: {type(exc).__name__}: {exc}") from None
