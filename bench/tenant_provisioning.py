"""Seconds per tenant: provisioning by cloning the template schema vs. running every migration.

Usage: .venv/bin/python bench/tenant_provisioning.py [--tenants N]
Runs against the development database (embedded unless DATABASE_URL is set); the bench tenants it
creates are deleted at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "incentiva.settings.local")

import django

django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from apps.tenants.models import Client  # noqa: E402
from apps.tenants.services import platform_bootstrap, tenant_delete, tenant_provision  # noqa: E402


def _argon2_seconds() -> float:
    """The owner's password hash (Argon2, deliberately slow), included in every provisioning."""
    samples = []
    for _ in range(5):
        started = time.perf_counter()
        make_password("bench-password-123")
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def run(mode: str, count: int) -> list[float]:
    timings = []
    for index in range(count):
        slug = f"bench{mode}{index}"
        existing = Client.objects.filter(schema_name=slug).first()
        if existing:
            tenant_delete(tenant=existing)
        started = time.perf_counter()
        tenant_provision(slug=slug, name=f"Bench {index}", admin_email=f"admin@{slug}.test",
                         admin_password="bench-password-123", clone=(mode == "clone"))
        timings.append(time.perf_counter() - started)
        connection.set_schema_to_public()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", type=int, default=5)
    args = parser.parse_args()
    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    platform_bootstrap()
    # Warm-up: the first clone installs the clone_schema() SQL function and checks the template.
    run("warm", 1)
    results = {mode: run(mode, args.tenants) for mode in ("clone", "migrate")}
    argon2 = _argon2_seconds()
    print(f"tenant provisioning, {args.tenants} tenants each, {os.cpu_count()} cores")
    print("  (total = schema + domain + owner; the owner's Argon2 password hash takes "
          f"{argon2:.3f} s of it either way)")
    for mode, timings in results.items():
        median = statistics.median(timings)
        print(f"  {mode:8s} total median {median:.3f} s/tenant (min {min(timings):.3f}, max {max(timings):.3f})"
              f"   without the password hash {median - argon2:.3f} s")
    speedup = statistics.median(results["migrate"]) / statistics.median(results["clone"])
    print(f"  clone is {speedup:.1f}x faster")
    for tenant in Client.objects.filter(schema_name__startswith="bench"):
        tenant_delete(tenant=tenant)


if __name__ == "__main__":
    main()
