"""Celery app. Tenant-aware: the schema travels with each task (tenant-schemas-celery)."""

import os

from tenant_schemas_celery.app import CeleryApp as TenantAwareCeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "incentiva.settings.local")

app = TenantAwareCeleryApp("incentiva")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
