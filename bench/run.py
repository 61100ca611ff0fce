"""Benchmark our bot against Rasa's stock `rasa init` bot and print the numbers side by side.

Both are trained (the stock one once, in var/bench/stock), served on free ports and driven over
the REST channel the way clients use it. Ours runs as in production: our launcher with two
workers and the Redis lock store (as deploy/docker-compose.yml; one worker if no Redis answers),
the action server, the FAQ database (SQLite) and the SQL tracker store are all in the loop. The
stock bot answers from its domain only (it has no custom actions).

Measured per bot:
- cold start: process start until the REST channel answers (the model is loaded by then);
- resident memory: PSS of the whole process tree (Rasa and its workers, plus the action server
  for ours), which counts pages the processes share once; their RSS summed is shown too;
- latency p50/p95 with 1 client and with 10 concurrent clients, and messages per second at 10;
- p95 over the first 20 turns of 200-turn conversations against their last 20 turns.
And once, after the bots: how long checking an action server's answer takes with Rasa's check
and with our compiled one.

This is a benchmark, not a test: it prints numbers and exits 0. On a machine shared with other
work the numbers move a lot; run it on an idle machine for figures worth comparing.

    python -m bench [--ours-model models/x.tar.gz] [--ours-env SANIC_WORKERS=1] [--skip-stock]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

from bot.rasa_adapter.serve import free_port, process_tree, running, serving

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "bench"

OUR_MESSAGES = (
    "hello",
    "does massage help with back pain?",
    "what are the benefits of massage",
    "can it help me sleep better",
    "how many sessions will I need",
    "what should I expect at my first appointment",
    "what types of massage do you offer",
    "what are your opening hours",
    "where are you",
    "thanks",
)
STOCK_MESSAGES = (
    "hello",
    "I am feeling sad",
    "yes",
    "great",
    "are you a bot?",
    "no",
    "bye",
    "hi there",
    "very good",
    "thank you",
)
TARGETS = {
    "cold start (s)": ("≤", 10.0),
    "resident memory (MB)": ("≤", 700.0),
    "1 client p50 (ms)": ("≤", 30.0),
    "10 clients p95 (ms)": ("≤", 200.0),
    "10 clients msg/s": ("≥", 80.0),
    "turn 200 / turn 1 p95": ("≤", 1.2),
}


# --- processes -----------------------------------------------------------------------------------


def tree_memory_mb(pids: Sequence[int]) -> tuple[float, float]:
    """Resident memory of the processes and all their descendants: (PSS, RSS) summed.

    Forked workers share the model's pages; RSS counts a shared page in every process that maps
    it, PSS (the kernel's proportional set size) divides it among them, so the sum of PSS is
    what the tree costs the machine. For a single process the two are nearly equal.
    """
    pss_kb = 0
    tree = process_tree(pids)
    for pid in tree:
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        pss_kb += next(
            int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:")
        )
    rss_pages = sum(int(fields[21]) for fields in tree.values())
    return pss_kb / 2**10, rss_pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def tree_cpu_seconds(pids: Sequence[int]) -> float:
    """CPU time (user + system) used so far by the processes and their descendants.

    It varies less than latency when other work shares the machine, but on a virtual machine
    it still moves by a third between runs.
    """
    ticks = os.sysconf("SC_CLK_TCK")
    fields = process_tree(pids).values()
    return sum(int(f[11]) + int(f[12]) for f in fields) / ticks  # utime, stime


def own_cpu_seconds() -> float:
    """CPU time of this process (the clients' threads): it shares the cores with the bot."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def base_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "RATE_LIMIT_SENDER": "0",
            "RATE_LIMIT_IP": "0",
        }
    )
    env.update(extra or {})
    return env


@dataclass
class Served:
    url: str
    processes: list[subprocess.Popen]
    cold_start: float


@contextmanager
def serve_stock(model_dir: Path, log: Path) -> Iterator[Served]:
    port = free_port()
    command = [sys.executable, "-m", "rasa", "run", "--port", str(port), "--model", "models"]
    url = f"http://127.0.0.1:{port}"
    log.unlink(missing_ok=True)
    started = time.monotonic()
    with serving(
        command, f"{url}/webhooks/rest/", base_env(), log,
        cwd=model_dir, timeout=900, interval=0.1, grace=15,
    ) as process:  # fmt: skip
        yield Served(url, [process], time.monotonic() - started)


