"""Small helpers shared by the tournament server tests."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import requests

from numerai_assets.tournament.server import TournamentServer


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def predictions(server: TournamentServer, round_number: int = 1) -> pd.DataFrame:
    """A valid submission for the round: every live id, spread values in [0, 1]."""
    ids = server.catalog.live_ids(round_number)
    return pd.DataFrame({"id": ids, "prediction": np.linspace(0.01, 0.99, len(ids))})


def admin(server: TournamentServer, method: str, path: str, **payload: Any) -> Any:
    resp = requests.request(method, f"{server.url}/admin/{path}", json=payload, timeout=10)
    resp.raise_for_status()
    return resp.json()


def good_submission(server, round_number: int) -> pd.DataFrame:
    """The generator's oracle (E[target | features]) ranked: the best model of the signal."""
    path = server.root / "_oracle" / "rounds" / str(round_number) / "live_targets.parquet"
    oracle = pd.read_parquet(path)["oracle"]
    return pd.DataFrame({"id": oracle.index.astype(str), "prediction": oracle.rank(pct=True).to_numpy()})


def submit_round(server, napi, slots=("demo_slot_a",)) -> dict[str, pd.DataFrame]:
    """Open a round, submit the oracle (slot b: its reverse), close it."""
    rnd = server.open_round(staking_window_s=3600)
    subs = {}
    for slot in slots:
        sub = good_submission(server, rnd.number)
        if slot != "demo_slot_a":
            sub["prediction"] = 1.0 - sub["prediction"]
        napi.upload_predictions(df=sub, model_id=server.models[slot])
        subs[slot] = sub
    server.close_round()
    return subs
