"""The public referral landing page ``/r/<code>``: no sign-in, because it is the link members share.

It records the click (channel from ``?ch=``), remembers the code in a first-party cookie for the sign-up that
follows, and invites the visitor to sign up. An unknown or inactive code gets a friendly 404 page.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit, urlunsplit

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from apps.core.errors import NotFoundError
from apps.referrals.models import IncentiveType
from apps.referrals.services import referral_click_record

REFERRAL_COOKIE = "incentiva_ref"


def _signup_link(signup_url: str, code: str) -> str:
    if not signup_url:
        return ""
    parts = urlsplit(signup_url)
    query = f"{parts.query}&" if parts.query else ""
    return urlunsplit(parts._replace(query=query + urlencode({"ref": code})))


@never_cache
@require_safe
def referral_landing(request: HttpRequest, code: str) -> HttpResponse:
    try:
        visit = referral_click_record(code=code, channel=request.GET.get("ch"),
                                      ip=request.META.get("REMOTE_ADDR", ""),
                                      user_agent=request.META.get("HTTP_USER_AGENT", ""))
    except NotFoundError:
        return render(request, "referrals/not_found.html", status=404)
    campaign = visit.campaign
    context = {
        "campaign": campaign,
        "program_name": campaign.program.name,
        "referrer_first_name": (visit.referrer.name or "").split(" ")[0],
        "code": visit.referrer.referral_code,
        "reward_type": campaign.referred_reward_type,
        "reward_points": int(campaign.referred_reward_value)
        if campaign.referred_reward_type == IncentiveType.POINTS else None,
        "signup_link": _signup_link(campaign.signup_url, visit.referrer.referral_code),
    }
    response = render(request, "referrals/landing.html", context)
    response.set_cookie(REFERRAL_COOKIE, visit.referrer.referral_code,
                        max_age=campaign.referral_window_days * 24 * 3600, samesite="Lax", httponly=True,
                        secure=request.is_secure())
    return response
