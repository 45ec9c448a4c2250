"""Points ledger through the HTTP API, with the server run as in production (not runserver).

Prints: awards per second (single ``POST /points/award`` and ``POST /points/award-bulk``), and p50/p99
latency of balance reads (``GET /points/<customer id>``) and of redemptions (``POST /points/redeem``) at
``--clients`` concurrent clients (32 by default).

Usage: .venv/bin/python bench/ledger.py [--server gunicorn|uvicorn] [--workers 4] [--members 2000]
                                         [--seconds 10] [--clients 32] [--pool 0]

It provisions a scratch tenant (``benchledger``) in the development database (DATABASE_URL, or the embedded
server), starts its own server process with the production settings (gunicorn sync workers on WSGI, or
uvicorn workers on ASGI; HTTPS is vouched for with X-Forwarded-Proto as a proxy would), runs the phases,
then stops the server and drops the tenant. The per-user API throttle is raised for the run (the bench is
one user); everything else is production's. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "incentiva.settings.local")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django

django.setup()

import httpx  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402

from apps.accounts.services import auth_tokens_issue, user_create  # noqa: E402
from apps.loyalty import services  # noqa: E402
from apps.tenants.models import Client  # noqa: E402
from apps.tenants.services import platform_bootstrap, tenant_delete, tenant_provision  # noqa: E402

SLUG = "benchledger"
HOST = f"{SLUG}.localhost"
ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def setup(members: int) -> tuple[str, list[str], str]:
    """A fresh tenant with a program, ``members`` members and a 1-point reward; returns a JWT access token,
    the customer ids and the reward id."""
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
        reward = services.reward_create(program=program, name="One point", points_cost=1)
        user = user_create(email=f"bench-{uuid.uuid4().hex[:6]}@{SLUG}.test", password=None, role="admin",
                           email_verified=True)
        token = auth_tokens_issue(user=user).access
    connection.set_schema_to_public()
    return token, [row.customer_id for row in rows], str(reward.pk)


def start_server(kind: str, workers: int, port: int, log: Path, pool: int = 0) -> subprocess.Popen:
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
        # Sync workers keep their connection; ASGI workers get one per request unless pooled (--pool N).
        "CONN_MAX_AGE": "0" if kind == "uvicorn" or pool else "60",
        "DATABASE_POOL_MAX_SIZE": str(pool),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
    }
    if kind == "gunicorn":
        command = [str(bindir / "gunicorn"), "incentiva.wsgi:application", "--workers", str(workers),
                   "--bind", f"127.0.0.1:{port}", "--worker-class", "sync", "--keep-alive", "30",
                   "--log-level", "warning"]
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
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.3)
    stop_server(process)
    raise SystemExit(f"the server did not answer within 60 s; see {log}")


def server_cpu_seconds(process: subprocess.Popen) -> float:
    """CPU time (user + system) used so far by the server's processes (its session: master and workers).

    Divided by the requests of a phase, it is the app's CPU cost per request, a figure that holds even when
    other work on the machine slows the wall-clock throughput down (Linux /proc; 0 elsewhere)."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended meanwhile
        # fields[0] is the state (field 3 of proc(5)): the session id is field 6, utime/stime 14/15.
        if int(fields[3]) == process.pid:
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


class Bench:
    def __init__(self, base: str, token: str, customers: list[str], reward: str, clients: int) -> None:
        self.base = base
        self.customers = customers
        self.reward = reward
        self.clients = clients
        self.headers = {"Authorization": f"Bearer {token}", "Host": HOST, "X-Forwarded-Proto": "https"}
        self.errors: dict[int, int] = {}

    async def _request(self, client: httpx.AsyncClient, method: str, path: str, **kwargs) -> float:
        started = time.perf_counter()
        try:
            response = await client.request(method, f"{self.base}{path}", **kwargs)
            status = response.status_code
        except httpx.TimeoutException:
            status = 0  # counted as an error ("0": no answer within the timeout)
        elapsed = time.perf_counter() - started
        if status >= 400 or status == 0:
            self.errors[status] = self.errors.get(status, 0) + 1
        return elapsed

    def phase(self, process: subprocess.Popen, *, seconds: float, make) -> tuple[list[float], float]:
        """Run one phase; its latencies and the server's CPU milliseconds per request."""
        cpu = server_cpu_seconds(process)
        latencies = asyncio.run(self.run(seconds=seconds, make=make))
        used = server_cpu_seconds(process) - cpu
        return latencies, used * 1000 / max(len(latencies), 1)

    async def run(self, *, seconds: float, make) -> list[float]:
        """``clients`` loops sending ``make(n)`` → (method, path, kwargs) for ``seconds``; the latencies."""
        latencies: list[float] = []
        counter = iter(range(10**9))
        limits = httpx.Limits(max_connections=self.clients, max_keepalive_connections=self.clients)
        async with httpx.AsyncClient(headers=self.headers, limits=limits, timeout=30) as client:
            deadline = time.perf_counter() + seconds

            async def loop() -> None:
                while time.perf_counter() < deadline:
                    method, path, kwargs = make(next(counter))
                    latencies.append(await self._request(client, method, path, **kwargs))

            await asyncio.gather(*(loop() for _index in range(self.clients)))
        return latencies


