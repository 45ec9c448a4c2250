"""The member dashboard (``/me/``): a signed-in member's balance, tier, rewards, history and referral link.

Thin: reads come from ``selectors_portal``, the one write (a redemption) from ``services.points_redeem``.
Redeeming is a POST carrying a token made when the page was rendered; it becomes the redemption's
idempotency key, so a replayed or double-clicked form moves the points once. Without JavaScript the POST
first shows a confirmation page; with it (static/js/member.js) a dialog confirms in place.
"""

from __future__ import annotations

import uuid
from urllib.parse import quote, urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from apps.core.errors import ApplicationError
from apps.core.views import redeem_token
from apps.loyalty import services
from apps.loyalty.selectors import ledger_history, member_balance
from apps.loyalty.selectors_portal import (
    ReferralSummary,
    member_for_user,
    member_referral_summary,
    member_reward_get,
    member_reward_options,
    tier_progress_percent,
)

HISTORY_PAGE_SIZE = 10


def _share_links(*, link: str, program_name: str, summary: ReferralSummary) -> list[dict[str, str]]:
    """Share URLs for the channels the referral campaign offers; each link says its channel (``?ch=``) so
    the click is attributed. Copy-link is a button (static/js/member.js), not a URL."""
    text = _("Join me at %(program)s and get a welcome reward:") % {"program": program_name}

    def tagged(channel: str) -> str:
        return f"{link}?{urlencode({'ch': channel})}"

    builders = {
        "email": lambda: "mailto:?" + urlencode(
            {"subject": _("An invitation to %(program)s") % {"program": program_name},
             "body": f"{text} {tagged('email')}"}, quote_via=quote),
        "whatsapp": lambda: "https://wa.me/?" + urlencode({"text": f"{text} {tagged('whatsapp')}"}, quote_via=quote),
        "x": lambda: "https://x.com/intent/tweet?" + urlencode({"text": text, "url": tagged("x")}, quote_via=quote),
        "facebook": lambda: "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": tagged("facebook")}),
    }
    labels = {"email": _("Share by email"), "whatsapp": _("Share on WhatsApp"), "x": _("Share on X"),
              "facebook": _("Share on Facebook")}
    return [{"channel": channel, "url": builders[channel](), "label": labels[channel]}
            for channel in builders if channel in summary.channels]


@never_cache
@login_required
@require_safe
def member_dashboard(request: HttpRequest) -> HttpResponse:
    member = member_for_user(user=request.user)
    if member is None:
        return render(request, "loyalty/member_empty.html")
    balance = member_balance(member=member)
    history = Paginator(ledger_history(member=member), HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    summary = member_referral_summary(member=member)
    link = request.build_absolute_uri(reverse("referral-landing", args=[summary.code]))
    context = {
        "member": member,
        "program": member.program,
        "balance": balance,
        "tier_progress": tier_progress_percent(balance=balance),
        "rewards": member_reward_options(member=member),
        "history": history,
        "referral": summary,
        "referral_link": link if summary.campaign is not None else "",
        "share_links": _share_links(link=link, program_name=member.program.name, summary=summary)
        if summary.campaign is not None else [],
        "copy_enabled": "copy_link" in summary.channels,
        # One token per rendering: a form submitted twice (a replay, a double click) redeems once.
        "redeem_token": uuid.uuid4(),
    }
    return render(request, "loyalty/member_dashboard.html", context)


@never_cache
@login_required
@require_POST
def member_reward_redeem(request: HttpRequest) -> HttpResponse:
    member = member_for_user(user=request.user)
    if member is None:
        return redirect("member-dashboard")
    reward = member_reward_get(member=member, reward_id=request.POST.get("reward", ""))
    token = redeem_token(request)
    if reward is None or token is None:
        messages.error(request, _("This reward could not be found. Please try again."))
        return redirect("member-dashboard")
    if request.POST.get("confirmed") != "1":
        return render(request, "loyalty/redeem_confirm.html", {"member": member, "reward": reward, "token": token})
    try:
        redemption = services.points_redeem(member=member, reward=reward, actor=request.user,
                                            idempotency_key=f"member-portal:{member.pk}:{token}")
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("member-dashboard")
    messages.success(request, _("You redeemed %(reward)s for %(points)d points. Your reward code is %(code)s.")
                     % {"reward": reward.name, "points": redemption.points, "code": redemption.code})
    return redirect("member-dashboard")
