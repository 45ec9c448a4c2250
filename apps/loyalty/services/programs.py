"""Program configuration (programs, tiers, earn rules, rewards) and member enrolment."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Model, ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.errors import ApplicationError, ConflictError, UnprocessableError
from apps.loyalty.models import (
    EarnRule,
    EarnRuleExclusion,
    EarnRuleMultiplier,
    Member,
    Program,
    Reward,
    RewardExcludedProduct,
    Tier,
)

# Member.referral_code: 8 characters, uppercase letters and digits without the ambiguous 0/O/1/I.
REFERRAL_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
REFERRAL_CODE_LENGTH = 8

PROGRAM_FIELDS = {
    "name", "description", "type", "status", "currency", "min_redeem_points", "points_value_per_100",
    "rewards_enabled", "reservation_minutes", "transfers_enabled", "expiration_enabled", "expiration_months",
    "expiry_warning_days", "pending_days", "tier_basis", "tier_window_days", "tier_downgrade_policy",
    "tier_downgrade_after_days", "refund_policy", "points_budget",
}
TIER_FIELDS = {"name", "rank", "threshold", "points_multiplier", "free_shipping", "early_access", "exclusive_access"}
EARN_RULE_FIELDS = {
    "name", "event", "custom_event", "calculation", "points_per_unit", "fixed_points", "multiplier",
    "min_order_value", "exclude_delivery", "limit_period", "limit_points", "limit_awards", "punches_required",
    "punch_reward", "starts_at", "ends_at", "is_active", "priority",
}
REWARD_FIELDS = {
    "name", "description", "type", "points_cost", "value", "stock_limited", "stock_available", "valid_from",
    "valid_until", "min_order_value", "status",
}
MEMBER_FIELDS = {"email", "name", "birth_date", "consent_marketing", "consent_email", "consent_sms"}


def _assign(instance: Model, fields: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise ApplicationError(_("Unknown fields."), code="invalid",
                               fields={name: [_("Unknown field.")] for name in sorted(unknown)})
    for name, value in fields.items():
        setattr(instance, name, value)


def _save(instance: Model, **save_kwargs: Any) -> Model:
    """Validate (fields, choices, check and unique constraints) then save; errors become a 400."""
    try:
        instance.full_clean()
    except ValidationError as exc:
        raise ApplicationError(_("The data is not valid."), code="invalid",
                               fields=getattr(exc, "message_dict", {"non_field_errors": exc.messages})) from exc
    try:
        with transaction.atomic():
            instance.save(**save_kwargs)
    except IntegrityError as exc:  # a concurrent twin passed validation too
        raise ConflictError(_("This conflicts with an existing record."), code="conflict") from exc
    return instance


def _delete(instance: Model, message: str) -> None:
    try:
        with transaction.atomic():
            instance.delete()
    except ProtectedError as exc:
        raise ConflictError(message, code="in_use") from exc


# ---------------------------------------------------------------------------------------------- programs

@transaction.atomic
def program_create(*, name: str, **fields: Any) -> Program:
    """Create a program (draft unless a status is given). Currency is stored upper-case."""
    program = Program()
    _assign(program, {"name": name, **fields}, PROGRAM_FIELDS)
    program.currency = (program.currency or "").upper()
    return _save(program)  # type: ignore[return-value]


@transaction.atomic
def program_update(*, program: Program, **fields: Any) -> Program:
    """Change a program's settings. The currency cannot change once orders were recorded in it (409)."""
    if "currency" in fields:
        fields["currency"] = (fields["currency"] or "").upper()
        if fields["currency"] != program.currency and program.orders.exists():
            raise ConflictError(_("The currency cannot change once orders were recorded."), code="currency_locked",
                                fields={"currency": [_("Orders exist in %(currency)s.") % {
                                    "currency": program.currency}]})
    _assign(program, fields, PROGRAM_FIELDS)
    return _save(program)  # type: ignore[return-value]


@transaction.atomic
def program_delete(*, program: Program) -> None:
    """Delete a program with no members (its rules, tiers and rewards go with it). A program with members
    has a ledger that must be kept: refused (409), pause it instead."""
    if program.members.exists():
        raise ConflictError(_("A program with members cannot be deleted; pause it instead."),
                            code="program_has_members")
    _delete(program, _("This program is still referenced (e.g. by referral campaigns)."))


# ---------------------------------------------------------------------------------------------- tiers

@transaction.atomic
def tier_create(*, program: Program, **fields: Any) -> Tier:
    tier = Tier(program=program)
    _assign(tier, fields, TIER_FIELDS)
    return _save(tier)  # type: ignore[return-value]


