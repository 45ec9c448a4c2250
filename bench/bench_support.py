"""Shared by the bench scripts (imported after django.setup())."""

from __future__ import annotations

from django.conf import settings


def source_dsn(suffix: str) -> str:
    """A scratch source database next to ours, named ``<our name>_<suffix>``, reached over TCP (source URLs
    name a host: with the embedded server on a unix socket, pass --dsn or set DATABASE_URL to a TCP server)."""
    ours = settings.DATABASES["default"]
    host = ours.get("HOST") or "127.0.0.1"
    host = "localhost" if host.startswith("/") else host
    user = ours.get("USER") or "postgres"
    auth = f"{user}:{ours['PASSWORD']}@" if ours.get("PASSWORD") else f"{user}@"
    return f"postgresql://{auth}{host}:{ours.get('PORT') or 5432}/{ours['NAME']}_{suffix}"
