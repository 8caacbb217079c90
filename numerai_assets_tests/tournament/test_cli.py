"""``numerai-tournament serve`` as a real process, used by plain numerapi from another process."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import select
import signal
import subprocess
import sys
import time

import pytest

from numerai_assets.tournament.cli import main
from numerai_assets.tournament.profiles import DEFAULT_VERSION as V

CLIENT = """
import json, sys
import numerapi, numerapi.base_api
numerapi.base_api.API_TOURNAMENT_URL = sys.argv[1]
api = numerapi.NumerAPI(show_progress_bars=False)
print(json.dumps({"round": api.get_current_round(), "datasets": api.list_datasets()}))
"""


def _read_url(proc: subprocess.Popen, deadline_s: float = 60) -> str:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.5)
        if ready:
            line = proc.stdout.readline()
            if m := re.search(r"http://127\.0\.0\.1:\d+", line):
                return m.group(0)
            if not line:
                break
        if proc.poll() is not None:
            break
    raise AssertionError(f"serve printed no URL (exit code {proc.poll()})")


@contextlib.contextmanager
def _serve(root, tmp_path, *extra: str):
    """``numerai-tournament serve`` as a real process; yields (process, URL); killed after."""
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "numerai_assets.tournament.cli", "serve", "--root", str(root), "--port", "0", *extra],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        start_new_session=True,
    )
    try:
        yield proc, _read_url(proc)
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        proc.stdout.close()
        log.close()


def test_serve_subprocess_answers_numerapi_and_stops_on_sigterm(tournament_root, tmp_path, capsys):
    with _serve(tournament_root, tmp_path, "--open-round") as (proc, url):
        env = {k: v for k, v in os.environ.items() if not k.startswith("NUMERAI_")}
        client = subprocess.run(
            [sys.executable, "-c", CLIENT, url], capture_output=True, text=True, timeout=60, env=env
        )
        assert client.returncode == 0, client.stderr
        answer = json.loads(client.stdout)
        assert answer["round"] == 1
        assert f"{V}/train.parquet" in answer["datasets"]
        assert f"{V}/live.parquet" in answer["datasets"]

        capsys.readouterr()
        assert main(["advance", "--url", url]) == 0
        assert json.loads(capsys.readouterr().out)["round"]["number"] == 2
        assert main(["faults", "--url", url, "--set", "graphql_delay_s=0.01", "graphql_hang=false"]) == 0
        assert json.loads(capsys.readouterr().out)["faults"]["graphql_delay_s"] == 0.01
        assert main(["submissions", "--url", url, "--round", "2"]) == 0
        assert json.loads(capsys.readouterr().out) == {"submissions": []}
        before = hashlib.sha256((tournament_root / V / "train.parquet").read_bytes()).hexdigest()
        assert main(["republish", "--url", url, "--filename", f"{V}/train.parquet"]) == 0
        republished = json.loads(capsys.readouterr().out)
        assert republished["sha256"] != before
        assert republished["size"] == (tournament_root / V / "train.parquet").stat().st_size

        os.killpg(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=15) == 0


def test_serve_with_a_scaled_clock_opens_the_calendar_round(tournament_root, tmp_path, capsys):
    """Calendar Tuesday 12:00 at start, an hour per second: Tuesday's round opens at once and
    closes for staking one real second (a calendar hour) after it opened."""
    with _serve(tournament_root, tmp_path, "--clock-scale", "3600", "--clock-start", "2026-06-02T12:00:00+00:00") as (
        _,
        url,
    ):
        deadline = time.monotonic() + 30
        rnd = None
        while rnd is None and time.monotonic() < deadline:  # the clock thread's first tick
            capsys.readouterr()
            main(["current-round", "--url", url])
            rnd = json.loads(capsys.readouterr().out)["round"]
        assert rnd is not None and rnd["number"] == 1
        opened = dt.datetime.fromisoformat(rnd["openTime"])
        closes = dt.datetime.fromisoformat(rnd["closeStakingTime"])
        late = dt.datetime.fromisoformat(rnd["closeTime"])
        assert closes - opened == dt.timedelta(seconds=1)
        assert late - opened == dt.timedelta(seconds=24)  # Wednesday 12:00


def test_generate_command_writes_a_servable_tournament(tmp_path, capsys):
    assert main(["generate", "--root", str(tmp_path), "--scale", "tiny", "--seed", "1"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["seed"], info["profile"], info["version"]) == (1, "numerai", V)
    assert (tmp_path / V / "train.parquet").is_file()


def test_generate_command_takes_a_profile_and_refuses_unknown_ones(tmp_path, capsys):
    assert main(["generate", "--root", str(tmp_path), "--profile", "v52_layout"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["profile"], info["version"]) == ("v52_layout", "v5.2")
    assert json.loads((tmp_path / "tournament.json").read_text())["profile"] == "v52_layout"
    with pytest.raises(SystemExit):
        main(["generate", "--root", str(tmp_path / "x"), "--profile", "nope"])
    assert "invalid choice: 'nope'" in capsys.readouterr().err


def test_admin_commands_report_an_unreachable_server():
    with pytest.raises(SystemExit, match="cannot reach"):
        main(["close-round", "--url", "http://127.0.0.1:9"])
