"""Writes for referral campaigns and referrals: clicks, referred sign-ups, conversion, review, expiry.

Points move only through apps.loyalty.services (``points_award`` / ``points_reverse``) with stable idempotency
keys (``referral:<id>:referrer`` and ``referral:<id>:referred``), so a replayed completion never pays twice.
Discount and gift incentives are recorded as issued on the referral; the shop's integration fulfils them.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.errors import ApplicationError, ConflictError, NotFoundError, UnprocessableError
from apps.loyalty import selectors as loyalty_selectors
from apps.loyalty import services as loyalty_services
from apps.referrals import selectors
from apps.referrals.fingerprints import email_normalize, fingerprint_hash
from apps.referrals.fraud import fraud_policy_outcome, referral_fraud_assess
from apps.referrals.models import (
    Channel,
    Fingerprint,
    FraudPolicy,
    IncentiveType,
    Referral,
    ReferralCampaign,
    ReferralClick,
)

logger = logging.getLogger(__name__)

CLICK_DEDUPE_SECONDS = 600
_CHANNEL_ALIASES = {"twitter": Channel.X, "link": Channel.COPY_LINK, "copy": Channel.COPY_LINK}

_STATUS_COUNTER = {
    Referral.Status.PENDING: "pending_referrals",
    Referral.Status.FLAGGED: "flagged_referrals",
    Referral.Status.COMPLETED: "successful_referrals",
    Referral.Status.EXPIRED: "expired_referrals",
    Referral.Status.FRAUD: "fraud_referrals",
}
_OUTCOME_STATUS = {
    FraudPolicy.ALLOW: Referral.Status.PENDING,
    FraudPolicy.FLAG: Referral.Status.FLAGGED,
    FraudPolicy.BLOCK: Referral.Status.FRAUD,
}

# Fields an update may change; program and currency only while the campaign has no referrals.
CAMPAIGN_EDITABLE_FIELDS = (
    "program", "name", "description", "status",
    "referrer_reward_type", "referrer_reward_value", "referrer_reward_description",
    "referred_reward_type", "referred_reward_value", "referred_reward_description",
    "channels", "signup_url", "currency", "min_purchase_amount", "max_referrals_per_member",
    "allow_self_referral", "require_email_verification", "referral_window_days",
    "fraud_policy", "fraud_threshold", "velocity_max_referrals", "velocity_window_hours",
)
_SETTABLE_STATUSES = {
    ReferralCampaign.Status.DRAFT, ReferralCampaign.Status.ACTIVE,
    ReferralCampaign.Status.PAUSED, ReferralCampaign.Status.COMPLETED,
}


# ------------------------------------------------------------------------------------------ campaigns
def referral_campaign_create(
    *,
    program: Any,
    name: str,
    referrer_reward_value: Decimal | int,
    referred_reward_value: Decimal | int,
    referrer_reward_type: str = IncentiveType.POINTS,
    referred_reward_type: str = IncentiveType.POINTS,
    **attributes: Any,
) -> ReferralCampaign:
    """Create a campaign for ``program``; any other editable field may be given by keyword.

    Refuses (400) invalid values, unknown fields, a points reward that is not a whole number and a currency
    other than the program's.
    """
    unknown = set(attributes) - set(CAMPAIGN_EDITABLE_FIELDS)
    if unknown:
        raise ApplicationError(_("Unknown campaign fields."), code="invalid",
                               fields={field: [_("Unknown field.")] for field in sorted(unknown)})
    campaign = ReferralCampaign(
        program=program, name=name,
        referrer_reward_type=referrer_reward_type, referrer_reward_value=referrer_reward_value,
        referred_reward_type=referred_reward_type, referred_reward_value=referred_reward_value,
    )
    for field, value in attributes.items():
        setattr(campaign, field, value)
    referral_campaign_validate(campaign=campaign)
    campaign.save()
    return campaign


@transaction.atomic
def referral_campaign_update(*, campaign: ReferralCampaign, data: dict[str, Any]) -> ReferralCampaign:
    """Change the given fields. Refuses (409) moving a campaign that has referrals to another program or
    currency, and (404) a deleted campaign."""
    campaign = _campaign_lock(campaign)
    unknown = set(data) - set(CAMPAIGN_EDITABLE_FIELDS)
    if unknown:
        raise ApplicationError(_("Unknown campaign fields."), code="invalid",
                               fields={field: [_("Unknown field.")] for field in sorted(unknown)})
    has_referrals = campaign.referrals.exists()
    if has_referrals:
        if "program" in data and data["program"].pk != campaign.program_id:
            raise ConflictError(_("A campaign with referrals cannot move to another program."),
                                code="campaign_has_referrals", fields={"program": [_("Campaign has referrals.")]})
        if "currency" in data and data["currency"] != campaign.currency:
            raise ConflictError(_("A campaign with referrals cannot change its currency."),
                                code="campaign_has_referrals", fields={"currency": [_("Campaign has referrals.")]})
    for field, value in data.items():
        setattr(campaign, field, value)
    if "program" in data and "currency" not in data:
        campaign.currency = _program_currency(campaign.program)
    referral_campaign_validate(campaign=campaign)
    campaign.save()
    return campaign


@transaction.atomic
def referral_campaign_delete(*, campaign: ReferralCampaign) -> bool:
    """Delete a campaign. One without referrals or clicks is removed (returns True); one with history is
    archived instead (soft delete, returns False): its referrals and their ledger references stay auditable,
    it disappears from lists and its links stop working."""
    campaign = _campaign_lock(campaign)
    if not campaign.referrals.exists() and not campaign.clicks.exists():
        campaign.delete()
        return True
    campaign.status = ReferralCampaign.Status.ARCHIVED
    campaign.deleted_at = timezone.now()
    campaign.save(update_fields=["status", "deleted_at", "updated_at"])
    return False


def _campaign_lock(campaign: ReferralCampaign) -> ReferralCampaign:
    locked = ReferralCampaign.objects.select_for_update().filter(pk=campaign.pk, deleted_at__isnull=True).first()
    if locked is None:
        raise NotFoundError(_("Referral campaign not found."), code="not_found")
    return locked


def _program_currency(program: Any) -> str:
    return str(getattr(program, "currency", "") or "").upper()


def referral_campaign_validate(*, campaign: ReferralCampaign) -> None:
    """Check (and tidy: currency upper-case, channels in canonical order) an unsaved campaign; raises
    ApplicationError with per-field messages. Writes nothing."""
    errors: dict[str, list[str]] = {}
    for side in ("referrer", "referred"):
        reward_type = getattr(campaign, f"{side}_reward_type")
        try:
            value = Decimal(str(getattr(campaign, f"{side}_reward_value")))
        except (InvalidOperation, ValueError):
            errors[f"{side}_reward_value"] = [_("Enter a number.")]
            continue
        setattr(campaign, f"{side}_reward_value", value)
        if reward_type == IncentiveType.POINTS and value != value.to_integral_value():
            errors[f"{side}_reward_value"] = [_("Points are whole numbers.")]
    channels = list(campaign.channels or [])
    if len(set(channels)) != len(channels):
        errors["channels"] = [_("Each channel may be listed once.")]
    elif set(channels) <= set(Channel.values):
        campaign.channels = sorted(channels, key=Channel.values.index)
    program_currency = _program_currency(campaign.program)
    campaign.currency = (campaign.currency or program_currency).upper()
    if program_currency and campaign.currency != program_currency:
        errors["currency"] = [_("The campaign's currency must be its program's currency (%(currency)s).")
                              % {"currency": program_currency}]
    if campaign.status not in _SETTABLE_STATUSES and not campaign.deleted_at:
        errors["status"] = [_("Use delete to archive a campaign.")]
    try:
        campaign.full_clean(exclude=["program"])
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ApplicationError(_("The referral campaign is not valid."), code="invalid", fields=errors)


# ------------------------------------------------------------------------------------------ clicks
def referral_channel_normalize(value: str | None) -> str:
    """A known channel (``twitter`` → ``x``); anything else, or nothing, counts as a copied link."""
    channel = (value or "").strip().lower()
    channel = _CHANNEL_ALIASES.get(channel, channel)
    return channel if channel in Channel.values else Channel.COPY_LINK


@dataclass(frozen=True)
class LinkVisit:
    """What a visit to a referral link resolved to; ``click`` is None when the visit was not counted again."""

    referrer: Any
    campaign: ReferralCampaign
    click: ReferralClick | None


@transaction.atomic
def referral_click_record(*, code: str, channel: str | None, ip: str, user_agent: str) -> LinkVisit:
    """Record a visit to a referral link and count it on the campaign. A repeat visit by the same visitor
    (same IP and user agent hashes) to the same code within ``CLICK_DEDUPE_SECONDS`` is not counted again.
    Raises NotFoundError for an unknown code, or when the referrer's program has no active campaign."""
    resolved = selectors.referral_link_resolve(code=code)
    if resolved is None:
        raise NotFoundError(_("This referral link does not exist or is no longer active."),
                            code="referral_link_unknown")
    referrer, campaign = resolved
    ip_hash = fingerprint_hash(kind="ip", value=ip or "")
    user_agent_hash = fingerprint_hash(kind="user_agent", value=user_agent or "")
    visitor = hashlib.sha256(f"{referrer.referral_code}|{ip_hash}|{user_agent_hash}".encode()).hexdigest()
    if not cache.add(f"referrals:click:{visitor}", 1, timeout=CLICK_DEDUPE_SECONDS):
        return LinkVisit(referrer=referrer, campaign=campaign, click=None)
    click = ReferralClick.objects.create(
        campaign=campaign, referrer=referrer, code=referrer.referral_code,
        channel=referral_channel_normalize(channel), ip_hash=ip_hash, user_agent_hash=user_agent_hash,
    )
    ReferralCampaign.objects.filter(pk=campaign.pk).update(total_clicks=F("total_clicks") + 1)
    return LinkVisit(referrer=referrer, campaign=campaign, click=click)


