"""Alerts: what went wrong (or finished) said once, through Apprise, without leaking its URLs."""

from numerai_assets.core.alerts.alert import KINDS, Alert
from numerai_assets.core.alerts.outbox import Outbox
from numerai_assets.core.alerts.send import Delivery, Notifier, parse_urls, redact_url

__all__ = ["KINDS", "Alert", "Delivery", "Notifier", "Outbox", "parse_urls", "redact_url"]
