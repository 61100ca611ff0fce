"""The compose topology without containers: Debian's nginx running deploy/nginx.conf in front of
Rasa instances on loopback addresses, and a DNS server standing in for Docker's, which names
the instances the way compose names the replicas of a service.

Only the lines of nginx.conf marked `# site:` are replaced (`render_nginx_conf` checks that
nothing else changed): where nginx listens, which DNS server it asks, whom it trusts to report a
client's address, and the name and port of the Rasa instances.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from tests.support import ROOT

DEPLOY = ROOT / "deploy"
SITE_MARK = "# site:"
SITE_LINE = re.compile(r"^(\s*)[a-z_]+ [^#]*;\s+# site: (.+?)\s*$")


def nginx_path() -> str | None:
    path = os.environ.get("NGINX_PATH", "/usr/sbin/nginx")
    return path if os.access(path, os.X_OK) else None


def render_nginx_conf(
    listen: str, resolver: str, trusted: Sequence[str], rasa: str, source: Path | None = None
) -> str:
    """deploy/nginx.conf with this machine's addresses on its `# site:` lines, and only there."""
    text = (source or DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    values = {
        "listen": f"listen {listen};",
        "resolver": f"resolver {resolver} valid=10s ipv6=off;",
        "trusted proxies": " ".join(f"set_real_ip_from {address};" for address in trusted),
        "rasa instances": f"set $rasa {rasa};",
    }
    lines = []
    seen = set()
    for line in text.splitlines():
        site = SITE_LINE.match(line)
        if site:
            indent, name = site.group(1), site.group(2)
            lines.append(f"{indent}{values[name]}  {SITE_MARK} {name}")
            seen.add(name)
        else:
            lines.append(line)
    missing = set(values) - seen
    assert not missing, f"nginx.conf has no `{SITE_MARK}` line for {missing}"
    rendered = "\n".join(lines) + "\n"
    changed = [
        (old, new)
        for old, new in zip(text.splitlines(), rendered.splitlines(), strict=True)
        if old != new
    ]
    assert all(SITE_LINE.match(old) for old, _ in changed), changed
    return rendered


class DnsServer:
    """Answers A queries for one name over UDP on loopback, like Docker's DNS answers for a
    service: one address per running replica. `addresses` may change while nginx runs."""

    def __init__(self, name: str, addresses: Sequence[str]) -> None:
        self.name = name.rstrip(".") + "."
        self.addresses = list(addresses)
        self.queries = 0
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def start(self) -> DnsServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.close()

    def _serve(self) -> None:
        while True:
            try:
                data, client = self._sock.recvfrom(4096)
            except OSError:
                return
            try:
                query = dns.message.from_wire(data)
            except Exception:
                continue
            self.queries += 1
            reply = dns.message.make_response(query)
            question = query.question[0]
            if str(question.name).lower() != self.name:
                reply.set_rcode(dns.rcode.NXDOMAIN)
            elif question.rdtype == dns.rdatatype.A and self.addresses:
                reply.answer.append(
                    dns.rrset.from_text_list(
                        question.name, 1, dns.rdataclass.IN, dns.rdatatype.A, self.addresses
                    )
                )
            with contextlib.suppress(OSError):
                self._sock.sendto(reply.to_wire(), client)


@dataclass
class Nginx:
    url: str
    port: int
    folder: Path
    process: subprocess.Popen = field(repr=False)

    def log(self) -> str:
        path = self.folder / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""


@contextmanager
def nginx(folder: Path, conf: str, port: int) -> Iterator[Nginx]:
    """nginx in the foreground with the rendered config, stopped (and waited for) afterwards."""
    binary = nginx_path()
    assert binary, "nginx not found: run scripts/install-nginx.sh (make nginx) or set NGINX_PATH"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "nginx.conf").write_text(conf)
    shutil.copy(DEPLOY / "nginx-forwarded.conf", folder / "nginx-forwarded.conf")
    globals_ = f"daemon off; pid {folder}/nginx.pid; error_log {folder}/error.log info;"
    command = [binary, "-p", f"{folder}/", "-c", f"{folder}/nginx.conf", "-g", globals_]
    check = subprocess.run([*command, "-t"], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen(command, stderr=subprocess.STDOUT, stdout=subprocess.DEVNULL)
    server = Nginx(f"http://127.0.0.1:{port}", port, folder, process)
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, f"nginx exited:\n{server.log()}"
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            assert time.monotonic() < deadline, f"nginx did not listen:\n{server.log()}"
            time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def request(
    port: int,
    method: str,
    path: str,
    source: str = "127.0.0.1",
    body: Any = None,
    headers: dict[str, str] | None = None,
    timeout: float = 60,
) -> Reply:
    """One HTTP request to nginx from a chosen loopback address: each address is a different
    client as far as nginx and the bot can tell."""
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=timeout, source_address=(source, 0)
    )
    data = None if body is None else json.dumps(body).encode()
    all_headers = {"Content-Type": "application/json"} if data is not None else {}
    all_headers.update(headers or {})
    try:
        connection.request(method, path, body=data, headers=all_headers)
        response = connection.getresponse()
        return Reply(response.status, dict(response.getheaders()), response.read())
    finally:
        connection.close()


def port_free_on(addresses: Sequence[str]) -> int:
    """A port free on every one of these loopback addresses (replicas share the service port)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind((addresses[0], 0))
            port = int(probe.getsockname()[1])
        try:
            for address in addresses[1:]:
                with socket.socket() as other:
                    other.bind((address, port))
        except OSError:
            continue
        return port
    raise RuntimeError("no port free on all of " + ", ".join(addresses))


def wait_for(condition: Any, timeout: float, message: str, interval: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(message)
        time.sleep(interval)
