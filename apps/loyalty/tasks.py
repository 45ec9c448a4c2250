"""Periodic loyalty jobs, run per tenant (beat fans them out with ``core.run_for_all_tenants``).

Each calls one service and is safe to run twice or concurrently: the services re-read every status under
the member's row lock, and notifications are deduplicated. ``now`` (ISO 8601) lets an operator replay a
missed window; beat never passes it.
"""

from __future__ import annotations

from datetime import datetime

from django.utils.dateparse import parse_datetime

from apps.core.jobs import tenant_job
from apps.loyalty import services


def _moment(now: str | None) -> datetime | None:
    return parse_datetime(now) if now else None


@tenant_job(name="loyalty.points_unlock_due")
def points_unlock_due_task(now: str | None = None) -> int:
    """Make pending points whose pending period is over available."""
    return services.points_unlock_due(now=_moment(now))


@tenant_job(name="loyalty.points_expire_due")
def points_expire_due_task(now: str | None = None) -> int:
    """Expire points past their expiry date."""
    return services.points_expire_due(now=_moment(now))


@tenant_job(name="loyalty.expiry_warnings_send")
def expiry_warnings_send_task(now: str | None = None) -> int:
    """Queue expiry warnings for points expiring within each program's warning window."""
    return services.points_expiry_warnings_send(now=_moment(now))


@tenant_job(name="loyalty.redemptions_release_expired")
def redemptions_release_expired_task(now: str | None = None) -> int:
    """Cancel reservations whose hold ran out (points and stock go back)."""
    return services.redemptions_release_expired(now=_moment(now))


@tenant_job(name="loyalty.tier_downgrades_apply_due")
def tier_downgrades_apply_due_task(now: str | None = None) -> int:
    """Apply tier downgrades whose grace period is over."""
    return services.tier_downgrades_apply_due(now=_moment(now))
