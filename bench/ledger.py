"""Points ledger through the HTTP API, with the server run as in production (not runserver).

Prints: awards per second (single ``POST /points/award`` and ``POST /points/award-bulk``), and p50/p99
latency of balance reads (``GET /points/<customer id>``) and of redemptions (``POST /points/redeem``) at
``--clients`` concurrent closed-loop clients (32 by default), and for each phase the CPU milliseconds per
request of the server, of PostgreSQL (the database's backends, when they run on this machine) and of this
load generator: the three share the machine's cores, so the CPU per request is the figure that holds when
other work slows the wall-clock throughput down.

Usage: .venv/bin/python bench/ledger.py [--server gunicorn|gthread|uvicorn] [--workers N] [--threads 1]
                                         [--members 2000] [--seconds 10] [--clients 32] [--pool 0]
                                         [--only award,bulk,balance,redeem] [--log-level INFO]

It provisions a scratch tenant (``benchledger``) in the development database (DATABASE_URL, or the embedded
server), its members holding 1000 points each, and starts its own server process with the production
settings: by default gunicorn's sync workers, as the image runs them (Dockerfile CMD), with production's
log level (one JSON access line per request, into the server log); or gthread workers, or uvicorn workers on
ASGI. HTTPS is vouched for with X-Forwarded-Proto as a proxy would. It runs the phases, then stops the server
and drops the tenant. The per-user API throttle is raised for the run (the bench is one user); everything
else is production's. Every answer's status is checked: errors are counted and printed.

The client is a lean HTTP/1.1 one (asyncio streams, keep-alive when the server keeps connections open,
requests encoded ahead): an HTTP library would spend the CPU the server needs. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "incentiva.settings.local")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django

django.setup()

from cryptography.fernet import Fernet  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402

from apps.accounts.services import auth_tokens_issue, user_create  # noqa: E402
from apps.loyalty import services  # noqa: E402
from apps.loyalty.models import Member  # noqa: E402
from apps.tenants.models import Client  # noqa: E402
from apps.tenants.services import platform_bootstrap, tenant_delete, tenant_provision  # noqa: E402

SLUG = "benchledger"
HOST = f"{SLUG}.localhost"
PREFIX = "/api/loyalty-referral"
ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def setup(members: int) -> tuple[str, list[str], str]:
    """A fresh tenant with a program, ``members`` members holding 1000 points each (so that no redemption is
    refused, whatever the award phase managed) and a 1-point reward; returns a JWT access token, the customer
    ids and the reward id."""
    platform_bootstrap()
    existing = Client.objects.filter(schema_name=SLUG).first()
    if existing:
        tenant_delete(tenant=existing)
    tenant_provision(slug=SLUG, name="Ledger bench", admin_email=f"owner@{SLUG}.test",
                     admin_password=secrets.token_urlsafe(16))
    with schema_context(SLUG):
        program = services.program_create(name="Bench", status="active", currency="USD")
        rows = [services.MemberInput(customer_id=f"B{index:06d}", email=f"b{index}@example.test")
                for index in range(members)]
        services.members_import(program=program, members=rows)
        with transaction.atomic():
            for member in Member.objects.filter(program=program).select_related("program"):
                services.points_award(member=member, points=1000, source="signup",
                                      idempotency_key=f"bench-seed-{member.pk}")
        reward = services.reward_create(program=program, name="One point", points_cost=1)
        user = user_create(email=f"bench-{uuid.uuid4().hex[:6]}@{SLUG}.test", password=None, role="admin",
                           email_verified=True)
        token = auth_tokens_issue(user=user).access
    connection.set_schema_to_public()
    return token, [row.customer_id for row in rows], str(reward.pk)


def start_server(kind: str, workers: int, port: int, log: Path, pool: int = 0, threads: int = 1,
                 log_level: str = "INFO") -> subprocess.Popen:
    bindir = Path(sys.executable).parent
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "incentiva.settings.production",
        "DATABASE_URL": settings.DATABASE_URL,
        "REDIS_URL": settings.REDIS_URL,
        "SECRET_KEY": secrets.token_urlsafe(64),
        # The bench minted its token with this process's key: the server must verify with the same one.
        "JWT_SIGNING_KEY": settings.SIMPLE_JWT["SIGNING_KEY"],
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": ".localhost,127.0.0.1",
        "THROTTLE_USER": "100000000/min",
        # WSGI workers keep their connection; ASGI workers get one per request unless pooled (--pool N).
        "CONN_MAX_AGE": "0" if kind == "uvicorn" or pool else "60",
        "DATABASE_POOL_MAX_SIZE": str(pool),
        # Production's level: one JSON access line per request (into the server log file) is part of the cost.
        "LOG_LEVEL": log_level,
    }
    if kind in ("gunicorn", "gthread"):
        # "gunicorn" is what the image runs (Dockerfile CMD): sync workers, the same options.
        command = [str(bindir / "gunicorn"), "incentiva.wsgi:application", "--workers", str(workers),
                   "--bind", f"127.0.0.1:{port}", "--worker-class", "sync" if kind == "gunicorn" else "gthread",
                   "--threads", str(threads), "--keep-alive", "30", "--worker-tmp-dir", "/dev/shm",
                   "--no-control-socket", "--timeout", "30", "--log-level", "warning"]
    else:
        command = [str(bindir / "uvicorn"), "incentiva.asgi:application", "--workers", str(workers), "--host",
                   "127.0.0.1", "--port", str(port), "--lifespan", "off", "--no-access-log", "--log-level",
                   "warning"]
    handle = log.open("w")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
                               start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}; see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:
                if answer.status == 200:
                    return process
        except OSError:
            time.sleep(0.3)
    stop_server(process)
    raise SystemExit(f"the server did not answer within 60 s; see {log}")


def _session_ticks(session: int) -> int:
    """CPU ticks (user + system) used so far by the processes of a session (Linux /proc; 0 elsewhere)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended meanwhile
        # fields[0] is the state (field 3 of proc(5)): the session id is field 6, utime/stime 14/15.
        if int(fields[3]) == session:
            total += int(fields[11]) + int(fields[12])
    return total


