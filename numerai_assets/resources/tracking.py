"""W&B tracking as a resource (see core.evaluation.tracking for why it is called directly)."""

from dagster import ConfigurableResource
from pydantic import Field

from numerai_assets.core.evaluation.tracking import Tracker


class WandbTrackingResource(ConfigurableResource):
    """Offline by default with no key (runs kept for ``wandb sync``), online with WANDB_API_KEY."""

    mode: str = Field(default="auto", description="auto | offline | online | disabled")
    project: str = "numerai_assets"
    entity: str | None = None
    directory: str = Field(description="where W&B keeps runs (offline runs wait here for sync)")
    api_key: str | None = Field(default=None, repr=False)

    def get_tracker(self, secrets: tuple[str | None, ...] = ()) -> Tracker:
        return Tracker(
            self.mode,
            self.project,
            self.directory,
            entity=self.entity,
            api_key=self.api_key,
            secrets=secrets,
        )
