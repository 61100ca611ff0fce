"""Rasa instances and action servers started like a deployment: separate processes on free
ports, configured through the environment (no endpoints.yml stores), each logging to a file.
The production tests use them for scale-out, restarts and outages."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.rasa_adapter.serve import (
    action_server_command,
    free_port,
    rasa_command,
    rasa_env,
    spawn,
    stop,
    wait_until_up,
)
from tests.support import ROOT
from tests.support.bots import NO_LIMITS, send_rest


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


def deployment_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of one deployed process: our database, the sample clinic, no rate limits,
    and none of the store settings of the shell that runs the tests unless given in `extra`."""
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


def start_action_server(folder: Path, env: dict[str, str], port: int | None = None) -> Server:
    """An action server the test stops and starts itself (e.g. to simulate an outage)."""
    port = port or free_port()
    log = folder / f"actions-{port}.log"
    server = Server(
        f"http://127.0.0.1:{port}", port, spawn(action_server_command(port), env, log, ROOT), log
    )
    try:
        wait_until_up(f"{server.url}/health", timeout=120, process=server.process)
    except BaseException:
        server.stop()
        raise
    return server


@contextmanager
def action_server(folder: Path, env: dict[str, str], port: int | None = None) -> Iterator[Server]:
    server = start_action_server(folder, env, port)
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def rasa_servers(
    folder: Path,
    model: Path,
    action_port: int,
    envs: Sequence[dict[str, str]],
    credentials: Path = ROOT / "credentials.yml",
    hosts: Sequence[str] | None = None,
    port: int | None = None,
) -> Iterator[list[Server]]:
    """One Rasa server per environment, started in parallel (loading a model takes a while).

    Each on a free port of 127.0.0.1, or on `hosts[i]`:`port` — replicas of one service, each at
    its own address and the same port, as a container platform runs them."""
    endpoints = endpoints_file(folder, action_port)
    servers: list[Server] = []
    with ExitStack() as stack:
        for i, env in enumerate(envs):
            host = hosts[i] if hosts else "127.0.0.1"
            server_port = port or free_port()
            log = folder / f"rasa-{host}-{server_port}.log"
            extra = ["--interface", host]
            command = rasa_command("run", model, server_port, endpoints, credentials, extra)
            process = spawn(command, env, log, ROOT)
            stack.callback(stop, [process])
            servers.append(Server(f"http://{host}:{server_port}", server_port, process, log))
        for server in servers:
            try:
                wait_until_up(f"{server.url}/webhooks/rest/", timeout=420, process=server.process)
            except Exception as error:
                raise RuntimeError(f"Rasa did not start:\n{server.tail()}") from error
        yield servers