def server_cpu_seconds(process: subprocess.Popen) -> float:
    """CPU time (user + system) used so far by the server's processes (its session: master and workers).

    Divided by the requests of a phase, it is the app's CPU cost per request, a figure that holds even when
    other work on the machine slows the wall-clock throughput down. Ended workers' time is lost: the bench
    restarts none (no max-requests)."""
    return _session_ticks(process.pid) / os.sysconf("SC_CLK_TCK")


def client_cpu_seconds() -> float:
    """CPU time (user + system) of this process: the load generator's own cost, which shares the cores."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def database_ticks() -> dict[int, int]:
    """CPU ticks used so far by each PostgreSQL backend serving this database (but the bench's own), when the
    server runs on this machine (its processes readable in /proc); empty otherwise. Backends that end during a
    phase are lost, so this is a floor; other users of the same database would be counted too."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                       "AND pid <> pg_backend_pid()")
        pids = [row[0] for row in cursor.fetchall()]
    ticks = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        ticks[pid] = int(fields[11]) + int(fields[12])
    return ticks


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


class HTTPError(Exception):
    """The server broke the protocol or the connection (counted as status 0)."""


class Connection:
    """One keep-alive HTTP/1.1 connection, written raw over asyncio streams.

    The load generator runs on the same 2 cores as the server, so it must cost little: no HTTP library,
    requests pre-encoded, and only what is needed of each answer read (status line, Content-Length or
    chunked body, ``Connection: close``). A server that closes after each answer (gunicorn's sync worker
    does) gets a new connection for the next request, and that cost is in the measured latency."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, data: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        reader = self.reader
        assert reader is not None
        try:
            self.writer.write(data)
            head = (await reader.readuntil(b"\r\n\r\n")).lower()
            status = int(head[9:12])
            index = head.find(b"\r\ncontent-length:")
            if index >= 0:
                length = int(head[index + 17:head.index(b"\r\n", index + 2)])
                body = await reader.readexactly(length) if length else b""
            elif b"\r\ntransfer-encoding: chunked" in head:
                body = await self._chunked(reader)
            else:
                body = await reader.read()  # delimited by the end of the connection
                head += b"\r\nconnection: close"
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
            self.close()
            raise HTTPError(str(exc)) from exc
        if b"\r\nconnection: close" in head:
            self.close()
        return status, body

    @staticmethod
    async def _chunked(reader: asyncio.StreamReader) -> bytes:
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append((await reader.readexactly(size + 2))[:-2])

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class Bench:
    def __init__(self, port: int, token: str, clients: int) -> None:
        self.port = port
        self.clients = clients
        self.common = (f"Host: {HOST}\r\nAuthorization: Bearer {token}\r\nX-Forwarded-Proto: https\r\n"
                       "Connection: keep-alive\r\n").encode()
        self.errors: dict[int, int] = {}

    def encode(self, method: str, path: str, body: object = None, headers: dict[str, str] | None = None) -> bytes:
        """A complete request: the bench's headers (host, bearer token, proxy's HTTPS header) and a JSON body."""
        lines = [f"{method} {PREFIX}{path} HTTP/1.1\r\n".encode(), self.common]
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}\r\n".encode())
        payload = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        if body is not None:
            lines.append(b"Content-Type: application/json\r\n")
        lines.append(f"Content-Length: {len(payload)}\r\n\r\n".encode())
        lines.append(payload)
        return b"".join(lines)

    def phase(self, process: subprocess.Popen, *, seconds: float, make) -> Phase:
        """Run one phase: its latencies, and the CPU milliseconds per request of the server, of PostgreSQL
        (its backends for this database) and of this client."""
        server, client, database = server_cpu_seconds(process), client_cpu_seconds(), database_ticks()
        latencies = run_loop(self.run(seconds=seconds, make=make))
        count = max(len(latencies), 1)
        after = database_ticks()
        database_ms = (sum(ticks - database.get(pid, 0) for pid, ticks in after.items())
                       / os.sysconf("SC_CLK_TCK") * 1000 / count) if after else None
        return Phase(latencies, (server_cpu_seconds(process) - server) * 1000 / count, database_ms,
                     (client_cpu_seconds() - client) * 1000 / count, seconds)

    async def run(self, *, seconds: float, make) -> list[float]:
        """``clients`` closed loops, each on its own connection, sending ``make(n)`` (encoded request bytes)
        for ``seconds`` and checking every answer's status; their latencies."""
        latencies: list[float] = []
        counter = iter(range(10**9))
        deadline = time.perf_counter() + seconds
        errors = self.errors

        async def loop() -> None:
            connection = Connection(self.port)
            try:
                while time.perf_counter() < deadline:
                    data = make(next(counter))
                    started = time.perf_counter()
                    try:
                        async with asyncio.timeout(30):
                            status, _body = await connection.request(data)
                    except (HTTPError, TimeoutError):
                        connection.close()
                        status = 0  # counted as an error ("0": no answer, or a broken one)
                    latencies.append(time.perf_counter() - started)
                    if status >= 400 or status == 0:
                        errors[status] = errors.get(status, 0) + 1
            finally:
                connection.close()

        await asyncio.gather(*(loop() for _index in range(self.clients)))
        return latencies


