"""Alerts through real Apprise to a real HTTP receiver on 127.0.0.1, with the real sqlite outbox:
each event arrives once (also after a restart), a receiver that is down is a warning, and the
URL's credentials never show in any log record (Apprise's and urllib3's included) or outcome."""

import logging

import pytest

from numerai_assets.core.alerts import Notifier, Outbox, parse_urls, redact_url
from numerai_assets.core.alerts import alert as alerts
from numerai_assets_tests.alert_receiver import TOKEN, USER, closed_port_url

MISSED = alerts.missed_round(7, ["demo_slot_b"], "round 7 MISSED for slots ['demo_slot_b']: it closed")


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        assert TOKEN not in text and USER not in text, text


def test_an_event_arrives_once_with_round_slot_and_reason_even_after_a_restart(receiver, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)  # Apprise's and urllib3's debug lines print URLs
    with Outbox(tmp_path / "alerts.sqlite") as outbox:
        notifier = Notifier([receiver.url], outbox)
        assert notifier.send(MISSED).status == "sent"
        assert notifier.send(MISSED).status == "duplicate"  # the next tick sees the same event
    with Outbox(tmp_path / "alerts.sqlite") as outbox:  # a restarted sensor: a new process, same outbox
        assert Notifier([receiver.url], outbox).send(MISSED).status == "duplicate"
        assert outbox.keys() == ["missed_round:7"] and outbox.outcome("missed_round:7") == "sent"
    [post] = receiver.posts
    assert post["title"] == "Round 7 missed: demo_slot_b"
    assert "- round: 7" in post["message"] and "- slots: demo_slot_b" in post["message"]
    assert "it closed" in post["message"]
    assert receiver.auth[0] and receiver.auth[0].startswith("Basic ")  # the URL's credentials were used
    assert "json://127.0.0.1" not in caplog.text or "/..." in caplog.text
    assert_no_secret(caplog.text)


def test_a_receiver_that_is_down_is_a_redacted_warning_and_the_others_still_get_it(receiver, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    down = closed_port_url()
    with Outbox(tmp_path / "alerts.sqlite") as outbox:
        delivery = Notifier([down, receiver.url], outbox).send(MISSED)  # never raises
        outcome = outbox.outcome(MISSED.key) or ""
    assert delivery.status == "partial" and len(receiver.posts) == 1
    [failure] = delivery.failures
    assert failure.startswith(redact_url(down)) and "Connection error" in failure
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and r.name.startswith("numerai")]
    assert warnings == [f"alert missed_round:7 not delivered to {failure}"]
    assert outcome.startswith("partial; json://127.0.0.1:")
    assert_no_secret(caplog.text, outcome, *delivery.failures)


def test_every_receiver_down_fails_quietly_and_is_not_resent(tmp_path):
    with Outbox(tmp_path / "alerts.sqlite") as outbox:
        notifier = Notifier([closed_port_url()], outbox)
        assert notifier.send(MISSED).status == "failed"
        assert notifier.send(MISSED).status == "duplicate"  # once: a later tick does not retry it


def test_a_malformed_url_is_one_receivers_failure_without_its_text(tmp_path, caplog):
    bad = f"nosuchscheme://{USER}:{TOKEN}@example.org/path"
    with Outbox(tmp_path / "alerts.sqlite") as outbox:
        delivery = Notifier([bad], outbox).send(MISSED)
    assert delivery.status == "failed"
    assert delivery.failures == ("nosuchscheme://example.org/...: not a valid Apprise URL",)
    assert_no_secret(caplog.text)


def test_no_urls_means_off_and_nothing_is_recorded(tmp_path):
    with Outbox(tmp_path / "alerts.sqlite") as outbox:
        assert Notifier(parse_urls(" "), outbox).send(MISSED).status == "off"
        assert outbox.keys() == []


def test_urls_are_comma_or_space_separated():
    assert parse_urls("json://a/b, slack://t/u/v\n  mailto://x") == ["json://a/b", "slack://t/u/v", "mailto://x"]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"json://{USER}:{TOKEN}@127.0.0.1:8080/hook?x={TOKEN}", "json://127.0.0.1:8080/..."),
        (f"slack://{TOKEN}/B000/C000", "slack://?/..."),  # tokens in place of a host: not shown
    ],
)
def test_a_receiver_is_named_by_scheme_and_host_only(url, shown):
    assert redact_url(url) == shown
