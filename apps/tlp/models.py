"""TLP integration state, per tenant: the connection, the ids TLP gave our objects, the outbox, reconciliations."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.models import BaseModel


class TLPConfiguration(BaseModel):
    """The tenant's TLP connection (one row per schema). The API key is stored only as a Fernet token."""

    endpoint_url = models.URLField(_("endpoint URL"), max_length=500)
    api_key_encrypted = models.TextField(_("API key (encrypted)"))
    # The last four characters, so people can tell keys apart without the key being readable.
    api_key_hint = models.CharField(_("API key ends with"), max_length=8, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    connect_timeout = models.FloatField(_("connect timeout (s)"), default=3.0)
    read_timeout = models.FloatField(_("read timeout (s)"), default=10.0)
    last_success_at = models.DateTimeField(_("last success"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)
    last_latency_ms = models.PositiveIntegerField(_("last latency (ms)"), null=True, blank=True)
    # Offer graphics wear the tenant's branding (apps.branding): no colours or logo of TLP's own.

    class Meta(BaseModel.Meta):
        verbose_name = _("TLP configuration")
        verbose_name_plural = _("TLP configuration")

    def __str__(self) -> str:
        return self.endpoint_url


class TLPEntity(BaseModel):
    """The TLP id of one of our objects (a campaign's point type or offer, a participant's member...)."""

    class Kind(models.TextChoices):
        POINT_TYPE = "point_type", _("Point type")
        ACCRUAL_OFFER = "accrual_offer", _("Accrual offer")
        REDEMPTION_OFFER = "redemption_offer", _("Redemption offer")
        MEMBER = "member", _("Member")
        TIER = "tier", _("Tier")
        PARTNER = "partner", _("Partner")
        LOCATION = "location", _("Location")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    local_ref = models.CharField(_("our reference"), max_length=255)
    tlp_id = models.CharField(_("TLP id"), max_length=255)
    # What we last sent (name, points, image URL...), to tell whether an update is needed.
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta(BaseModel.Meta):
        verbose_name = _("TLP entity")
        verbose_name_plural = _("TLP entities")
        constraints = [models.UniqueConstraint(fields=("kind", "local_ref"), name="tlp_entity_kind_ref_uniq")]
        indexes = [models.Index(fields=("kind", "tlp_id"), name="tlp_entity_kind_tlp_id")]

    def __str__(self) -> str:
        return f"{self.kind} {self.local_ref} → {self.tlp_id}"


class TLPOutbox(models.Model):
    """A call TLP must receive, written in the same transaction as the change it mirrors.

    The primary key is a database sequence rather than BaseModel's UUID: rows of one member are delivered
    in insertion order, and the ledger writes one member's rows under that member's lock, so the sequence
    order is the commit order."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        IN_FLIGHT = "in_flight", _("In flight")
        DELIVERED = "delivered", _("Delivered")
        DEAD = "dead", _("Dead letter")

    class Operation(models.TextChoices):
        ACCRUE = "accrue", _("Accrue points")
        REDEEM = "redeem", _("Redeem points")
        ISSUE = "issue", _("Issue points")
        MEMBER_UPSERT = "member_upsert", _("Create or update member")
        OFFER_UPDATE = "offer_update", _("Update offer")

    id = models.BigAutoField(primary_key=True)
    operation = models.CharField(_("operation"), max_length=20, choices=Operation.choices)
    payload = models.JSONField(_("payload"))
    # Rows with the same key are delivered strictly in order; different keys in parallel.
    member_key = models.CharField(_("member key"), max_length=255)
    # Unique through the constraint below, not ``unique=True``: that would add a varchar_pattern_ops copy of the
    # index, for prefix searches nothing makes (the admin's search is a substring match).
    idempotency_key = models.CharField(_("idempotency key"), max_length=255)
    source_type = models.CharField(_("source type"), max_length=50, blank=True)
    source_id = models.CharField(_("source id"), max_length=255, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    lease_expires_at = models.DateTimeField(_("lease expires at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    response = models.JSONField(_("TLP response"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    dead_at = models.DateTimeField(_("dead-lettered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("TLP outbox row")
        verbose_name_plural = _("TLP outbox")
        ordering = ("id",)
        # Rows are queued by the ten thousand (a campaign's first execution): only the indexes something reads.
        # Nothing looks a row up by its source (reconciliation filters on the source type, most of the table).
        constraints = [models.UniqueConstraint(fields=("idempotency_key",), name="tlp_tlpoutbox_idempotency_key_key")]
        indexes = [
            models.Index(fields=("status", "next_attempt_at"), name="tlp_outbox_status_due"),
            models.Index(fields=("member_key", "id"), name="tlp_outbox_member_order"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.operation} {self.member_key} ({self.status})"


class TLPReconciliationReport(BaseModel):
    """One comparison of our per-member balances with TLP's."""

    class Status(models.TextChoices):
        OK = "ok", _("No drift")
        DRIFT = "drift", _("Drift found")
        FAILED = "failed", _("Failed")

    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    members_checked = models.PositiveIntegerField(_("members checked"), default=0)
    members_drifting = models.PositiveIntegerField(_("members with drift"), default=0)
    # Σ (TLP − ours) over drifting members: positive means TLP shows more points than we hold.
    total_drift = models.BigIntegerField(_("total drift (points)"), default=0)
    # Rows not yet delivered when the comparison ran; drift is expected while there are any.
    outbox_pending = models.PositiveIntegerField(_("outbox rows pending"), default=0)
    # [{"member_key", "ours", "tlp", "drift"}], drifting members only (capped).
    details = models.JSONField(_("details"), default=list, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta(BaseModel.Meta):
        verbose_name = _("TLP reconciliation report")
        verbose_name_plural = _("TLP reconciliation reports")

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.status}"