def run_loop(coroutine):  # type: ignore[no-untyped-def]
    """uvloop when installed (it comes with uvicorn[standard]): half the client CPU of the default loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


@dataclass
class Phase:
    latencies: list[float]
    server_cpu_ms: float
    database_cpu_ms: float | None
    client_cpu_ms: float
    seconds: float

    def line(self, label: str, unit: str = "req/s", per_request: int = 1) -> str:
        """One result line: rate, p50/p99 latency, and the server's, PostgreSQL's and the client's CPU per
        request (together they share the machine's cores)."""
        rate = len(self.latencies) * per_request / self.seconds
        database = f"{self.database_cpu_ms:4.1f}" if self.database_cpu_ms is not None else " n/a"
        return (f"  {label:<18s} {rate:7.1f} {unit:<8s} p50 {_pct(self.latencies, 50):6.1f} ms  "
                f"p99 {_pct(self.latencies, 99):6.1f} ms   CPU ms/req: server {self.server_cpu_ms:4.1f}  "
                f"db {database}  client {self.client_cpu_ms:4.2f}")


class Lines(list):
    """Prints each result as soon as it is known (a phase takes --seconds)."""

    def append(self, line: str) -> None:
        print(line, flush=True)
        super().append(line)


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000 if len(values) >= 2 else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", choices=["gunicorn", "gthread", "uvicorn"], default="gunicorn",
                        help="gunicorn: sync workers, as the image runs (default); gthread; uvicorn (ASGI)")
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)) + 1,
                        help="server processes (default: as the image, the usable CPUs plus one)")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (gthread)")
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--bulk-size", type=int, default=100)
    parser.add_argument("--pool", type=int, default=0, help="DATABASE_POOL_MAX_SIZE per worker (0: no pool)")
    parser.add_argument("--only", default="", help="comma-separated phases to run: award,bulk,balance,redeem")
    parser.add_argument("--log-level", default="INFO", help="the server's LOG_LEVEL (production's is INFO)")
    args = parser.parse_args()
    phases = set(args.only.split(",")) if args.only else {"award", "bulk", "balance", "redeem"}

    print(f"setting up tenant {SLUG} with {args.members} members…", flush=True)
    token, customers, reward = setup(args.members)
    port = _free_port()
    log = Path(tempfile.gettempdir()) / f"bench-ledger-{port}.log"
    process = start_server(args.server, args.workers, port, log, args.pool, args.threads, args.log_level)
    bench = Bench(port, token, args.clients)
    run_id = uuid.uuid4().hex[:8]
    try:
        def award(n: int) -> bytes:
            return bench.encode("POST", "/points/award",
                                {"customer_id": customers[n % len(customers)], "points": 5, "source": "campaign"},
                                {"Idempotency-Key": f"{run_id}-a-{n}"})

        def award_bulk(n: int) -> bytes:
            awards = [{"customer_id": customers[(n * args.bulk_size + i) % len(customers)], "points": 5,
                       "key": f"{run_id}-b-{n}-{i}"} for i in range(args.bulk_size)]
            return bench.encode("POST", "/points/award-bulk", {"awards": awards},
                                {"Idempotency-Key": f"{run_id}-b-{n}"})

        balances = [bench.encode("GET", f"/points/{customer}") for customer in customers]

        def balance(n: int) -> bytes:
            return balances[n % len(balances)]

        def redeem(n: int) -> bytes:
            return bench.encode("POST", "/points/redeem",
                                {"customer_id": customers[n % len(customers)], "reward": reward},
                                {"Idempotency-Key": f"{run_id}-r-{n}"})

        run_loop(bench.run(seconds=2, make=balance))  # warm-up: imports, connections, caches
        if bench.errors:
            raise SystemExit(f"the warm-up requests failed: {bench.errors}; see {log}")
        lines = Lines()
        server = f"{args.server} × {args.workers} workers" + (f" × {args.threads} threads" if args.threads > 1 else "")
        lines.append(f"ledger bench: {server}{f' (pool of {args.pool})' if args.pool else ''}, {os.cpu_count()} "
                     f"cores, {args.clients} concurrent clients, {args.seconds:.0f} s per phase")
        if "award" in phases:
            lines.append(bench.phase(process, seconds=args.seconds, make=award).line("awards, single", "awards/s"))
        if "bulk" in phases:
            lines.append(bench.phase(process, seconds=args.seconds, make=award_bulk).line(
                f"awards, bulk ×{args.bulk_size}", "awards/s", per_request=args.bulk_size))
        if "balance" in phases:
            lines.append(bench.phase(process, seconds=args.seconds, make=balance).line("balance reads"))
        if "redeem" in phases:
            lines.append(bench.phase(process, seconds=args.seconds, make=redeem).line("redemptions"))
        lines.append(f"  load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (other work slows the "
                     "wall-clock figures, not the CPU per request)")
        lines.append(f"  errors: {bench.errors or 'none'}   (server log: {log})")
        if bench.errors:
            lines.append("  (figures with errors are not comparable: check the server log)")

    finally:
        stop_server(process)
        tenant = Client.objects.filter(schema_name=SLUG).first()
        if tenant:
            tenant_delete(tenant=tenant)


if __name__ == "__main__":
    main()
