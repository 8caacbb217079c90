"""The two switches this suite relies on are settable like the others: Python, HTTP and CLI."""

import json
import threading

import pytest
import requests

from numerai_assets.core.numerai.client import NumeraiClient, RetryPolicy, UploadOutcomeUncertainError
from numerai_assets.tournament import cli
from numerai_assets.tournament.faults import Faults
from numerai_assets_tests.tournament.helpers import admin, predictions


def test_delay_switches_via_python_http_and_cli(open_server, capsys):
    assert Faults().set(create_delay_s="1.5", upload_put_delay_s=2)["create_delay_s"] == 1.5
    with pytest.raises(ValueError, match="create_delay_s must be >= 0"):
        Faults().set(create_delay_s=-1)
    switched = admin(open_server, "POST", "faults", create_delay_s=0.25)["faults"]
    assert switched["create_delay_s"] == 0.25 and open_server.faults.create_delay_s == 0.25
    assert cli.main(["faults", "--url", open_server.url, "--set", "upload_put_delay_s=0.5"]) == 0
    assert json.loads(capsys.readouterr().out)["faults"]["upload_put_delay_s"] == 0.5
    assert open_server.faults.upload_put_delay_s == 0.5
    admin(open_server, "POST", "faults", reset=True)
    assert (open_server.faults.create_delay_s, open_server.faults.upload_put_delay_s) == (0.0, 0.0)


def test_a_delayed_create_is_recorded_before_its_answer(open_server):
    """What makes a client timeout uncertain: the submission exists while the answer is late."""
    open_server.faults.set(create_delay_s=5.0)
    client = NumeraiClient(open_server.url, "P", "S", policy=RetryPolicy(timeout_s=1.0, max_attempts=1))
    csv = open_server.root / "p.csv"
    predictions(open_server).to_csv(csv, index=False)
    with pytest.raises(UploadOutcomeUncertainError) as err:
        client.upload_predictions(csv, client.models()["demo_slot_b"])
    [sub] = open_server.state.submissions(round_number=1)
    assert sub.filename == err.value.remote_filename
    assert requests.get(f"{open_server.url}/admin/health", timeout=5).ok  # other requests still served


def test_a_held_request_is_released_when_its_delay_is_lowered():
    faults, stopped, done = Faults(), threading.Event(), threading.Event()
    faults.set(upload_put_delay_s=600)
    held = threading.Thread(target=lambda: done.set() if faults.wait_delay("upload_put_delay_s", stopped) else None)
    held.start()
    assert not done.wait(0.2)  # still held
    faults.set(upload_put_delay_s=0)
    held.join(timeout=10)
    assert done.is_set() and not held.is_alive()
