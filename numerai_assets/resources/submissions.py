"""How submissions are made: the ledger's location, dry-run, and what to do after staking close."""

from dagster import ConfigurableResource
from pydantic import Field

from numerai_assets.core.live.ledger import DEFAULT_LEASE_S, SubmissionLedger
from numerai_assets.core.live.submitting import SubmitTiming


class SubmissionsResource(ConfigurableResource):
    ledger_path: str = Field(description="sqlite file of the submission ledger (keep it durable)")
    dry_run: bool = Field(default=False, description="write files and ledger entries, upload nothing")
    late_policy: str = Field(default="skip", description="after staking close: 'skip' or 'submit'")
    allow_resubmit: bool = Field(
        default=False, description="upload again when different predictions were already submitted"
    )
    lease_s: float = Field(
        default=DEFAULT_LEASE_S,
        description="a claim whose owner on another host has not beaten for this long is taken over;"
        " keep it above the Numerai client's timeout plus the outcome margin",
    )
    claim_wait_s: float = Field(
        default=SubmitTiming.claim_wait_s,
        description="how long a runner waits for another live runner's submission of the same slot",
    )
    outcome_margin_s: float = Field(
        default=SubmitTiming.outcome_margin_s,
        description="added to a request's timeout: after it, an unanswered create can no longer land",
    )

    def ledger(self) -> SubmissionLedger:
        return SubmissionLedger(self.ledger_path, lease_s=self.lease_s)

    def timing(self) -> SubmitTiming:
        return SubmitTiming(claim_wait_s=self.claim_wait_s, outcome_margin_s=self.outcome_margin_s)
