"""The participant's campaign pages (``/campaigns/``): my campaigns, and one campaign's dashboard.

Thin: reads come from ``apps.campaigns.selectors_dashboard``, the one write (a prize redemption) from
``services.participant_redeem``. Every page is about the signed-in user's own participation: a campaign they
do not take part in is a 404, whoever asks (staff included). Redeeming is a POST carrying a token made when
the page was rendered; it becomes the redemption's idempotency key, so a replayed or double-clicked form
moves the points once. Without JavaScript the POST first shows a confirmation page; with it
(static/js/campaign.js) a dialog confirms in place. The same script keeps the page live: on an execution's
event it fetches ``live/`` (the dashboard's changing part) and swaps it in.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.cache import get_conditional_response
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from apps.campaigns import selectors_dashboard as dashboard
from apps.campaigns.models import Campaign, CampaignParticipant
from apps.campaigns.services import participant_redeem
from apps.core.errors import ApplicationError
from apps.core.live import campaign_topic, user_topic
from apps.core.views import redeem_token

HISTORY_PAGE_SIZE = 10
REDEEMABLE = (Campaign.Status.APPROVED, Campaign.Status.ACTIVE, Campaign.Status.COMPLETED)
GRAPHIC_CACHE = "private, max-age=3600"


def _participation(request: HttpRequest, campaign_id: uuid.UUID) -> CampaignParticipant:
    participant = dashboard.participant_dashboard_get(user=request.user, campaign_id=campaign_id)
    if participant is None:
        raise Http404(_("You do not take part in this campaign."))
    return participant


def _chart_label(moment: Any) -> str:
    return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def _dashboard_context(request: HttpRequest, participant: CampaignParticipant) -> dict[str, Any]:
    campaign = participant.campaign
    goals = dashboard.participant_goals(participant=participant)
    balance = dashboard.participant_balance(participant=participant)
    chart = dashboard.participant_progress_chart(participant=participant, goals=goals)
    history = Paginator(dashboard.participant_transactions(participant=participant), HISTORY_PAGE_SIZE) \
        .get_page(request.GET.get("page"))
    return {
        "campaign": campaign,
        "participant": participant,
        "goals": goals,
        "balance": balance,
        "chart": chart,
        "chart_data": chart.chart_data(date_format=_chart_label),
        "history": history,
        "offers": dashboard.participant_offers(participant=participant, available=balance.available),
        "can_redeem": campaign.status in REDEEMABLE,
        "badges": dashboard.participant_badges(participant=participant, goals=goals),
        "leaderboards": dashboard.participant_leaderboards(participant=participant, goals=goals),
        "ineligible_reason": dashboard.ineligibility_reason(participant=participant),
        "last_execution": dashboard.campaign_last_calculation(campaign=campaign),
        # One token per rendering: a form submitted twice (a replay, a double click) redeems once.
        "redeem_token": uuid.uuid4(),
        "live_config": {
            "topics": [user_topic(request.user.pk), campaign_topic(campaign.pk)],
            "campaign": str(campaign.pk),
            "fragment": reverse("participant-campaign-live", args=[campaign.pk]),
            "socket": "/ws/live/",
        },
    }


@never_cache
@login_required
@require_safe
def campaign_list(request: HttpRequest) -> HttpResponse:
    active, past = dashboard.participant_campaign_list(user=request.user)

    def card(participant: CampaignParticipant) -> dict[str, Any]:
        return {"participant": participant, "campaign": participant.campaign,
                "goals": dashboard.participant_goals(participant=participant)}

    return render(request, "campaigns/participant/list.html", {
        "active": [card(p) for p in active], "past": [card(p) for p in past]})


@never_cache
@login_required
@require_safe
def campaign_dashboard(request: HttpRequest, campaign_id: uuid.UUID) -> HttpResponse:
    participant = _participation(request, campaign_id)
    return render(request, "campaigns/participant/dashboard.html", _dashboard_context(request, participant))


@never_cache
@login_required
@require_safe
def campaign_live(request: HttpRequest, campaign_id: uuid.UUID) -> HttpResponse:
    """The dashboard's changing part alone (no page around it), for campaign.js to swap in."""
    participant = _participation(request, campaign_id)
    return render(request, "campaigns/participant/_live.html", _dashboard_context(request, participant))


@never_cache
@login_required
@require_POST
def campaign_redeem(request: HttpRequest, campaign_id: uuid.UUID) -> HttpResponse:
    participant = _participation(request, campaign_id)
    back = redirect("participant-campaign", campaign_id=participant.campaign_id)
    prize = dashboard.participant_prize_get(participant=participant, prize_id=request.POST.get("prize", ""))
    token = redeem_token(request)
    if prize is None or token is None:
        messages.error(request, _("This prize could not be found. Please try again."))
        return back
    if request.POST.get("confirmed") != "1":
        return render(request, "campaigns/participant/redeem_confirm.html", {
            "campaign": participant.campaign, "prize": prize, "token": token,
            "balance": dashboard.participant_balance(participant=participant)})
    try:
        redemption = participant_redeem(participant=participant, prize_id=str(prize["id"]),
                                        idempotency_key=f"dashboard:{token}")
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return back
    messages.success(request, _("You redeemed %(prize)s for %(points)s points. We will let you know when it is "
                                "delivered.") % {"prize": redemption.prize_name,
                                                 "points": formats.number_format(redemption.points,
                                                                                 force_grouping=True)})
    return back


@login_required
@require_safe
def campaign_offer_graphic(request: HttpRequest, campaign_id: uuid.UUID, prize_id: str) -> HttpResponse:
    """The offer's picture (PNG); see ``selectors_dashboard.offer_graphic_source``."""
    participant = _participation(request, campaign_id)
    source = dashboard.offer_graphic_source(participant=participant, prize_id=prize_id, points_label=_("points"))
    if source is None:
        raise Http404(_("No such prize in this campaign."))
    etag = f'"{source.etag}"'
    if isinstance(get_conditional_response(request, etag=etag), HttpResponseNotModified):
        response: HttpResponse = HttpResponseNotModified()
    else:
        response = HttpResponse(source.load(), content_type="image/png")
    response["ETag"] = etag
    response["Cache-Control"] = GRAPHIC_CACHE
    return response
