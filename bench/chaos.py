"""Chaos run: the bot under load while its parts are stopped, resumed and killed, one at a time.

The bot runs as deploy/docker-compose.yml runs it, on this machine: `massagebot serve` (the
supervisor with the action server, the outbox deliverer and Rasa with two Sanic workers), its
own PostgreSQL (bookings and conversations) and its own Redis (the lock store), both started
here in a temporary folder on free ports, so no shared service is ever touched. Ten simulated
clients talk to it over REST in free text (bookings and questions), and a probe asks a question
every half second. Then, for each part in turn — the action server, the outbox deliverer, one
Rasa worker, Redis, PostgreSQL — the part is stopped (SIGSTOP) and resumed (SIGCONT) after a
pause, then killed (SIGKILL). The bot's parts are brought back by the supervisor; Redis and
PostgreSQL by this script, as compose's `restart: always` would, a second later.

Per fault, a row: messages sent, answered within 10 s, of those answered with the apology or
busy text, p95 latency while the fault lasts (until the probe gets a normal answer again) and
after it, the time to recover (from SIGCONT or the kill to the probe's first normal answer),
events lost (messages a client got an answer to that are missing from their conversation in the
tracker store) and inconsistent bookings (a reference given to a client that is not stored, a
live booking without its slots, slots without a live booking). Targets: every message answered
within 10 s, nothing lost, nothing inconsistent, recovery within 10 s.

This is a benchmark, not a test: it prints the table, writes it to results/chaos.md and exits 0.

    python -m bench.chaos [--model models/x.tar.gz] [--pause 8] [--settle 8]
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from bot.rasa_adapter.serve import free_port, process_tree

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "results" / "chaos.md"
CLIENTS = 10
ANSWER_WITHIN = 10.0  # seconds: the target for every message
CLIENT_TIMEOUT = 30.0  # how long a simulated client waits before giving up
PROBE = "what are your opening hours?"
QUESTIONS = (
    "does massage help with back pain?",
    "what are the benefits of massage",
    "can it help me sleep better",
    "how many sessions will I need",
    "what should I expect at my first appointment",
    "what types of massage do you offer",
    "how much is a 60 minute back massage",
    "where are you",
    "thanks",
)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")
NAMES = (
    "Ada Byron",
    "Grace Hopper",
    "Alan Turing",
    "Joan Clarke",
    "Tom Kilburn",
    "Mary Somerville",
)
# What the bot says when a part of it is down or busy (advice.unavailable, the action endpoint's
# apology, the booking that could not be saved, load shedding).
POLITE = re.compile(r"sorry|technical problem|try again|busy|call us", re.IGNORECASE)
REFERENCE = re.compile(r"MB-[A-Z0-9]{6}")
# The answer when the conversation could not be kept (advice.not_taken): the client was told to
# send the message again, so it is not a lost one.
NOT_TAKEN = "couldn't take your last message"


# --- the services: PostgreSQL and Redis of our own -----------------------------------------------


def postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found and shutil.which("initdb"):
        return Path(shutil.which("initdb") or "").parent
    if not found:
        raise SystemExit("PostgreSQL's server binaries (initdb, postgres) are not installed.")
    return Path(found[-1]).parent


def postgres_user() -> str | None:
    """initdb and postgres refuse to run as root: as the `postgres` user then (directly, not
    through `runuser`, which would stop itself when its child is stopped, and stay stopped)."""
    return "postgres" if os.geteuid() == 0 else None


@dataclass
class Service:
    """A server this script starts, signals, kills and starts again (compose's restart)."""

    name: str
    command: list[str]
    log: Path
    ready: Callable[[], bool]
    user: str | None = None
    stop_signal: int = signal.SIGTERM
    process: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.command, stdout=out, stderr=subprocess.STDOUT, user=self.user
            )
        end = time.monotonic() + timeout
        while not self.ready():
            if time.monotonic() > end or self.process.poll() is not None:
                raise RuntimeError(f"{self.name} did not start; see {self.log}")
            time.sleep(0.2)

    def pids(self) -> list[int]:
        """The server's processes (PostgreSQL's backends too)."""
        assert self.process is not None
        return list(process_tree([self.process.pid]))

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(self.stop_signal)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                for pid in self.pids():
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                self.process.wait()