# ------------------------------------------------------------------------------------------ fingerprints
def _fingerprint_hashes(*, ip: str = "", device_id: str = "", billing_address: str = "",
                        card_fingerprint: str = "") -> dict[str, str]:
    raw = {
        Fingerprint.Kind.IP: ip,
        Fingerprint.Kind.DEVICE: device_id,
        Fingerprint.Kind.BILLING_ADDRESS: billing_address,
        Fingerprint.Kind.CARD: card_fingerprint,
    }
    hashes = {str(kind): fingerprint_hash(kind=str(kind), value=value or "") for kind, value in raw.items()}
    return {kind: value for kind, value in hashes.items() if value}


@transaction.atomic
def fingerprints_record(*, member: Any, ip: str = "", device_id: str = "", billing_address: str = "",
                        card_fingerprint: str = "") -> int:
    """Remember (hashed) the IP, device, billing address and card seen for a member at checkout or sign-in,
    so later referred sign-ups can be compared with them. Idempotent; returns how many were new."""
    hashes = _fingerprint_hashes(ip=ip, device_id=device_id, billing_address=billing_address,
                                 card_fingerprint=card_fingerprint)
    if not hashes:
        raise ApplicationError(_("Give at least one of ip, device_id, billing_address or card_fingerprint."),
                               code="invalid", fields={"non_field_errors": [_("Nothing to record.")]})
    created = 0
    for kind, value in hashes.items():
        _fingerprint, was_created = Fingerprint.objects.get_or_create(
            member=member, referral=None, kind=kind, value_hash=value,
            defaults={"source": Fingerprint.Source.MEMBER},
        )
        created += int(was_created)
    return created


