"""Back office for a tenant's partner credentials. Secrets cannot be seen or set here: only hashes exist."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin

from apps.developer.models import APIKey, PartnerApplication
from apps.developer.services import api_key_revoke


@admin.register(APIKey)
class APIKeyAdmin(ModelAdmin):
    list_display = ("name", "prefix", "scopes", "created_by", "created_at", "last_used_at", "expires_at",
                    "revoked_at")
    list_filter = ("revoked_at", "created_at")
    search_fields = ("name", "prefix")
    readonly_fields = ("prefix", "key_hash", "scopes", "created_by", "created_at", "updated_at", "last_used_at",
                       "revoked_at")
    fields = ("name", "prefix", "scopes", "expires_at", "created_by", "created_at", "last_used_at", "revoked_at")
    actions = ("revoke_selected",)

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False  # keys are issued through the API, which shows the secret once

    @admin.action(description=_("Revoke the selected API keys"))
    def revoke_selected(self, request, queryset) -> None:  # type: ignore[no-untyped-def]
        for api_key in queryset:
            api_key_revoke(api_key=api_key)


@admin.register(PartnerApplication)
class PartnerApplicationAdmin(ModelAdmin):
    list_display = ("application", "scopes", "created_by", "created_at")
    search_fields = ("application__name", "application__client_id")
    readonly_fields = ("application", "created_by", "created_at", "updated_at")
    fields = ("application", "scopes", "created_by", "created_at")

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False
