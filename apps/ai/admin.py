"""Back office for the Claude gateway: the call log (read-only) and the tenant's key (write-only, encrypted)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin

from apps.ai.models import AICall, AISettings
from apps.ai.services import ai_api_key_set


@admin.register(AICall)
class AICallAdmin(ModelAdmin):
    list_display = ("created_at", "purpose", "model", "outcome", "attempt", "input_tokens", "output_tokens",
                    "latency_ms", "error_code", "requested_by")
    list_filter = ("outcome", "purpose", "model")
    search_fields = ("input_hash", "error_code")
    readonly_fields = [field.name for field in AICall._meta.fields]

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


class AISettingsForm(forms.ModelForm):
    api_key = forms.CharField(label=_("Claude API key"), required=False, widget=forms.PasswordInput,
                              help_text=_("Leave empty to keep the stored key. It is stored encrypted and never "
                                          "shown again."))
    remove_api_key = forms.BooleanField(label=_("Remove the stored key"), required=False)

    class Meta:
        model = AISettings
        fields = ("model",)


@admin.register(AISettings)
class AISettingsAdmin(ModelAdmin):
    form = AISettingsForm
    list_display = ("__str__", "has_api_key", "model", "updated_at")
    fields = ("api_key", "remove_api_key", "model")

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return not AISettings.objects.exists()

    def save_model(self, request, obj, form, change) -> None:  # type: ignore[no-untyped-def]
        key = form.cleaned_data.get("api_key")
        if form.cleaned_data.get("remove_api_key"):
            ai_api_key_set(api_key="", model=obj.model)
        elif key:
            ai_api_key_set(api_key=key, model=obj.model)
        else:
            super().save_model(request, obj, form, change)
