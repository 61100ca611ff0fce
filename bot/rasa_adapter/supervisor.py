"""Keep the bot's processes running: restart a part that dies, give up on one that cannot start.

`massagebot serve` runs the action server, the outbox deliverer and Rasa under a `Supervisor`.
A part that exits is started again after a delay that doubles with each crash (1 s up to 30 s),
back to 1 s once it has stayed up a while, so a crash in the night costs a second of service
and a broken part does not spin the CPU. A part that dies before it ever came up, several times
in a row, is broken rather than unlucky (a bad model, a port in use, a missing setting):
restarting it forever would hide that, so the supervisor stops everything and says which part
and with which exit code. Ctrl-C or SIGTERM is passed on to every part, which is given a grace
period to finish what it is doing before it is killed.

Each part runs in its own session (process group), so a terminal's Ctrl-C reaches the parts only
once, through the supervisor, and whatever a part started (Sanic's workers) can be stopped with
it: a worker that outlived its main process would keep the port, and the restarted part could
not bind it.

Pure standard library: the tests drive it with tiny fake commands.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO


@dataclass(frozen=True)
class Policy:
    """How restarts are paced, and when a part counts as crashing at start."""

    first_delay: float = 1.0  # seconds before the first restart
    max_delay: float = 30.0  # the doubling stops here
    stable_after: float = 30.0  # up this long (after it came up): the next crash starts at 1 s
    startup_window: float = 5.0  # a part without a readiness check is "up" after this long
    max_start_crashes: int = 5  # this many crashes in a row before coming up: give up
    grace: float = 10.0  # after a stop signal, seconds before a part is killed
    tick: float = 0.2  # how often the parts are looked at


@dataclass
class Part:
    """One process to keep running. `ready` (optional) says whether it has come up, e.g. by
    asking its health URL; without it, surviving `Policy.startup_window` counts."""

    name: str  # for people: "the action server"
    command: Sequence[str]
    env: dict[str, str] | None = None
    cwd: Path | None = None
    log: Path | None = None  # output appended here; None: the supervisor's own streams
    ready: Callable[[], bool] | None = None

    process: subprocess.Popen | None = field(default=None, repr=False)
    started_at: float = 0.0
    up_at: float | None = None  # when it came up, this run
    start_crashes: int = 0  # crashes in a row before coming up
    delay: float = 0.0  # the next restart's delay
    restart_at: float | None = None  # when a crashed part is due to start again
    starts: int = 0
    delays: list[float] = field(default_factory=list)  # every restart delay so far, in order

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


class CrashLoop(RuntimeError):
    """A part died before coming up `max_start_crashes` times in a row."""

    def __init__(self, part: Part, returncode: int) -> None:
        self.part = part
        self.returncode = returncode
        super().__init__(
            f"{part.name} keeps crashing at start ({part.start_crashes} times in a row): "
            f"see the log above; exit code {returncode}"
        )


class Supervisor:
    def __init__(
        self,
        parts: Sequence[Part],
        policy: Policy = Policy(),
        say: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.parts = list(parts)
        self.policy = policy
        self.say = say or _say
        self.clock = clock
        self.stop_signal: int | None = None  # set by `request_stop`, e.g. from a signal handler

    # --- running ----------------------------------------------------------------------------

    def start(self) -> None:
        for part in self.parts:
            part.delay = self.policy.first_delay
            self._launch(part)

    def check(self) -> None:
        """One look at every part: note which came up, schedule restarts, do the due ones.
        Raises `CrashLoop` when a part keeps dying at start."""
        now = self.clock()
        for part in self.parts:
            if part.process is None:
                if part.restart_at is not None and now >= part.restart_at:
                    self._launch(part)
                continue
            code = part.process.poll()
            if code is None:
                self._note_up(part, now)
                continue
            self._crashed(part, code, now)

    def run(self, on_tick: Callable[[Supervisor], None] | None = None) -> int:
        """Start the parts and keep them running until `request_stop`; returns the exit code
        (0 after a stop signal, the part's code — or 1 — after a crash loop)."""
        self.start()
        try:
            while self.stop_signal is None:
                self.check()
                if on_tick is not None:
                    on_tick(self)
                time.sleep(self.policy.tick)
        except CrashLoop as error:
            self.say(f"error: {error}")
            self.stop(signal.SIGTERM)
            return error.returncode if error.returncode > 0 else 1
        self.say(
            f"{signal.Signals(self.stop_signal).name}: stopping the parts "
            f"(up to {self.policy.grace:g} s; again to kill them now)"
        )
        self.stop(self.stop_signal)
        return 0

    def request_stop(self, signum: int = signal.SIGTERM) -> None:
        """Ask `run` to stop the parts; a second request while stopping kills them at once."""
        if self.stop_signal is not None:
            self.stop_signal = signal.SIGKILL
        else:
            self.stop_signal = signum

    def install_signal_handlers(self) -> None:
        """Ctrl-C and SIGTERM stop the parts (passed on as they came)."""

        def handler(signum: int, _frame: object) -> None:
            self.request_stop(signum)

        signal.signal(signal.SIGINT, handler)
        signal.signal(signal.SIGTERM, handler)

    def stop(self, signum: int = signal.SIGTERM) -> None:
        """`signum` to every part, a wait of `grace` seconds for them all, then a kill; and a kill
        for whatever they left behind in their process groups."""
        for part in self.parts:
            part.restart_at = None
            if part.running:
                assert part.process is not None
                with contextlib.suppress(ProcessLookupError):
                    part.process.send_signal(signum)
        deadline = self.clock() + self.policy.grace
        for part in self.parts:
            if part.process is None:
                continue
            while part.process.poll() is None:
                if self.clock() >= deadline or self.stop_signal == signal.SIGKILL:
                    self.say(f"{part.name} did not stop within {self.policy.grace:g} s: killed")
                    part.process.kill()
                    part.process.wait()
                    break
                time.sleep(0.05)
            _kill_group(part.process.pid)
            part.process = None

    # --- internals --------------------------------------------------------------------------

    def _launch(self, part: Part) -> None:
        part.restart_at = None
        part.up_at = None
        part.started_at = self.clock()
        part.starts += 1
        part.process = _spawn(part)

    def _note_up(self, part: Part, now: float) -> None:
        if part.up_at is None:
            came_up = (
                part.ready()
                if part.ready is not None
                else now - part.started_at >= self.policy.startup_window
            )
            if came_up:
                part.up_at = now
                part.start_crashes = 0
                if part.starts > 1:
                    self.say(f"{part.name} is up again")
        elif now - part.up_at >= self.policy.stable_after:
            part.delay = self.policy.first_delay

    def _crashed(self, part: Part, code: int, now: float) -> None:
        assert part.process is not None
        _kill_group(part.process.pid)  # its workers, if it had any
        part.process = None
        uptime = now - part.started_at
        if part.up_at is None:
            part.start_crashes += 1
            if part.start_crashes >= self.policy.max_start_crashes:
                raise CrashLoop(part, code)
        elif now - part.up_at >= self.policy.stable_after:
            part.delay = self.policy.first_delay
        delay = part.delay
        part.delays.append(delay)
        part.restart_at = now + delay
        part.delay = min(delay * 2, self.policy.max_delay)
        self.say(
            f"{part.name} exited with {_describe(code)} after {uptime:.1f} s; "
            f"restarting in {delay:g} s"
        )


def _spawn(part: Part) -> subprocess.Popen:
    out: IO[bytes] | None = part.log.open("ab") if part.log is not None else None
    try:
        return subprocess.Popen(
            list(part.command),
            env=part.env,
            cwd=part.cwd,
            stdout=out,
            stderr=subprocess.STDOUT if out is not None else None,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
    finally:
        if out is not None:
            out.close()


def _die_with_parent() -> None:
    """In the child: killed if the supervisor itself dies (kill -9), never left running alone
    outside the terminal's reach (Linux; elsewhere a no-op)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _kill_group(pid: int) -> None:
    """SIGKILL whatever is left of a part's process group (its session leader is `pid`)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _describe(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"signal {signal.Signals(-code).name}"
    return f"exit code {code}"


def _say(message: str) -> None:
    print(f"[supervisor] {message}", flush=True)
