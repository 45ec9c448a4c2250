"""Loyalty programs, their rules, members and the append-only points ledger.

The ledger is the source of truth: ``Member.available``/``pending``/``lifetime``/``debt`` are denormalised
from it and only ever changed by ``apps.loyalty.services`` in the same transaction as the entries that
justify them, with the member row locked. Entries are never edited: only their status moves
(pending → active | cancelled, active → expired); corrections are new entries. A database trigger
(migration 0002) refuses any other UPDATE and every DELETE, so raw SQL cannot rewrite history either.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.models import BaseModel

MONEY = {"max_digits": 14, "decimal_places": 2}
MULTIPLIER = {"max_digits": 6, "decimal_places": 3, "default": Decimal("1.000"),
              "validators": [MinValueValidator(Decimal("0"))]}


class Program(BaseModel):
    class Type(models.TextChoices):
        POINTS = "points", _("Points")
        TIERED = "tiered", _("Tiered")
        PUNCH_CARD = "punch_card", _("Punch card")
        SPEND_BASED = "spend_based", _("Spend based")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")

    class TierBasis(models.TextChoices):
        SPEND = "spend", _("Spend")
        POINTS = "points", _("Points earned")

    class TierDowngradePolicy(models.TextChoices):
        NONE = "none", _("Never downgrade")
        AUTOMATIC = "automatic", _("Downgrade immediately")
        AFTER_DAYS = "after_days", _("Downgrade after a grace period")

    class RefundPolicy(models.TextChoices):
        # What a refund does when the points the purchase earned were already spent (docs/loyalty.md).
        NEGATIVE_BALANCE = "negative_balance", _("Take the shortfall from the rest of the balance")
        DEBT = "debt", _("Record the shortfall as a debt repaid from future points")

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    type = models.CharField(_("type"), max_length=20, choices=Type.choices, default=Type.POINTS)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    currency = models.CharField(_("currency"), max_length=3, default="USD")

    # Redemption rules.
    min_redeem_points = models.PositiveIntegerField(_("minimum points to redeem"), default=0)
    points_value_per_100 = models.DecimalField(_("value of 100 points"), default=Decimal("1.00"), **MONEY)
    rewards_enabled = models.BooleanField(_("rewards enabled"), default=True)
    reservation_minutes = models.PositiveIntegerField(_("reservation hold (minutes)"), default=30)
    transfers_enabled = models.BooleanField(_("member-to-member transfers enabled"), default=False)

    # Expiration rules.
    expiration_enabled = models.BooleanField(_("points expire"), default=False)
    expiration_months = models.PositiveSmallIntegerField(_("months until points expire"), default=12)
    expiry_warning_days = models.PositiveSmallIntegerField(_("expiry warning (days ahead)"), default=30)

    # Points earned stay pending (locked) this many days before they can be spent.
    pending_days = models.PositiveSmallIntegerField(_("pending period (days)"), default=0)

    tier_basis = models.CharField(_("tier basis"), max_length=10, choices=TierBasis.choices,
                                  default=TierBasis.SPEND)
    tier_window_days = models.PositiveIntegerField(_("tier qualification window (days)"), null=True, blank=True,
                                                   help_text=_("Empty: lifetime."))
    tier_downgrade_policy = models.CharField(_("tier downgrade policy"), max_length=12,
                                             choices=TierDowngradePolicy.choices,
                                             default=TierDowngradePolicy.AUTOMATIC)
    tier_downgrade_after_days = models.PositiveIntegerField(_("downgrade grace period (days)"), default=0)

    refund_policy = models.CharField(_("refund of spent points"), max_length=20, choices=RefundPolicy.choices,
                                     default=RefundPolicy.NEGATIVE_BALANCE)
    points_budget = models.PositiveBigIntegerField(_("points budget"), null=True, blank=True,
                                                   help_text=_("Most points the earn rules may issue in total."))

    class Meta:
        verbose_name = _("loyalty program")
        verbose_name_plural = _("loyalty programs")
        ordering = ("-created_at", "id")
        constraints = [
            models.CheckConstraint(condition=Q(expiration_months__gte=1), name="loyalty_program_expiry_months_gte_1"),
            models.CheckConstraint(condition=Q(points_value_per_100__gte=0), name="loyalty_program_value_gte_0"),
        ]

    def __str__(self) -> str:
        return self.name


class Tier(BaseModel):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="tiers", verbose_name=_("program"))
    name = models.CharField(_("name"), max_length=100)
    rank = models.PositiveSmallIntegerField(_("rank"), help_text=_("Higher rank, better tier."))
    threshold = models.DecimalField(_("threshold"), help_text=_("Spend or points over the window."), **MONEY)
    points_multiplier = models.DecimalField(_("points multiplier"), **MULTIPLIER)
    free_shipping = models.BooleanField(_("free shipping"), default=False)
    early_access = models.BooleanField(_("early access"), default=False)
    exclusive_access = models.BooleanField(_("exclusive access"), default=False)

    class Meta:
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        ordering = ("program_id", "rank", "id")
        constraints = [
            models.UniqueConstraint(fields=["program", "rank"], name="loyalty_tier_unique_rank"),
            models.UniqueConstraint(fields=["program", "name"], name="loyalty_tier_unique_name"),
            models.CheckConstraint(condition=Q(threshold__gte=0), name="loyalty_tier_threshold_gte_0"),
        ]

    def __str__(self) -> str:
        return self.name


class Reward(BaseModel):
    class Type(models.TextChoices):
        DISCOUNT = "discount", _("Discount")
        FREE_PRODUCT = "free_product", _("Free product")
        FREE_SHIPPING = "free_shipping", _("Free shipping")
        GIFT_CARD = "gift_card", _("Gift card")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        INACTIVE = "inactive", _("Inactive")

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="rewards",
                                verbose_name=_("program"))
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    type = models.CharField(_("type"), max_length=20, choices=Type.choices, default=Type.DISCOUNT)
    points_cost = models.PositiveIntegerField(_("points cost"))
    value = models.DecimalField(_("value"), default=Decimal("0"), **MONEY)
    stock_limited = models.BooleanField(_("limited stock"), default=False)
    stock_available = models.PositiveIntegerField(_("stock available"), default=0)
    stock_reserved = models.PositiveIntegerField(_("stock reserved"), default=0)
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    min_order_value = models.DecimalField(_("minimum order value"), null=True, blank=True, **MONEY)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)

    class Meta:
        verbose_name = _("reward")
        verbose_name_plural = _("rewards")
        ordering = ("points_cost", "name", "id")
        constraints = [
            models.CheckConstraint(condition=Q(stock_available__gte=0), name="loyalty_reward_stock_available_gte_0"),
            models.CheckConstraint(condition=Q(stock_reserved__gte=0), name="loyalty_reward_stock_reserved_gte_0"),
            models.CheckConstraint(condition=Q(value__gte=0), name="loyalty_reward_value_gte_0"),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True) | Q(valid_until__isnull=True) | Q(valid_until__gt=F("valid_from")),
                name="loyalty_reward_valid_window",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RewardExcludedProduct(BaseModel):
    reward = models.ForeignKey(Reward, on_delete=models.CASCADE, related_name="excluded_products")
    sku = models.CharField(_("SKU"), max_length=100)

    class Meta:
        verbose_name = _("excluded product")
        verbose_name_plural = _("excluded products")
        ordering = ("sku", "id")
        constraints = [models.UniqueConstraint(fields=["reward", "sku"], name="loyalty_reward_excluded_unique")]

    def __str__(self) -> str:
        return self.sku


class EarnRule(BaseModel):
    class Event(models.TextChoices):
        PURCHASE = "purchase", _("Purchase")
        SIGNUP = "signup", _("Sign-up")
        BIRTHDAY = "birthday", _("Birthday")
        REVIEW = "review", _("Review")
        SOCIAL_SHARE = "social_share", _("Social share")
        REFERRAL = "referral", _("Referral")
        CUSTOM = "custom", _("Custom event")

    class Calculation(models.TextChoices):
        PER_CURRENCY_UNIT = "per_currency_unit", _("Points per currency unit")
        FIXED = "fixed", _("Fixed points")
        PUNCH_CARD = "punch_card", _("Punch card")

    class Period(models.TextChoices):
        DAY = "day", _("Day")
        WEEK = "week", _("Week")
        MONTH = "month", _("Month")
        YEAR = "year", _("Year")
        LIFETIME = "lifetime", _("Lifetime")

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="earn_rules",
                                verbose_name=_("program"))
    name = models.CharField(_("name"), max_length=200)
    event = models.CharField(_("event"), max_length=20, choices=Event.choices, default=Event.PURCHASE)
    custom_event = models.CharField(_("custom event name"), max_length=100, blank=True)
    calculation = models.CharField(_("calculation"), max_length=20, choices=Calculation.choices,
                                   default=Calculation.PER_CURRENCY_UNIT)
    points_per_unit = models.DecimalField(_("points per currency unit"), max_digits=10, decimal_places=4,
                                          default=Decimal("0"), validators=[MinValueValidator(Decimal("0"))])
    fixed_points = models.PositiveIntegerField(_("fixed points"), default=0)
    multiplier = models.DecimalField(_("global multiplier"), **MULTIPLIER)
    min_order_value = models.DecimalField(_("minimum order value"), null=True, blank=True, **MONEY)
    exclude_delivery = models.BooleanField(_("exclude delivery cost"), default=True)
    limit_period = models.CharField(_("limit period"), max_length=10, choices=Period.choices, blank=True)
    limit_points = models.PositiveIntegerField(_("most points per member per period"), null=True, blank=True)
    limit_awards = models.PositiveIntegerField(_("most awards per member per period"), null=True, blank=True)
    punches_required = models.PositiveSmallIntegerField(_("purchases per card"), null=True, blank=True)
    punch_reward = models.ForeignKey(Reward, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                     verbose_name=_("reward for a full card"))
    starts_at = models.DateTimeField(_("active from"), null=True, blank=True)
    ends_at = models.DateTimeField(_("active until"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    priority = models.SmallIntegerField(_("priority"), default=0)

    class Meta:
        verbose_name = _("earn rule")
        verbose_name_plural = _("earn rules")
        ordering = ("program_id", "-priority", "created_at", "id")
        constraints = [
            models.CheckConstraint(condition=Q(multiplier__gte=0), name="loyalty_earnrule_multiplier_gte_0"),
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True) | Q(ends_at__isnull=True) | Q(ends_at__gt=F("starts_at")),
                name="loyalty_earnrule_window",
            ),
            models.CheckConstraint(
                condition=~Q(calculation="punch_card") | Q(punches_required__gte=1),
                name="loyalty_earnrule_punches_required",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class EarnRuleMultiplier(BaseModel):
    class Scope(models.TextChoices):
        LABEL = "label", _("Product label")
        SKU = "sku", _("Product SKU")
        TIER = "tier", _("Member tier")

    rule = models.ForeignKey(EarnRule, on_delete=models.CASCADE, related_name="multipliers")
    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices)
    value = models.CharField(_("label or SKU"), max_length=100, blank=True)
    tier = models.ForeignKey(Tier, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    multiplier = models.DecimalField(_("multiplier"), **MULTIPLIER)

    class Meta:
        verbose_name = _("earn rule multiplier")
        verbose_name_plural = _("earn rule multipliers")
        ordering = ("scope", "value", "id")
        constraints = [
            models.CheckConstraint(
                condition=(Q(scope="tier") & Q(tier__isnull=False)) | (~Q(scope="tier") & ~Q(value="")),
                name="loyalty_multiplier_target",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.value or self.tier_id} ×{self.multiplier}"


class EarnRuleExclusion(BaseModel):
    class Scope(models.TextChoices):
        SKU = "sku", _("Product SKU")
        LABEL = "label", _("Product label")

    rule = models.ForeignKey(EarnRule, on_delete=models.CASCADE, related_name="exclusions")
    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices)
    value = models.CharField(_("label or SKU"), max_length=100)

    class Meta:
        verbose_name = _("earn rule exclusion")
        verbose_name_plural = _("earn rule exclusions")
        ordering = ("scope", "value", "id")
        constraints = [models.UniqueConstraint(fields=["rule", "scope", "value"], name="loyalty_exclusion_unique")]

    def __str__(self) -> str:
        return f"{self.scope}:{self.value}"


class Member(BaseModel):
    # No index of its own: loyalty_member_unique_customer (program_id, customer_id) starts with it.
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="members",
                                verbose_name=_("program"), db_index=False)
    customer_id = models.CharField(_("customer id"), max_length=100)
    email = models.EmailField(_("email"), blank=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    tier = models.ForeignKey(Tier, on_delete=models.SET_NULL, null=True, blank=True, related_name="members",
                             verbose_name=_("tier"), db_index=False)  # partial index in Meta
    tier_achieved_at = models.DateTimeField(_("tier achieved at"), null=True, blank=True)
    tier_downgrade_at = models.DateTimeField(_("tier downgrade due at"), null=True, blank=True)
    # Balances, denormalised from the ledger (see module docstring).
    available = models.BigIntegerField(_("available points"), default=0)
    pending = models.BigIntegerField(_("pending points"), default=0)
    lifetime = models.BigIntegerField(_("lifetime points"), default=0)
    debt = models.BigIntegerField(_("points owed"), default=0)
    purchase_count = models.PositiveIntegerField(_("purchases"), default=0)
    referral_code = models.CharField(_("referral code"), max_length=8, unique=True)
    referred_by = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="referred_members", verbose_name=_("referred by"),
                                    db_index=False)  # partial index in Meta
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    enrolled_at = models.DateTimeField(_("enrolled at"))
    last_activity_at = models.DateTimeField(_("last activity"), null=True, blank=True)
    consent_marketing = models.BooleanField(_("marketing consent"), default=False)
    consent_email = models.BooleanField(_("email consent"), default=False)
    consent_sms = models.BooleanField(_("SMS consent"), default=False)

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ("-enrolled_at", "id")
        constraints = [
            models.UniqueConstraint(fields=["program", "customer_id"], name="loyalty_member_unique_customer"),
            models.CheckConstraint(condition=Q(available__gte=0), name="loyalty_member_available_gte_0"),
            models.CheckConstraint(condition=Q(pending__gte=0), name="loyalty_member_pending_gte_0"),
            models.CheckConstraint(condition=Q(lifetime__gte=0), name="loyalty_member_lifetime_gte_0"),
            models.CheckConstraint(condition=Q(debt__gte=0), name="loyalty_member_debt_gte_0"),
        ]
        indexes = [
            models.Index(fields=["email"], name="loyalty_member_email_idx"),
            # Members without a tier or a referrer (most, and every member a campaign enrols) skip these; a
            # lookup by value (a tier's or referrer's members, their SET_NULL on deletion) still uses them.
            models.Index(fields=["tier"], name="loyalty_member_tier", condition=Q(tier__isnull=False)),
            models.Index(fields=["referred_by"], name="loyalty_member_referred_by",
                         condition=Q(referred_by__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} ({self.program_id})"


class Order(BaseModel):
    class Status(models.TextChoices):
        COMPLETED = "completed", _("Completed")
        PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
        REFUNDED = "refunded", _("Refunded")

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="orders")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="orders")
    external_id = models.CharField(_("order id"), max_length=100)
    currency = models.CharField(_("currency"), max_length=3)
    subtotal = models.DecimalField(_("subtotal"), **MONEY)
    delivery_cost = models.DecimalField(_("delivery cost"), default=Decimal("0"), **MONEY)
    total = models.DecimalField(_("total"), **MONEY)
    refunded_total = models.DecimalField(_("refunded"), default=Decimal("0"), **MONEY)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.COMPLETED)
    placed_at = models.DateTimeField(_("placed at"))

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ("-placed_at", "id")
        constraints = [
            models.UniqueConstraint(fields=["program", "external_id"], name="loyalty_order_unique_external"),
            models.CheckConstraint(condition=Q(subtotal__gte=0) & Q(delivery_cost__gte=0) & Q(total__gte=0),
                                   name="loyalty_order_amounts_gte_0"),
            models.CheckConstraint(condition=Q(refunded_total__gte=0) & Q(refunded_total__lte=F("total")),
                                   name="loyalty_order_refund_lte_total"),
        ]
        indexes = [models.Index(fields=["member", "placed_at"], name="loyalty_order_member_placed")]

    def __str__(self) -> str:
        return self.external_id


class OrderLine(BaseModel):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    sku = models.CharField(_("SKU"), max_length=100)
    name = models.CharField(_("name"), max_length=200, blank=True)
    labels = ArrayField(models.CharField(max_length=50), default=list, blank=True, verbose_name=_("labels"))
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price = models.DecimalField(_("unit price"), **MONEY)
    refunded_quantity = models.PositiveIntegerField(_("refunded quantity"), default=0)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ("order_id", "created_at", "id")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="loyalty_orderline_quantity_gte_1"),
            models.CheckConstraint(condition=Q(refunded_quantity__lte=F("quantity")),
                                   name="loyalty_orderline_refund_lte_quantity"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="loyalty_orderline_price_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} ×{self.quantity}"

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity


class OrderRefund(BaseModel):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    external_id = models.CharField(_("refund id"), max_length=100)
    amount = models.DecimalField(_("amount"), **MONEY)
    full = models.BooleanField(_("full refund"), default=False)
    points_reversed = models.BigIntegerField(_("points reversed"), default=0)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ("-created_at", "id")
        constraints = [
            models.UniqueConstraint(fields=["order", "external_id"], name="loyalty_refund_unique_external"),
        ]

    def __str__(self) -> str:
        return self.external_id


class OrderRefundLine(BaseModel):
    refund = models.ForeignKey(OrderRefund, on_delete=models.CASCADE, related_name="lines")
    line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="refund_lines")
    quantity = models.PositiveIntegerField(_("quantity"))

    class Meta:
        verbose_name = _("refunded line")
        verbose_name_plural = _("refunded lines")
        ordering = ("refund_id", "id")


class Redemption(BaseModel):
    class Status(models.TextChoices):
        RESERVED = "reserved", _("Reserved")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="redemptions")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="redemptions")
    reward = models.ForeignKey(Reward, on_delete=models.PROTECT, null=True, blank=True, related_name="redemptions")
    code = models.CharField(_("code"), max_length=16, unique=True)
    points = models.PositiveIntegerField(_("points"))
    value = models.DecimalField(_("value"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RESERVED)
    hold_expires_at = models.DateTimeField(_("hold expires at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.CharField(_("cancel reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")
        ordering = ("-created_at", "id")
        indexes = [models.Index(fields=["status", "hold_expires_at"], name="loyalty_redemption_hold_idx")]

    def __str__(self) -> str:
        return self.code


class LedgerEntryQuerySet(models.QuerySet["LedgerEntry"]):
    def update(self, **kwargs: Any) -> int:
        illegal = set(kwargs) - LedgerEntry.MUTABLE_FIELDS
        if illegal:
            raise LedgerImmutableError(f"ledger entries are append-only; cannot update {sorted(illegal)}")
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        raise LedgerImmutableError("ledger entries are append-only; they are never deleted")

    def credits(self) -> LedgerEntryQuerySet:
        return self.filter(amount__gt=0)


class LedgerImmutableError(Exception):
    """Raised on any attempt to rewrite or delete ledger history (a programming error, never user input)."""


class LedgerEntry(BaseModel):
    class Kind(models.TextChoices):
        EARN = "earn", _("Earn")
        REDEEM = "redeem", _("Redeem")
        EXPIRE = "expire", _("Expire")
        ADJUST = "adjust", _("Adjust")
        REVERSE = "reverse", _("Reverse")
        TRANSFER_IN = "transfer_in", _("Transfer in")
        TRANSFER_OUT = "transfer_out", _("Transfer out")
        DEBT_SETTLE = "debt_settle", _("Debt repayment")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACTIVE = "active", _("Active")
        EXPIRED = "expired", _("Expired")
        CANCELLED = "cancelled", _("Cancelled")

    class Source(models.TextChoices):
        PURCHASE = "purchase", _("Purchase")
        SIGNUP = "signup", _("Sign-up")
        REFERRAL = "referral", _("Referral")
        REVIEW = "review", _("Review")
        MANUAL = "manual", _("Manual")
        REDEMPTION = "redemption", _("Redemption")
        CAMPAIGN = "campaign", _("Campaign")
        BIRTHDAY = "birthday", _("Birthday")
        SOCIAL_SHARE = "social_share", _("Social share")
        CUSTOM = "custom", _("Custom event")
        TRANSFER = "transfer", _("Transfer")
        EXPIRY = "expiry", _("Expiry")
        REFUND = "refund", _("Refund")

    # The only columns a status transition may touch (the trigger enforces the same list).
    MUTABLE_FIELDS: ClassVar[set[str]] = {"status", "status_changed_at", "updated_at"}
    TRANSITIONS: ClassVar[dict[str, set[str]]] = {
        "pending": {"active", "cancelled"},
        "active": {"expired"},
        "expired": set(),
        "cancelled": set(),
    }

    # Always the member's program (written from it, never changed): its integrity follows from the enforced
    # member -> program key, so no constraint of its own (one foreign-key check less per entry written; the
    # ORM still applies PROTECT).
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+", db_constraint=False)
    # No index of its own: loyalty_entry_member_created (member_id, created_at DESC) starts with it.
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="ledger", db_index=False)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    # Signed: credits are positive, debits negative.
    amount = models.BigIntegerField(_("points"))
    balance_after = models.BigIntegerField(_("available balance after"))
    # Change in the member's debt this entry made (+ when a shortfall was recorded, − when repaid).
    debt_change = models.BigIntegerField(_("debt change"), default=0)
    # Reversals only: points of the reversal not charged because they had already expired unused.
    # A reversal asked for −amount + debt_change + waived points.
    waived = models.BigIntegerField(_("waived (already expired)"), default=0)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    # The nullable foreign keys below are indexed by partial indexes (Meta.indexes): same lookups, but the
    # many entries where they are NULL (every campaign award) write nothing to them.
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+", verbose_name=_("actor"), db_index=False)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, null=True, blank=True, related_name="ledger",
                              db_index=False)
    order_ref = models.CharField(_("order id"), max_length=100, blank=True)
    reward = models.ForeignKey(Reward, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                               db_index=False)
    redemption = models.ForeignKey(Redemption, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="ledger", db_index=False)
    earn_rule = models.ForeignKey(EarnRule, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                  db_index=False)
    referral_id = models.UUIDField(_("referral id"), null=True, blank=True)
    campaign_id = models.UUIDField(_("campaign id"), null=True, blank=True)
    # A reversal points at the award it reverses; a transfer at its other half.
    reverses = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversals",
                                 db_index=False)
    counterpart = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                    db_index=False)
    # Unique through Meta.constraints (same name as before) rather than unique=True, which adds a
    # varchar_pattern_ops copy of the index for LIKE 'prefix%' lookups that nothing makes.
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, null=True, blank=True)
    unlock_at = models.DateTimeField(_("unlocks at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)
    # When the business event happened (a purchase's placed_at); limits and tier windows count on it.
    occurred_at = models.DateTimeField(_("occurred at"), default=timezone.now)

    objects = LedgerEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ("-created_at", "-id")
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0) | ~Q(debt_change=0) | ~Q(waived=0),
                                   name="loyalty_entry_moves_something"),
            models.CheckConstraint(condition=Q(waived__gte=0), name="loyalty_entry_waived_gte_0"),
            models.UniqueConstraint(fields=["idempotency_key"], name="loyalty_ledgerentry_idempotency_key_key"),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="loyalty_entry_balance_after_gte_0"),
            models.CheckConstraint(
                condition=(Q(kind__in=["earn", "transfer_in"]) & Q(amount__gt=0))
                | (Q(kind__in=["redeem", "expire", "transfer_out", "debt_settle", "reverse"]) & Q(amount__lte=0))
                | Q(kind="adjust"),
                name="loyalty_entry_sign_matches_kind",
            ),
        ]
        indexes = [
            models.Index(fields=["member", "-created_at"], name="loyalty_entry_member_created"),
            models.Index(fields=["member", "earn_rule", "occurred_at"], name="loyalty_entry_rule_limits",
                         condition=Q(earn_rule__isnull=False)),
            models.Index(fields=["member", "expires_at"], name="loyalty_entry_active_credits",
                         condition=Q(status="active", amount__gt=0)),
            models.Index(fields=["unlock_at"], name="loyalty_entry_pending_unlock",
                         condition=Q(status="pending", amount__gt=0)),
            models.Index(fields=["expires_at"], name="loyalty_entry_expiring",
                         condition=Q(status="active", amount__gt=0, expires_at__isnull=False)),
            # Nullable foreign keys: a lookup by value (a filter, the on_delete check of the referenced row:
            # an order's, a redemption's or an award's ledger, reversal_requested_so_far, a rule's or a user's
            # deletion) implies NOT NULL, so a partial index serves it; entries without one skip the index.
            *(models.Index(fields=[name], name=f"loyalty_entry_{name}", condition=Q(**{f"{name}__isnull": False}))
              for name in ("actor", "order", "reward", "redemption", "earn_rule", "reverses", "counterpart")),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount:+d} ({self.status})"

    @property
    def is_credit(self) -> bool:
        return self.amount > 0

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            update_fields = kwargs.get("update_fields")
            if update_fields is None or set(update_fields) - self.MUTABLE_FIELDS:
                raise LedgerImmutableError("ledger entries are append-only: save(update_fields=[status...]) only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise LedgerImmutableError("ledger entries are append-only; they are never deleted")


class LedgerAllocation(models.Model):
    """Which award a debit drew on, and how many points: expiry and reversal stay exact.

    An allocation counts while its debit entry is not cancelled (a cancelled reservation gives its
    points back to the awards it drew on, with their original expiry)."""

    id = models.BigAutoField(primary_key=True)
    spend = models.ForeignKey(LedgerEntry, on_delete=models.PROTECT, related_name="allocations")
    award = models.ForeignKey(LedgerEntry, on_delete=models.PROTECT, related_name="drawn_by")
    points = models.BigIntegerField(_("points"))

    class Meta:
        verbose_name = _("ledger allocation")
        verbose_name_plural = _("ledger allocations")
        ordering = ("id",)
        constraints = [
            models.UniqueConstraint(fields=["spend", "award"], name="loyalty_allocation_unique"),
            models.CheckConstraint(condition=Q(points__gt=0), name="loyalty_allocation_points_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.points} from {self.award_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise LedgerImmutableError("ledger allocations are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise LedgerImmutableError("ledger allocations are append-only")


class EarnAttribution(models.Model):
    """How much each order line (or the delivery, when ``line`` is empty) weighed in a purchase award.

    A refund reverses, per award, the refunded lines' share of these weights: what the purchase earned,
    exactly, whatever the rules look like by then."""

    id = models.BigAutoField(primary_key=True)
    entry = models.ForeignKey(LedgerEntry, on_delete=models.PROTECT, related_name="attributions")
    line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    weight = models.DecimalField(_("weight"), max_digits=20, decimal_places=6)

    class Meta:
        verbose_name = _("earn attribution")
        verbose_name_plural = _("earn attributions")
        ordering = ("id",)
        constraints = [
            models.UniqueConstraint(fields=["entry", "line"], name="loyalty_attribution_unique"),
            models.CheckConstraint(condition=Q(weight__gte=0), name="loyalty_attribution_weight_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.line_id or 'delivery'}: {self.weight}"


class PunchCardStamp(BaseModel):
    """One qualifying purchase on a member's punch card; ``redemption`` is set when a full card is cashed."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="punch_stamps")
    rule = models.ForeignKey(EarnRule, on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="punch_stamps")
    redemption = models.ForeignKey(Redemption, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    award = models.ForeignKey(LedgerEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("punch card stamp")
        verbose_name_plural = _("punch card stamps")
        ordering = ("created_at", "id")
        constraints = [models.UniqueConstraint(fields=["rule", "order"], name="loyalty_stamp_unique_order")]

    def __str__(self) -> str:
        return f"{self.rule_id}/{self.order_id}"


class LoyaltyNotification(BaseModel):
    """Outbox of member notifications (expiry warnings, ...) that the notification system delivers."""

    class Kind(models.TextChoices):
        EXPIRY_WARNING = "expiry_warning", _("Points expiry warning")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    payload = models.JSONField(_("payload"), default=dict)
    dedupe_key = models.CharField(_("deduplication key"), max_length=200, unique=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ("-created_at", "id")
        indexes = [models.Index(fields=["status", "created_at"], name="loyalty_notification_outbox")]

    def __str__(self) -> str:
        return f"{self.kind} → {self.member_id}"
