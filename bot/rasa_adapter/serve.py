"""Start the action server and Rasa together, and stop both cleanly on Ctrl-C.

`make run` (`serve`) keeps them running under the supervisor (`supervisor`); the benchmark and
the end-to-end tests start them with `running`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from bot.rasa_adapter.supervisor import Part, Policy, Supervisor


def rasa_env() -> dict[str, str]:
    """This process's environment with the defaults every process of the bot starts with."""
    from bot.rasa_adapter.startup import ENVIRONMENT_DEFAULTS

    return {**ENVIRONMENT_DEFAULTS, **os.environ}


def action_server_command(port: int) -> list[str]:
    """rasa_sdk's server, with log redaction and bound to loopback (see `action_server`)."""
    return [
        sys.executable,
        "-m",
        "bot.rasa_adapter.action_server",
        "--actions",
        "actions",
        "--port",
        str(port),
    ]


def rasa_command(
    subcommand: str,
    model: Path | None,
    port: int | None = None,
    endpoints: Path = Path("endpoints.yml"),
    credentials: Path = Path("credentials.yml"),
    extra: Sequence[str] = (),
) -> list[str]:
    # `run` goes through our launcher: Rasa's server plus persistence from the environment,
    # security guards and our patches (bot.rasa_adapter.server).
    module = ["bot.rasa_adapter.server"] if subcommand == "run" else ["rasa", subcommand]
    command = [sys.executable, "-m", *module, "--endpoints", str(endpoints)]
    if model is not None:
        command += ["--model", str(model)]
    if subcommand == "run":
        command += ["--credentials", str(credentials)]
    if port is not None:
        command += ["--port", str(port)]
    return command + list(extra)


def free_port() -> int:
    """A port nothing listens on now, for servers the shell, the tests and the bench start."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(
    url: str,
    timeout: float = 180.0,
    process: subprocess.Popen | None = None,
    interval: float = 0.5,
) -> None:
    """Poll a health URL; fail early if the process we wait for has died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{' '.join(process.args)} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(interval)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


def process_tree(pids: Sequence[int]) -> dict[int, list[str]]:
    """The /proc/PID/stat fields of the processes and all their descendants."""
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats[int(entry.name)] = fields
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    tree: dict[int, list[str]] = {}
    todo = list(pids)
    while todo:
        pid = todo.pop()
        if pid in tree or pid not in stats:
            continue
        tree[pid] = stats[pid]
        todo.extend(children.get(pid, []))
    return tree


def stop(processes: Sequence[subprocess.Popen], grace: float = 10.0) -> None:
    """Ctrl-C for each process, a kill after `grace` seconds — and the same for whatever they
    started: a Sanic worker that outlives its main process (killed, or done waiting for it)
    would keep serving the port with nobody left to stop it."""
    started = [pid for pid in process_tree([p.pid for p in processes]) if pid > 0]
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    deadline = time.monotonic() + grace
    for process in processes:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    own = {process.pid for process in processes}
    for pid in started:
        if pid not in own:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def spawn(
    command: Sequence[str],
    env: dict[str, str] | None = None,
    log: Path | None = None,
    cwd: Path | None = None,
) -> subprocess.Popen:
    """Start a process; with `log`, its output (both streams) is appended to that file."""
    if log is None:
        return subprocess.Popen(list(command), env=env or rasa_env(), cwd=cwd)
    with log.open("ab") as out:
        return subprocess.Popen(
            list(command), env=env or rasa_env(), cwd=cwd, stdout=out, stderr=subprocess.STDOUT
        )


@contextmanager
def serving(
    command: Sequence[str],
    health_url: str,
    env: dict[str, str] | None = None,
    log: Path | None = None,
    cwd: Path | None = None,
    timeout: float = 180.0,
    interval: float = 0.5,
    grace: float = 10.0,
) -> Iterator[subprocess.Popen]:
    """One server process, up and answering `health_url`; stopped (with its children) on the
    way out, also when it never came up."""
    process = spawn(command, env, log, cwd)
    try:
        wait_until_up(health_url, timeout, process, interval)
        yield process
    finally:
        stop([process], grace)


