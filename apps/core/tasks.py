"""Core Celery tasks: take ids, load, call one service; idempotent (they may run twice under acks_late)."""

from __future__ import annotations

from typing import Any

from celery import current_app
from django.conf import settings
from django.utils.translation import gettext as _

from apps.core.errors import ApplicationError
from apps.core.jobs import send_to_schema, tenant_job
from apps.core.services import idempotency_record_purge, session_purge_expired
from apps.tenants.models import Client
from apps.tenants.selectors import tenant_list


@tenant_job(name="core.run_for_all_tenants")
def run_for_all_tenants(task_name: str, kwargs: dict[str, Any] | None = None, queue: str | None = None) -> list[str]:
    """Platform fan-out: send ``task_name(**kwargs)`` once into each active tenant (never the public schema
    or the template). Returns the schemas it was sent to."""
    if task_name not in current_app.tasks:
        raise ApplicationError(_("Unknown task."), code="unknown_task", fields={"task": [task_name]})
    schemas = list(
        tenant_list().filter(status=Client.Status.ACTIVE).exclude(schema_name=settings.TENANT_BASE_SCHEMA)
        .order_by("schema_name").values_list("schema_name", flat=True)
    )
    for schema_name in schemas:
        send_to_schema(task_name, schema_name=schema_name, kwargs=kwargs, queue=queue)
    return schemas


@tenant_job(name="core.session_purge_expired")
def session_purge_expired_task() -> int:
    """Delete the tenant's expired sessions (Django's ``clearsessions``, per schema)."""
    return session_purge_expired()


@tenant_job(name="core.idempotency_purge")
def idempotency_purge() -> int:
    """Delete the tenant's expired Idempotency-Key records (fan out with ``run_for_all_tenants``)."""
    return idempotency_record_purge()
