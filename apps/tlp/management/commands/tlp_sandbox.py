"""``manage.py tlp_sandbox --port 8100``: run the TLP sandbox (a TLP-compatible server with fault injection).

``--configure-tenant acme`` points that tenant's TLP configuration at this sandbox once it listens
(through the same service as POST /api/tlp/configure; running it again changes nothing)."""

from __future__ import annotations

import threading
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from apps.tlp.sandbox import Faults, SandboxServer
from apps.tlp.sandbox.server import parse_latency
from apps.tlp.sandbox.state import SandboxError


class Command(BaseCommand):
    help = "Run the TLP sandbox server (in-memory TLP with API keys, validation and fault injection)."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8100)
        parser.add_argument("--api-key", action="append", default=[], dest="api_keys",
                            help="an accepted API key (repeatable); more with POST /_sandbox/accounts")
        parser.add_argument("--error-rate", type=float, default=0.0, help="share of requests failing (0-1)")
        parser.add_argument("--latency-ms", default="0", help="added latency, e.g. 50-400")
        parser.add_argument("--timeout-rate", type=float, default=0.0, help="share of requests never answered")
        parser.add_argument("--hang-seconds", type=float, default=15.0, help="how long an unanswered request hangs")
        parser.add_argument("--state-file", type=Path, default=None, help="keep the state in this JSON file")
        parser.add_argument("--seed", type=int, default=None, help="seed the fault dice (reproducible runs)")
        parser.add_argument("--configure-tenant", default=None, metavar="SCHEMA",
                            help="point this tenant's TLP configuration at the sandbox (needs --api-key)")

    def handle(self, *args, **opts):  # type: ignore[no-untyped-def]
        for name in ("error_rate", "timeout_rate"):
            if not 0 <= opts[name] <= 1:
                raise CommandError(f"--{name.replace('_', '-')} must be between 0 and 1")
        try:
            low, high = parse_latency(opts["latency_ms"])
        except SandboxError as exc:
            raise CommandError("--latency-ms must look like 50-400") from exc
        if opts["configure_tenant"] and not opts["api_keys"]:
            raise CommandError("--configure-tenant needs --api-key")
        faults = Faults(error_rate=opts["error_rate"], latency_min_ms=low, latency_max_ms=high,
                        timeout_rate=opts["timeout_rate"], hang_seconds=opts["hang_seconds"])
        server = SandboxServer(host=opts["host"], port=opts["port"], faults=faults, api_keys=opts["api_keys"],
                               state_file=opts["state_file"], seed=opts["seed"])
        self.stdout.write(f"TLP sandbox listening on {server.url} "
                          f"(errors {faults.error_rate:.0%}, latency {low}-{high} ms, timeouts "
                          f"{faults.timeout_rate:.0%}); Ctrl-C stops it.")
        if opts["configure_tenant"]:
            threading.Thread(target=self._configure, args=(opts["configure_tenant"], server,
                                                            opts["api_keys"][0]), daemon=True).start()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("TLP sandbox stopped.")

    def _configure(self, schema: str, server: SandboxServer, api_key: str) -> None:
        from apps.core.errors import ApplicationError
        from apps.tlp.selectors import tlp_configuration_get
        from apps.tlp.services import tlp_configure

        try:
            with schema_context(schema):
                current = tlp_configuration_get()
                if current is not None and current.endpoint_url == server.url and current.is_active:
                    self.stdout.write(f"Tenant {schema} already uses this sandbox.")
                    return
                tlp_configure(endpoint_url=server.url, api_key=api_key)
            self.stdout.write(f"Tenant {schema} now sends its TLP calls to {server.url}.")
        except ApplicationError as exc:
            self.stderr.write(f"Could not configure tenant {schema}: {exc.message} {exc.fields}")
        except Exception as exc:  # the sandbox keeps serving even if the tenant does not exist
            self.stderr.write(f"Could not configure tenant {schema}: {type(exc).__name__}")
        finally:
            from django.db import connection

            connection.close()