@transaction.atomic
def tier_update(*, tier: Tier, **fields: Any) -> Tier:
    """Change a tier. Members move on their next earn or reversal (or the periodic downgrade check)."""
    _assign(tier, fields, TIER_FIELDS)
    return _save(tier)  # type: ignore[return-value]


@transaction.atomic
def tier_delete(*, tier: Tier) -> None:
    """Delete a tier; its members are left without a tier until their next recalculation."""
    _delete(tier, _("This tier is still in use."))


# ---------------------------------------------------------------------------------------------- earn rules

def _rule_children(rule: EarnRule, multipliers: Iterable[Mapping[str, Any]] | None,
                   exclusions: Iterable[Mapping[str, Any]] | None) -> None:
    if multipliers is not None:
        rule.multipliers.all().delete()
        for item in multipliers:
            tier = item.get("tier")
            if tier is not None and tier.program_id != rule.program_id:
                raise ApplicationError(_("The tier belongs to another program."), code="invalid",
                                       fields={"multipliers": [_("Unknown tier.")]})
            _save(EarnRuleMultiplier(rule=rule, scope=item["scope"], value=item.get("value", ""), tier=tier,
                                     multiplier=item["multiplier"]))
    if exclusions is not None:
        rule.exclusions.all().delete()
        for item in exclusions:
            _save(EarnRuleExclusion(rule=rule, scope=item["scope"], value=item["value"]))


def _rule_check(rule: EarnRule) -> None:
    if rule.punch_reward is not None and rule.punch_reward.program_id != rule.program_id:
        raise ApplicationError(_("The reward belongs to another program."), code="invalid",
                               fields={"punch_reward": [_("Unknown reward.")]})
    if rule.calculation == EarnRule.Calculation.PUNCH_CARD and rule.event != EarnRule.Event.PURCHASE:
        raise ApplicationError(_("Punch cards count purchases."), code="invalid",
                               fields={"calculation": [_("Punch cards need the purchase event.")]})
    if rule.calculation == EarnRule.Calculation.PER_CURRENCY_UNIT and rule.event != EarnRule.Event.PURCHASE:
        raise ApplicationError(_("Only purchases can earn per currency unit."), code="invalid",
                               fields={"calculation": [_("Use fixed points for this event.")]})


@transaction.atomic
def earn_rule_create(*, program: Program, multipliers: Iterable[Mapping[str, Any]] | None = None,
                     exclusions: Iterable[Mapping[str, Any]] | None = None, **fields: Any) -> EarnRule:
    """Create an earn rule with its multipliers (label/SKU/tier) and exclusions (SKU/label)."""
    rule = EarnRule(program=program)
    _assign(rule, fields, EARN_RULE_FIELDS)
    _rule_check(rule)
    _save(rule)
    _rule_children(rule, multipliers, exclusions)
    return rule


@transaction.atomic
def earn_rule_update(*, rule: EarnRule, multipliers: Iterable[Mapping[str, Any]] | None = None,
                     exclusions: Iterable[Mapping[str, Any]] | None = None, **fields: Any) -> EarnRule:
    """Change a rule; given multipliers/exclusions replace the old ones. Past awards are not recomputed."""
    _assign(rule, fields, EARN_RULE_FIELDS)
    _rule_check(rule)
    _save(rule)
    _rule_children(rule, multipliers, exclusions)
    return rule


@transaction.atomic
def earn_rule_delete(*, rule: EarnRule) -> None:
    """Delete a rule that never awarded points; one that did is kept for the ledger (409: deactivate it)."""
    _delete(rule, _("This rule already awarded points; deactivate it instead."))


# ---------------------------------------------------------------------------------------------- rewards

def _reward_products(reward: Reward, excluded_skus: Iterable[str] | None) -> None:
    if excluded_skus is None:
        return
    reward.excluded_products.all().delete()
    RewardExcludedProduct.objects.bulk_create(
        [RewardExcludedProduct(reward=reward, sku=sku) for sku in sorted(set(excluded_skus))])


@transaction.atomic
def reward_create(*, program: Program, excluded_skus: Iterable[str] | None = None, **fields: Any) -> Reward:
    reward = Reward(program=program)
    _assign(reward, fields, REWARD_FIELDS)
    _save(reward)
    _reward_products(reward, excluded_skus)
    return reward


