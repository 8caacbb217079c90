"""The README's tournament and ledger commands, run as written, in the README's order, against a
real local tournament in the state ``make demo`` leaves (a round open, each slot submitted, a
ledger). The URL comes only from NUMERAI_ASSETS_TOURNAMENT_URL, as for a user of ``make ui``."""

import re
import shlex
from collections.abc import Iterator
from pathlib import Path

from numerai_assets.core.live.ledger import SubmissionLedger
from numerai_assets.core.numerai.client import NumeraiClient, RetryPolicy
from numerai_assets.ledger_cli import main as ledger_main
from numerai_assets.settings import Settings
from numerai_assets.tournament.admin import AdminClient
from numerai_assets.tournament.cli import main as tournament_main
from numerai_assets_tests.tournament.helpers import predictions

README = Path(__file__).resolve().parent.parent / "README.md"
PROGRAMS = {"numerai-tournament": tournament_main, "numerai-assets-ledger": ledger_main}
SLOTS = ("demo_slot_a", "demo_slot_b")


def readme_commands() -> Iterator[list[str]]:
    """Each command line of those two programs in the README's bash blocks, comments dropped."""
    for block in re.findall(r"```bash\n(.*?)```", README.read_text(), re.S):
        for line in block.splitlines():
            words = shlex.split(line, comments=True)
            if words and Path(words[0]).name in PROGRAMS:
                yield words


def demo_state(server, tmp_path: Path) -> None:
    """A round open, one submission per slot on the server, a ledger in NUMERAI_ASSETS_HOME."""
    client = NumeraiClient(server.url, "P", "S", policy=RetryPolicy(timeout_s=5.0))
    csv = tmp_path / "predictions.csv"
    predictions(server, server.current_round().number).to_csv(csv, index=False)
    for slot in SLOTS:
        client.upload_predictions(csv, client.models()[slot])
    with SubmissionLedger(Settings.from_env().store_dir / "ledger.sqlite"):
        pass


def test_readme_commands_work_as_written_after_the_demo(open_server, tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    for name in ("NUMERAI_ASSETS_MODE", "NUMERAI_ASSETS_API_URL", "NUMERAI_PUBLIC_ID", "NUMERAI_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NUMERAI_ASSETS_TOURNAMENT_URL", open_server.url)
    monkeypatch.setenv("NUMERAI_ASSETS_HOME", str(home))
    demo_state(open_server, tmp_path)
    commands = list(readme_commands())
    verbs = {(Path(w[0]).name, w[1]) for w in commands}
    assert {("numerai-assets-ledger", "show"), ("numerai-assets-ledger", "reconcile")} <= verbs
    assert {"current-round", "advance", "close-round", "open-round", "faults", "submissions"} <= {v for _, v in verbs}
    ran = 0
    for words in commands:
        if words[1] == "serve":  # a foreground server: tournament/test_cli.py runs `serve` as a process
            continue
        args = [w.replace("/tmp/", f"{tmp_path}/") for w in words[1:]]
        assert PROGRAMS[Path(words[0]).name](args) == 0, f"README command failed: {shlex.join(words)}"
        ran += 1
    assert ran >= 12
    with SubmissionLedger(Settings.from_env().store_dir / "ledger.sqlite") as ledger:  # reconcile recorded each slot
        assert sorted(e.slot for e in ledger.entries(1)) == sorted(SLOTS)
    # advance -> 2, close, open-round -> 3; every fault off again
    assert open_server.current_round().number == 3
    assert AdminClient(open_server.url).faults()["graphql_5xx"] == 0


def test_open_round_while_one_is_open_says_to_advance(open_server, monkeypatch, capsys):
    monkeypatch.setenv("NUMERAI_ASSETS_TOURNAMENT_URL", open_server.url)
    assert tournament_main(["open-round"]) == 1
    err = capsys.readouterr().err
    assert "round 1 is already open" in err and "`numerai-tournament advance` closes it" in err
    assert open_server.current_round().number == 1
