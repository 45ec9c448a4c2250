"""Loyalty back office. Configuration is edited through the services; the ledger and everything derived from
it is read-only (no edit, no delete): corrections are new entries, made with the "Adjust points" action."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import action
from unfold.forms import BaseDialogForm

from apps.core.admin import ReadOnlyAdmin, ReadOnlyInline
from apps.core.errors import ApplicationError
from apps.loyalty import services
from apps.loyalty.models import (
    EarnAttribution,
    EarnRule,
    EarnRuleExclusion,
    EarnRuleMultiplier,
    LedgerAllocation,
    LedgerEntry,
    LoyaltyNotification,
    Member,
    Order,
    OrderLine,
    OrderRefund,
    Program,
    PunchCardStamp,
    Redemption,
    Reward,
    RewardExcludedProduct,
    Tier,
)
from apps.loyalty.services.programs import EARN_RULE_FIELDS, PROGRAM_FIELDS, REWARD_FIELDS, TIER_FIELDS


def _report(request: HttpRequest, exc: ApplicationError) -> None:
    details = "; ".join(f"{field}: {value}" for field, value in exc.fields.items())
    messages.error(request, f"{exc.message} {details}".strip())


class ServiceAdmin(ModelAdmin):
    """Saves and deletes through the app's services (validation and invariants in one place)."""

    editable: set[str] = set()

    def _create(self, obj: Any, data: dict[str, Any]) -> Any:
        raise NotImplementedError

    def _update(self, obj: Any, data: dict[str, Any]) -> Any:
        raise NotImplementedError

    def _delete(self, obj: Any) -> None:
        raise NotImplementedError

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = {name: form.cleaned_data[name] for name in form.changed_data if name in self.editable}
        if change:
            self._update(obj, data)
            return
        data = {name: value for name, value in form.cleaned_data.items() if name in self.editable}
        created = self._create(obj, data)
        obj.pk = created.pk
        obj._state.adding = False

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        try:
            self._delete(obj)
        except ApplicationError as exc:
            _report(request, exc)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


# ---------------------------------------------------------------------------------------------- programs

@admin.register(Program)
class ProgramAdmin(ServiceAdmin):
    editable = PROGRAM_FIELDS
    list_display = ("name", "type", "status", "currency", "pending_days", "expiration_enabled", "refund_policy",
                    "created_at")
    list_filter = ("status", "type", "currency", "refund_policy", "tier_downgrade_policy")
    search_fields = ("name", "description")
    readonly_fields = ("created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "description", "type", "status", "currency")}),
        (_("Redemption"), {"fields": ("min_redeem_points", "points_value_per_100", "rewards_enabled",
                                      "reservation_minutes", "transfers_enabled")}),
        (_("Expiry and pending period"), {"fields": ("expiration_enabled", "expiration_months",
                                                     "expiry_warning_days", "pending_days")}),
        (_("Tiers"), {"fields": ("tier_basis", "tier_window_days", "tier_downgrade_policy",
                                 "tier_downgrade_after_days")}),
        (_("Refunds and budget"), {"fields": ("refund_policy", "points_budget")}),
        (_("Dates"), {"fields": ("created_at", "updated_at")}),
    )

    def _create(self, obj: Program, data: dict[str, Any]) -> Program:
        return services.program_create(**data)

    def _update(self, obj: Program, data: dict[str, Any]) -> Program:
        return services.program_update(program=obj, **data)

    def _delete(self, obj: Program) -> None:
        services.program_delete(program=obj)


@admin.register(Tier)
class TierAdmin(ServiceAdmin):
    editable = TIER_FIELDS
    list_display = ("name", "program", "rank", "threshold", "points_multiplier", "free_shipping")
    list_filter = ("program", "free_shipping", "early_access", "exclusive_access")
    search_fields = ("name",)

    def _create(self, obj: Tier, data: dict[str, Any]) -> Tier:
        return services.tier_create(program=obj.program, **data)

    def _update(self, obj: Tier, data: dict[str, Any]) -> Tier:
        return services.tier_update(tier=obj, **data)

    def _delete(self, obj: Tier) -> None:
        services.tier_delete(tier=obj)


class EarnRuleMultiplierInline(TabularInline):
    model = EarnRuleMultiplier
    extra = 0
    fields = ("scope", "value", "tier", "multiplier")


class EarnRuleExclusionInline(TabularInline):
    model = EarnRuleExclusion
    extra = 0
    fields = ("scope", "value")


@admin.register(EarnRule)
class EarnRuleAdmin(ServiceAdmin):
    editable = EARN_RULE_FIELDS
    list_display = ("name", "program", "event", "calculation", "points_per_unit", "fixed_points", "is_active",
                    "priority")
    list_filter = ("program", "event", "calculation", "is_active")
    search_fields = ("name", "custom_event")
    inlines = (EarnRuleMultiplierInline, EarnRuleExclusionInline)

    def _create(self, obj: EarnRule, data: dict[str, Any]) -> EarnRule:
        return services.earn_rule_create(program=obj.program, **data)

    def _update(self, obj: EarnRule, data: dict[str, Any]) -> EarnRule:
        return services.earn_rule_update(rule=obj, **data)

    def _delete(self, obj: EarnRule) -> None:
        services.earn_rule_delete(rule=obj)


