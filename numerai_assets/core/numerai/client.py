"""A Numerai client with the guarantees a tournament operation needs.

On top of numerapi (``BoundedNumerAPI``): every call has a timeout; transport failures are
retried with exponential backoff inside a bounded total time, refusals never are; downloads
land only when complete and readable; an upload is checked at the PUT, confirmed listed
afterwards, and an uncertain ``create_submission`` is verified before it is ever retried.
No message this module produces contains a credential.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import requests
from numerapi import utils as numerapi_utils
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential,
)

from numerai_assets.core.numerai.downloads import DownloadResult, Validator, download_to, probe
from numerai_assets.core.numerai.transport import (
    TOURNAMENT,
    BoundedNumerAPI,
    TransportError,
    is_transport_failure,
)
from numerai_assets.core.redaction import redact

T = TypeVar("T")
log = logging.getLogger(__name__)

ROUND_QUERY = """
query($tournament: Int!) {
  rounds(tournament: $tournament number: 0) { number openTime closeStakingTime closeTime }
}"""
DATASET_URL_QUERY = """
query($filename: String! $round: Int $tournament: Int) {
  dataset(filename: $filename round: $round tournament: $tournament)
}"""
# numerapi's own create_submission document; numerapi runs it only inside upload_predictions,
# which cannot check the PUT or verify an uncertain outcome, so the steps are run here.
CREATE_SUBMISSION = """
mutation($filename: String! $tournament: Int! $modelId: String $triggerId: String,
         $dataDatestamp: Int) {
  create_submission(filename: $filename tournament: $tournament modelId: $modelId
                    triggerId: $triggerId source: "numerapi" dataDatestamp: $dataDatestamp) { id }
}"""


class NumeraiError(RuntimeError):
    """Base class: anything this client raises deliberately."""


class NumeraiUnavailableError(NumeraiError):
    """Transport kept failing until the attempts or the time budget ran out."""


class NumeraiRefusedError(NumeraiError):
    """Numerai answered and said no (GraphQL error, 4xx): retrying the same request is useless."""


class UploadRejectedError(NumeraiError):
    """The presigned upload PUT did not answer 2xx: the file is not on Numerai's side."""


class UploadOutcomeUncertainError(NumeraiError):
    """create_submission was sent but no answer came back: it may still land (or have landed)."""

    def __init__(self, message: str, remote_filename: str | None = None) -> None:
        super().__init__(message)
        self.remote_filename = remote_filename


# numerapi's submission_ids selects id/filename/insertedAt; its get_submission_filenames shows that
# Numerai's Submission also has round { number }, which reconciling per round needs.
# The shape numerapi itself reads a model's submissions with rounds in (get_submission_filenames:
# model.submissions.round.number), plus the id and insertedAt that submission_ids reads.
SUBMISSIONS_QUERY = """
query($modelId: String) {
  model(modelId: $modelId) { submissions { id filename insertedAt round { number } } }
}"""


@dataclass(frozen=True)
class RetryPolicy:
    timeout_s: float = 30.0
    max_attempts: int = 6
    budget_s: float = 120.0
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 8.0


@dataclass(frozen=True)
class RoundInfo:
    number: int
    open_time: datetime
    close_staking_time: datetime
    close_time: datetime | None


NOT_GIVEN = "not given"


@dataclass(frozen=True)
class RoundDetails:
    """What Numerai sets per round (numerapi ``list_rounds``); None where the server says nothing."""

    number: int
    target: str | None = None
    payout_factor: float | None = None
    score_configs: tuple[dict, ...] | None = None  # roundScoreConfigs as the API returns them
    close_staking_time: datetime | None = None  # the deadline a round report measures against

    def metadata(self) -> dict[str, object]:
        """Figures for the round's asset; a field the server does not answer shows "not given"."""
        configs = self.score_configs
        payout = [c.get("name") for c in configs or () if c.get("isPayout")]
        return {
            "round_target": self.target or NOT_GIVEN,
            "round_payout_factor": NOT_GIVEN if self.payout_factor is None else float(self.payout_factor),
            "round_score_configs": NOT_GIVEN
            if configs is None
            else ", ".join(f"{c.get('name')}/{c.get('version')} x{c.get('defaultMultiplier')}" for c in configs)
            or "none",
            "round_payout_scores": NOT_GIVEN if configs is None else ", ".join(map(str, payout)) or "none",
        }


