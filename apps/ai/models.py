"""The Claude gateway's records: one row per API call (or refusal), and the tenant's own API key, encrypted.

Neither ever holds a prompt, a campaign text or an API key in clear: an ``AICall`` keeps the hash of its inputs,
token counts, latency and outcome; ``AISettings`` keeps a Fernet token of the key (apps.core.crypto).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.models import BaseModel


class AICall(BaseModel):
    """One request to the Claude API, a cache hit that spared one, or a call refused by the rate limit."""

    class Outcome(models.TextChoices):
        OK = "ok", _("Valid answer")
        INVALID = "invalid", _("Invalid answer")
        REPAIRED = "repaired", _("Valid after one repair round")
        ERROR = "error", _("API error")
        RATE_LIMITED = "rate_limited", _("Refused by the tenant's rate limit")
        CACHED = "cached", _("Answered from the cache")

    purpose = models.CharField(_("purpose"), max_length=50)
    model = models.CharField(_("model"), max_length=100)
    # 1 for the first request, 2 for the repair round; 0 when no request was sent (cache hit, rate limited).
    attempt = models.PositiveSmallIntegerField(_("attempt"), default=1)
    input_tokens = models.PositiveIntegerField(_("input tokens"), default=0)
    output_tokens = models.PositiveIntegerField(_("output tokens"), default=0)
    latency_ms = models.PositiveIntegerField(_("latency (ms)"), default=0)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    # A stable code: http_500, timeout, connection, no_tool_use, schema_invalid, rate_limited... never a message
    # that could echo the request.
    error_code = models.CharField(_("error code"), max_length=50, blank=True)
    # SHA-256 of (model, prompt, schema, text): the cache key, so calls on the same input can be found.
    input_hash = models.CharField(_("input hash"), max_length=64, db_index=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("requested by"),
    )

    class Meta(BaseModel.Meta):
        verbose_name = _("AI call")
        verbose_name_plural = _("AI calls")
        indexes = [models.Index(fields=["purpose", "-created_at"], name="ai_aicall_purpose_created")]

    def __str__(self) -> str:
        return f"{self.purpose} {self.model} {self.outcome}"


class AISettings(BaseModel):
    """The tenant's own Claude settings (at most one row per tenant schema). Empty key: the platform's."""

    singleton = models.BooleanField(default=True, unique=True, editable=False)
    api_key_encrypted = models.TextField(_("encrypted API key"), blank=True)
    model = models.CharField(_("model"), max_length=100, blank=True,
                             help_text=_("Leave empty to use the platform's model."))

    class Meta(BaseModel.Meta):
        verbose_name = _("AI settings")
        verbose_name_plural = _("AI settings")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)

    @property
    def has_api_key(self) -> bool:
        return bool(self.api_key_encrypted)