# ---------------------------------------------------------------------------------------------- rewards

class RestockForm(BaseDialogForm):
    quantity = forms.IntegerField(label=_("Units to add"), min_value=1, max_value=1_000_000)


class RewardExcludedProductInline(TabularInline):
    model = RewardExcludedProduct
    extra = 0
    fields = ("sku",)


@admin.register(Reward)
class RewardAdmin(ServiceAdmin):
    editable = REWARD_FIELDS
    list_display = ("name", "program", "type", "points_cost", "value", "stock_limited", "stock_available",
                    "stock_reserved", "status")
    list_filter = ("program", "type", "status", "stock_limited")
    search_fields = ("name", "description")
    readonly_fields = ("stock_reserved", "created_at", "updated_at")
    inlines = (RewardExcludedProductInline,)
    actions = ["restock_ten"]
    actions_detail = ["restock"]

    def get_readonly_fields(self, request: HttpRequest, obj: Reward | None = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        # Stock moves through restock and reservations once the reward exists, never by typing a number.
        return [*fields, "stock_available"] if obj is not None else fields

    def _create(self, obj: Reward, data: dict[str, Any]) -> Reward:
        return services.reward_create(program=obj.program, **data)

    def _update(self, obj: Reward, data: dict[str, Any]) -> Reward:
        return services.reward_update(reward=obj, **data)

    def _delete(self, obj: Reward) -> None:
        services.reward_delete(reward=obj)

    @action(description=_("Restock"), url_path="restock", permissions=["change"],
            dialog={"title": _("Restock reward"), "description": _("Add units to the available stock."),
                    "form_class": RestockForm, "form_submit_text": _("Restock")})
    def restock(self, request: HttpRequest, form: RestockForm, object_id: str) -> HttpResponse:
        try:
            reward = services.reward_restock(reward=Reward.objects.get(pk=object_id),
                                             quantity=form.cleaned_data["quantity"])
            messages.success(request, _("%(reward)s: %(stock)d available.") % {"reward": reward.name,
                                                                              "stock": reward.stock_available})
        except ApplicationError as exc:
            _report(request, exc)
        return HttpResponseRedirect(reverse("admin:loyalty_reward_change", args=[object_id]))

    @admin.action(description=_("Restock selected limited rewards with 10 units"))
    def restock_ten(self, request: HttpRequest, queryset: QuerySet[Reward]) -> None:
        restocked = 0
        for reward in queryset.filter(stock_limited=True):
            services.reward_restock(reward=reward, quantity=10)
            restocked += 1
        messages.success(request, _("%(count)d rewards restocked.") % {"count": restocked})


# ---------------------------------------------------------------------------------------------- members

class AdjustPointsForm(BaseDialogForm):
    points = forms.IntegerField(label=_("Points"), help_text=_("Positive to credit, negative to deduct."))
    reason = forms.CharField(label=_("Reason"), max_length=500)

    def clean_points(self) -> int:
        points = self.cleaned_data["points"]
        if points == 0:
            raise forms.ValidationError(_("Give a non-zero number of points."))
        return points


class LedgerInline(ReadOnlyInline):
    model = LedgerEntry
    fk_name = "member"
    fields = ("created_at", "kind", "status", "amount", "balance_after", "debt_change", "source", "reason",
              "expires_at")
    readonly_fields = fields
    ordering = ("-created_at",)
    max_num = 0
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).order_by("-created_at", "-id")


