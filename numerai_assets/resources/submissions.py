"""How submissions are made: the ledger's location, dry-run, and what to do after staking close."""
from dagster import ConfigurableResource
from pydantic import Field

from numerai_assets.core.ledger import SubmissionLedger


class SubmissionsResource(ConfigurableResource):
    ledger_path: str = Field(description="sqlite file of the submission ledger (keep it durable)")
    dry_run: bool = Field(default=False, description="write files and ledger entries, upload nothing")
    late_policy: str = Field(default="skip", description="after staking close: 'skip' or 'submit'")
    allow_resubmit: bool = Field(
        default=False, description="upload again when different predictions were already submitted"
    )

    def ledger(self) -> SubmissionLedger:
        return SubmissionLedger(self.ledger_path)