def start_action_server(
    port: int, env: dict[str, str] | None = None, log: Path | None = None
) -> subprocess.Popen:
    """An action server the caller stops itself (`stop`), e.g. to take it away mid-test."""
    process = spawn(action_server_command(port), env, log)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/health", process=process)
    except BaseException:
        stop([process])
        raise
    return process


@contextmanager
def running(
    model: Path | None,
    port: int = 5005,
    action_port: int = 5055,
    endpoints: Path = Path("endpoints.yml"),
    credentials: Path = Path("credentials.yml"),
    env: dict[str, str] | None = None,
    extra: Sequence[str] = (),
    log: Path | None = None,
    cwd: Path | None = None,
    timeout: float = 300.0,
    interval: float = 0.5,
    grace: float = 10.0,
) -> Iterator[list[subprocess.Popen]]:
    """The action server and Rasa, up and answering; both stopped on the way out.

    Both start at once (Rasa only calls the action server once a message needs an action), so
    the wait is that of the slower one: loading the model.
    """
    env = env or rasa_env()
    processes = [spawn(action_server_command(action_port), env, log, cwd)]
    try:
        command = rasa_command("run", model, port, endpoints, credentials, extra)
        processes.append(spawn(command, env, log, cwd))
        wait_until_up(f"http://127.0.0.1:{action_port}/health", timeout, processes[0], interval)
        wait_until_up(f"http://127.0.0.1:{port}/webhooks/rest/", timeout, processes[1], interval)
        yield processes
    finally:
        stop(processes, grace)


def http_status(url: str, timeout: float = 2.0) -> int | None:
    """The HTTP status a URL answers with (errors included); None if nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except (OSError, ValueError):
        return None


class ReadyProbe:
    """Whether the Rasa server is ready: its `/ready` if it has one, else `/health`, else the REST
    channel (a server without the first two answers 404 there and is asked the next)."""

    PATHS = ("/ready", "/health", "/webhooks/rest/")

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.path = 0

    def __call__(self) -> bool:
        while True:
            status = http_status(self.base_url + self.PATHS[self.path])
            if status == 404 and self.path < len(self.PATHS) - 1:
                self.path += 1
                continue
            return status == 200


def answers_http(url: str) -> Callable[[], bool]:
    """A part's readiness check: the server answers at all (Rasa only listens once its model is
    loaded; whether it is *ready* — database, action server — is the `ReadyProbe`'s business)."""
    return lambda: http_status(url) is not None


def bot_parts(
    model: Path | None,
    port: int = 5005,
    action_port: int = 5055,
    env: dict[str, str] | None = None,
    log: Path | None = None,
    cwd: Path | None = None,
) -> list[Part]:
    """The processes of a running bot, as the supervisor keeps them: the action server, the
    outbox deliverer (retries bookings and hand-offs the clinic's systems could not take at
    once) and Rasa."""
    env = env or rasa_env()
    return [
        Part(
            "the action server",
            action_server_command(action_port),
            env,
            cwd,
            log,
            ready=lambda: http_status(f"http://127.0.0.1:{action_port}/health") == 200,
        ),
        Part(
            "the outbox deliverer",
            [sys.executable, "-m", "bot", "outbox", "deliver", "--loop"],
            env,
            cwd,
            log,
        ),
        Part(
            "the Rasa server",
            rasa_command("run", model, port),
            env,
            cwd,
            log,
            ready=answers_http(f"http://127.0.0.1:{port}/webhooks/rest/"),
        ),
    ]


def serve(
    model: Path | None, port: int = 5005, action_port: int = 5055, policy: Policy | None = None
) -> int:
    """Run the bot's processes under a `Supervisor` until Ctrl-C or SIGTERM (exit code 0), or
    until one keeps crashing at start (its exit code). "The bot is up" once Rasa is ready."""
    supervisor = Supervisor(bot_parts(model, port, action_port), policy or Policy())
    supervisor.install_signal_handlers()
    ready = ReadyProbe(f"http://127.0.0.1:{port}")
    announced = False

    def announce(_supervisor: Supervisor) -> None:
        nonlocal announced
        if not announced and ready():
            announced = True
            print(f"The bot is up: http://localhost:{port} (Ctrl-C stops it)", flush=True)

    return supervisor.run(announce)