@admin.register(Member)
class MemberAdmin(ModelAdmin):
    list_display = ("customer_id", "email", "name", "program", "tier", "available", "pending", "lifetime", "debt",
                    "enrolled_at")
    list_filter = ("program", "tier", "consent_marketing", "consent_email", "consent_sms")
    search_fields = ("customer_id", "email", "name", "referral_code")
    list_select_related = ("program", "tier")
    readonly_fields = ("program", "customer_id", "tier", "tier_achieved_at", "tier_downgrade_at", "available",
                       "pending", "lifetime", "debt", "purchase_count", "referral_code", "referred_by", "enrolled_at",
                       "last_activity_at", "created_at", "updated_at")
    fields = ("program", "customer_id", "email", "name", "birth_date", "consent_marketing", "consent_email",
              "consent_sms", *readonly_fields[2:])
    inlines = (LedgerInline,)
    actions_detail = ["adjust_points"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # members enrol through the API (member_enroll): referral code, sign-up rules

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a member's ledger is kept

    def save_model(self, request: HttpRequest, obj: Member, form: Any, change: bool) -> None:
        profile = {"email", "name", "birth_date"}
        consents = {name.removeprefix("consent_"): form.cleaned_data[name] for name in form.changed_data
                    if name.startswith("consent_")}
        services.member_update(member=obj, consents=consents,
                               **{name: form.cleaned_data[name] for name in form.changed_data if name in profile})

    @action(description=_("Adjust points"), url_path="adjust-points", permissions=["change"],
            dialog={"title": _("Adjust points"),
                    "description": _("Writes a new ledger entry; past entries are never edited."),
                    "form_class": AdjustPointsForm, "form_submit_text": _("Adjust")})
    def adjust_points(self, request: HttpRequest, form: AdjustPointsForm, object_id: str) -> HttpResponse:
        member = Member.objects.select_related("program").get(pk=object_id)
        points, reason = form.cleaned_data["points"], form.cleaned_data["reason"]
        key = f"admin:adjust:{uuid.uuid4()}"
        try:
            if points > 0:
                services.points_award(member=member, points=points, source="manual", reason=reason,
                                      actor=request.user, idempotency_key=key)
            else:
                services.points_deduct(member=member, points=-points, reason=reason, actor=request.user,
                                       idempotency_key=key)
            messages.success(request, _("Points adjusted by %(points)+d.") % {"points": points})
        except ApplicationError as exc:
            _report(request, exc)
        return HttpResponseRedirect(reverse("admin:loyalty_member_change", args=[object_id]))


# ---------------------------------------------------------------------------------------------- ledger (read-only)

class AllocationInline(ReadOnlyInline):
    model = LedgerAllocation
    fk_name = "spend"
    fields = ("award", "points")
    readonly_fields = fields
    verbose_name_plural = _("drew on")


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "member", "kind", "status", "amount", "balance_after", "debt_change", "source",
                    "order_ref", "expires_at")
    list_filter = ("kind", "status", "source", "program")
    search_fields = ("member__customer_id", "member__email", "order_ref", "reason", "idempotency_key")
    list_select_related = ("member",)
    date_hierarchy = "created_at"
    inlines = (AllocationInline,)


@admin.register(LedgerAllocation)
class LedgerAllocationAdmin(ReadOnlyAdmin):
    list_display = ("id", "spend", "award", "points")
    search_fields = ("spend__member__customer_id",)
    list_select_related = ("spend", "award")


@admin.register(EarnAttribution)
class EarnAttributionAdmin(ReadOnlyAdmin):
    list_display = ("id", "entry", "line", "weight")
    list_select_related = ("entry", "line")


# ---------------------------------------------------------------------------------------------- orders, redemptions

class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = ("sku", "name", "labels", "quantity", "unit_price", "refunded_quantity")
    readonly_fields = fields


class OrderRefundInline(ReadOnlyInline):
    model = OrderRefund
    fields = ("external_id", "amount", "full", "points_reversed", "created_at")
    readonly_fields = fields


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ("external_id", "member", "program", "total", "refunded_total", "status", "placed_at")
    list_filter = ("status", "program", "currency")
    search_fields = ("external_id", "member__customer_id", "member__email")
    list_select_related = ("member", "program")
    date_hierarchy = "placed_at"
    inlines = (OrderLineInline, OrderRefundInline)


@admin.register(OrderRefund)
class OrderRefundAdmin(ReadOnlyAdmin):
    list_display = ("external_id", "order", "amount", "full", "points_reversed", "created_at")
    list_filter = ("full",)
    search_fields = ("external_id", "order__external_id")


@admin.register(Redemption)
class RedemptionAdmin(ReadOnlyAdmin):
    list_display = ("code", "member", "reward", "points", "value", "currency", "status", "created_at")
    list_filter = ("status", "program", "reward")
    search_fields = ("code", "member__customer_id", "member__email")
    list_select_related = ("member", "reward")
    actions = ["cancel_reserved"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Not editable field by field; the permission lets the cancel action run.
        return obj is None and super(ReadOnlyAdmin, self).has_change_permission(request, obj)

    @admin.action(description=_("Cancel selected reservations (points and stock back)"), permissions=["change"])
    def cancel_reserved(self, request: HttpRequest, queryset: QuerySet[Redemption]) -> None:
        cancelled = 0
        for redemption in queryset.filter(status=Redemption.Status.RESERVED):
            services.redemption_cancel(redemption=redemption, reason=str(_("cancelled in the back office")))
            cancelled += 1
        messages.success(request, _("%(count)d reservations cancelled.") % {"count": cancelled})


@admin.register(PunchCardStamp)
class PunchCardStampAdmin(ReadOnlyAdmin):
    list_display = ("member", "rule", "order", "redemption", "voided_at", "created_at")
    list_filter = ("rule",)
    search_fields = ("member__customer_id",)


@admin.register(LoyaltyNotification)
class LoyaltyNotificationAdmin(ReadOnlyAdmin):
    list_display = ("kind", "member", "status", "created_at", "sent_at")
    list_filter = ("kind", "status")
    search_fields = ("member__customer_id", "member__email", "dedupe_key")
