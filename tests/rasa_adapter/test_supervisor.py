"""The supervisor behind `massagebot serve`, driven with tiny fake parts: restarts after a crash,
a growing delay between restarts, a clear report and a non-zero exit for a part that keeps dying
at start, and Ctrl-C/SIGTERM passed on to the parts and waited for."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.rasa_adapter.serve import ReadyProbe
from bot.rasa_adapter.supervisor import Part, Policy, Supervisor
from tests.support import ROOT

# The supervisor's children are real processes (and one probe a real HTTP server): not for
# `make test-fast`.
pytestmark = pytest.mark.server

# Each start appends a line to the file; the first start crashes, later ones stay up.
CRASH_FIRST = """
import pathlib, sys, time
log = pathlib.Path(sys.argv[1])
starts = len(log.read_text().splitlines()) if log.exists() else 0
with log.open("a") as out:
    out.write("start\\n")
if starts == 0:
    sys.exit(1)
time.sleep(600)
"""

# Says it started, and on SIGTERM or SIGINT takes a second to finish before it exits.
FINISHES_ON_SIGNAL = """
import pathlib, signal, sys, time
log = pathlib.Path(sys.argv[1])
def finish(signum, frame):
    with log.open("a") as out:
        out.write(f"got {signum}\\n")
    time.sleep(1)
    with log.open("a") as out:
        out.write("done\\n")
    sys.exit(0)
signal.signal(signal.SIGTERM, finish)
signal.signal(signal.SIGINT, finish)
log.write_text("started\\n")
while True:
    time.sleep(0.1)
"""

IGNORES_SIGNALS = """
import os, pathlib, signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
signal.signal(signal.SIGINT, signal.SIG_IGN)
pathlib.Path(sys.argv[1]).write_text(f"{os.getpid()}\\n")
while True:
    time.sleep(0.1)
