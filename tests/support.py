"""Helpers shared by tests that work with committed data or with other processes (a worker, a server)."""

from __future__ import annotations

import uuid
from urllib.parse import quote

from django.conf import settings
from django.db import connection, transaction
from django_tenants.utils import schema_context
from kombu import Exchange, Queue

from incentiva.celery import app as celery_app


def database_url(settings_dict: dict) -> str:
    """The test database (NAME is test_…) as a URL for another process's settings; a unix-socket host (the
    embedded server) goes in the query string."""
    auth = quote(settings_dict.get("USER") or "", safe="")
    if settings_dict.get("PASSWORD"):
        auth += ":" + quote(settings_dict["PASSWORD"], safe="")
    host = settings_dict.get("HOST") or ""
    name = quote(settings_dict["NAME"], safe="")
    if host.startswith("/"):
        return f"postgres://{auth}@/{name}?host={quote(host, safe='/')}"
    netloc = (f"{auth}@" if auth else "") + quote(host, safe="")
    if settings_dict.get("PORT"):
        netloc += f":{settings_dict['PORT']}"
    return f"postgres://{netloc}/{name}"


def source_postgres_url(database: str) -> str:
    """A URL for a scratch customer ("source") database named ``database`` on the test server, as a customer
    would give it (host and port). With the embedded server (a unix socket, which source URLs refuse) it is the
    PostgreSQL on localhost:5432."""
    ours = settings.DATABASES["default"]
    host = ours.get("HOST") or "127.0.0.1"
    host = "localhost" if host.startswith("/") else host
    auth = (ours.get("USER") or "postgres") + (f":{ours['PASSWORD']}" if ours.get("PASSWORD") else "")
    return f"postgresql://{auth}@{host}:{ours.get('PORT') or 5432}/{database}"


def broker_queue_delete(name: str) -> None:
    """Remove a scratch queue and its binding from the Redis broker (kombu forgets bindings it did not
    declare on this channel, so declare it first)."""
    queue = Queue(name, Exchange(name, type="direct"), routing_key=name)
    with celery_app.connection_for_write() as conn:
        bound = queue(conn.default_channel)
        bound.declare()
        bound.delete()


def loyalty_program_purge(program_id: uuid.UUID, *, schema: str = "alpha") -> None:
    """Remove a committed loyalty program with its members, ledger, rewards, tiers and referrals. The ledger's
    append-only trigger refuses DELETE, so this runs with triggers off for its own transaction (superuser,
    tests only)."""
    from apps.loyalty.models import (
        LedgerAllocation,
        LoyaltyNotification,
        Member,
        Program,
        Redemption,
        Reward,
        Tier,
    )
    from apps.referrals.models import Fingerprint, Referral, ReferralCampaign, ReferralClick

    with schema_context(schema), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        member_ids = list(Member.objects.filter(program_id=program_id).values_list("pk", flat=True))
        campaigns = ReferralCampaign.objects.filter(program_id=program_id)
        Fingerprint.objects.filter(referral__campaign__in=campaigns).delete()
        Fingerprint.objects.filter(member_id__in=member_ids).delete()
        Referral.objects.filter(campaign__in=campaigns).delete()
        ReferralClick.objects.filter(campaign__in=campaigns).delete()
        campaigns.delete()
        LedgerAllocation.objects.filter(spend__member_id__in=member_ids).delete()
        cursor.execute("DELETE FROM loyalty_ledgerentry WHERE member_id = ANY(%s)", [member_ids])
        Redemption.objects.filter(program_id=program_id).delete()
        LoyaltyNotification.objects.filter(member_id__in=member_ids).delete()
        Member.objects.filter(pk__in=member_ids).delete()
        Reward.objects.filter(program_id=program_id).delete()
        Tier.objects.filter(program_id=program_id).delete()
        Program.objects.filter(pk=program_id).delete()