@contextmanager
def serve_ours(model: Path, extra_env: dict[str, str], log: Path) -> Iterator[Served]:
    from bot.clinic.db import migrate
    from bot.clinic.faq import import_faq

    folder = WORK / "ours"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    database = f"sqlite:///{folder / 'massagebot.db'}"
    migrate(database)
    import_faq(database, ROOT / "data" / "faq.yml")
    port, action_port = free_port(), free_port()
    endpoints = folder / "endpoints.yml"
    endpoints.write_text(f'action_endpoint:\n  url: "http://127.0.0.1:{action_port}/webhook"\n')
    env = base_env(
        {
            "DATABASE_URL": database,
            "TRACKER_STORE_URL": f"sqlite:///{folder / 'tracker.db'}",
            "MASSAGEBOT_HOME": str(ROOT),
            **extra_env,
        }
    )
    log.unlink(missing_ok=True)
    started = time.monotonic()
    with running(
        model, port, action_port, endpoints, ROOT / "credentials.yml", env,
        log=log, cwd=ROOT, timeout=900, interval=0.1, grace=15,
    ) as (actions, rasa):  # fmt: skip
        yield Served(f"http://127.0.0.1:{port}", [rasa, actions], time.monotonic() - started)


# --- load ----------------------------------------------------------------------------------------


@dataclass
class Samples:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000


class Client:
    def __init__(self, url: str) -> None:
        self.url = f"{url}/webhooks/rest/webhook"
        self.session = requests.Session()

    def send(self, sender: str, text: str) -> float:
        started = time.perf_counter()
        body = {"sender": sender, "message": text}
        response = self.session.post(self.url, json=body, timeout=120)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"{response.status_code}: {response.text[:200]}")
        return elapsed


def conversation(
    client: Client, sender: str, messages: Sequence[str], turns: int, samples: Samples
) -> list[float]:
    per_turn = []
    for turn in range(turns):
        try:
            elapsed = client.send(sender, messages[turn % len(messages)])
        except Exception:
            samples.errors += 1
            continue
        samples.latencies.append(elapsed)
        per_turn.append(elapsed)
    return per_turn


def run_clients(
    url: str, messages: Sequence[str], clients: int, per_client: int, tag: str
) -> tuple[Samples, float]:
    """`clients` threads, each holding conversations of 10 turns; returns samples and msg/s."""
    samples = Samples()
    lock = threading.Lock()

    def work(index: int) -> None:
        client, local = Client(url), Samples()
        for start in range(0, per_client, 10):
            sender = f"{tag}-{index}-{start}"
            conversation(client, sender, messages, min(10, per_client - start), local)
        with lock:
            samples.latencies.extend(local.latencies)
            samples.errors += local.errors

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(work, range(clients)))
    return samples, len(samples.latencies) / (time.perf_counter() - started)


def measure(served: Served, messages: Sequence[str], quick: bool) -> dict[str, float]:
    pss, rss = tree_memory_mb([p.pid for p in served.processes])
    run_clients(served.url, messages, 2, 10, "warmup")
    single, _ = run_clients(served.url, messages, 1, 60 if quick else 200, "one")
    pids = [p.pid for p in served.processes]
    cpu_before = tree_cpu_seconds(pids)
    rasa_before = tree_cpu_seconds(pids[:1])
    client_before = own_cpu_seconds()
    many, rate = run_clients(served.url, messages, 10, 20 if quick else 50, "ten")
    handled = max(1, len(many.latencies))
    cpu_ms = (tree_cpu_seconds(pids) - cpu_before) * 1000 / handled
    rasa_ms = (tree_cpu_seconds(pids[:1]) - rasa_before) * 1000 / handled
    client_ms = (own_cpu_seconds() - client_before) * 1000 / handled
    turns = 60 if quick else 200
    first, last = Samples(), Samples()
    client = Client(served.url)
    for n in range(3):
        per_turn = conversation(client, f"long-{n}", messages, turns, Samples())
        first.latencies += per_turn[:20]
        last.latencies += per_turn[-20:]
    pss_after, rss_after = tree_memory_mb([p.pid for p in served.processes])
    return {
        "cold start (s)": served.cold_start,
        "resident memory (MB)": max(pss, pss_after),
        "  RSS summed over processes (MB)": max(rss, rss_after),
        "1 client p50 (ms)": single.percentile(50),
        "1 client p95 (ms)": single.percentile(95),
        "10 clients p50 (ms)": many.percentile(50),
        "10 clients p95 (ms)": many.percentile(95),
        "10 clients msg/s": rate,
        "CPU per message (ms)": cpu_ms,
        "  of which Rasa (ms)": rasa_ms,
        "msg/s if Rasa had a core": 1000 / rasa_ms if rasa_ms else float("nan"),
        "load generator CPU per message (ms)": client_ms,
        "turns 1-20 p95 (ms)": first.percentile(95),
        f"turns {turns - 19}-{turns} p95 (ms)": last.percentile(95),
        "turn 200 / turn 1 p95": last.percentile(95) / first.percentile(95),
        "errors": float(single.errors + many.errors),
    }


# --- the two bots --------------------------------------------------------------------------------