@transaction.atomic
def reward_update(*, reward: Reward, excluded_skus: Iterable[str] | None = None, **fields: Any) -> Reward:
    """Change a reward. Stock moves through ``reward_restock`` (the reserved count is never set by hand)."""
    reward = Reward.objects.select_for_update().get(pk=reward.pk)
    _assign(reward, fields, REWARD_FIELDS)
    _save(reward)
    _reward_products(reward, excluded_skus)
    return reward


@transaction.atomic
def reward_delete(*, reward: Reward) -> None:
    """Delete a reward never redeemed; one with redemptions is kept (409: make it inactive)."""
    _delete(reward, _("This reward has redemptions; make it inactive instead."))


@transaction.atomic
def reward_restock(*, reward: Reward, quantity: int) -> Reward:
    """Add units to a limited reward's available stock (row locked, so concurrent reservations stay exact)."""
    if not isinstance(quantity, int) or quantity <= 0:
        raise ApplicationError(_("Restock a positive quantity."), code="invalid",
                               fields={"quantity": [_("Must be a positive integer.")]})
    reward = Reward.objects.select_for_update().get(pk=reward.pk)
    if not reward.stock_limited:
        raise UnprocessableError(_("This reward has unlimited stock."), code="stock_unlimited")
    reward.stock_available += quantity
    reward.save(update_fields=["stock_available", "updated_at"])
    return reward


# ---------------------------------------------------------------------------------------------- members

def referral_code_generate() -> str:
    return "".join(secrets.choice(REFERRAL_ALPHABET) for _index in range(REFERRAL_CODE_LENGTH))


