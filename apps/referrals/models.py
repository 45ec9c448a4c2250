"""Referral campaigns, the clicks on members' referral links, referrals and their fraud fingerprints.

A member's referral link is ``/r/<member.referral_code>``: the code belongs to apps.loyalty's Member, so
there is no link table; a click names the referrer and the campaign that was live when it happened.
Fingerprints (IP, device, billing address, card) are stored only as keyed hashes (see fingerprints.py).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.core.models import BaseModel


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    FACEBOOK = "facebook", _("Facebook")
    X = "x", _("X (Twitter)")
    WHATSAPP = "whatsapp", _("WhatsApp")
    COPY_LINK = "copy_link", _("Copied link")


class IncentiveType(models.TextChoices):
    POINTS = "points", _("Points")
    DISCOUNT = "discount", _("Discount")
    GIFT = "gift", _("Gift")


class FraudPolicy(models.TextChoices):
    ALLOW = "allow", _("Allow (score only)")
    FLAG = "flag", _("Flag for review")
    BLOCK = "block", _("Block")


class ReferralCampaign(BaseModel):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")
        COMPLETED = "completed", _("Completed")
        ARCHIVED = "archived", _("Archived")

    program = models.ForeignKey("loyalty.Program", on_delete=models.PROTECT, related_name="referral_campaigns",
                                verbose_name=_("program"))
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.ACTIVE,
                              db_index=True)

    referrer_reward_type = models.CharField(_("referrer reward type"), max_length=10, choices=IncentiveType.choices,
                                            default=IncentiveType.POINTS)
    referrer_reward_value = models.DecimalField(_("referrer reward value"), max_digits=12, decimal_places=2,
                                                validators=[MinValueValidator(Decimal("0"))])
    referrer_reward_description = models.CharField(_("referrer reward description"), max_length=200, blank=True)
    referred_reward_type = models.CharField(_("referred reward type"), max_length=10, choices=IncentiveType.choices,
                                            default=IncentiveType.POINTS)
    referred_reward_value = models.DecimalField(_("referred reward value"), max_digits=12, decimal_places=2,
                                                validators=[MinValueValidator(Decimal("0"))])
    referred_reward_description = models.CharField(_("referred reward description"), max_length=200, blank=True)

    channels = ArrayField(models.CharField(max_length=12, choices=Channel.choices), default=list, blank=True,
                          verbose_name=_("sharing channels"))
    signup_url = models.URLField(_("sign-up page"), blank=True,
                                 help_text=_("Where the public referral page sends visitors to sign up."))

    currency = models.CharField(_("currency"), max_length=3)
    min_purchase_amount = models.DecimalField(_("minimum first purchase"), max_digits=12, decimal_places=2,
                                              default=Decimal("0"), validators=[MinValueValidator(Decimal("0"))])
    max_referrals_per_member = models.PositiveIntegerField(
        _("maximum referrals per member"), null=True, blank=True, help_text=_("Empty means no limit.")
    )
    allow_self_referral = models.BooleanField(_("self-referral allowed"), default=False)
    require_email_verification = models.BooleanField(_("email verification required"), default=True)
    referral_window_days = models.PositiveIntegerField(
        _("days to convert"), default=30, validators=[MinValueValidator(1)],
        help_text=_("A referral without a qualifying first purchase within this many days expires."),
    )

    fraud_policy = models.CharField(_("fraud policy"), max_length=5, choices=FraudPolicy.choices,
                                    default=FraudPolicy.FLAG)
    fraud_threshold = models.DecimalField(
        _("fraud score threshold"), max_digits=4, decimal_places=3, default=Decimal("0.500"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
    )
    velocity_max_referrals = models.PositiveIntegerField(_("velocity: referrals allowed per window"), default=5,
                                                         validators=[MinValueValidator(1)])
    velocity_window_hours = models.PositiveIntegerField(_("velocity: window in hours"), default=24,
                                                        validators=[MinValueValidator(1)])

    # Tracking counters, moved with F() expressions by the services on every status change.
    total_clicks = models.PositiveIntegerField(_("clicks"), default=0)
    total_referrals = models.PositiveIntegerField(_("referrals"), default=0)
    pending_referrals = models.PositiveIntegerField(_("pending referrals"), default=0)
    flagged_referrals = models.PositiveIntegerField(_("flagged referrals"), default=0)
    successful_referrals = models.PositiveIntegerField(_("successful referrals"), default=0)
    expired_referrals = models.PositiveIntegerField(_("expired referrals"), default=0)
    fraud_referrals = models.PositiveIntegerField(_("fraudulent referrals"), default=0)
    revenue_generated = models.DecimalField(_("revenue generated"), max_digits=14, decimal_places=2,
                                            default=Decimal("0"))

    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)

    class Meta(BaseModel.Meta):
        verbose_name = _("referral campaign")
        verbose_name_plural = _("referral campaigns")
        constraints = [
            models.CheckConstraint(condition=Q(fraud_threshold__gte=0) & Q(fraud_threshold__lte=1),
                                   name="referral_campaign_threshold_0_1"),
            models.CheckConstraint(condition=Q(referrer_reward_value__gte=0) & Q(referred_reward_value__gte=0),
                                   name="referral_campaign_reward_values_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def conversion_rate(self) -> Decimal:
        """Completed referrals over all referrals, 0..1."""
        if not self.total_referrals:
            return Decimal("0")
        return (Decimal(self.successful_referrals) / Decimal(self.total_referrals)).quantize(Decimal("0.0001"))


class ReferralClick(BaseModel):
    """One visit to a member's public referral link. The visitor is kept only as keyed hashes."""

    campaign = models.ForeignKey(ReferralCampaign, on_delete=models.PROTECT, related_name="clicks",
                                 verbose_name=_("campaign"))
    referrer = models.ForeignKey("loyalty.Member", on_delete=models.CASCADE, related_name="referral_clicks",
                                 verbose_name=_("referrer"))
    code = models.CharField(_("referral code"), max_length=32)
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    ip_hash = models.CharField(_("IP hash"), max_length=64, blank=True)
    user_agent_hash = models.CharField(_("user agent hash"), max_length=64, blank=True)

    class Meta(BaseModel.Meta):
        verbose_name = _("referral link click")
        verbose_name_plural = _("referral link clicks")
        indexes = [models.Index(fields=["campaign", "channel"], name="referral_click_camp_channel")]

    def __str__(self) -> str:
        return f"{self.code} · {self.channel}"


