"""Writes about a campaign's participants: linking a user to a salesperson id, their loyalty and TLP members
when they join, manual point allocations, and prize redemptions (points held in the ledger when requested,
spent on delivery, or given back). Re-exported by ``apps.campaigns.services``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.campaigns.models import Campaign, CampaignParticipant, CampaignRedemption
from apps.campaigns.selectors import campaign_prizes, participant_member
from apps.core.errors import ApplicationError, ConflictError, NotFoundError, UnprocessableError
from apps.core.live import live_broadcast, user_topic
from apps.loyalty.selectors import member_list, program_resolve, redemption_list
from apps.loyalty.services import (
    member_update,
    points_award,
    redemption_cancel,
    redemption_complete,
    redemption_reserve,
)
from apps.loyalty.services.ledger import MemberRow, members_enroll_bulk
from apps.tlp.services import tlp_outbox_enqueue_ledger_entries


class _MemberRef(NamedTuple):
    """A loyalty member as the TLP outbox reads it (to create or update its TLP member)."""

    pk: Any
    email: str
    name: str


@transaction.atomic
def participants_members_ensure(*, campaign: Campaign, participants: Sequence[CampaignParticipant]) -> None:
    """Give the participants their place in the campaign's points, as they join: a loyalty member (keyed by the
    salesperson id, with their email and name; enrolled in bulk) and, through the TLP outbox, a TLP member —
    made explicitly now, not by their first points. A participant whose member exists but whose email or name
    became known (a user linked, an import) gets the member and its TLP member updated. Nothing happens before
    approval (the campaign has no program yet): approval calls this for everyone who joined meanwhile."""
    if campaign.loyalty_program_id is None or not participants:
        return
    joining = [p for p in participants if p.member_id is None]
    refs: list[_MemberRef] = []
    if joining:
        program = program_resolve(program_id=campaign.loyalty_program_id)
        ids = members_enroll_bulk(program=program, members=[
            MemberRow(p.participant_key, p.email, p.name) for p in joining])
        for participant, member_id in zip(joining, ids, strict=True):
            participant.member_id = member_id
            refs.append(_MemberRef(member_id, (participant.email or "").strip().lower(), participant.name))
        CampaignParticipant.objects.bulk_update(joining, ["member_id"], batch_size=500)
    joined = {id(p) for p in joining}
    known = [p for p in participants if p.email and id(p) not in joined]
    members = {m.pk: m for m in member_list().filter(pk__in=[p.member_id for p in known])} if known else {}
    for participant in known:
        member = members.get(participant.member_id)
        email, name = participant.email.strip().lower(), participant.name or (member.name if member else "")
        if member is None or (member.email, member.name) == (email, name):
            continue
        member_update(member=member, email=email, name=name)
        refs.append(_MemberRef(member.pk, email, name))
    tlp_outbox_enqueue_ledger_entries(members=refs)


@transaction.atomic
def campaign_participant_link(*, campaign: Campaign, participant_key: str, user: Any, name: str = "",
                              email: str = "") -> CampaignParticipant:
    """Make ``user`` the person behind salesperson ``participant_key`` (created when the campaign has not run
    yet). Refuses (409) a user already linked to another salesperson of the campaign, or a salesperson
    already linked to another user."""
    participant_key = str(participant_key or "").strip()
    if not participant_key:
        raise ApplicationError(_("A salesperson id is required."), fields={"participant_id": [_("Required.")]})
    participant, _created = CampaignParticipant.objects.select_for_update().get_or_create(
        campaign=campaign, participant_key=participant_key)
    if participant.user_id not in (None, user.pk):
        raise ConflictError(_("This salesperson is already linked to another user."), code="participant_taken")
    if campaign.participants.filter(user=user).exclude(pk=participant.pk).exists():
        raise ConflictError(_("This user already takes part as another salesperson."), code="user_taken")
    participant.user = user
    participant.name = name or participant.name or getattr(user, "get_full_name", lambda: "")() or ""
    participant.email = email or getattr(user, "email", "") or participant.email or ""
    participant.save()
    participants_members_ensure(campaign=campaign, participants=[participant])
    return participant


def _member_or_422(participant: CampaignParticipant) -> Any:
    member = participant_member(participant=participant)
    if member is None:
        raise UnprocessableError(_("You have no points in this campaign yet."), code="no_points")
    return member


@transaction.atomic
def campaign_points_allocate(*, campaign: Campaign, participant_key: str, points: int, reason: str,
                             idempotency_key: str, actor: Any = None) -> Any:
    """A manual allocation (an adjustment outside the rules, with its reason) to one participant, through the
    ledger, idempotent on ``idempotency_key``. The rules' own allocations are not affected. Refuses (409) a
    campaign that is not running, (404) an unknown participant, (422) one with no member yet."""
    if campaign.status not in (Campaign.Status.APPROVED, Campaign.Status.ACTIVE):
        raise ConflictError(_("Only an approved or active campaign can allocate points."),
                            code="campaign_not_running")
    participant = campaign.participants.filter(participant_key=str(participant_key)).first()
    if participant is None:
        raise NotFoundError(_("No such participant in this campaign."), code="participant_not_found",
                            fields={"participant_id": [_("Not found.")]})
    member = _member_or_422(participant)
    return points_award(member=member, points=points, source="manual", reason=reason, actor=actor,
                        idempotency_key=f"campaign:{campaign.pk}:manual:{idempotency_key}", campaign_id=campaign.pk)


@transaction.atomic
def participant_redeem(*, participant: CampaignParticipant, prize_id: str, idempotency_key: str) -> CampaignRedemption:
    """Redeem a prize of the running rules: the points are held in the ledger (row-locked, concurrency-safe,
    mirrored to TLP) and the redemption is pending until delivered. Idempotent on ``idempotency_key`` (a
    replay returns the first redemption). Refuses (404) an unknown prize, (422) too few points."""
    key = f"campaign:{participant.campaign_id}:redeem:{participant.pk}:{idempotency_key}"
    existing = CampaignRedemption.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing
    campaign = participant.campaign
    if campaign.status not in (Campaign.Status.APPROVED, Campaign.Status.ACTIVE, Campaign.Status.COMPLETED):
        raise ConflictError(_("This campaign's prizes cannot be redeemed now."), code="campaign_not_running")
    prize = next((p for p in campaign_prizes(campaign=campaign) if p["id"] == prize_id), None)
    if prize is None:
        raise NotFoundError(_("No such prize in this campaign."), code="prize_not_found",
                            fields={"prize_id": [_("Not found.")]})
    member = _member_or_422(participant)
    redemption = redemption_reserve(member=member, points=int(prize["points_cost"]), idempotency_key=key)
    try:
        with transaction.atomic():
            record = CampaignRedemption.objects.create(
                campaign=campaign, participant=participant, prize_id=prize["id"], prize_name=prize["name"],
                points=int(prize["points_cost"]), loyalty_redemption_id=redemption.pk, idempotency_key=key)
    except IntegrityError as exc:  # a concurrent twin with the same key won
        raise ConflictError(_("This redemption is already being processed."), code="redemption_in_progress") \
            from exc
    if participant.user_id:
        live_broadcast(topic=user_topic(participant.user_id), event="campaign.redemption", payload={
            "campaign_id": str(campaign.pk), "redemption_id": str(record.pk), "prize": prize["name"],
            "points": record.points, "status": record.status})
    return record


def _loyalty_redemption(record: CampaignRedemption) -> Any:
    return redemption_list().filter(pk=record.loyalty_redemption_id).first()


@transaction.atomic
def campaign_redemption_complete(*, redemption: CampaignRedemption) -> CampaignRedemption:
    """The prize was delivered: the held points are spent for good. Completing twice is a no-op."""
    record = CampaignRedemption.objects.select_for_update().get(pk=redemption.pk)
    if record.status == CampaignRedemption.Status.COMPLETED:
        return record
    if record.status == CampaignRedemption.Status.CANCELLED:
        raise ConflictError(_("This redemption was cancelled."), code="redemption_cancelled")
    redemption_complete(redemption=_loyalty_redemption(record))
    record.status, record.completed_at = CampaignRedemption.Status.COMPLETED, timezone.now()
    record.save(update_fields=["status", "completed_at", "updated_at"])
    return record


@transaction.atomic
def campaign_redemption_cancel(*, redemption: CampaignRedemption, reason: str = "") -> CampaignRedemption:
    """The prize cannot be delivered: the held points go back to the participant. Cancelling twice is a
    no-op; a completed redemption cannot be cancelled (409)."""
    record = CampaignRedemption.objects.select_for_update().get(pk=redemption.pk)
    if record.status == CampaignRedemption.Status.CANCELLED:
        return record
    if record.status == CampaignRedemption.Status.COMPLETED:
        raise ConflictError(_("A delivered prize cannot be cancelled."), code="redemption_completed")
    redemption_cancel(redemption=_loyalty_redemption(record), reason=reason)
    record.status, record.cancelled_at = CampaignRedemption.Status.CANCELLED, timezone.now()
    record.save(update_fields=["status", "cancelled_at", "updated_at"])
    return record
