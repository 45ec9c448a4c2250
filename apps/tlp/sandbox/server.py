"""The sandbox over HTTP: a threading ``http.server`` in front of :class:`SandboxState`, with fault injection.

Faults (options, ``PUT /_sandbox/faults``, or per request with headers):

* ``X-Sandbox-Latency-Ms: 50-400`` (or ``120``): added latency before the request is handled.
* ``X-Sandbox-Error-Rate: 0.3``: that share of requests fail with 500/502/503 or 429 (``Retry-After``).
  Half of the failing writes fail *after* being applied, as when a response is lost on the way back.
* ``X-Sandbox-Timeout: 0.05`` (or ``true`` for always): that share of requests hang past any sensible client
  timeout and get no answer; half of them after the write was applied.

Control endpoints (no TLP equivalent): ``POST /_sandbox/accounts`` makes a fresh account (own API key and
state), ``GET /_sandbox/stats`` counts the caller's transactions and replays, ``GET|PUT /_sandbox/faults``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import threading
import time
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from apps.tlp import wire
from apps.tlp.sandbox.state import SandboxError, SandboxState, path_known, route

logger = logging.getLogger(__name__)

CONTROL_PREFIX = "/_sandbox"
HEADER_ERROR_RATE = "X-Sandbox-Error-Rate"
HEADER_LATENCY = "X-Sandbox-Latency-Ms"
HEADER_TIMEOUT = "X-Sandbox-Timeout"
MAX_BODY = 1_000_000


@dataclass
class Faults:
    error_rate: float = 0.0
    latency_min_ms: int = 0
    latency_max_ms: int = 0
    timeout_rate: float = 0.0
    hang_seconds: float = 5.0
    after_apply_share: float = 0.5
    rate_limit_share: float = 0.2
    retry_after_seconds: int = 1

    def to_json(self) -> dict[str, Any]:
        return {"errorRate": self.error_rate, "latencyMs": [self.latency_min_ms, self.latency_max_ms],
                "timeoutRate": self.timeout_rate, "hangSeconds": self.hang_seconds,
                "afterApplyShare": self.after_apply_share, "rateLimitShare": self.rate_limit_share,
                "retryAfterSeconds": self.retry_after_seconds}

    def update(self, data: dict[str, Any]) -> None:
        names = {"errorRate": "error_rate", "timeoutRate": "timeout_rate", "hangSeconds": "hang_seconds",
                 "afterApplyShare": "after_apply_share", "rateLimitShare": "rate_limit_share",
                 "retryAfterSeconds": "retry_after_seconds"}
        for key, attribute in names.items():
            if key in data:
                value = data[key]
                if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                    raise SandboxError(422, wire.ErrorCode.VALIDATION, "Invalid fault settings.",
                                       {key: "must be a non-negative number"})
                setattr(self, attribute, type(getattr(self, attribute))(value))
        if "latencyMs" in data:
            self.latency_min_ms, self.latency_max_ms = parse_latency(str(data["latencyMs"]).strip("[]"))


def parse_latency(text: str) -> tuple[int, int]:
    """``"50-400"``, ``"50,400"`` or ``"120"`` → (min, max) milliseconds."""
    parts = [part for part in text.replace(",", "-").replace(" ", "").split("-") if part]
    try:
        values = [int(float(part)) for part in parts] or [0]
    except ValueError as exc:
        raise SandboxError(422, wire.ErrorCode.VALIDATION, "Invalid fault settings.",
                           {"latencyMs": "must look like 50-400"}) from exc
    low, high = min(values), max(values)
    if low < 0:
        raise SandboxError(422, wire.ErrorCode.VALIDATION, "Invalid fault settings.",
                           {"latencyMs": "must not be negative"})
    return low, high


@dataclass
class _Plan:
    latency_ms: int = 0
    hang: bool = False
    error_status: int | None = None
    after_apply: bool = False


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], state: SandboxState, faults: Faults,
                 rng: random.Random | None = None) -> None:
        super().__init__(address, SandboxRequestHandler)
        self.state = state
        self.faults = faults
        self.rng = rng or random.Random()  # noqa: S311 - fault injection, not cryptography
        self.rng_lock = threading.Lock()
        self.requests_served = 0
        self.faults_injected = 0

    def plan(self, headers: Any, *, write: bool) -> _Plan:
        faults = self.faults
        error_rate = _header_float(headers.get(HEADER_ERROR_RATE), faults.error_rate)
        timeout_header = headers.get(HEADER_TIMEOUT)
        if timeout_header is not None and timeout_header.strip().lower() in ("true", "yes"):
            timeout_rate = 1.0
        else:
            timeout_rate = _header_float(timeout_header, faults.timeout_rate)
        low, high = faults.latency_min_ms, faults.latency_max_ms
        if headers.get(HEADER_LATENCY):
            with contextlib.suppress(SandboxError):
                low, high = parse_latency(headers[HEADER_LATENCY])
        with self.rng_lock:
            plan = _Plan(latency_ms=self.rng.randint(low, high) if high > 0 else 0)
            draw = self.rng.random()
            after = write and self.rng.random() < faults.after_apply_share
            if draw < timeout_rate:
                plan.hang, plan.after_apply = True, after
            elif draw < timeout_rate + error_rate:
                if self.rng.random() < faults.rate_limit_share:
                    plan.error_status = 429
                else:
                    plan.error_status = self.rng.choice((500, 502, 503))
                    plan.after_apply = after
            if plan.hang or plan.error_status:
                self.faults_injected += 1
        return plan


def _header_float(value: str | None, default: float) -> float:
    if value is None:
        return default
    try:
        return min(1.0, max(0.0, float(value)))
    except ValueError:
        return default


class SandboxRequestHandler(BaseHTTPRequestHandler):
    server: SandboxHTTPServer
    protocol_version = "HTTP/1.1"  # keep-alive, so clients' connection pools are exercised
    server_version = "TLPSandbox/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("tlp sandbox: " + format, *args)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    # ---------------------------------------------------------------- plumbing
    def _send(self, status: int, body: dict[str, Any] | str, headers: dict[str, str] | None = None) -> None:
        if isinstance(body, str):
            payload, content_type = body.encode(), "text/html; charset=utf-8"
        else:
            payload, content_type = json.dumps(body).encode(), "application/json"
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _error(self, exc: SandboxError, headers: dict[str, str] | None = None) -> None:
        self._send(exc.status, exc.body(), headers)

    def _read_body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise SandboxError(413, wire.ErrorCode.MALFORMED, "The request body is too large.")
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return None
        try:
            return json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SandboxError(400, wire.ErrorCode.MALFORMED, "The request body is not valid JSON.") from exc

    def _dispatch(self, method: str) -> None:
        self.server.requests_served += 1
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        query = dict(parse_qsl(parts.query))
        try:
            body = self._read_body()
        except SandboxError as exc:
            self.close_connection = True
            self._error(exc)
            return
        if path.startswith(CONTROL_PREFIX):
            self._control(method, path, body)
            return
        found = route(method, path)
        if found is None:
            if path_known(path):
                self._error(SandboxError(405, "method_not_allowed", f"{method} is not allowed on {path}."))
            else:
                self._error(SandboxError(404, wire.ErrorCode.NOT_FOUND, f"No route for {path}."))
            return
        operation, resource_id = found
        plan = self.server.plan(self.headers, write=operation.write)
        if plan.latency_ms:
            time.sleep(plan.latency_ms / 1000)
        try:
            account = self.server.state.account(wire.api_key_from_header(self.headers.get(wire.AUTH_HEADER)))
        except SandboxError as exc:
            self._error(exc)
            return
        if (plan.hang or plan.error_status) and not plan.after_apply:
            self._fail(plan)
            return
        try:
            status, answer, replayed = self.server.state.handle(
                account=account, operation=operation, resource_id=resource_id, query=query, body=body,
                idempotency_key=self.headers.get(wire.IDEMPOTENCY_HEADER))
        except SandboxError as exc:
            self._error(exc)
            return
        if plan.after_apply:
            self._fail(plan)
            return
        self._send(status, answer, {wire.REPLAYED_HEADER: "true"} if replayed else None)

    def _fail(self, plan: _Plan) -> None:
        if plan.hang:
            time.sleep(self.server.faults.hang_seconds)
            self.close_connection = True  # no answer at all: the client has given up by now
            return
        status = plan.error_status or 500
        if status == 429:
            self._error(SandboxError(429, wire.ErrorCode.RATE_LIMITED, "Too many requests."),
                        {wire.RETRY_AFTER_HEADER: str(self.server.faults.retry_after_seconds)})
        elif status == 502:
            self._send(502, "<html><body><h1>502 Bad Gateway</h1></body></html>")
        elif status == 503:
            self._error(SandboxError(503, wire.ErrorCode.UNAVAILABLE, "The service is temporarily unavailable."))
        else:
            self._error(SandboxError(500, wire.ErrorCode.INTERNAL, "Internal error."))

    def _control(self, method: str, path: str, body: Any) -> None:
        state = self.server.state
        try:
            if path == f"{CONTROL_PREFIX}/accounts" and method == "POST":
                key = (body or {}).get("apiKey") if isinstance(body, dict) else None
                self._send(201, {"apiKey": state.account_create(key)})
            elif path == f"{CONTROL_PREFIX}/stats" and method == "GET":
                account = state.account(wire.api_key_from_header(self.headers.get(wire.AUTH_HEADER)))
                with state.lock:
                    stats = account.stats()
                self._send(200, {**stats, "requestsServed": self.server.requests_served,
                                 "faultsInjected": self.server.faults_injected})
            elif path == f"{CONTROL_PREFIX}/faults" and method == "GET":
                self._send(200, self.server.faults.to_json())
            elif path == f"{CONTROL_PREFIX}/faults" and method == "PUT":
                if not isinstance(body, dict):
                    raise SandboxError(400, wire.ErrorCode.MALFORMED, "The request body must be a JSON object.")
                self.server.faults.update(body)
                self._send(200, self.server.faults.to_json())
            else:
                raise SandboxError(404, wire.ErrorCode.NOT_FOUND, f"No route for {path}.")
        except SandboxError as exc:
            self._error(exc)


class SandboxServer:
    """A sandbox listening on ``host:port`` (0 = any free port) in a background thread.

    ``state`` may outlive the server: stop it and start a new one on the same port with the same state to
    simulate an outage."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, state: SandboxState | None = None,
                 faults: Faults | None = None, api_keys: list[str] | tuple[str, ...] = (),
                 state_file: Path | None = None, seed: int | None = None) -> None:
        self.state = state or SandboxState(api_keys=api_keys)
        for key in api_keys:
            self.state.account_create(key)
        self.faults = faults or Faults()
        self.state_file = state_file
        if state_file and state_file.exists():
            self.state.load_json(json.loads(state_file.read_text()))
        self.httpd = SandboxHTTPServer((host, port), self.state, self.faults,
                                       random.Random(seed))  # noqa: S311 - fault injection only
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        host = self.httpd.server_address[0]
        return f"http://{host.decode() if isinstance(host, bytes) else host}:{self.port}"

    def start(self) -> SandboxServer:
        serve = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                 name=f"tlp-sandbox-{self.port}", daemon=True)
        serve.start()
        self._threads.append(serve)
        if self.state_file:
            saver = threading.Thread(target=self._save_loop, name="tlp-sandbox-save", daemon=True)
            saver.start()
            self._threads.append(saver)
        return self

    def serve_forever(self) -> None:
        """Run in the calling thread until interrupted (the management command)."""
        if self.state_file:
            threading.Thread(target=self._save_loop, name="tlp-sandbox-save", daemon=True).start()
        try:
            self.httpd.serve_forever(poll_interval=0.2)
        finally:
            self._stopping.set()
            self.save()

    def stop(self) -> None:
        self._stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.save()

    def save(self) -> None:
        if self.state_file:
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.state_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.state.to_json()))
            tmp.replace(self.state_file)

    def _save_loop(self) -> None:
        while not self._stopping.wait(1.0):
            if self.state.dirty:
                self.save()

    def faults_set(self, **values: Any) -> None:
        """Change the faults at run time (keyword names as in :class:`Faults`)."""
        for name, value in values.items():
            if name not in asdict(self.faults):
                raise TypeError(f"unknown fault setting {name}")
            setattr(self.faults, name, value)
