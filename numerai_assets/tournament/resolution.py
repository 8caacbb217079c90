"""Rounds resolving on the tournament's clock: daily scores from ``scoreTime``, resolved at
``resolveTime``, stored durably beside the rounds (``state.sqlite``) and served as
``submissionScores``.

Day ``d`` of ``K`` (``K`` = the score config's ``totalScoreDays``) is due at
``scoreTime + (resolveTime - scoreTime) * (d - 1) / (K - 1)``, so the accelerated calendar
clock produces them as it runs; ``resolve(round)`` produces them at once (admin, tests). Only
each model's selected submission of a round (its latest) is scored.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from numerai_assets.tournament.round_configs import score_configs
from numerai_assets.tournament.scoring import (
    DECAY_MODES,
    SCORERS,
    TRUTH_FILE,
    RoundTruth,
    build_truth,
    known_targets,
    read_submission,
    score_submission,
    write_truth,
)
from numerai_assets.tournament.state import Round, Submission, TournamentState, iso, parse_iso, utcnow

logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS round_decay (round INTEGER PRIMARY KEY, mode TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS scores (
    submission_id TEXT NOT NULL,
    round INTEGER NOT NULL,
    model_id TEXT NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    day INTEGER NOT NULL,
    value REAL NOT NULL,
    percentile REAL NOT NULL,
    date TEXT NOT NULL,
    resolved INTEGER NOT NULL,
    PRIMARY KEY (submission_id, name, version, day)
);
CREATE INDEX IF NOT EXISTS scores_by_model ON scores(model_id, round);
"""


@dataclass(frozen=True)
class ScoreRow:
    submission_id: str
    round: int
    model_id: str
    name: str  # the round_configs score name (corr20, mmc, bmc)
    version: str
    day: int
    value: float
    percentile: float
    date: str
    resolved: bool


def _day_time(rnd: Round, day: int, days: int) -> dt.datetime:
    start, end = parse_iso(rnd.score_time), parse_iso(rnd.resolve_time)
    return start + (end - start) * ((day - 1) / max(1, days - 1))


def due_day(rnd: Round, days: int, now: dt.datetime) -> int:
    """The last scoring day of `rnd` due at `now` (0 before ``scoreTime``)."""
    if rnd.status == "open" or now < parse_iso(rnd.score_time):
        return 0
    return max(d for d in range(1, days + 1) if _day_time(rnd, d, days) <= now)


class Resolver:
    """Scores closed rounds' submissions day by day; keeps each round's truth file."""

    def __init__(self, root: Path, state: TournamentState) -> None:
        self.root, self.state = root, state
        self._lock = threading.Lock()
        self._truths: dict[tuple[int, str], RoundTruth] = {}
        state.add_schema(_SCHEMA)

    # decay ------------------------------------------------------------------------------------

    def set_decay(self, round_number: int, mode: str) -> None:
        """From now on score `round_number` against decayed targets (see scoring.DECAY_MODES)."""
        if mode not in DECAY_MODES:
            raise ValueError(f"round {round_number}: unknown decay mode {mode!r}; known: {', '.join(DECAY_MODES)}")
        self.state._write([("INSERT OR REPLACE INTO round_decay VALUES (?, ?)", (round_number, mode))])

    def decay(self, round_number: int) -> str:
        rows = self.state._rows("SELECT mode FROM round_decay WHERE round=?", (round_number,))
        return str(rows[0]["mode"]) if rows else "none"

    def truth_path(self, round_number: int) -> Path:
        return self.root / "_oracle" / "rounds" / str(round_number) / TRUTH_FILE

    def _truth(self, round_number: int) -> RoundTruth:
        key = (round_number, self.decay(round_number))
        if key not in self._truths:
            truth = build_truth(self.root, round_number, key[1])
            write_truth(self.truth_path(round_number), truth)
            self._truths[key] = truth
        return self._truths[key]

    # scoring ----------------------------------------------------------------------------------

    def update(self, now: dt.datetime | None = None) -> int:
        """Write every score due at `now` (default: the real time); returns the rows written."""
        now = now or utcnow()
        written = 0
        for rnd in self.state.list_rounds():
            try:
                written += self._score_round(rnd, lambda days, r=rnd: due_day(r, days, now))
            except Exception:  # noqa: BLE001 - one round that cannot be scored must not stop the others
                logger.exception("round %d could not be scored; the other rounds were", rnd.number)
        return written

    def resolve(self, round_number: int, day: int | None = None) -> int:
        """Score `round_number` now up to `day` (default: every day, resolved)."""
        rnd = self.state.get_round(round_number)
        if rnd is None:
            raise ValueError(f"round {round_number} does not exist")
        if rnd.status == "open":
            raise ValueError(f"round {round_number} is still open: close it before resolving")
        return self._score_round(rnd, lambda days: days if day is None else min(day, days))

    def _selected(self, round_number: int) -> list[Submission]:
        subs = self.state.submissions(round_number=round_number)
        return list({s.model_id: s for s in subs}.values())  # ordered by time: the latest wins

    def _score_round(self, rnd: Round, until: Any) -> int:
        configs = score_configs(rnd.number, rnd.score_time, rnd.resolve_time)
        days = max(int(c["totalScoreDays"]) for c in configs)
        last = until(days)
        if last <= 0:
            return 0
        written = 0
        with self._lock:
            for sub in self._selected(rnd.number):
                done = self._scored_days(sub.id)
                todo = [d for d in range(1, last + 1) if d not in done]
                if todo:
                    written += self._score(rnd, sub, todo, days, configs)
        return written

    def _scored_days(self, submission_id: str) -> set[int]:
        rows = self.state._rows("SELECT DISTINCT day FROM scores WHERE submission_id=?", (submission_id,))
        return {int(r["day"]) for r in rows}

    def _score(self, rnd: Round, sub: Submission, todo: list[int], days: int, configs: list[dict]) -> int:
        truth = self._truth(rnd.number)
        preds = read_submission(sub.path)
        names = [c["name"] for c in configs if c["name"] in SCORERS]
        versions = {c["name"]: str(c["version"]) for c in configs}
        statements = []
        for day in todo:
            scores = score_submission(preds, truth, known_targets(truth, rnd.number, day, days), names)
            date = iso(_day_time(rnd, day, days))
            for name, (value, pct) in scores.items():
                row = (sub.id, rnd.number, sub.model_id, name, versions[name], day, value, pct, date, int(day == days))
                statements.append(("INSERT OR IGNORE INTO scores VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row))
        self.state._write(statements)
        logger.info("round %d: scored submission %s for days %s", rnd.number, sub.id, todo)
        return len(statements)

    def scores(self, model_id: str) -> list[ScoreRow]:
        """Every score of `model_id`, newest round first, then name and day."""
        rows = self.state._rows(
            "SELECT * FROM scores WHERE model_id=? ORDER BY round DESC, name, version, day", (model_id,)
        )
        return [ScoreRow(**{**dict(r), "resolved": bool(r["resolved"])}) for r in rows]

    def resolved_rounds(self) -> set[int]:
        """Rounds whose every selected submission has its resolved scores."""
        rows = self.state._rows(
            "SELECT round, COUNT(DISTINCT submission_id) AS n FROM scores WHERE resolved=1 GROUP BY round"
        )
        return {int(r["round"]) for r in rows if int(r["n"]) >= len(self._selected(int(r["round"])))}
