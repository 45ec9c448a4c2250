"""Provisioning in TLP: a campaign's point type and offers, and participants' members.

Idempotent end to end: what TLP already has (a ``TLPEntity`` row) is updated only if it changed, and every
creation carries an idempotency key derived from what is created, so a run cut short and started again does
not create anything twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from apps.core.errors import ApplicationError
from apps.tlp import wire
from apps.tlp.client import TLPClient, TLPConflict
from apps.tlp.models import TLPEntity, TLPOutbox
from apps.tlp.selectors import tlp_entity_id
from apps.tlp.services.configuration import tlp_client_active
from apps.tlp.services.graphics import offer_graphic_store, tlp_branding_get
from apps.tlp.services.outbox import tlp_outbox_enqueue

logger = logging.getLogger(__name__)

Kind = TLPEntity.Kind
MONEY_METRICS = {"line_amount"}


@dataclass
class ProvisionResult:
    point_type_id: str
    accrual_offers: dict[str, str] = field(default_factory=dict)  # local ref -> TLP id
    redemption_offers: dict[str, str] = field(default_factory=dict)
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def _digest(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _number(value: Any, field_name: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ApplicationError(_("The rule document is not valid."), code="invalid_rule_document",
                               fields={field_name: [_("Not a number.")]}) from exc
    if not number.is_finite() or number < 0:
        raise ApplicationError(_("The rule document is not valid."), code="invalid_rule_document",
                               fields={field_name: [_("Must be a positive number.")]})
    return number


def _text(value: Decimal) -> str:
    """100 → "100", 12.50 → "12.5" (``normalize`` alone would write 1E+2)."""
    return format(value.normalize(), "f")


def _spend(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _upsert(client: TLPClient, *, kind: str, local_ref: str, spec: dict[str, Any], result: ProvisionResult,
            extra: dict[str, Any] | None = None) -> str:
    """Create the object in TLP (remembering its id) or bring it up to date; returns its TLP id."""
    entity = TLPEntity.objects.filter(kind=kind, local_ref=local_ref).first()
    if entity is not None and entity.data.get("spec") == spec:
        result.unchanged += 1
        return entity.tlp_id
    key = f"provision:{kind}:{local_ref}:{_digest(spec)}"
    if kind == Kind.POINT_TYPE:
        answer = (client.point_type_update(point_type_id=entity.tlp_id, idempotency_key=key, **spec) if entity
                  else client.point_type_create(idempotency_key=key, **spec))
    elif entity is not None:
        answer = client.offer_update(offer_id=entity.tlp_id, idempotency_key=key, **spec)
    else:
        answer = client.offer_create(idempotency_key=key, **spec)
    tlp_id = wire.read_id(answer)
    data = {"spec": spec, **{name: spec[name] for name in ("name", "points", "image_url") if name in spec},
            **(extra or {})}
    if entity is None:
        TLPEntity.objects.create(kind=kind, local_ref=local_ref, tlp_id=tlp_id, data=data)
        result.created += 1
    else:
        entity.tlp_id, entity.data = tlp_id, {**entity.data, **data}
        entity.save(update_fields=["tlp_id", "data", "updated_at"])
        result.updated += 1
    return tlp_id


def tlp_campaign_provision(*, campaign_key: str, name: str, rule_document: dict[str, Any], currency: str,
                           base_url: str | None = None) -> ProvisionResult:
    """Create (or update) a campaign in TLP from its rule document: its point type, an accrual offer per goal
    threshold (and per continuous ``points_per_unit`` rule), a redemption offer per prize with its generated
    graphic as ``imageUrl``. Stores the TLP ids; running it again changes only what changed. Refuses (422)
    when TLP is not configured; TLP errors propagate (TLPError subclasses)."""
    campaign_key = str(campaign_key).strip()
    if not campaign_key or not name.strip():
        raise ApplicationError(_("A campaign key and name are required."), code="invalid",
                               fields={"campaign_key" if not campaign_key else "name": [_("Required.")]})
    client = tlp_client_active()
    result = ProvisionResult(point_type_id="")
    try:
        point_spec = {"name": f"{name.strip()} Points"[:100],
                      "description": _("Points earned in the campaign %(name)s") % {"name": name.strip()},
                      "rank": 1, "enabled": True, "show_zero_balance": True}
        point_type_id = _upsert(client, kind=Kind.POINT_TYPE, local_ref=f"campaign:{campaign_key}", spec=point_spec,
                                result=result)
        result.point_type_id = point_type_id

        for goal in rule_document.get("goals") or []:
            goal_id = str(goal.get("id") or "goal")
            target = _number(goal.get("target", 0), f"goals.{goal_id}.target")
            metric = goal.get("metric", "line_amount")
            scope = goal.get("scope", "individual")
            for reward in goal.get("rewards") or []:
                percent = _number(reward.get("at_percent", 100), f"goals.{goal_id}.rewards.at_percent")
                points = int(_number(reward.get("points", 0), f"goals.{goal_id}.rewards.points"))
                if points <= 0:
                    continue
                threshold = (target * percent / 100).quantize(Decimal("0.01"))
                local_ref = f"campaign:{campaign_key}:goal:{goal_id}:{_text(percent)}"
                spec = {
                    "offer_type": wire.OfferType.ACCRUAL, "offer_subtype": "dynamic",
                    "name": f"{name.strip()} – {goal_id} {_text(percent)}%"[:200],
                    "description": _("Earn %(points)s points at %(percent)s%% of the %(scope)s goal (%(threshold)s "
                                     "%(unit)s)") % {"points": points, "percent": _text(percent),
                                                     "scope": scope, "threshold": _text(threshold),
                                                     "unit": currency if metric in MONEY_METRICS else metric},
                    "points": points, "point_type": point_type_id, "minimum_spend": _spend(threshold),
                    "enabled": True, "online": False, "location": True,
                }
                result.accrual_offers[local_ref] = _upsert(client, kind=Kind.ACCRUAL_OFFER, local_ref=local_ref,
                                                           spec=spec, result=result)
            per_unit = goal.get("points_per_unit")
            if per_unit:
                points = int(_number(per_unit.get("points", 0), f"goals.{goal_id}.points_per_unit.points"))
                per = _number(per_unit.get("per", 1), f"goals.{goal_id}.points_per_unit.per")
                if points > 0:
                    local_ref = f"campaign:{campaign_key}:goal:{goal_id}:per_unit"
                    spec = {
                        "offer_type": wire.OfferType.ACCRUAL, "offer_subtype": "dynamic",
                        "name": f"{name.strip()} – {goal_id}"[:200],
                        "description": _("Earn %(points)s points per %(per)s %(unit)s") % {
                            "points": points, "per": _text(per),
                            "unit": currency if metric in MONEY_METRICS else metric},
                        "points": points, "point_type": point_type_id, "minimum_spend": _spend(per),
                        "enabled": True, "online": False, "location": True,
                    }
                    result.accrual_offers[local_ref] = _upsert(client, kind=Kind.ACCRUAL_OFFER,
                                                               local_ref=local_ref, spec=spec, result=result)

        branding = tlp_branding_get()
        for prize in rule_document.get("prizes") or []:
            prize_id = str(prize.get("id") or "prize")
            prize_name = str(prize.get("name") or prize_id)
            points = int(_number(prize.get("points_cost", 0), f"prizes.{prize_id}.points_cost"))
            if points <= 0:
                continue
            path, image_url, _icon = offer_graphic_store(campaign_key=campaign_key, prize_id=prize_id,
                                                         name=prize_name, points=points, branding=branding,
                                                         base_url=base_url)
            local_ref = f"campaign:{campaign_key}:prize:{prize_id}"
            spec = {
                "offer_type": wire.OfferType.REDEMPTION, "offer_subtype": "product", "name": prize_name[:200],
                "description": _("Redeem %(points)s points for %(prize)s") % {"points": f"{points:,}",
                                                                            "prize": prize_name},
                "points": points, "point_type": point_type_id, "enabled": True, "image_url": image_url,
            }
            result.redemption_offers[local_ref] = _upsert(client, kind=Kind.REDEMPTION_OFFER, local_ref=local_ref,
                                                          spec=spec, result=result, extra={"image_path": path})
    finally:
        client.close()
    logger.info("TLP campaign %s provisioned: %d created, %d updated, %d unchanged", campaign_key, result.created,
                result.updated, result.unchanged)
    return result


def participant_member_key(participant_key: str) -> str:
    return f"participant:{participant_key}"


def tlp_member_ensure(*, participant_key: str, email: str = "", name: str = "") -> str | None:
    """Make sure TLP has a member for this participant. Returns its TLP id when already known; otherwise
    queues its creation in the outbox (ahead of any points for that participant, which wait for it) and
    returns None. A no-op (None) when TLP is not configured."""
    member_key = participant_member_key(str(participant_key))
    known = tlp_entity_id(kind=Kind.MEMBER, local_ref=member_key)
    if known:
        return known
    with transaction.atomic():
        tlp_outbox_enqueue(operation=TLPOutbox.Operation.MEMBER_UPSERT,
                           payload={"member": {"email": email or "", "name": name or ""}},
                           member_key=member_key, idempotency_key=f"member-ensure:{member_key}",
                           source_type="participant", source_id=str(participant_key))
    return None


def tlp_member_create_now(*, participant_key: str, email: str = "", name: str = "") -> str:
    """Create (or find) the participant's TLP member right away; TLP errors propagate."""
    member_key = participant_member_key(str(participant_key))
    known = tlp_entity_id(kind=Kind.MEMBER, local_ref=member_key)
    if known:
        return known
    client = tlp_client_active()
    try:
        page = client.member_search(external_id=member_key, page_size=1, fresh=True)
        if page.items:
            tlp_id = wire.read_id(page.items[0])
        else:
            first, _sep, last = name.strip().partition(" ")
            try:
                tlp_id = wire.read_id(client.member_create(
                    external_id=member_key, email=email or None, first_name=first or None, last_name=last or None,
                    idempotency_key=f"member:{member_key}"))
            except TLPConflict:
                tlp_id = wire.read_id(client.member_search(external_id=member_key, page_size=1,
                                                           fresh=True).items[0])
    finally:
        client.close()
    TLPEntity.objects.get_or_create(kind=Kind.MEMBER, local_ref=member_key, defaults={"tlp_id": tlp_id})
    return tlp_id