# ------------------------------------------------------------------------------------------ sign-ups
def _advisory_lock(key: str) -> None:
    # Serialises sign-ups per referrer (limits, velocity) and per referred person (one referral per program)
    # without locking apps.loyalty's rows; released at the end of the transaction.
    digest = int.from_bytes(hashlib.sha256(f"{connection.schema_name}|{key}".encode()).digest()[:8], "big",
                            signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [digest])


def _counters_move(*, campaign_id: uuid.UUID, old: str | None, new: str | None,
                   revenue_delta: Decimal = Decimal("0"), new_referral: bool = False) -> None:
    updates: dict[str, Any] = {}
    if new_referral:
        updates["total_referrals"] = F("total_referrals") + 1
    if old:
        updates[_STATUS_COUNTER[old]] = F(_STATUS_COUNTER[old]) - 1
    if new:
        field = _STATUS_COUNTER[new]
        updates[field] = (updates.pop(field) + 1) if field in updates else F(field) + 1
    if revenue_delta:
        updates["revenue_generated"] = F("revenue_generated") + revenue_delta
    if updates:
        ReferralCampaign.objects.filter(pk=campaign_id).update(**updates)


@transaction.atomic
def referral_signup(
    *,
    code: str,
    referred_member: Any | None = None,
    referred_email: str = "",
    referred_customer_id: str = "",
    campaign: ReferralCampaign | None = None,
    channel: str | None = None,
    email_verified: bool = False,
    ip: str = "",
    device_id: str = "",
    billing_address: str = "",
    card_fingerprint: str = "",
    now: datetime | None = None,
) -> tuple[Referral, bool]:
    """Record that someone signed up through ``code``: a referral, scored for fraud, pending, flagged or
    blocked by the campaign's policy. The referred person is ``referred_member``, or the program's member with
    ``referred_customer_id``, or (not a member yet) just ``referred_email``. Returns ``(referral, created)``;
    the same referrer and referred person again returns the first referral (created False).

    Refuses: unknown code or campaign (422), inactive campaign (422), the referrer referring themselves when the
    campaign forbids it (422), the referrer's limit reached (422), a person already referred by someone else in
    this program (409).
    """
    now = now or timezone.now()
    referrer = selectors.referrer_by_code(code=code)
    if referrer is None:
        raise UnprocessableError(_("Unknown referral code."), code="referral_code_unknown",
                                 fields={"code": [_("Unknown referral code.")]})
    program = referrer.program
    if campaign is not None:  # re-read: the caller's copy may predate a status change
        campaign = ReferralCampaign.objects.filter(pk=campaign.pk).first() or campaign
    if campaign is None:
        campaign = selectors.referral_campaign_active_for_program(program=program)
        if campaign is None:
            raise UnprocessableError(_("The referrer's program has no active referral campaign."),
                                     code="referral_campaign_inactive")
    elif campaign.program_id != referrer.program_id or campaign.deleted_at:
        raise UnprocessableError(_("This referral code does not belong to the campaign."),
                                 code="referral_code_unknown", fields={"code": [_("Not in this campaign.")]})
    if campaign.status != ReferralCampaign.Status.ACTIVE:
        raise UnprocessableError(_("This referral campaign is not active."), code="referral_campaign_inactive")

    if referred_member is None and referred_customer_id:
        referred_member = loyalty_selectors.member_get(program=program, customer_id=referred_customer_id)
    if referred_member is not None:
        if referred_member.program_id != program.pk:
            raise UnprocessableError(_("The referred member belongs to another program."), code="invalid_member",
                                     fields={"customer_id": [_("Not a member of this program.")]})
        referred_email = referred_email or referred_member.email
        referred_customer_id = referred_member.customer_id
    if not referred_email:
        raise ApplicationError(_("Give the referred person's email or customer id."), code="invalid",
                               fields={"email": [_("This field is required.")]})
    email_normalized = email_normalize(referred_email)

    same_member = referred_member is not None and referred_member.pk == referrer.pk
    if same_member and not campaign.allow_self_referral:
        raise UnprocessableError(_("Members cannot refer themselves."), code="self_referral")

    _advisory_lock(f"referrer:{referrer.pk}")
    _advisory_lock(f"referred:{program.pk}:{email_normalized}")

    existing = selectors.referral_existing_for_referred(program=program, member=referred_member,
                                                        email_normalized=email_normalized)
    if existing is not None:
        if existing.referrer_id == referrer.pk and existing.campaign_id == campaign.pk:
            return existing, False
        raise ConflictError(_("This person was already referred."), code="already_referred")

    limit = campaign.max_referrals_per_member
    if limit is not None and selectors.referral_count_for_referrer(campaign=campaign, referrer=referrer) >= limit:
        raise UnprocessableError(_("The referrer has reached this campaign's referral limit."),
                                 code="referral_limit_reached")

    hashes = _fingerprint_hashes(ip=ip, device_id=device_id, billing_address=billing_address,
                                 card_fingerprint=card_fingerprint)
    assessment = referral_fraud_assess(campaign=campaign, referrer=referrer, referred_member=referred_member,
                                       referred_email=referred_email, fingerprint_hashes=hashes, now=now)
    outcome = fraud_policy_outcome(policy=campaign.fraud_policy, threshold=campaign.fraud_threshold,
                                   score=assessment.score)
    referral = Referral.objects.create(
        campaign=campaign, referrer=referrer, referred=referred_member,
        referred_email=referred_email.strip(), referred_email_normalized=email_normalized,
        referred_customer_id=referred_customer_id or "",
        channel=referral_channel_normalize(channel) if channel else "",
        status=_OUTCOME_STATUS[outcome], email_verified=email_verified,
        signed_up_at=now, expires_at=now + timedelta(days=campaign.referral_window_days),
        fraud_score=assessment.score, fraud_signals=assessment.signals_json(), fraud_outcome=outcome,
    )
    Fingerprint.objects.bulk_create([
        Fingerprint(kind=kind, value_hash=value, referral=referral, member=referred_member,
                    source=Fingerprint.Source.SIGNUP)
        for kind, value in hashes.items()
    ])
    _counters_move(campaign_id=campaign.pk, old=None, new=referral.status, new_referral=True)
    logger.info("referral %s signed up: status=%s score=%s", referral.pk, referral.status, referral.fraud_score)
    return referral, True


