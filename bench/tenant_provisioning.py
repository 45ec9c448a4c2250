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

from django.db import connection  # noqa: E402

from apps.tenants.models import Client  # noqa: E402
from apps.tenants.services import platform_bootstrap, tenant_delete, tenant_provision  # noqa: E402


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
    platform_bootstrap()
    # Warm-up: the first clone installs the clone_schema() SQL function and checks the template.
    run("warm", 1)
    results = {mode: run(mode, args.tenants) for mode in ("clone", "migrate")}
    print(f"tenant provisioning, {args.tenants} tenants each, {os.cpu_count()} cores")
    for mode, timings in results.items():
        print(f"  {mode:8s} median {statistics.median(timings):.3f} s/tenant   "
              f"min {min(timings):.3f}   max {max(timings):.3f}")
    speedup = statistics.median(results["migrate"]) / statistics.median(results["clone"])
    print(f"  clone is {speedup:.1f}x faster")
    for tenant in Client.objects.filter(schema_name__startswith="bench"):
        tenant_delete(tenant=tenant)


if __name__ == "__main__":
    main()
