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