class Lines(list):
    """Prints each result as soon as it is known (a phase takes --seconds)."""

    def append(self, line: str) -> None:
        print(line, flush=True)
        super().append(line)


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000 if len(values) >= 2 else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", choices=["gunicorn", "uvicorn"], default="gunicorn")
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--bulk-size", type=int, default=100)
    parser.add_argument("--pool", type=int, default=0, help="DATABASE_POOL_MAX_SIZE per worker (0: no pool)")
    args = parser.parse_args()

    print(f"setting up tenant {SLUG} with {args.members} members…", flush=True)
    token, customers, reward = setup(args.members)
    port = _free_port()
    log = Path(tempfile.gettempdir()) / f"bench-ledger-{port}.log"
    process = start_server(args.server, args.workers, port, log, args.pool)
    base = f"http://127.0.0.1:{port}/api/loyalty-referral"
    bench = Bench(base, token, customers, reward, args.clients)
    run_id = uuid.uuid4().hex[:8]
    try:
        def award(n: int) -> tuple:
            return ("POST", "/points/award", {
                "json": {"customer_id": customers[n % len(customers)], "points": 5, "source": "campaign"},
                "headers": {"Idempotency-Key": f"{run_id}-a-{n}"}})

        def award_bulk(n: int) -> tuple:
            awards = [{"customer_id": customers[(n * args.bulk_size + i) % len(customers)], "points": 5,
                       "key": f"{run_id}-b-{n}-{i}"} for i in range(args.bulk_size)]
            return ("POST", "/points/award-bulk", {"json": {"awards": awards},
                                                    "headers": {"Idempotency-Key": f"{run_id}-b-{n}"}})

        def balance(n: int) -> tuple:
            return ("GET", f"/points/{customers[n % len(customers)]}", {})

        def redeem(n: int) -> tuple:
            return ("POST", "/points/redeem", {
                "json": {"customer_id": customers[n % len(customers)], "reward": reward},
                "headers": {"Idempotency-Key": f"{run_id}-r-{n}"}})

        asyncio.run(bench.run(seconds=2, make=balance))  # warm-up: imports, connections, caches
        if bench.errors:
            raise SystemExit(f"the warm-up requests failed: {bench.errors}; see {log}")
        lines = Lines()
        lines.append(f"ledger bench: {args.server} × {args.workers} workers"
                     f"{f' (pool of {args.pool})' if args.pool else ''}, {os.cpu_count()} cores, "
                     f"{args.clients} concurrent clients, {args.seconds:.0f} s per phase")
        single, cpu = bench.phase(process, seconds=args.seconds, make=award)
        lines.append(f"  awards, single        {len(single) / args.seconds:8.1f} awards/s   "
                     f"p50 {_pct(single, 50):6.1f} ms  p99 {_pct(single, 99):6.1f} ms   server CPU {cpu:5.1f} ms/req")
        bulk, cpu = bench.phase(process, seconds=args.seconds, make=award_bulk)
        lines.append(f"  awards, bulk ×{args.bulk_size:<4d}   {len(bulk) * args.bulk_size / args.seconds:8.1f} "
                     f"awards/s   p50 {_pct(bulk, 50):6.1f} ms  p99 {_pct(bulk, 99):6.1f} ms   server CPU "
                     f"{cpu:5.1f} ms/req (per request)")
        reads, cpu = bench.phase(process, seconds=args.seconds, make=balance)
        lines.append(f"  balance reads         {len(reads) / args.seconds:8.1f} req/s      "
                     f"p50 {_pct(reads, 50):6.1f} ms  p99 {_pct(reads, 99):6.1f} ms   server CPU {cpu:5.1f} ms/req")
        redemptions, cpu = bench.phase(process, seconds=args.seconds, make=redeem)
        lines.append(f"  redemptions           {len(redemptions) / args.seconds:8.1f} req/s      "
                     f"p50 {_pct(redemptions, 50):6.1f} ms  p99 {_pct(redemptions, 99):6.1f} ms   "
                     f"server CPU {cpu:5.1f} ms/req")
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