class Referral(BaseModel):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        FLAGGED = "flagged", _("Flagged for review")
        COMPLETED = "completed", _("Completed")
        EXPIRED = "expired", _("Expired")
        FRAUD = "fraud", _("Fraud")

    class Decision(models.TextChoices):
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    campaign = models.ForeignKey(ReferralCampaign, on_delete=models.PROTECT, related_name="referrals",
                                 verbose_name=_("campaign"))
    referrer = models.ForeignKey("loyalty.Member", on_delete=models.CASCADE, related_name="referrals_sent",
                                 verbose_name=_("referrer"))
    referred = models.ForeignKey("loyalty.Member", on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="referrals_received", verbose_name=_("referred member"))
    referred_email = models.EmailField(_("referred email"))
    # Lower-cased, +tag stripped, Gmail dots removed: what duplicate and self-referral checks compare.
    referred_email_normalized = models.CharField(_("referred email (normalised)"), max_length=254, db_index=True)
    referred_customer_id = models.CharField(_("referred customer id"), max_length=100, blank=True)
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING,
                              db_index=True)
    email_verified = models.BooleanField(_("email verified"), default=False)

    signed_up_at = models.DateTimeField(_("signed up at"))
    first_purchase_at = models.DateTimeField(_("first purchase at"), null=True, blank=True)
    first_purchase_order_id = models.CharField(_("first purchase order id"), max_length=100, blank=True)
    first_purchase_value = models.DecimalField(_("first purchase value"), max_digits=12, decimal_places=2,
                                               null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    expires_at = models.DateTimeField(_("expires at"), db_index=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    referrer_reward_issued = models.BooleanField(_("referrer reward issued"), default=False)
    referred_reward_issued = models.BooleanField(_("referred reward issued"), default=False)
    # Ledger entries that paid the points rewards (ids in apps.loyalty's ledger; no FK across apps' writes).
    referrer_ledger_entry_id = models.UUIDField(_("referrer ledger entry"), null=True, blank=True)
    referred_ledger_entry_id = models.UUIDField(_("referred ledger entry"), null=True, blank=True)

    fraud_score = models.DecimalField(_("fraud score"), max_digits=4, decimal_places=3, default=Decimal("0"))
    fraud_signals = models.JSONField(_("fraud signals"), default=list, blank=True)
    fraud_outcome = models.CharField(_("fraud policy outcome"), max_length=5, choices=FraudPolicy.choices,
                                     default=FraudPolicy.ALLOW)

    review_decision = models.CharField(_("review decision"), max_length=10, choices=Decision.choices, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("reviewed by"))
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_note = models.TextField(_("review note"), blank=True)

    class Meta(BaseModel.Meta):
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "referred_email_normalized"],
                                    name="referral_unique_email_per_campaign"),
            models.UniqueConstraint(fields=["campaign", "referred"], condition=Q(referred__isnull=False),
                                    name="referral_unique_member_per_campaign"),
            models.CheckConstraint(condition=Q(fraud_score__gte=0) & Q(fraud_score__lte=1),
                                   name="referral_fraud_score_0_1"),
        ]
        indexes = [models.Index(fields=["referrer", "signed_up_at"], name="referral_referrer_signed_up")]

    def __str__(self) -> str:
        return f"{self.referrer_id} → {self.referred_email}"


