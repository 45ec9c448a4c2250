"""Back office for referrals: campaigns (written through the services), referrals with the fraud review actions,
and read-only clicks and fingerprints (hashes only)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from unfold.admin import ModelAdmin

from apps.core.admin import ReadOnlyAdmin
from apps.core.errors import ApplicationError
from apps.referrals import services
from apps.referrals.models import Fingerprint, Referral, ReferralCampaign, ReferralClick

_COUNTERS = (
    "total_clicks", "total_referrals", "pending_referrals", "flagged_referrals", "successful_referrals",
    "expired_referrals", "fraud_referrals", "revenue_generated",
)


class ReferralCampaignAdminForm(forms.ModelForm):
    signup_url = forms.URLField(label=_("sign-up page"), required=False, assume_scheme="https")
    currency = forms.CharField(label=_("currency"), required=False, max_length=3,
                               help_text=_("Empty: the program's currency."))

    class Meta:
        model = ReferralCampaign
        fields = list(services.CAMPAIGN_EDITABLE_FIELDS)

    def _post_clean(self) -> None:
        super()._post_clean()
        if self.errors:
            return
        try:
            services.referral_campaign_validate(campaign=self.instance)
        except ApplicationError as exc:
            for field, field_messages in exc.fields.items():
                self.add_error(field if field in self.fields else None, field_messages)


@admin.register(ReferralCampaign)
class ReferralCampaignAdmin(ModelAdmin):
    form = ReferralCampaignAdminForm
    list_display = ("name", "program", "status", "fraud_policy", "total_referrals", "successful_referrals",
                    "flagged_referrals", "created_at")
    list_filter = ("status", "fraud_policy", "program")
    search_fields = ("name", "description")
    readonly_fields = (*_COUNTERS, "deleted_at", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("program", "name", "description", "status", "currency", "signup_url", "channels")}),
        (_("Incentives"), {"fields": ("referrer_reward_type", "referrer_reward_value", "referrer_reward_description",
                                      "referred_reward_type", "referred_reward_value",
                                      "referred_reward_description")}),
        (_("Rules"), {"fields": ("min_purchase_amount", "max_referrals_per_member", "allow_self_referral",
                                 "require_email_verification", "referral_window_days")}),
        (_("Fraud"), {"fields": ("fraud_policy", "fraud_threshold", "velocity_max_referrals",
                                 "velocity_window_hours")}),
        (_("Tracking"), {"fields": (*_COUNTERS, "deleted_at", "created_at", "updated_at")}),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: ReferralCampaign | None = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.referrals.exists():
            fields += ["program", "currency"]  # a campaign with referrals keeps both (the service refuses)
        return fields

    def save_model(self, request: HttpRequest, obj: ReferralCampaign, form: Any, change: bool) -> None:
        editable = [field for field in services.CAMPAIGN_EDITABLE_FIELDS if field in form.cleaned_data]
        if change:
            data = {field: form.cleaned_data[field] for field in editable if field in form.changed_data}
            services.referral_campaign_update(campaign=obj, data=data)
            return
        created = services.referral_campaign_create(**{field: form.cleaned_data[field] for field in editable})
        obj.pk = created.pk
        obj._state.adding = False

    def delete_model(self, request: HttpRequest, obj: ReferralCampaign) -> None:
        services.referral_campaign_delete(campaign=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ReferralCampaign]) -> None:
        for campaign in queryset.filter(deleted_at__isnull=True):
            services.referral_campaign_delete(campaign=campaign)


@admin.register(Referral)
class ReferralAdmin(ModelAdmin):
    list_display = ("referred_email", "referrer", "campaign", "status", "fraud_score", "channel", "created_at")
    list_filter = ("status", "fraud_outcome", "review_decision", "channel", "email_verified", "campaign")
    search_fields = ("referred_email", "referred_customer_id", "referrer__customer_id", "referrer__email",
                     "referrer__referral_code")
    list_select_related = ("campaign", "referrer")
    ordering = ("-created_at", "-id")
    actions = ["approve_referrals", "reject_referrals"]

    def get_readonly_fields(self, request: HttpRequest, obj: Referral | None = None) -> Any:
        # Referrals change only through the services (sign-up, conversion, review): the page is a record.
        return [field.name for field in Referral._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Referral | None = None) -> bool:
        return False

    def _review(self, request: HttpRequest, queryset: QuerySet[Referral], decision: str) -> None:
        done = 0
        for referral in queryset.order_by("created_at", "id"):
            try:
                services.referral_review(referral=referral, decision=decision, reviewer=request.user,
                                         note=str(_("Reviewed in the back office.")))
            except ApplicationError as exc:
                self.message_user(request, f"{referral.referred_email}: {exc.message}", level=messages.WARNING)
            else:
                done += 1
        if done:
            self.message_user(request, ngettext("%(count)d referral reviewed.", "%(count)d referrals reviewed.",
                                                done) % {"count": done}, level=messages.SUCCESS)

    @admin.action(description=_("Approve selected flagged referrals"))
    def approve_referrals(self, request: HttpRequest, queryset: QuerySet[Referral]) -> None:
        self._review(request, queryset, "approve")

    @admin.action(description=_("Reject selected referrals as fraud"))
    def reject_referrals(self, request: HttpRequest, queryset: QuerySet[Referral]) -> None:
        self._review(request, queryset, "reject")


@admin.register(ReferralClick)
class ReferralClickAdmin(ReadOnlyAdmin):
    list_display = ("code", "channel", "campaign", "created_at")
    list_filter = ("channel", "campaign")
    search_fields = ("code",)


@admin.register(Fingerprint)
class FingerprintAdmin(ReadOnlyAdmin):
    list_display = ("kind", "value_hash", "member", "referral", "source", "created_at")
    list_filter = ("kind", "source")
    search_fields = ("value_hash",)