@transaction.atomic
def member_enroll(*, program: Program, customer_id: str, email: str, name: str = "",
                  consents: Mapping[str, bool] | None = None, referred_by_code: str | None = None,
                  birth_date: Any = None, enrolled_at: datetime | None = None) -> Member:
    """Enrol a customer (idempotent on program + customer id: enrolling again returns the member unchanged).
    Generates the member's referral code, records who referred them (a code of the same program; unknown
    codes are ignored) and runs the program's sign-up earn rules. Refuses a draft program (422)."""
    customer_id = (customer_id or "").strip()
    if not customer_id:
        raise ApplicationError(_("A customer id is required."), code="invalid",
                               fields={"customer_id": [_("Required.")]})
    existing = Member.objects.filter(program=program, customer_id=customer_id).first()
    if existing:
        return existing
    if program.status == Program.Status.DRAFT:
        raise UnprocessableError(_("Members cannot join a draft program."), code="program_not_active")
    consents = dict(consents or {})
    unknown = set(consents) - {"marketing", "email", "sms"}
    if unknown:
        raise ApplicationError(_("Unknown consent."), code="invalid",
                               fields={"consents": [_("Unknown: %(names)s") % {"names": ", ".join(sorted(unknown))}]})
    referrer = None
    if referred_by_code:
        referrer = Member.objects.filter(referral_code=referred_by_code.strip().upper(), program=program).first()
    now = timezone.now()
    member = Member(program=program, customer_id=customer_id, email=(email or "").strip().lower(), name=name,
                    referred_by=referrer, birth_date=birth_date, enrolled_at=enrolled_at or now,
                    last_activity_at=enrolled_at or now, consent_marketing=bool(consents.get("marketing")),
                    consent_email=bool(consents.get("email")), consent_sms=bool(consents.get("sms")))
    try:
        member.full_clean(exclude=["referral_code"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise ApplicationError(_("The data is not valid."), code="invalid", fields=exc.message_dict) from exc
    for _attempt in range(8):
        member.referral_code = referral_code_generate()
        try:
            with transaction.atomic():
                member.save(force_insert=True)
            break
        except IntegrityError:
            twin = Member.objects.filter(program=program, customer_id=customer_id).first()
            if twin:  # enrolled concurrently
                return twin
            member._state.adding = True  # a referral code collision: try another code
    else:  # pragma: no cover - 32^8 codes
        raise ConflictError(_("Could not generate a unique referral code. Please retry."), code="code_collision")
    from apps.loyalty.services.orders import event_record

    if program.status == Program.Status.ACTIVE:
        event_record(member=member, event=EarnRule.Event.SIGNUP, idempotency_key="signup",
                     occurred_at=member.enrolled_at)
        member.refresh_from_db()
    if member.tier_id is None:
        from apps.loyalty.services.tiers import tier_recalculate

        tier_recalculate(member=member)  # the entry tier (a threshold of 0) applies from the start
    return member


@transaction.atomic
def member_update(*, member: Member, consents: Mapping[str, bool] | None = None, **fields: Any) -> Member:
    """Change a member's profile or consents (never balances or tier: those follow the ledger)."""
    _assign(member, fields, MEMBER_FIELDS)
    if "email" in fields:
        member.email = (member.email or "").strip().lower()
    for name, value in (consents or {}).items():
        if name not in ("marketing", "email", "sms"):
            raise ApplicationError(_("Unknown consent."), code="invalid", fields={"consents": [name]})
        setattr(member, f"consent_{name}", bool(value))
    try:
        member.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise ApplicationError(_("The data is not valid."), code="invalid", fields=exc.message_dict) from exc
    member.save(update_fields=[*(set(fields) & MEMBER_FIELDS), "consent_marketing", "consent_email", "consent_sms",
                               "updated_at"])
    return member


@dataclass(frozen=True)
class MemberInput:
    customer_id: str
    email: str
    name: str = ""
    consents: Mapping[str, bool] | None = None
    referred_by_code: str | None = None
    birth_date: Any = None
    enrolled_at: datetime | None = None


@transaction.atomic
def members_import(*, program: Program, members: Sequence[MemberInput]) -> list[Member]:
    """Enrol many customers at once, as that many ``member_enroll`` calls would (customers already enrolled
    are returned unchanged; new ones get a referral code, their referrer and the sign-up rules), with one
    insert per table. Returns one member per input. Refuses a draft program (422) or invalid rows (400)."""
    from apps.loyalty.services.earning import Earner, LedgerBatch, rules_load
    from apps.loyalty.services.orders import event_earn

    if program.status == Program.Status.DRAFT:
        raise UnprocessableError(_("Members cannot join a draft program."), code="program_not_active")
    rows = [(row, (row.customer_id or "").strip()) for row in members]
    errors = {}
    for index, (row, customer_id) in enumerate(rows):
        problems = []
        if not customer_id:
            problems.append(_("A customer id is required."))
        try:
            validate_email(row.email)
        except ValidationError:
            problems.append(_("Enter a valid email address."))
        if set(row.consents or {}) - {"marketing", "email", "sms"}:
            problems.append(_("Unknown consent."))
        if problems:
            errors[str(index)] = problems
    if errors:
        raise ApplicationError(_("The data is not valid."), code="invalid", fields={"members": errors})
    found = {member.customer_id: member for member in
             Member.objects.filter(program=program, customer_id__in=[customer_id for _row, customer_id in rows])}
    codes = {row.referred_by_code.strip().upper() for row, _id in rows if row.referred_by_code}
    referrers = {member.referral_code: member for member in
                 Member.objects.filter(program=program, referral_code__in=codes)} if codes else {}
    now = timezone.now()
    active = program.status == Program.Status.ACTIVE
    rules = rules_load(program=program, event=EarnRule.Event.SIGNUP) if active else []
    tiers = list(Tier.objects.filter(program=program).order_by("rank"))
    batch = LedgerBatch()
    created: list[Member] = []
    used_codes: set[str] = set()
    for row, customer_id in rows:
        if customer_id in found:
            continue
        consents = row.consents or {}
        code = referral_code_generate()
        while code in used_codes:  # pragma: no cover - 32^8 codes
            code = referral_code_generate()
        used_codes.add(code)
        member = Member(program=program, customer_id=customer_id, email=row.email.strip().lower(), name=row.name,
                        referred_by=referrers.get((row.referred_by_code or "").strip().upper()),
                        birth_date=row.birth_date, enrolled_at=row.enrolled_at or now,
                        last_activity_at=row.enrolled_at or now, referral_code=code,
                        consent_marketing=bool(consents.get("marketing")), consent_email=bool(consents.get("email")),
                        consent_sms=bool(consents.get("sms")))
        found[customer_id] = member
        created.append(member)
        earner = Earner(member=member, batch=batch, now=now, fresh=True, tiers=tiers)
        if rules:
            event_earn(earner=earner, event=EarnRule.Event.SIGNUP, key_prefix=f"event:{member.pk}:signup:rule:",
                       at=member.enrolled_at, rules=rules)
        if member.tier_id is None and tiers:
            earner.tier_progress(at=member.enrolled_at)  # the entry tier applies from the start
    try:
        with transaction.atomic():
            Member.objects.bulk_create(created)
    except IntegrityError:  # a referral code collision or a concurrent enrolment: take the careful path
        return [member_enroll(program=program, customer_id=customer_id, email=row.email, name=row.name,
                              consents=row.consents, referred_by_code=row.referred_by_code,
                              birth_date=row.birth_date, enrolled_at=row.enrolled_at) for row, customer_id in rows]
    batch.write()
    return [found[customer_id] for _row, customer_id in rows]