def start_redis(folder: Path) -> tuple[Service, str]:
    import redis

    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"

    def ready() -> bool:
        try:
            return bool(redis.Redis.from_url(url, socket_timeout=1).ping())
        except redis.RedisError:
            return False

    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    command += ["--appendonly", "no", "--dir", str(folder)]
    service = Service("Redis", command, folder / "redis.log", ready)
    service.start()
    return service, url


def start_postgres(folder: Path) -> tuple[Service, str]:
    import psycopg2

    binaries, data, port = postgres_bin(), folder / "pgdata", free_port()
    folder.chmod(0o755)
    data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    subprocess.run(
        [str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"],
        check=True,
        stdout=subprocess.DEVNULL,
        user=postgres_user(),
    )
    url = f"postgresql://postgres@127.0.0.1:{port}/massagebot"

    def ready() -> bool:
        try:
            psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres", connect_timeout=2).close()
            return True
        except psycopg2.Error:
            return False

    server = [str(binaries / "postgres"), "-D", str(data), "-p", str(port), "-k", str(data)]
    settings = ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200"]
    service = Service(
        "PostgreSQL", [*server, *settings], folder / "postgres.log", ready, postgres_user(),
        stop_signal=signal.SIGINT,  # "fast" shutdown: does not wait for clients to leave
    )  # fmt: skip
    service.start()
    admin = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    admin.cursor().execute("CREATE DATABASE massagebot")
    admin.close()
    return service, url


# --- the bot under the supervisor ----------------------------------------------------------------


def newest_model() -> Path:
    models = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise SystemExit("No trained model in models/: run `make train` first.")
    return models[-1]


@contextmanager
def serve_bot(
    model: Path, folder: Path, database_url: str, redis_url: str
) -> Iterator[tuple[str, subprocess.Popen, Path]]:
    from bot.clinic.db import get_engine, migrate
    from bot.clinic.faq import import_faq

    migrate(database_url)
    import_faq(database_url, ROOT / "data" / "faq.yml")
    get_engine(database_url).dispose()
    port, action_port = free_port(), free_port()
    env = {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "MASSAGEBOT_HOME": str(ROOT),
        "CLINIC_FILE": str(ROOT / "data" / "clinic.yml"),
        "DATABASE_URL": database_url,
        "TRACKER_STORE_URL": database_url,
        "REDIS_URL": redis_url,
        "LOCK_STORE_KEY_PREFIX": "chaos",
        "SANIC_WORKERS": "2",
        "ACTION_SERVER_URL": f"http://127.0.0.1:{action_port}/webhook",
        "DATABASE_TIMEOUT_SECONDS": "5",
        "ACTION_TIMEOUT_SECONDS": "5",
        "RATE_LIMIT_SENDER": "0",
        "RATE_LIMIT_IP": "0",
        "RATE_LIMIT_SESSIONS": "0",
    }
    log = folder / "serve.log"
    command = [sys.executable, "-m", "bot", "serve", "--model", str(model)]
    command += ["--port", str(port), "--action-port", str(action_port)]
    with log.open("ab") as out:
        serve = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        end = time.monotonic() + 900
        while "The bot is up" not in log.read_text(errors="replace"):
            if serve.poll() is not None or time.monotonic() > end:
                raise RuntimeError(f"the bot did not come up; see {log}")
            time.sleep(0.5)
        yield f"http://127.0.0.1:{port}", serve, log
    finally:
        serve.send_signal(signal.SIGTERM)
        try:
            serve.wait(60)
        except subprocess.TimeoutExpired:
            serve.kill()
            serve.wait()


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def part_pids(serve: subprocess.Popen, needle: str) -> list[int]:
    return [pid for pid in process_tree([serve.pid]) if needle in cmdline(pid)]


def rasa_worker(serve: subprocess.Popen) -> list[int]:
    """One Sanic worker of Rasa (a forked child of Rasa's main process), or the main process
    when Rasa runs a single worker in-process."""
    rasa = part_pids(serve, "bot.rasa_adapter.server")
    tree = process_tree(rasa)
    workers = [pid for pid in rasa if int(tree[pid][1]) in rasa]
    return workers[:1] or rasa[:1]


# --- the clients ---------------------------------------------------------------------------------


@dataclass
class Sent:
    sender: str
    text: str
    at: float  # monotonic, when sent
    wall: float  # time.time(), when sent
    latency: float | None = None  # None: no answer at all (error or client timeout)
    status: int | None = None
    replies: str = ""

    @property
    def answered(self) -> bool:
        """An answer, in time: the bot's replies, or a busy answer (HTTP 503)."""
        if self.latency is None or self.latency > ANSWER_WITHIN:
            return False
        return (self.status == 200 and bool(self.replies)) or self.status == 503

    @property
    def polite(self) -> bool:
        return self.answered and (self.status == 503 or bool(POLITE.search(self.replies)))


class Traffic:
    """Ten clients in free text, and the probe; every message sent is kept."""

    def __init__(self, url: str, seed: int = 7) -> None:
        self.url = f"{url}/webhooks/rest/webhook"
        self.sent: list[Sent] = []
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.seed = seed
        self.threads: list[threading.Thread] = []

    def send(self, session: requests.Session, sender: str, text: str) -> Sent:
        record = Sent(sender, text, time.monotonic(), time.time())
        with self.lock:
            self.sent.append(record)
        try:
            response = session.post(
                self.url, json={"sender": sender, "message": text}, timeout=CLIENT_TIMEOUT
            )
            record.status = response.status_code
            if response.status_code == 200:
                record.replies = "\n".join(r.get("text") or "" for r in response.json())
            record.latency = time.monotonic() - record.at
        except (requests.RequestException, ValueError):
            pass
        return record

    def client(self, index: int) -> None:
        rng = random.Random(self.seed * 100 + index)
        session = requests.Session()
        conversation = 0
        while not self.done.is_set():
            conversation += 1
            sender = f"chaos-{index}-{conversation}"
            if conversation % 2:
                script = [
                    f"can i book a 30 min back massage next {rng.choice(WEEKDAYS)} at "
                    f"{rng.randint(9, 16)}:{rng.choice(('00', '15', '30', '45'))}",
                    rng.choice(NAMES),
                    f"07400 {rng.randint(100000, 999999)}",
                    "no thanks",
                    "yes please",
                ]
            else:
                script = rng.sample(QUESTIONS, 4)
            for text in script:
                if self.done.is_set():
                    return
                self.send(session, sender, text)
                time.sleep(rng.uniform(0.5, 1.5))  # the client reads and types

    def probe(self, answers: list[Sent]) -> None:
        session, n = requests.Session(), 0
        while not self.done.is_set():
            n += 1
            answers.append(self.send(session, f"probe-{n}", PROBE))
            time.sleep(0.5)

    def start(self, probe_answers: list[Sent]) -> None:
        self.threads = [
            threading.Thread(target=self.client, args=(i,), daemon=True) for i in range(CLIENTS)
        ]
        self.threads.append(threading.Thread(target=self.probe, args=(probe_answers,), daemon=True))
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        self.done.set()
        for thread in self.threads:
            thread.join(CLIENT_TIMEOUT + 5)


# --- the faults ----------------------------------------------------------------------------------


@dataclass
class Fault:
    name: str
    started: float  # monotonic
    ended: float = 0.0  # SIGCONT sent, or the kill done
    recovered: float | None = None
    until: float = 0.0  # the next fault's start
    wall_started: float = 0.0
    wall_until: float = 0.0
    note: str = ""


def signal_all(pids: list[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


def wait_recovered(fault: Fault, probes: list[Sent], limit: float = 120.0) -> None:
    """The probe's first normal answer to a message sent after the fault ended."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        for sent in list(probes):
            if (
                sent.at >= fault.ended
                and sent.answered
                and not sent.polite
                and sent.latency is not None
            ):
                fault.recovered = sent.at + sent.latency
                return
        time.sleep(0.2)


def percentile(values: list[float], p: float) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# --- the checks after the run --------------------------------------------------------------------


def stored_user_texts(database_url: str) -> dict[str, Counter[str]]:
    from sqlalchemy import text

    from bot.clinic.db import get_engine

    stored: dict[str, Counter[str]] = {}
    with get_engine(database_url).connect() as connection:
        rows = connection.execute(
            text("SELECT sender_id, data FROM events WHERE type_name = 'user'")
        )
        for sender, data in rows:
            client = sender.split(":", 1)[1] if sender.startswith("rest:") else sender  # channel
            stored.setdefault(client, Counter())[json.loads(data).get("text") or ""] += 1
    return stored


def lost_messages(sent: list[Sent], database_url: str) -> list[Sent]:
    """Messages the client got an answer to (HTTP 200) that are not in their conversation,
    unless the answer said the message was not taken."""
    stored = stored_user_texts(database_url)
    lost = []
    for record in sent:
        if record.status != 200 or NOT_TAKEN in record.replies:
            continue
        kept = stored.get(record.sender, Counter())
        if kept[record.text] > 0:
            kept[record.text] -= 1
        else:
            lost.append(record)
    return lost


def inconsistent_bookings(sent: list[Sent], database_url: str) -> list[float]:
    """When (wall time) each inconsistency arose: a reference a client was given that is not
    stored as a live booking with its slots; a live booking without slots; slots of a booking
    that is gone or cancelled."""
    from sqlalchemy import select

    from bot.clinic.db import session_scope
    from bot.clinic.models import Booking, BookingSlot

    found: list[float] = []
    with session_scope(database_url) as session:
        bookings = {b.id: b for b in session.execute(select(Booking)).scalars()}
        slots = Counter(s.booking_id for s in session.execute(select(BookingSlot)).scalars())
        by_reference = {b.reference: b for b in bookings.values()}
        for booking in bookings.values():
            if booking.status != "cancelled" and not slots[booking.id]:
                found.append(booking.created_at.timestamp())
        for booking_id in slots:
            booking = bookings.get(booking_id)
            if booking is None or booking.status == "cancelled":
                found.append(booking.created_at.timestamp() if booking else 0.0)
        for record in sent:
            for reference in set(REFERENCE.findall(record.replies)):
                if reference not in by_reference and "reference is" in record.replies:
                    found.append(record.wall)
    return found


def booked_references(sent: list[Sent]) -> int:
    return sum(1 for r in sent if "Your reference is" in r.replies)


# --- the run -------------------------------------------------------------------------------------


@dataclass
class Row:
    fault: str
    sent: int
    answered: int
    polite: int
    p95_during: float | None
    p95_after: float | None
    recovery: float | None
    lost: int
    inconsistent: int
    booked: int
    note: str = ""


def rows_for(
    faults: list[Fault], sent: list[Sent], lost: list[Sent], inconsistent: list[float]
) -> list[Row]:
    rows = []
    for fault in faults:
        window = [s for s in sent if fault.started <= s.at < fault.until]
        recovered = fault.recovered or fault.until
        during = [s.latency for s in window if s.at < recovered and s.latency is not None]
        after = [s.latency for s in window if s.at >= recovered and s.latency is not None]
        rows.append(
            Row(
                fault.name,
                len(window),
                sum(s.answered for s in window),
                sum(s.polite for s in window),
                percentile(during, 95),
                percentile(after, 95),
                None
                if fault.recovered is None or fault.name.startswith("none")
                else max(0.0, fault.recovered - fault.ended),
                sum(1 for s in lost if fault.started <= s.at < fault.until),
                sum(1 for t in inconsistent if fault.wall_started <= t < fault.wall_until),
                booked_references(window),
                fault.note,
            )
        )
    return rows


def seconds(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def table(rows: list[Row]) -> str:
    header = (
        "| fault | sent | answered ≤10 s | of which polite | p95 during (s) | p95 after (s) "
        "| recovery (s) | events lost | bookings inconsistent | bookings made |"
    )
    lines = [header, "|" + "---|" * 10]
    for row in rows:
        lines.append(
            f"| {row.fault} | {row.sent} | {row.answered} | {row.polite} "
            f"| {seconds(row.p95_during)} | {seconds(row.p95_after)} | {seconds(row.recovery)} "
            f"| {row.lost} | {row.inconsistent} | {row.booked} |"
        )
    return "\n".join(lines)


def verdict(rows: list[Row]) -> list[str]:
    problems = []
    for row in rows:
        missed = row.sent - row.answered
        if missed:
            problems.append(f"{row.fault}: {missed} message(s) not answered within 10 s")
        if not row.fault.startswith("none") and (row.recovery is None or row.recovery > 10):
            problems.append(f"{row.fault}: recovery {seconds(row.recovery)} s (target ≤ 10 s)")
        if row.lost:
            problems.append(f"{row.fault}: {row.lost} event(s) lost")
        if row.inconsistent:
            problems.append(f"{row.fault}: {row.inconsistent} inconsistent booking(s)")
    return problems


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--pause", type=float, default=8.0, help="seconds a part stays stopped")
    parser.add_argument("--settle", type=float, default=8.0, help="seconds after recovery")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    args = parser.parse_args(argv)
    model = args.model or newest_model()
    # SIGTERM (a timeout, an impatient shell) stops the bot and the servers like Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    folder = Path(tempfile.mkdtemp(prefix="massagebot-chaos-"))
    print(f"Chaos run in {folder} (model {model.name})", flush=True)
    services: list[Service] = []
    try:
        redis_service, redis_url = start_redis(folder)
        services.append(redis_service)
        postgres, database_url = start_postgres(folder)
        services.append(postgres)
        with serve_bot(model, folder, database_url, redis_url) as (url, serve, log):
            print("The bot is up; 10 clients start talking.", flush=True)
            faults, sent = run_faults(url, serve, redis_service, postgres, args.pause, args.settle)
            supervisor_lines = [
                line
                for line in log.read_text(errors="replace").splitlines()
                if "[supervisor]" in line
            ]
        lost = lost_messages(sent, database_url)
        inconsistent = inconsistent_bookings(sent, database_url)
        rows = rows_for(faults, sent, lost, inconsistent)
        from bot.clinic.db import get_engine

        get_engine(database_url).dispose()
    finally:
        for service in reversed(services):
            service.stop()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    report(rows, faults, supervisor_lines, args)
    return 0


def run_faults(
    url: str,
    serve: subprocess.Popen,
    redis_service: Service,
    postgres: Service,
    pause: float,
    settle: float,
) -> tuple[list[Fault], list[Sent]]:
    probes: list[Sent] = []
    traffic = Traffic(url)
    traffic.start(probes)
    parts: list[tuple[str, Callable[[], list[int]], Service | None]] = [
        ("action server", lambda: part_pids(serve, "bot.rasa_adapter.action_server"), None),
        ("outbox deliverer", lambda: part_pids(serve, "outbox deliver"), None),
        ("one Rasa worker", lambda: rasa_worker(serve), None),
        ("Redis", redis_service.pids, redis_service),
        ("PostgreSQL", postgres.pids, postgres),
    ]
    faults: list[Fault] = []

    def begin(name: str) -> Fault:
        now = time.monotonic()
        if faults:
            faults[-1].until, faults[-1].wall_until = now, time.time()
        fault = Fault(name, now, wall_started=time.time())
        faults.append(fault)
        print(f"  {name} …", flush=True)
        return fault

    try:
        baseline = begin("none (baseline)")
        baseline.ended = baseline.recovered = baseline.started  # all of it counts as "after"
        time.sleep(settle)
        for name, pids_of, service in parts:
            pids = pids_of()
            fault = begin(f"{name}: SIGSTOP {pause:g} s, SIGCONT")
            signal_all(pids, signal.SIGSTOP)
            time.sleep(pause)
            signal_all(pids, signal.SIGCONT)
            fault.ended = time.monotonic()
            wait_recovered(fault, probes)
            time.sleep(settle)

            pids = pids_of()
            fault = begin(f"{name}: SIGKILL")
            signal_all(pids, signal.SIGKILL)
            fault.ended = time.monotonic()
            if service is not None:  # compose's `restart: always`
                assert service.process is not None
                service.process.wait(30)
                time.sleep(1.0)
                service.start()
            wait_recovered(fault, probes)
            time.sleep(settle)
        end = time.monotonic()
        faults[-1].until, faults[-1].wall_until = end, time.time()
    finally:
        traffic.stop()
    return faults, traffic.sent


def report(rows: list[Row], faults: list[Fault], supervisor: list[str], args: Any) -> None:
    text = table(rows)
    problems = verdict(rows)
    lines = [
        "# Chaos run",
        "",
        f"`make chaos` (bench/chaos.py), {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: "
        f"{CLIENTS} clients in free text plus a probe every 0.5 s; each part stopped for "
        f"{args.pause:g} s then killed; {args.settle:g} s of traffic after each recovery.",
        "",
        text,
        "",
        "Targets: every message answered within 10 s, 0 events lost, 0 inconsistent bookings, "
        "recovery within 10 s.",
        "",
    ]
    lines += (
        ["Missed targets:", *[f"- {p}" for p in problems]] if problems else ["All targets met."]
    )
    lines += ["", "What the supervisor did:", "", "```", *supervisor[-40:], "```", ""]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    print(f"(written to {RESULTS.relative_to(ROOT)})")


if __name__ == "__main__":
    sys.exit(main())
