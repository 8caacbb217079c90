"""Where alerts go: Apprise URLs from ``NUMERAI_ASSETS_NOTIFY`` (a secret: they hold tokens), and
the outbox that makes each event go out once. Off when no URL is set."""

from dagster import ConfigurableResource
from pydantic import Field

from numerai_assets.core.alerts import Alert, Delivery, Notifier, Outbox, parse_urls
from numerai_assets.core.alerts.send import Log


class NotifyResource(ConfigurableResource):
    urls: str | None = Field(
        default=None,
        description="Apprise URLs, comma or space separated; set through EnvVar (they hold tokens). None: off",
    )
    outbox_path: str = Field(description="sqlite file recording every alert key sent (keep it durable)")

    @property
    def enabled(self) -> bool:
        return bool(parse_urls(self.urls))

    def send(self, alert: Alert, log: Log | None = None) -> Delivery:
        """Send ``alert`` once to every URL; never raises (a receiver down is a warning in ``log``)."""
        if not self.enabled:
            return Delivery(alert.key, "off")
        try:
            outbox = Outbox(self.outbox_path)
        except Exception as exc:  # noqa: BLE001 - without the outbox nothing is sent twice: skip
            message = f"alert {alert.key} not sent: outbox {self.outbox_path} unavailable: {type(exc).__name__}"
            if log is not None:
                log.warning(message)
            return Delivery(alert.key, "failed", (message,))
        with outbox:
            return Notifier(parse_urls(self.urls), outbox, log).send(alert)
