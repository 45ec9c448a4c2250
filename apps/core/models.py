"""Abstract base for every domain model."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class BaseModel(models.Model):
    """UUID primary key (never guessable across tenants) and creation/update timestamps."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True
        ordering = ("-created_at", "id")


class JobRun(BaseModel):
    """One execution of a background job in this schema: when it ran, how it ended, how long it took."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        RETRIED = "retried", _("Retry scheduled")

    task_name = models.CharField(_("task"), max_length=200)
    # Blank when the job body was called in-process rather than delivered by the broker.
    task_id = models.CharField(_("task id"), max_length=255, blank=True, db_index=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    # Exception class and message with credentials redacted; never a traceback with locals.
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")
        ordering = ("-started_at", "id")
        indexes = [models.Index(fields=["task_name", "-started_at"], name="core_jobrun_task_started")]

    def __str__(self) -> str:
        return f"{self.task_name} {self.status} ({self.started_at:%Y-%m-%d %H:%M:%S})"


class IdempotencyRecord(BaseModel):
    """The first response to a write sent with an ``Idempotency-Key``, replayed to retries of that write.

    One row per (caller, key) in the tenant's schema. The row is inserted as ``pending`` inside the
    request's transaction, so while the first request runs its uncommitted row is the lock a concurrent
    retry collides with; it is committed together with the view's writes as ``completed``.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        COMPLETED = "completed", _("Completed")

    key = models.CharField(_("idempotency key"), max_length=255)
    caller = models.CharField(_("caller"), max_length=255)
    method = models.CharField(_("method"), max_length=10)
    path = models.TextField(_("path"))
    request_hash = models.CharField(_("request body SHA-256"), max_length=64)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True, blank=True)
    response_body = models.JSONField(_("response body"), null=True, blank=True)
    response_headers = models.JSONField(_("response headers"), default=dict, blank=True)
    expires_at = models.DateTimeField(_("expires at"), db_index=True)

    class Meta(BaseModel.Meta):
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [
            models.UniqueConstraint(fields=("caller", "key"), name="core_idempotency_caller_key_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.caller} {self.method} {self.path} [{self.key}]"
