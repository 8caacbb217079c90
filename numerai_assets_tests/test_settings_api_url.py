"""Real mode can be pointed at another Numerai-compatible server with NUMERAI_ASSETS_API_URL."""

from numerai_assets.definitions import build_resources
from numerai_assets.settings import NUMERAI_API_URL, Settings


def test_numerai_mode_uses_the_api_url_override_and_defaults_to_numerai(tmp_path):
    base = {"NUMERAI_ASSETS_HOME": str(tmp_path), "NUMERAI_ASSETS_MODE": "numerai"}
    assert Settings.from_env(base).api_url == NUMERAI_API_URL == "https://api-tournament.numer.ai"
    other = Settings.from_env(base | {"NUMERAI_ASSETS_API_URL": "https://numerai.example.org/graphql"})
    assert other.api_url == "https://numerai.example.org/graphql"
    assert build_resources(other)["numerai"].api_url == "https://numerai.example.org/graphql"


def test_local_mode_ignores_the_api_url(tmp_path):
    env = {"NUMERAI_ASSETS_HOME": str(tmp_path), "NUMERAI_ASSETS_API_URL": "https://elsewhere"}
    assert Settings.from_env(env).api_url == "http://127.0.0.1:8765"
