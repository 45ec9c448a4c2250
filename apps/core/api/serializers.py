"""Serializers shared by every API: the one error shape, documented once for OpenAPI."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


class ErrorBody(serializers.Serializer):
    code = serializers.CharField(help_text=_("Stable machine-readable code, e.g. insufficient_points."))
    message = serializers.CharField(help_text=_("Human-readable message in the request's language."))
    fields = serializers.DictField(
        child=serializers.JSONField(), help_text=_("Per-field problems, keyed by field name; empty otherwise.")
    )


class ErrorResponse(serializers.Serializer):
    """Every 4xx/5xx answer of the API: ``{"error": {"code", "message", "fields"}}``."""

    error = ErrorBody()


# The body of an action that takes no input: documented as a JSON object (send ``{}`` or nothing). An empty
# serializer would not do: drf-spectacular leaves a field-less serializer out of the schema altogether.
EMPTY_BODY = {"application/json": {"type": "object", "properties": {}, "additionalProperties": False}}
