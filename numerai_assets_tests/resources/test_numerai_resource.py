"""The Numerai resource: modes, credentials through EnvVar, and secrets kept out of everything."""

import logging
import traceback

import dagster as dg
import pytest

from numerai_assets.core.numerai.client import NumeraiUnavailableError
from numerai_assets.definitions import build_resources
from numerai_assets.resources.numerai import LOCAL_CREDENTIALS, NumeraiResource
from numerai_assets.settings import Settings

PUBLIC = "PUBLIC-ID-7f3a9c"
SECRET = "SECRET-KEY-b81e44d0"


def dead_url() -> str:
    import socket

    with socket.socket() as s:  # a port nothing listens on: connection refused at once
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def test_secrets_are_not_in_repr_nor_in_errors_nor_in_logs(caplog):
    resource = NumeraiResource(
        mode="numerai",
        api_url=dead_url(),
        public_id=PUBLIC,
        secret_key=SECRET,
        timeout_s=0.5,
        max_attempts=2,
        retry_budget_s=2,
    )
    assert SECRET not in repr(resource) and PUBLIC not in repr(resource)
    client = resource.get_client()
    with caplog.at_level(logging.DEBUG), pytest.raises(NumeraiUnavailableError) as err:
        client.models()
    message = str(err.value)
    assert "unavailable" in message and "2 attempts" in message
    assert SECRET not in message and PUBLIC not in message
    printed = "".join(traceback.format_exception(err.value))  # what a run's failure shows
    assert SECRET not in printed and PUBLIC not in printed and err.value.__suppress_context__
    assert SECRET not in caplog.text and PUBLIC not in caplog.text


def test_numerai_mode_reads_credentials_only_from_the_environment(monkeypatch):
    monkeypatch.setenv("NUMERAI_ASSETS_MODE", "numerai")
    monkeypatch.setenv("NUMERAI_PUBLIC_ID", PUBLIC)
    monkeypatch.setenv("NUMERAI_SECRET_KEY", SECRET)
    resources = build_resources(Settings.from_env())
    numerai = resources["numerai"]
    assert numerai.api_url == "https://api-tournament.numer.ai"

    @dg.asset
    def probe(numerai: NumeraiResource) -> None:
        assert numerai.public_id == PUBLIC and numerai.secret_key == SECRET

    result = dg.materialize([probe], resources=resources)
    assert result.success
    # What Dagster shows in the UI for the resource config is the EnvVar reference, not the value.
    config = dg.Definitions(assets=[probe], resources=resources).get_repository_def()
    shown = repr(config.get_top_level_resources()["numerai"])
    assert SECRET not in shown and PUBLIC not in shown


def test_local_mode_works_without_credentials():
    settings = Settings.from_env({"NUMERAI_ASSETS_TOURNAMENT_URL": "http://127.0.0.1:9"})
    numerai = build_resources(settings)["numerai"]
    assert numerai.mode == "local" and numerai.api_url == "http://127.0.0.1:9"
    client = numerai.get_client()
    assert client._api.token == LOCAL_CREDENTIALS


def test_unknown_mode_is_a_clear_error():
    with pytest.raises(ValueError, match="NUMERAI_ASSETS_MODE='prod'.*local.*numerai"):
        Settings.from_env({"NUMERAI_ASSETS_MODE": "prod"})
