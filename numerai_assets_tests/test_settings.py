"""Environment settings fail fast, naming the variable and the values it accepts."""

import pytest

from numerai_assets.settings import Settings


@pytest.mark.parametrize(
    "word, expected",
    [
        ("1", True),
        ("true", True),
        ("YES", True),
        ("on", True),
        ("On", True),
        ("0", False),
        ("false", False),
        ("No", False),
        ("off", False),
        ("", False),
    ],
)
def test_dry_run_reads_every_usual_boolean_word(word, expected):
    assert Settings.from_env({"NUMERAI_ASSETS_DRY_RUN": word}).dry_run is expected


@pytest.mark.parametrize(
    "name, value, accepted",
    [
        ("NUMERAI_ASSETS_DRY_RUN", "maybe", "'on'"),
        ("NUMERAI_ASSETS_LATE_POLICY", "maybe", "('skip', 'submit')"),
        ("NUMERAI_ASSETS_ROUND_POLL_S", "abc", "positive whole number"),
        ("NUMERAI_ASSETS_ROUND_POLL_S", "0", "positive whole number"),
        ("NUMERAI_ASSETS_ROUND_POLL_S", "-5", "positive whole number"),
        ("NUMERAI_ASSETS_TRACKING", "sometimes", "'offline'"),
        ("NUMERAI_ASSETS_MODE", "prod", "('local', 'numerai')"),
        ("NUMERAI_ASSETS_STEP_START", "fork", "('forkserver', 'spawn')"),
    ],
)
def test_a_bad_value_names_the_variable_and_what_it_accepts(name, value, accepted):
    with pytest.raises(ValueError) as error:
        Settings.from_env({name: value})
    assert f"{name}={value!r}" in str(error.value) and accepted in str(error.value)


def test_values_are_normalised_and_unset_means_the_default():
    settings = Settings.from_env(
        {
            "NUMERAI_ASSETS_LATE_POLICY": " Submit ",
            "NUMERAI_ASSETS_ROUND_POLL_S": "30",
            "NUMERAI_ASSETS_TRACKING": "DISABLED",
            "NUMERAI_ASSETS_MODE": "Numerai",
        }
    )
    assert (settings.late_policy, settings.round_poll_s, settings.tracking_mode, settings.mode) == (
        "submit",
        30,
        "disabled",
        "numerai",
    )
    default = Settings.from_env({})
    assert (default.late_policy, default.round_poll_s, default.dry_run, default.tracking_mode) == (
        "skip",
        180,
        False,
        "auto",
    )


@pytest.mark.parametrize("value, expected", [(None, "forkserver"), ("spawn", "spawn"), ("FORKSERVER", "forkserver")])
def test_the_step_start_setting_reaches_the_local_executor(value, expected):
    """Steps fork from a server that preloaded the definitions (default) or spawn a fresh
    interpreter each; Celery/k8s executors are not affected (they replace this one)."""
    from numerai_assets.resources.deploy import local_executor

    settings = Settings.from_env({} if value is None else {"NUMERAI_ASSETS_STEP_START": value})
    config = local_executor(settings).config_schema.resolve_config({}).value["config"]  # as a run gets it
    assert config["max_concurrent"] == 2 and list(config["start_method"]) == [expected]
    if expected == "forkserver":
        assert config["start_method"]["forkserver"]["preload_modules"] == ["numerai_assets.definitions"]
