"""Starting real bots for the production tests: Rasa instances and action servers as separate
processes on free ports, configured through the environment like a deployment, logs to files."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.clinic.db import migrate
from bot.clinic.faq import import_faq
from bot.rasa_adapter.serve import (
    action_server_command,
    rasa_command,
    rasa_env,
    stop,
    wait_until_up,
)
from tests.conftest import ROOT, free_port, send_rest

# Rate limits are tested on their own; elsewhere they would only make tests wait.
NO_LIMITS = {"RATE_LIMIT_SENDER": "0", "RATE_LIMIT_IP": "0", "RATE_LIMIT_SESSIONS": "0"}


@dataclass
class Server:
    url: str
    port: int
    process: subprocess.Popen
    log: Path

    def tail(self, lines: int = 60) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def send(self, text: str, sender: str, timeout: float = 60) -> list[dict[str, Any]]:
        return send_rest(self.url, text, sender, timeout)

    def stop(self) -> None:
        stop([self.process])


def texts(replies: list[dict[str, Any]]) -> str:
    return "\n".join(r.get("text") or "" for r in replies)


def payloads(replies: list[dict[str, Any]]) -> list[str]:
    """The button payloads of the bot's replies, to answer as a client tapping them."""
    return [b["payload"] for r in replies for b in r.get("buttons") or []]


def sender() -> str:
    return f"prod-{uuid.uuid4().hex[:10]}"


def prepare_database(url: str) -> str:
    migrate(url)
    import_faq(url, ROOT / "data" / "faq.yml")
    return url


def bot_env(database_url: str, **extra: str) -> dict[str, str]:
    env = rasa_env()
    env.update(
        {
            "DATABASE_URL": database_url,
            "CLINIC_FILE": str(ROOT / "data" / "clinic.yml"),
            "MASSAGEBOT_HOME": str(ROOT),
            **NO_LIMITS,
            **extra,
        }
    )
    for name in ("TRACKER_STORE_URL", "REDIS_URL", "LOCK_STORE_KEY_PREFIX", "ACTION_SERVER_URL"):
        if name not in extra:
            env.pop(name, None)
    return env


def endpoints_file(folder: Path, action_port: int) -> Path:
    """Only the action server: the tracker and lock stores come from the environment."""
    path = folder / f"endpoints-{action_port}.yml"
    path.write_text(f'action_endpoint:\n  url: "http://127.0.0.1:{action_port}/webhook"\n')
    return path


def _spawn(command: Sequence[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("ab") as handle:
        return subprocess.Popen(
            list(command), env=env, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT
        )


@contextmanager
def action_server(folder: Path, env: dict[str, str], port: int | None = None) -> Iterator[Server]:
    port = port or free_port()
    log = folder / f"actions-{port}.log"
    process = _spawn(action_server_command(port), env, log)
    server = Server(f"http://127.0.0.1:{port}", port, process, log)
    try:
        wait_until_up(f"{server.url}/health", timeout=120, process=process)
        yield server
    finally:
        stop([process])


def start_action_server(folder: Path, env: dict[str, str], port: int) -> Server:
    """An action server the test stops and starts itself (e.g. to simulate an outage)."""
    log = folder / f"actions-{port}.log"
    process = _spawn(action_server_command(port), env, log)
    server = Server(f"http://127.0.0.1:{port}", port, process, log)
    wait_until_up(f"{server.url}/health", timeout=120, process=process)
    return server


@contextmanager
def rasa_servers(
    folder: Path,
    model: Path,
    action_port: int,
    envs: Sequence[dict[str, str]],
    credentials: Path = ROOT / "credentials.yml",
) -> Iterator[list[Server]]:
    """One Rasa server per environment, started in parallel (loading a model takes a while)."""
    endpoints = endpoints_file(folder, action_port)
    servers: list[Server] = []
    with ExitStack() as stack:
        for env in envs:
            port = free_port()
            log = folder / f"rasa-{port}.log"
            command = rasa_command("run", model, port, endpoints, credentials)
            process = _spawn(command, env, log)
            stack.callback(stop, [process])
            servers.append(Server(f"http://127.0.0.1:{port}", port, process, log))
        for server in servers:
            try:
                wait_until_up(f"{server.url}/webhooks/rest/", timeout=420, process=server.process)
            except Exception as error:
                raise RuntimeError(f"Rasa did not start:\n{server.tail()}") from error
        yield servers


class TcpProxy:
    """A loopback TCP relay we can cut: the database "goes down" for whoever connects through
    it (open connections are severed, new ones refused) and comes back on the same port."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> TcpProxy:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(50)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            # close() alone leaves a listener blocked in accept() accepting; shutdown wakes it.
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            for sock in list(self._sockets):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets.update({client, upstream})
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
