"""Member notifications, written to an outbox (``LoyaltyNotification``) that the notification system delivers."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from apps.loyalty.models import LedgerEntry, LoyaltyNotification, Member, Program


def loyalty_expiry_warning_notify(member: Member, points: int, expires_at: datetime) -> LoyaltyNotification:
    """The hook: tell ``member`` that ``points`` expire at ``expires_at``. Queues one outbox row per member
    and expiry day (a second call for the same day returns the first row, so the job can run twice)."""
    notification, _created = LoyaltyNotification.objects.get_or_create(
        dedupe_key=f"expiry_warning:{member.pk}:{expires_at.date().isoformat()}",
        defaults={
            "member": member,
            "kind": LoyaltyNotification.Kind.EXPIRY_WARNING,
            "payload": {"points": points, "expires_at": expires_at.isoformat(), "email": member.email,
                        "customer_id": member.customer_id, "program_id": str(member.program_id)},
        },
    )
    return notification


def points_expiry_warnings_send(*, now: datetime | None = None) -> int:
    """For every program with expiry enabled, warn members whose points expire within the program's warning
    window: one notification per member and expiry day, with the points left on that day. Returns how
    many notifications are queued for this run (already queued ones count once, never twice)."""
    now = now or timezone.now()
    queued = 0
    for program in Program.objects.filter(expiration_enabled=True, expiry_warning_days__gt=0):
        horizon = now + timedelta(days=program.expiry_warning_days)
        rows = (
            LedgerEntry.objects.filter(program=program, status=LedgerEntry.Status.ACTIVE, amount__gt=0,
                                       expires_at__gt=now, expires_at__lte=horizon)
            .annotate(used=Coalesce(Sum("drawn_by__points",
                                        filter=~Q(drawn_by__spend__status=LedgerEntry.Status.CANCELLED)), 0))
            .annotate(remaining=F("amount") - F("used"))
            .filter(remaining__gt=0)
            .annotate(day=TruncDate("expires_at"))
            .values_list("member_id", "day", "remaining", "expires_at")
        )
        by_member_day: dict[tuple, list[int | datetime]] = defaultdict(lambda: [0, None])
        for member_id, day, remaining, expires_at in rows:
            bucket = by_member_day[(member_id, day)]
            bucket[0] = int(bucket[0]) + remaining
            bucket[1] = expires_at if bucket[1] is None else min(bucket[1], expires_at)  # type: ignore[type-var]
        members = Member.objects.in_bulk({member_id for member_id, _day in by_member_day})
        for (member_id, _day), (points, expires_at) in sorted(by_member_day.items(), key=lambda item: str(item[0])):
            loyalty_expiry_warning_notify(members[member_id], int(points), expires_at)  # type: ignore[arg-type]
            queued += 1
    return queued
