"""The embedded local Numerai tournament: a threaded HTTP server the real numerapi 3.1.1 talks to.

Point numerapi at it by setting ``numerapi.base_api.API_TOURNAMENT_URL = server.url``; GraphQL
is answered on ``POST /``. Round control lives here (Python) and under ``/admin`` (HTTP).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
import logging
import socket
import sys
import threading
from collections.abc import Callable, Iterable
from http.server import ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

from numerai_assets.core.compute.sandbox import Limits
from numerai_assets.tournament.admin_api import AdminApi
from numerai_assets.tournament.calendar import (
    RoundWindow,
    ScaledClock,
    fixed_window,
    last_open,
    round_window,
    window_opened_at,
)
from numerai_assets.tournament.catalog import Catalog
from numerai_assets.tournament.compute import TournamentCompute
from numerai_assets.tournament.faults import Faults
from numerai_assets.tournament.graphql_api import GraphQLApi
from numerai_assets.tournament.http_handler import Handler
from numerai_assets.tournament.resolution import Resolver
from numerai_assets.tournament.state import (
    DEFAULT_CLOSE_WINDOW_S,
    DEFAULT_STAKING_WINDOW_S,
    Round,
    TournamentState,
    parse_iso,
    utcnow,
)

logger = logging.getLogger(__name__)

DEFAULT_MODELS = ("demo_slot_a", "demo_slot_b")
_CLOCK_SLACK = dt.timedelta(milliseconds=5)  # float rounding of scaled clock times
LiveRoundFn = Callable[[Path, int], Path]


def _default_live_round(root: Path, round_number: int) -> Path:
    from numerai_assets.tournament.generator import generate_live_round  # the colleague module

    return generate_live_round(root, round_number)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stop() shuts connections itself; never wait on a stalled client
    app: TournamentServer

    def handle_error(self, request: object, client_address: object) -> None:
        exc = sys.exc_info()[1]
        if self.app.stopped.is_set() or isinstance(exc, (ConnectionError, TimeoutError)):
            # Clients hang up mid-body all the time (numerapi skips a download it already
            # has by reading only the headers), and stop() cuts connections on purpose.
            logger.debug("connection from %s ended: %r", client_address, exc)
            return
        logger.exception("error while handling a request from %s", client_address)


class _HTTPServer6(_HTTPServer):
    address_family = socket.AF_INET6


class TournamentServer:
    """Local tournament over ``root`` (the generator's layout); state in ``root/state.sqlite``.

    ``clock`` maps real time to calendar time (default: the real time); rounds opened without
    explicit windows follow the calendar on it, and ``start_clock`` follows it automatically.
    ``late_submissions=False`` ends calendar rounds at ``closeStakingTime`` (a gap between
    rounds) instead of taking late submissions until the next opening."""

    def __init__(
        self,
        root: str | Path,
        host: str = "127.0.0.1",
        port: int = 0,
        models: Iterable[str] = DEFAULT_MODELS,
        *,
        version: str | None = None,
        allow_remote: bool = False,
        live_round_fn: LiveRoundFn | None = None,
        clock: ScaledClock | None = None,
        late_submissions: bool = True,
        compute_sandbox_root: Path | None = None,
        compute_limits: Limits | None = None,
        score_names: dict[str, str] | None = None,
    ) -> None:
        if not is_loopback(host) and not allow_remote:
            raise ValueError(f"refusing to bind {host!r}: not loopback (pass allow_remote=True)")
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.host, self.port = host, port
        self.state = TournamentState(self.root / "state.sqlite")
        self.models = self.state.ensure_models(models)
        self.catalog = Catalog(self.root, version)
        self.faults = Faults()
        self.clock = clock or ScaledClock.starting_now()  # real time unless scaled
        self.late_submissions = late_submissions  # calendar rounds: late until the next opening
        self.uploads_dir = self.root / "_uploads"
        self.uploads_dir.mkdir(exist_ok=True)
        self.api = GraphQLApi(self.state, self.catalog, self.models, str(self.uploads_dir))
        self.compute = TournamentCompute(
            self.state, self.catalog, self.root, sandbox_root=compute_sandbox_root, limits=compute_limits
        )
        self.api.compute = self.compute
        self.resolver = Resolver(self.root, self.state)  # rounds resolve; scores as submissionScores
        self.api.resolver = self.resolver
        self.api.score_names = dict(score_names or {})  # e.g. {"corr20": "corr_v9"}: another server's names
        self.admin = AdminApi(self)
        self.stopped = threading.Event()
        self._live_round_fn = live_round_fn or _default_live_round
        self._round_lock = threading.RLock()
        self._conn_lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle ------------------------------------------------------------------------------

    def start(self) -> TournamentServer:
        if self._httpd is not None:
            return self
        cls = _HTTPServer6 if ":" in self.host else _HTTPServer
        httpd = cls((self.host, self.port), Handler)
        httpd.app = self
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"tournament-server-{self.port}",
            daemon=True,
        )
        self._thread.start()
        threading.Thread(target=self._warm, name="tournament-sha256", daemon=True).start()
        logger.info("local tournament serving %s from %s", self.url, self.root)
        return self

    def stop(self) -> None:
        """Stop serving; hanging or delayed GraphQL requests are released and their sockets cut."""
        if self._httpd is None or self.stopped.is_set():
            return
        self.stopped.set()
        self.faults.wake()
        self._httpd.shutdown()
        self._httpd.server_close()
        with self._conn_lock:
            conns = list(self._connections)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.state.close()  # every write was committed; requests still in flight now fail
        logger.info("local tournament at %s stopped", self.url)

    def __enter__(self) -> TournamentServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("server not started")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def _warm(self) -> None:
        try:
            self.catalog.warm()
        except OSError as exc:  # a file replaced mid-hash: the request path hashes it again
            logger.debug("sha256 warm-up skipped: %r", exc)

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._conn_lock:
            (self._connections.add if add else self._connections.discard)(conn)

    # round control --------------------------------------------------------------------------

    def round_window(
        self,
        staking_window_s: float | None = None,
        close_window_s: float | None = None,
        open_time: dt.datetime | None = None,
    ) -> RoundWindow:
        """Explicit window lengths when either is given (the other defaults as before the
        calendar), else the calendar's window for a round opened now (see calendar.py), read
        on the server's clock and answered in real time."""
        now = open_time or utcnow()
        if staking_window_s is None and close_window_s is None:
            cal = window_opened_at(self.clock.to_calendar(now), self.late_submissions)
            w = self.clock.window_to_real(cal)
            return dataclasses.replace(w, open_time=now)
        staking = DEFAULT_STAKING_WINDOW_S if staking_window_s is None else float(staking_window_s)
        close = max(DEFAULT_CLOSE_WINDOW_S, staking) if close_window_s is None else float(close_window_s)
        return fixed_window(now, staking, close)

    def open_round(
        self,
        number: int | None = None,
        staking_window_s: float | None = None,
        close_window_s: float | None = None,
        open_time: dt.datetime | None = None,
        window: RoundWindow | None = None,
    ) -> Round:
        """Write the round's live files (generator), then open it with `window`, or the window
        lengths given, or the calendar's (staking closes at ``closeStakingTime``; late
        submissions are still taken until ``closeTime``)."""
        window = window or self.round_window(staking_window_s, close_window_s, open_time)
        with self._round_lock:  # refused before generating anything
            number = self.state.next_round_number(number, window)
            self._live_round_fn(self.root, number)
            rnd = self.state.open_round(number, window=window)
            # like Numerai: every model's latest uploaded pickle runs at round open
            self.compute.run_round(rnd.number, self.api.submit_computed)
        logger.info("round %d open (staking closes %s)", rnd.number, rnd.close_staking_time)
        return rnd

    def close_round(self) -> Round:
        with self._round_lock:
            rnd = self.state.close_round()
        logger.info("round %d closed", rnd.number)
        return rnd

    def advance(
        self,
        staking_window_s: float | None = None,
        close_window_s: float | None = None,
    ) -> Round:
        """Close the open round (if any) and open the next one."""
        with self._round_lock:
            if self.state.current_round() is not None:
                self.close_round()
            return self.open_round(None, staking_window_s, close_window_s)

    def current_round(self) -> Round | None:
        return self.state.current_round()

    # calendar clock -------------------------------------------------------------------------

    def clock_tick(self, now: dt.datetime | None = None) -> Round | None:
        """Follow the calendar on the server's clock at real time `now`: once the open round's
        ``closeTime`` has passed it closes, and when the calendar's latest opening has no round
        yet, that round opens with its calendar window; then closed rounds get the scores due
        (resolution.py). Returns the round opened, if any."""
        now = now or utcnow()
        opened = self._follow_calendar(now)
        self.resolver.update(now)
        return opened

    def _follow_calendar(self, now: dt.datetime) -> Round | None:
        opening = self.clock.to_real(last_open(self.clock.to_calendar(now)))
        with self._round_lock:
            current = self.state.current_round()
            if current is not None and parse_iso(current.close_time) <= now:
                self.close_round()
            latest = self.state.get_round(self.state.latest_round_number())
            if latest is not None and parse_iso(latest.open_time) >= opening - _CLOCK_SLACK:
                return None
            if self.state.current_round() is not None:
                self.close_round()
            cal = round_window(last_open(self.clock.to_calendar(now)), self.late_submissions)
            return self.open_round(window=self.clock.window_to_real(cal))

    def start_clock(self, poll_s: float = 0.2) -> None:
        """Run `clock_tick` every `poll_s` real seconds until the server stops."""

        def loop() -> None:
            while not self.stopped.is_set():
                try:
                    self.clock_tick()
                except Exception:  # noqa: BLE001 - keep the clock alive; the log says why
                    logger.exception("calendar clock tick failed")
                self.stopped.wait(poll_s)

        threading.Thread(target=loop, name="tournament-clock", daemon=True).start()