class Fingerprint(BaseModel):
    """A keyed hash of something that identifies a person's device, network, address or card.

    Attached to a member (seen at checkout or sign-in) or to a referral (submitted at the referred sign-up).
    The raw value is never stored: only HMAC-SHA256(key, tenant | kind | normalised value).
    """

    class Kind(models.TextChoices):
        IP = "ip", _("IP address")
        DEVICE = "device", _("Device id")
        BILLING_ADDRESS = "billing_address", _("Billing address")
        CARD = "card", _("Card fingerprint")

    class Source(models.TextChoices):
        SIGNUP = "signup", _("Referred sign-up")
        MEMBER = "member", _("Member activity")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    value_hash = models.CharField(_("hash"), max_length=64)
    member = models.ForeignKey("loyalty.Member", on_delete=models.CASCADE, null=True, blank=True,
                               related_name="fingerprints", verbose_name=_("member"))
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, null=True, blank=True,
                                 related_name="fingerprints", verbose_name=_("referral"))
    source = models.CharField(_("source"), max_length=8, choices=Source.choices)

    class Meta(BaseModel.Meta):
        verbose_name = _("fingerprint")
        verbose_name_plural = _("fingerprints")
        indexes = [models.Index(fields=["kind", "value_hash"], name="fingerprint_kind_hash")]
        constraints = [
            models.CheckConstraint(condition=Q(member__isnull=False) | Q(referral__isnull=False),
                                   name="fingerprint_has_owner"),
            models.UniqueConstraint(fields=["member", "kind", "value_hash"],
                                    condition=Q(member__isnull=False, referral__isnull=True),
                                    name="fingerprint_unique_per_member"),
            models.UniqueConstraint(fields=["referral", "kind", "value_hash"], condition=Q(referral__isnull=False),
                                    name="fingerprint_unique_per_referral"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value_hash[:12]}…"