# ------------------------------------------------------------------------------------------ conversion
def _referral_lock(referral_id: uuid.UUID) -> Referral:
    return Referral.objects.select_for_update().select_related("campaign").get(pk=referral_id)


def _qualifies(referral: Referral) -> bool:
    campaign = referral.campaign
    if referral.first_purchase_value is None:
        return False
    if campaign.require_email_verification and not referral.email_verified:
        return False
    if referral.currency != campaign.currency:
        return False
    return referral.first_purchase_value >= campaign.min_purchase_amount


def _reward_issue(*, referral: Referral, side: str, member: Any) -> None:
    campaign = referral.campaign
    reward_type = getattr(campaign, f"{side}_reward_type")
    value = getattr(campaign, f"{side}_reward_value")
    if reward_type == IncentiveType.POINTS:
        points = int(value)
        if points > 0:
            entry = loyalty_services.points_award(
                member=member, points=points, source="referral",
                reason=_("Referral reward (%(campaign)s)") % {"campaign": campaign.name},
                idempotency_key=f"referral:{referral.pk}:{side}", referral_id=referral.pk,
            )
            setattr(referral, f"{side}_ledger_entry_id", entry.pk)
    # Discount and gift rewards are recorded as issued; the shop's integration fulfils them.
    setattr(referral, f"{side}_reward_issued", True)


