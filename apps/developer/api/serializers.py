from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.developer.models import APIKey, PartnerApplication
from apps.developer.services import CLIENT_TYPES, GRANT_TYPES


# ------------------------------------------------------------------------------------------ API keys
class APIKeyCreateInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    scopes = serializers.ListField(child=serializers.CharField(max_length=64), allow_empty=False)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


class APIKeyOutput(serializers.ModelSerializer):
    is_active = serializers.BooleanField(read_only=True)
    created_by = serializers.EmailField(source="created_by.email", read_only=True, allow_null=True, default=None)

    class Meta:
        model = APIKey
        fields = ("id", "name", "prefix", "scopes", "is_active", "created_by", "created_at", "last_used_at",
                  "expires_at", "revoked_at")
        read_only_fields = fields


class APIKeyCreatedOutput(APIKeyOutput):
    key = serializers.CharField(read_only=True, help_text=_("The full key. Shown only in this response."))

    class Meta(APIKeyOutput.Meta):
        fields = (*APIKeyOutput.Meta.fields, "key")
        read_only_fields = fields


# ------------------------------------------------------------------------------------------ applications
class ApplicationCreateInput(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    scopes = serializers.ListField(child=serializers.CharField(max_length=64), allow_empty=False)
    grant_type = serializers.ChoiceField(choices=GRANT_TYPES, default="client-credentials")
    client_type = serializers.ChoiceField(choices=CLIENT_TYPES, default="confidential")
    redirect_uris = serializers.ListField(child=serializers.URLField(max_length=500), required=False, default=list)


class ApplicationOutput(serializers.ModelSerializer):
    name = serializers.CharField(source="application.name", read_only=True)
    client_id = serializers.CharField(source="application.client_id", read_only=True)
    client_type = serializers.CharField(source="application.client_type", read_only=True)
    grant_type = serializers.CharField(source="application.authorization_grant_type", read_only=True)
    redirect_uris = serializers.SerializerMethodField()
    created_by = serializers.EmailField(source="created_by.email", read_only=True, allow_null=True, default=None)

    class Meta:
        model = PartnerApplication
        fields = ("id", "name", "client_id", "client_type", "grant_type", "redirect_uris", "scopes", "created_by",
                  "created_at")
        read_only_fields = fields

    def get_redirect_uris(self, obj: PartnerApplication) -> list[str]:
        return obj.application.redirect_uris.split()


class ApplicationCreatedOutput(ApplicationOutput):
    client_secret = serializers.CharField(
        read_only=True, allow_null=True,
        help_text=_("The client secret of a confidential client. Shown only in this response."),
    )

    class Meta(ApplicationOutput.Meta):
        fields = (*ApplicationOutput.Meta.fields, "client_secret")
        read_only_fields = fields