"""

# A supervisor in a process of its own, so the test can signal it as a terminal or an
# orchestrator would.
DRIVER = """
import sys
from bot.rasa_adapter.supervisor import Part, Policy, Supervisor
child, log, grace = sys.argv[1], sys.argv[2], float(sys.argv[3])
part = Part("the fake part", [sys.executable, "-c", child, log])
supervisor = Supervisor([part], Policy(grace=grace, startup_window=0.1, tick=0.05))
supervisor.install_signal_handlers()
sys.exit(supervisor.run())
"""


def python(code: str, *args: str) -> list[str]:
    return [sys.executable, "-c", code, *args]


def drive(supervisor: Supervisor, until: Callable[[], bool], deadline: float = 60.0) -> None:
    """Let the supervisor look after its parts until `until()` holds (a generous deadline only
    catches a hang; nothing here is about speed)."""
    end = time.monotonic() + deadline
    while not until():
        assert time.monotonic() < end, "the supervisor never got there"
        supervisor.check()
        time.sleep(0.02)


def quick(**changes: float) -> Policy:
    settings: dict[str, float] = {
        "first_delay": 0.01,
        "max_delay": 0.08,
        "startup_window": 0.3,
        "stable_after": 600,
        "grace": 10,
        "tick": 0.02,
    }
    settings.update(changes)
    return Policy(**settings)  # type: ignore[arg-type]


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_a_crashed_part_is_restarted_with_a_log_line(tmp_path: Path) -> None:
    log, said = tmp_path / "starts", []
    part = Part("the fake part", python(CRASH_FIRST, str(log)))
    supervisor = Supervisor([part], quick(), say=said.append)
    supervisor.start()
    try:
        drive(supervisor, lambda: len(lines(log)) == 2 and part.up_at is not None)
        assert part.running and part.starts == 2
        assert said[0].startswith("the fake part exited with exit code 1 after ")
        assert said[0].endswith("restarting in 0.01 s")
        assert "the fake part is up again" in said
    finally:
        supervisor.stop()
    assert not part.running


def test_the_delay_doubles_up_to_its_ceiling(tmp_path: Path) -> None:
    part = Part("the fake part", python("import sys; sys.exit(1)"))
    supervisor = Supervisor(
        [part], quick(max_start_crashes=100, startup_window=600), say=lambda _: None
    )
    supervisor.start()
    try:
        drive(supervisor, lambda: len(part.delays) >= 6)
    finally:
        supervisor.stop()
    assert part.delays[:6] == [0.01, 0.02, 0.04, 0.08, 0.08, 0.08]


def test_the_delay_starts_over_after_a_part_stayed_up(tmp_path: Path) -> None:
    """Crashes after a good while up are bad luck, not a loop: each waits the first delay."""
    part = Part("the fake part", python("import sys, time; time.sleep(2); sys.exit(1)"))
    supervisor = Supervisor(
        [part], quick(startup_window=0.05, stable_after=0.2), say=lambda _: None
    )
    supervisor.start()
    try:
        drive(supervisor, lambda: len(part.delays) >= 3)
    finally:
        supervisor.stop()
    assert part.delays[:3] == [0.01, 0.01, 0.01]
    assert part.start_crashes == 0


def test_a_part_that_keeps_crashing_at_start_stops_everything(tmp_path: Path) -> None:
    said: list[str] = []
    broken = Part("the action server", python("import sys; sys.exit(3)"))
    healthy = Part("the outbox deliverer", python("import time; time.sleep(600)"))
    supervisor = Supervisor(
        [broken, healthy], quick(max_start_crashes=5, startup_window=600), say=said.append
    )
    assert supervisor.run() == 3
    assert broken.starts == 5
    assert said[-1] == (
        "error: the action server keeps crashing at start (5 times in a row): "
        "see the log above; exit code 3"
    )
    assert healthy.process is None  # stopped with the rest


def test_a_part_killed_by_a_signal_at_start_still_exits_non_zero(tmp_path: Path) -> None:
    part = Part("the fake part", python("import os, signal; os.kill(os.getpid(), signal.SIGKILL)"))
    supervisor = Supervisor(
        [part], quick(max_start_crashes=2, startup_window=600), say=lambda _: None
    )
    assert supervisor.run() == 1


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_is_passed_on_and_waited_for(tmp_path: Path, signum: int) -> None:
    log = tmp_path / "child"
    driver = subprocess.Popen(python(DRIVER, FINISHES_ON_SIGNAL, str(log), "60"), cwd=ROOT)
    try:
        drive_until(lambda: lines(log) == ["started"])
        driver.send_signal(signum)
        assert driver.wait(timeout=60) == 0
    finally:
        driver.kill()
    # The part got the signal and was given the time to finish before the supervisor left.
    assert lines(log) == ["started", f"got {int(signum)}", "done"]


def test_a_part_that_ignores_the_signal_is_killed_after_the_grace_period(tmp_path: Path) -> None:
    log = tmp_path / "child"
    driver = subprocess.Popen(
        python(DRIVER, IGNORES_SIGNALS, str(log), "0.5"),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        drive_until(lambda: bool(lines(log)))
        driver.send_signal(signal.SIGTERM)
        out, _ = driver.communicate(timeout=60)
    finally:
        driver.kill()
    assert driver.returncode == 0
    assert "the fake part did not stop within 0.5 s: killed" in out
    assert not Path(f"/proc/{lines(log)[0]}").exists()


def test_the_ready_probe_falls_back_when_a_server_has_no_ready_path(tmp_path: Path) -> None:
    """/ready if the server has it, else /health, else the REST channel."""
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        paths: tuple[str, ...] = ()

        def do_GET(self) -> None:
            self.send_response(200 if self.path in self.paths else 404)
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        for paths, path in [
            (("/ready", "/health"), "/ready"),
            (("/health",), "/health"),
            (("/webhooks/rest/",), "/webhooks/rest/"),
        ]:
            Handler.paths = paths
            probe = ReadyProbe(base)
            assert probe()
            assert ReadyProbe.PATHS[probe.path] == path
        Handler.paths = ()
        assert not ReadyProbe(base)()
    finally:
        server.shutdown()
    assert not ReadyProbe(base)()  # nothing listening


def drive_until(condition: Callable[[], bool], deadline: float = 60.0) -> None:
    end = time.monotonic() + deadline
    while not condition():
        assert time.monotonic() < end, "never got there"
        time.sleep(0.05)


def test_a_part_left_behind_by_a_killed_supervisor_dies_with_it(tmp_path: Path) -> None:
    """Parts run in their own sessions (out of the terminal's reach): if the supervisor itself is
    killed outright, they must not run on unsupervised."""
    log = tmp_path / "child"
    driver = subprocess.Popen(python(DRIVER, IGNORES_SIGNALS, str(log), "10"), cwd=ROOT)
    try:
        drive_until(lambda: bool(lines(log)))
    finally:
        driver.kill()
        driver.wait()
    pid = int(lines(log)[0])
    drive_until(lambda: not _alive(pid))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
