"""The admin campaign console (``/console/campaigns/``): the campaign list and a campaign's execution monitoring.
The creation wizard's steps are in ``console_wizard``.

Thin: reads from ``selectors_console``, the one write here (execute now) through ``campaign_execute``.
Tenant staff only: every role but participant reads; owners, admins and managers execute. Live progress comes
over the websocket (``/ws/live/``, topic ``campaign:<id>``, static/js/console.js): on each broadcast the page
fetches the ``runs`` fragment; without JavaScript the page is complete as rendered.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from apps.campaigns.execution import campaign_execute
from apps.campaigns.models import Campaign, CampaignExecution
from apps.campaigns.selectors import campaign_get, campaign_running_version
from apps.campaigns.selectors_console import (
    console_actions,
    console_campaign_list,
    console_campaign_summary,
    console_can,
    console_ineligible,
    console_runs,
    ineligible_reason_label,
)
from apps.core.errors import ApplicationError
from apps.core.live import campaign_topic

LIST_PAGE_SIZE = 20
INELIGIBLE_PAGE_SIZE = 25


def console_view(action: str = "read") -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Signed-in staff whose role allows ``action`` (read, write, approve): others get 403, visitors the login."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not console_can(user=request.user, action=action):
                raise PermissionDenied(_("Your role does not allow this."))
            return view(request, *args, **kwargs)

        return never_cache(login_required(wrapped))

    return decorator


def campaign_or_404(campaign_id: Any) -> Campaign:
    """The campaign of this tenant; 404 for another tenant's or a missing one."""
    campaign = campaign_get(campaign_id=campaign_id)
    if campaign is None:
        raise Http404(_("Campaign not found."))
    return campaign


def wants_fragment(request: HttpRequest) -> bool:
    """A request from console.js or htmx, which swaps a fragment in place, rather than a plain form post."""
    return request.headers.get("X-Requested-With") == "fetch" or request.headers.get("HX-Request") == "true"


@console_view("read")
@require_safe
def campaign_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or None
    if status not in Campaign.Status.values:
        status = None
    search = (request.GET.get("q") or "").strip()[:100] or None
    page = Paginator(console_campaign_list(status=status, search=search), LIST_PAGE_SIZE).get_page(
        request.GET.get("page"))
    rows = [{"campaign": campaign, "actions": console_actions(campaign=campaign, user=request.user),
             "reached_percent": round(100 * campaign.reached_count / campaign.participant_count)
             if campaign.participant_count else 0} for campaign in page]
    return render(request, "campaigns/console/list.html", {
        "page": page, "rows": rows, "status": status or "", "q": search or "", "statuses": Campaign.Status.choices,
        "can_write": console_can(user=request.user, action="write"),
    })


def _monitor_context(request: HttpRequest, campaign: Campaign) -> dict[str, Any]:
    return {"campaign": campaign, "summary": console_campaign_summary(campaign=campaign),
            "runs": console_runs(campaign=campaign),
            "actions": console_actions(campaign=campaign, user=request.user)}


@console_view("read")
@require_safe
def campaign_detail(request: HttpRequest, campaign_id: Any) -> HttpResponse:
    campaign = campaign_or_404(campaign_id)
    ineligible = Paginator(console_ineligible(campaign=campaign), INELIGIBLE_PAGE_SIZE).get_page(
        request.GET.get("page"))
    context = _monitor_context(request, campaign) | {
        "version": campaign_running_version(campaign=campaign),
        "ineligible": ineligible,
        "ineligible_rows": [(participant, ineligible_reason_label(participant.ineligible_reason))
                            for participant in ineligible],
        "live": {"topic": campaign_topic(campaign.pk),
                 "fragment_url": reverse("console-campaign-runs", args=[campaign.pk])},
    }
    return render(request, "campaigns/console/detail.html", context)


@console_view("read")
@require_safe
def campaign_runs(request: HttpRequest, campaign_id: Any) -> HttpResponse:
    """The monitoring page's live part (totals and last runs), fetched again on each progress broadcast."""
    campaign = campaign_or_404(campaign_id)
    return render(request, "campaigns/console/_live.html", _monitor_context(request, campaign))


@console_view("write")
@require_POST
def campaign_execute_now(request: HttpRequest, campaign_id: Any) -> HttpResponse:
    """Run the campaign now. The run is recorded (succeeded or failed, with its error) and broadcast; a
    campaign that is not running is refused with the reason."""
    campaign = campaign_or_404(campaign_id)
    try:
        execution = campaign_execute(campaign=campaign, user=request.user)
    except ApplicationError as exc:
        if wants_fragment(request):
            return render(request, "campaigns/console/_execute_result.html", {"error": exc.message},
                          status=exc.status_code)
        messages.error(request, exc.message)
        return redirect("console-campaign-detail", campaign.pk)
    if execution.status == CampaignExecution.Status.SUCCEEDED:
        text = _("The campaign ran: %(participants)d participants updated, %(points)d points allocated.") % {
            "participants": execution.participants_updated, "points": execution.points_allocated}
    else:
        text = _("The run failed: %(error)s") % {"error": execution.error}
    if wants_fragment(request):
        return render(request, "campaigns/console/_execute_result.html",
                      {"message": text, "failed": execution.status != CampaignExecution.Status.SUCCEEDED})
    (messages.success if execution.status == CampaignExecution.Status.SUCCEEDED else messages.error)(request, text)
    return redirect("console-campaign-detail", campaign.pk)