@dataclass(frozen=True)
class UploadReceipt:
    submission_id: str
    model_id: str
    filename: str
    sha256: str


def _between_rounds(message: str) -> bool:
    """Numerai's answer to ``rounds(number: 0)`` when no round is open: normal, not an error."""
    return "not open" in message.lower()


class NumeraiClient:
    """numerapi behind timeouts, bounded retries, verified transfers and redacted errors."""

    def __init__(
        self,
        api_url: str,
        public_id: str | None = None,
        secret_key: str | None = None,
        policy: RetryPolicy = RetryPolicy(),
        logger: logging.Logger | None = None,
    ) -> None:
        self.api_url = api_url
        self.policy = policy
        self._api = BoundedNumerAPI(api_url, public_id, secret_key)
        self._secrets = (public_id, secret_key)
        self._log = logger or log

    # -- plumbing ---------------------------------------------------------------------------
    def _redact(self, text: str) -> str:
        return redact(text, self._secrets)

    def _call(self, what: str, fn: Callable[[], T], *, expected_refusal: Callable[[str], bool] | None = None) -> T:
        """Run ``fn`` with the retry policy; translate failures into redacted typed errors.

        A refusal is logged at ERROR unless ``expected_refusal(message)`` says it is a normal
        answer (between rounds, "no open round" is one)."""
        policy = self.policy
        deadline = time.monotonic() + policy.budget_s
        started = time.monotonic()

        def attempt() -> T:
            remaining = deadline - time.monotonic()
            self._api.attempt_timeout_s = max(0.05, min(policy.timeout_s, remaining))
            return fn()

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            self._log.warning(
                self._redact(
                    f"{what}: attempt {state.attempt_number} failed ({exc}); retrying in {state.upcoming_sleep:.1f} s"
                )
            )

        retrying = Retrying(
            retry=retry_if_exception(is_transport_failure),
            stop=stop_after_attempt(policy.max_attempts) | stop_before_delay(policy.budget_s),
            wait=wait_exponential(multiplier=policy.backoff_initial_s, max=policy.backoff_max_s),
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            return retrying(attempt)
        except ValueError as exc:
            message = self._redact(f"{what}: refused by {self.api_url}: {exc}")
            if expected_refusal is None or not expected_refusal(str(exc)):
                self._log.error(message)
            raise NumeraiRefusedError(message) from None
        except NumeraiError as exc:
            raise type(exc)(self._redact(str(exc))) from None
        except Exception as exc:
            if not is_transport_failure(exc):
                raise
            elapsed = time.monotonic() - started
            detail = "transport error (numerapi KeyError 'data')" if isinstance(exc, KeyError) else exc
            raise NumeraiUnavailableError(
                self._redact(
                    f"{what}: Numerai API at {self.api_url} unavailable; gave up after "
                    f"{elapsed:.1f} s (budget {policy.budget_s:.0f} s, at most "
                    f"{policy.max_attempts} attempts): {detail}"
                )
            ) from None

    # -- rounds and datasets ----------------------------------------------------------------
    def current_round(self) -> RoundInfo | None:
        """The open round, or None between rounds (Numerai answers an error then)."""
        try:
            raw = self._call(
                "current round",
                lambda: self._api.raw_query(ROUND_QUERY, {"tournament": TOURNAMENT})["data"]["rounds"],
                expected_refusal=_between_rounds,
            )
        except NumeraiRefusedError as exc:
            if _between_rounds(str(exc)):
                return None
            raise
        if not raw or raw[0] is None:
            return None
        r = raw[0]
        return RoundInfo(
            number=int(r["number"]),
            open_time=_required_time(r, "openTime"),
            close_staking_time=_required_time(r, "closeStakingTime"),
            close_time=numerapi_utils.parse_datetime_string(r.get("closeTime")),
        )

    def round_details(self, round_number: int) -> RoundDetails:
        """The round's target, payout factor and score configs through numerapi's ``list_rounds``.

        A server that does not answer these fields (an older or other Numerai-compatible one)
        gives a :class:`RoundDetails` of Nones rather than an error: nothing depends on them yet.
        """
        try:
            rounds = self._call(
                "round details", lambda: self._api.list_rounds(number=round_number), expected_refusal=lambda _: True
            )
        except (NumeraiRefusedError, KeyError, TypeError) as exc:
            self._log.warning(
                self._redact(
                    f"round {round_number}: no round details from {self.api_url} ({type(exc).__name__}: {exc})"
                )
            )
            return RoundDetails(round_number)
        found = next((r for r in rounds or () if r and int(r.get("number", -1)) == round_number), None)
        if found is None:
            return RoundDetails(round_number)
        configs = found.get("roundScoreConfigs")
        return RoundDetails(
            round_number,
            found.get("target"),
            found.get("payoutFactor"),
            None if configs is None else tuple(configs),
            found.get("closeStakingTime"),
        )

    def submission_scores(
        self,
        model_id: str,
        *,
        last_n_rounds: int | None = None,
        display_name: str | None = None,
        resolved: bool | None = None,
    ) -> list[dict]:
        """Every live score row Numerai returns for ``model_id`` (numerapi ``submission_scores``,
        public, no keys), as it comes: score names and versions are Numerai's to choose. Times
        are ISO-8601 strings, so a row can be stored as JSON and compared across calls."""
        rows = self._call(
            f"submission scores of model {model_id}",
            lambda: self._api.submission_scores(
                model_id, display_name=display_name, resolved=resolved, last_n_rounds=last_n_rounds
            ),
        )
        return [{k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()} for row in rows or []]

    def list_datasets(self, round_number: int | None = None) -> list[str]:
        return self._call("list datasets", lambda: self._api.list_datasets(round_number))

    def download(
        self,
        filename: str,
        dest: Path,
        *,
        round_number: int | None = None,
        validate: Validator | None = None,
    ) -> DownloadResult:
        """Download ``filename`` (e.g. ``v5.3/train.parquet``) to ``dest`` atomically.

        A file already at ``dest`` is kept when the server says it is unchanged: same ETag, or
        (no ETag) the same sha256 (see core.numerai.downloads).
        """

        def once() -> DownloadResult:
            url = self._dataset_url(filename, round_number)
            return download_to(url, Path(dest), timeout_s=self.policy.timeout_s, validate=validate)

        return self._call(f"download {filename}", once)

    def is_current(self, filename: str, dest: Path) -> bool | None:
        """Whether ``dest`` is the server's current ``filename``, by its ETag, without downloading it
        (a republished file keeps its name and often its size); None when only a download can tell."""
        return self._call(
            f"check {filename}", lambda: probe(self._dataset_url(filename, None), Path(dest), self.policy.timeout_s)
        )

    def _dataset_url(self, filename: str, round_number: int | None) -> str:
        url = self._api.raw_query(
            DATASET_URL_QUERY,
            {"filename": filename, "round": round_number, "tournament": TOURNAMENT},
        )["data"]["dataset"]
        if not url:
            raise ValueError(f"no URL for dataset {filename!r}")
        return url

    # -- models and submissions -------------------------------------------------------------
    def models(self) -> dict[str, str]:
        """Account model names to model ids (needs credentials)."""
        return self._call("get models", self._api.get_models)

    def submissions(self, model_id: str) -> list[dict]:
        return self._call("list submissions", lambda: self._api.submission_ids(model_id))

    def _find_submission(self, model_id: str, filename: str) -> str | None:
        for sub in self._api.submission_ids(model_id):
            if sub.get("filename") == filename:
                return str(sub["id"])
        return None

    def find_submission(self, model_id: str, remote_filename: str) -> str | None:
        """The id of the submission made from ``remote_filename``, or None (verifies a past upload)."""
        return self._call("find submission", lambda: self._find_submission(model_id, remote_filename))

    def submissions_by_round(self, model_id: str) -> list[dict]:
        """The model's submissions as ``{id, filename, round, inserted_at}`` (for reconciling)."""

        def once() -> list[dict]:
            raw = self._api.raw_query(SUBMISSIONS_QUERY, {"modelId": model_id}, authorization=True)
            return [
                {
                    "id": str(s["id"]),
                    "filename": s["filename"],
                    "inserted_at": s["insertedAt"],
                    "round": int(s["round"]["number"]) if s.get("round") else None,
                }
                for s in (raw["data"]["model"] or {}).get("submissions") or []
            ]

        return self._call("list submissions by round", once)

    def _put(self, csv_path: Path, payload: bytes, model_id: str) -> str:
        """Ask for an upload URL and PUT; a 403 (what an expired URL answers) gets one fresh URL."""
        for attempt in (1, 2):
            auth = self._api._upload_auth("submission_upload_auth", str(csv_path), TOURNAMENT, model_id)
            try:
                resp = requests.put(auth["url"], data=payload, timeout=self.policy.timeout_s)
            except requests.Timeout:
                raise TransportError("upload PUT got no answer in time") from None
            if resp.status_code >= 500:
                raise TransportError(f"upload PUT answered HTTP {resp.status_code}")
            if resp.status_code == 403 and attempt == 1:
                self._log.warning(
                    f"upload PUT of {csv_path.name} answered 403 (expired URL?): asking for a fresh upload URL"
                )
                continue
            if not 200 <= resp.status_code < 300:
                raise UploadRejectedError(
                    f"upload PUT of {csv_path.name} answered HTTP {resp.status_code} "
                    f"{resp.reason}: the file was not stored, no submission was created"
                )
            return auth["filename"]
        raise AssertionError("unreachable")

    def upload_predictions(
        self,
        csv_path: Path,
        model_id: str,
        *,
        on_uploaded: Callable[[str], None] | None = None,
        on_create: Callable[[float], None] | None = None,
    ) -> UploadReceipt:
        """Upload a predictions CSV to ``model_id``: checked PUT, one create, listed.

        ``on_uploaded(remote_filename)`` runs once the PUT is accepted and ``on_create(timeout_s)``
        right before create is sent, so a ledger records what to verify and until when. create is
        sent once: if its answer is lost, UploadOutcomeUncertainError (with the remote filename)
        leaves the decision to the caller, who must not re-upload before the request's deadline.
        """
        csv_path = Path(csv_path)
        payload = csv_path.read_bytes()
        digest = hashlib.sha256(payload).hexdigest()
        remote_name = self._call(f"upload {csv_path.name}", lambda: self._put(csv_path, payload, model_id))
        if on_uploaded is not None:
            on_uploaded(remote_name)
        sent = False

        def create_once() -> str:
            nonlocal sent
            if sent:  # the last attempt's outcome is unknown: never create twice
                raise UploadOutcomeUncertainError("create_submission got no answer")
            if on_create is not None:
                on_create(self._api.attempt_timeout_s)
            sent = True
            args = {
                "filename": remote_name,
                "tournament": TOURNAMENT,
                "modelId": model_id,
                "triggerId": None,
                "dataDatestamp": None,
            }
            created = self._api.raw_query(CREATE_SUBMISSION, args, authorization=True)
            return str(created["data"]["create_submission"]["id"])

        try:
            submission_id = self._call(f"create submission for {csv_path.name}", create_once)
        except (NumeraiUnavailableError, UploadOutcomeUncertainError) as exc:
            if not sent:
                raise
            raise UploadOutcomeUncertainError(
                f"create submission for {csv_path.name} (remote file {remote_name}) may or may not have landed: {exc}",
                remote_name,
            ) from None
        listed = self.find_submission(model_id, remote_name)
        if listed != submission_id:
            raise NumeraiError(
                f"submission {submission_id} for {csv_path.name} was created but is not listed for model {model_id}"
            )
        return UploadReceipt(submission_id, model_id, remote_name, digest)

    # -- model uploads (Numerai Compute) ----------------------------------------------------
    def model_upload_options(self) -> tuple[dict[str, str], dict[str, str]]:
        """({data version name: id}, {docker image name: id}) as numerapi lists them."""
        versions = self._call("list model-upload data versions", self._api.model_upload_data_versions)
        images = self._call("list model-upload docker images", self._api.model_upload_docker_images)
        return versions, images

    def model_upload(self, pickle_path: Path, model_id: str, data_version_id: str, docker_image_id: str) -> str:
        """numerapi's ``model_upload`` (auth, PUT, create); returns the upload id. A transport
        failure may repeat the whole upload: the same pickle uploaded twice is harmless (the
        latest runs), and the caller's ledger keeps a proven one from being uploaded again."""
        return str(
            self._call(
                f"model upload {Path(pickle_path).name}",
                lambda: self._api.model_upload(
                    str(pickle_path), model_id=model_id, data_version=data_version_id, docker_image=docker_image_id
                ),
            )
        )


def _required_time(round_: dict, key: str) -> datetime:
    """A time every open round has; a round without it is a malformed answer, named here."""
    value = numerapi_utils.parse_datetime_string(round_[key])
    if value is None:
        raise ValueError(f"round {round_.get('number')}: Numerai answered no {key!r}")
    return value