def _referral_complete(referral: Referral, *, now: datetime) -> None:
    old = referral.status
    referral.status = Referral.Status.COMPLETED
    referral.completed_at = now
    _reward_issue(referral=referral, side="referrer", member=referral.referrer)
    if referral.referred is not None:
        _reward_issue(referral=referral, side="referred", member=referral.referred)
    referral.save()
    _counters_move(campaign_id=referral.campaign_id, old=old, new=referral.status,
                   revenue_delta=referral.first_purchase_value or Decimal("0"))


@transaction.atomic
def referral_on_first_purchase(*, member: Any, order_id: str, order_total: Decimal,
                               currency: str) -> Referral | None:
    """Hook apps.loyalty calls after a member's first completed purchase.

    Records the purchase on the member's open referral and completes it when the campaign's rules hold
    (minimum purchase in the campaign's currency, verified email if required), awarding both sides through
    the ledger. A flagged referral keeps the purchase and waits for review. Returns the referral, or None when
    the member was not referred. A replay with the same order changes nothing.
    """
    candidate = selectors.referral_open_for_referred(program=member.program, member=member,
                                                     email_normalized=email_normalize(member.email or ""))
    if candidate is None:
        return selectors.referral_of_referred(program=member.program, member=member)
    referral = _referral_lock(candidate.pk)
    if referral.status not in (Referral.Status.PENDING, Referral.Status.FLAGGED) or referral.first_purchase_at:
        return referral
    now = timezone.now()
    if referral.referred_id is None:
        referral.referred_customer_id = member.customer_id
        Fingerprint.objects.filter(referral=referral, member__isnull=True).update(member=member)
    # The caller's instance (apps.loyalty holds it locked), so the points awarded below show on it.
    referral.referred = member
    referral.first_purchase_at = now
    referral.first_purchase_order_id = str(order_id)
    referral.first_purchase_value = Decimal(order_total)
    referral.currency = (currency or "").upper()
    if referral.status == Referral.Status.PENDING and _qualifies(referral):
        _referral_complete(referral, now=now)
    else:
        referral.save()
    return referral