def stock_project(fresh: bool) -> Path:
    """Rasa's default bot (`rasa init --no-prompt`), trained once and reused."""
    folder = WORK / "stock"
    if fresh:
        shutil.rmtree(folder, ignore_errors=True)
    if not list((folder / "models").glob("*.tar.gz")):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        print("Training Rasa's default bot (rasa init --no-prompt)…", flush=True)
        subprocess.run(
            [sys.executable, "-m", "rasa", "init", "--no-prompt", "--init-dir", str(folder)],
            cwd=folder,
            env=base_env(),
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return folder


def production_env() -> dict[str, str]:
    """Ours as deploy/docker-compose.yml runs it on 2 cores: two Sanic workers sharing the
    model, with the Redis lock store (BENCH_REDIS_URL, default the local Redis). Without a
    Redis it runs one worker, and says so."""
    import redis

    url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        redis.Redis.from_url(url, socket_timeout=2).ping()
    except redis.RedisError as error:
        print(f"No Redis at {url} ({error}): ours runs one worker")
        return {}
    return {"SANIC_WORKERS": "2", "REDIS_URL": url, "LOCK_STORE_KEY_PREFIX": "massagebotbench"}


def our_model(given: Path | None) -> Path:
    if given:
        return given
    models = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise SystemExit("No trained model in models/: run `make train` first.")
    return models[-1]


def action_check_speed(repeat: int = 200) -> tuple[float, float]:
    """Microseconds per check of an action server's answer: Rasa's own check (which builds its
    JSON-schema validator on every call) and ours (compiled once, bot.rasa_adapter.patches).
    Timed in this process after the bots are measured, so the import costs them nothing."""
    from rasa.core.actions.action import RemoteAction

    from bot.rasa_adapter import patches

    action = RemoteAction("action_x", None)
    result = {
        "events": [{"event": "slot", "name": "x", "value": 1}],
        "responses": [{"text": "hello", "buttons": [{"title": "a", "payload": "/b"}]}],
    }
    rasas = RemoteAction._validate_action_result
    if patches.installed():
        rasas = patches.original("RemoteAction._validate_action_result")
    ours = patches.validate_action_result(rasas, patches.PatchSettings())
    timings = []
    for check in (rasas, ours):
        check(action, result)  # the first call compiles ours
        started = time.perf_counter()
        for _ in range(repeat):
            check(action, result)
        timings.append((time.perf_counter() - started) / repeat * 1e6)
    return timings[0], timings[1]


def table(results: dict[str, dict[str, float]]) -> str:
    names = list(results)
    rows = list(next(iter(results.values())))
    lines = [
        f"{'':28}" + "".join(f"{n:>16}" for n in names) + f"{'target':>12}",
    ]
    for row in rows:
        cells = "".join(f"{results[n].get(row, float('nan')):>16.{fmt(row)}f}" for n in names)
        target = TARGETS.get(row)
        goal = f"{target[0]} {target[1]:g}" if target else ""
        lines.append(f"{row:28}{cells}{goal:>12}")
    return "\n".join(lines)


def fmt(row: str) -> int:
    return 2 if "/" in row and "msg" not in row else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--ours-model", type=Path, help="model to serve (default: newest)")
    parser.add_argument(
        "--ours-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="environment for our bot (repeat), over the production defaults; e.g. SANIC_WORKERS=1",
    )
    parser.add_argument("--skip-stock", action="store_true", help="only our bot")
    parser.add_argument("--fresh", action="store_true", help="retrain the stock bot")
    parser.add_argument("--quick", action="store_true", help="fewer messages (a smoke run)")
    args = parser.parse_args(argv)

    WORK.mkdir(parents=True, exist_ok=True)
    extra = {**production_env(), **dict(item.split("=", 1) for item in args.ours_env)}
    load = os.getloadavg()
    print(f"Load average before: {load[0]:.1f} {load[1]:.1f} on {os.cpu_count()} CPUs")
    results: dict[str, dict[str, float]] = {}
    runs: list[tuple[str, Callable[[], object], Sequence[str]]] = []
    if not args.skip_stock:
        folder = stock_project(args.fresh)
        runs.append(("rasa init", lambda: serve_stock(folder, WORK / "stock.log"), STOCK_MESSAGES))
    model = our_model(args.ours_model)
    runs.append(("ours", lambda: serve_ours(model, extra, WORK / "ours.log"), OUR_MESSAGES))
    for name, server, messages in runs:
        print(f"Serving {name}…", flush=True)
        with server() as served:  # type: ignore[attr-defined]
            results[name] = measure(served, messages, args.quick)
        print(f"  done: {results[name]['10 clients msg/s']:.1f} msg/s at 10 clients", flush=True)
    print()
    print(f"Our model: {model.name}; environment: {extra or 'defaults'}")
    print(table(results))
    rasas, ours = action_check_speed()
    print(
        f"\nChecking an action server's answer: Rasa's {rasas:.0f} µs, ours {ours:.0f} µs "
        f"({rasas / ours:.0f}× faster; it was over a third of Rasa's CPU under load)"
    )
    return 0