@transaction.atomic
def referral_email_verify(*, referral: Referral) -> Referral:
    """Mark the referred person's email verified; completes the referral if its first purchase already
    qualifies. Idempotent. Refuses (409) a referral that is expired or fraud."""
    referral = _referral_lock(referral.pk)
    if referral.status in (Referral.Status.EXPIRED, Referral.Status.FRAUD):
        raise ConflictError(_("This referral is closed."), code="referral_closed")
    if not referral.email_verified:
        referral.email_verified = True
        if referral.status == Referral.Status.PENDING and _qualifies(referral):
            _referral_complete(referral, now=timezone.now())
        else:
            referral.save(update_fields=["email_verified", "updated_at"])
    return referral


# ------------------------------------------------------------------------------------------ review
@transaction.atomic
def referral_review(*, referral: Referral, decision: str, reviewer: Any, note: str = "") -> Referral:
    """A reviewer's decision on a suspicious referral.

    ``approve`` a flagged referral: it becomes pending with a full conversion window from now, and completes
    at once if its first purchase already qualifies. ``reject`` a flagged or pending referral: it becomes
    fraud; reject a completed one: it becomes fraud and the points both sides earned are reversed.
    Refuses (409) any other state; (400) an unknown decision.
    """
    if decision not in ("approve", "reject"):
        raise ApplicationError(_("The decision must be approve or reject."), code="invalid",
                               fields={"decision": [_("Choose approve or reject.")]})
    referral = _referral_lock(referral.pk)
    now = timezone.now()
    old = referral.status
    if decision == "approve":
        if old != Referral.Status.FLAGGED:
            raise ConflictError(_("Only flagged referrals can be approved."), code="referral_not_reviewable")
        referral.status = Referral.Status.PENDING
        referral.review_decision = Referral.Decision.APPROVED
        referral.expires_at = now + timedelta(days=referral.campaign.referral_window_days)
    else:
        if old not in (Referral.Status.FLAGGED, Referral.Status.PENDING, Referral.Status.COMPLETED):
            raise ConflictError(_("This referral cannot be rejected."), code="referral_not_reviewable")
        referral.status = Referral.Status.FRAUD
        referral.review_decision = Referral.Decision.REJECTED
    referral.reviewed_by = reviewer
    referral.reviewed_at = now
    referral.review_note = note or ""
    referral.save()
    revenue_delta = Decimal("0")
    if old == Referral.Status.COMPLETED:
        _rewards_reverse(referral, actor=reviewer)
        revenue_delta = -(referral.first_purchase_value or Decimal("0"))
    _counters_move(campaign_id=referral.campaign_id, old=old, new=referral.status, revenue_delta=revenue_delta)
    if referral.status == Referral.Status.PENDING and _qualifies(referral):
        _referral_complete(referral, now=now)
    return referral


def _rewards_reverse(referral: Referral, *, actor: Any) -> None:
    reason = _("Referral judged fraudulent")
    for side in ("referrer", "referred"):
        entry_id = getattr(referral, f"{side}_ledger_entry_id")
        if entry_id:
            loyalty_services.points_reverse(entry_id=entry_id, reason=reason, actor=actor,
                                            idempotency_key=f"referral:{referral.pk}:{side}:reverse")


# ------------------------------------------------------------------------------------------ expiry
@transaction.atomic
def referral_expire_due(*, now: datetime | None = None) -> int:
    """Expire pending referrals whose conversion window has passed; returns how many. Flagged referrals wait
    for a reviewer instead. Safe to run twice or concurrently (rows are locked, skipped when locked)."""
    now = now or timezone.now()
    due = list(
        Referral.objects.select_for_update(skip_locked=True)
        .filter(status=Referral.Status.PENDING, expires_at__lte=now)
        .values_list("pk", "campaign_id")
    )
    if not due:
        return 0
    Referral.objects.filter(pk__in=[pk for pk, _campaign in due]).update(status=Referral.Status.EXPIRED,
                                                                        updated_at=now)
    per_campaign: dict[uuid.UUID, int] = {}
    for _pk, campaign_id in due:
        per_campaign[campaign_id] = per_campaign.get(campaign_id, 0) + 1
    for campaign_id, count in per_campaign.items():
        ReferralCampaign.objects.filter(pk=campaign_id).update(
            pending_referrals=F("pending_referrals") - count, expired_referrals=F("expired_referrals") + count,
        )
    return len(due)
