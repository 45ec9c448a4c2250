"""Referral fraud scoring: deterministic, explainable checks that each add a weighted signal.

Checks compare the referred person with the referrer (and with the other people the same referrer brought in):

- ``self_referral``: the referred email is the referrer's mailbox (``+tags`` and Gmail dots ignored) or the
  referred member shares the referrer's customer id (a referral of the very same member is refused earlier);
- ``shared_card``, ``shared_device``, ``shared_billing_address``, ``shared_ip``: a fingerprint hash of the referred
  sign-up matches one recorded for the referrer;
- ``referral_ring``: it matches a fingerprint of another referral by the same referrer (one person, many accounts);
- ``velocity``: the referrer has more referrals in the campaign's window than the campaign allows.

The score combines the weights as independent evidence (noisy-OR): ``1 - Π(1 - weight)``, so it stays in 0..1,
never decreases when a signal is added, and two weak signals together weigh more than either alone.
The campaign's policy then decides: ``allow`` (score recorded only), ``flag`` (review queue) or ``block``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from apps.referrals import selectors
from apps.referrals.fingerprints import email_normalize
from apps.referrals.models import FraudPolicy, ReferralCampaign

SIGNAL_WEIGHTS: dict[str, Decimal] = {
    "self_referral": Decimal("1.0"),
    "shared_card": Decimal("0.8"),
    "shared_device": Decimal("0.6"),
    "shared_billing_address": Decimal("0.5"),
    "referral_ring": Decimal("0.4"),
    "velocity": Decimal("0.4"),
    "shared_ip": Decimal("0.3"),
}

SIGNAL_LABELS = {
    "self_referral": _("The referred person looks like the referrer themselves."),
    "shared_card": _("The same payment card as the referrer."),
    "shared_device": _("The same device as the referrer."),
    "shared_billing_address": _("The same billing address as the referrer."),
    "shared_ip": _("The same IP address as the referrer."),
    "referral_ring": _("Shares a device, network, address or card with another person this referrer referred."),
    "velocity": _("The referrer brought in unusually many referrals in a short time."),
}

_SHARED_KIND_SIGNAL = {
    "card": "shared_card",
    "device": "shared_device",
    "billing_address": "shared_billing_address",
    "ip": "shared_ip",
}
_SCORE_QUANTUM = Decimal("0.001")


@dataclass(frozen=True)
class FraudSignal:
    code: str
    weight: Decimal
    detail: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "weight": str(self.weight), "detail": self.detail}


@dataclass(frozen=True)
class FraudAssessment:
    score: Decimal
    signals: tuple[FraudSignal, ...]

    def signals_json(self) -> list[dict[str, Any]]:
        return [signal.as_json() for signal in self.signals]


def fraud_score(signals: Iterable[FraudSignal]) -> FraudAssessment:
    """Noisy-OR of the signals' weights, rounded to 0.001; no signals → 0."""
    ordered = tuple(sorted(signals, key=lambda signal: (-signal.weight, signal.code)))
    clean = Decimal("1")
    for signal in ordered:
        clean *= Decimal("1") - signal.weight
    score = (Decimal("1") - clean).quantize(_SCORE_QUANTUM)
    return FraudAssessment(score=min(max(score, Decimal("0")), Decimal("1")), signals=ordered)


def fraud_policy_outcome(*, policy: str, threshold: Decimal, score: Decimal) -> str:
    """``allow`` below the threshold or under an allow policy; otherwise the policy's ``flag`` or ``block``."""
    if policy == FraudPolicy.ALLOW or score < threshold:
        return FraudPolicy.ALLOW
    return policy


def referral_fraud_assess(
    *,
    campaign: ReferralCampaign,
    referrer: Any,
    referred_member: Any | None,
    referred_email: str,
    fingerprint_hashes: Mapping[str, str],
    now: datetime,
    exclude_referral_id: Any | None = None,
) -> FraudAssessment:
    """Run every check for a referred sign-up and score it. Reads only; writes nothing."""
    signals: list[FraudSignal] = []

    if not campaign.allow_self_referral:
        reason = _self_referral_reason(referrer=referrer, referred_member=referred_member,
                                       referred_email=referred_email)
        if reason:
            signals.append(FraudSignal("self_referral", SIGNAL_WEIGHTS["self_referral"], {"match": reason}))

    hashes = {kind: value for kind, value in fingerprint_hashes.items() if value}
    if hashes:
        referrer_kinds = selectors.fingerprint_kinds_shared_with_member(member=referrer, hashes=hashes)
        for kind in sorted(referrer_kinds):
            code = _SHARED_KIND_SIGNAL[kind]
            signals.append(FraudSignal(code, SIGNAL_WEIGHTS[code], {"kind": kind}))
        ring_kinds = selectors.fingerprint_kinds_shared_with_referrals_of(
            referrer=referrer, hashes=hashes, exclude_referral_id=exclude_referral_id
        )
        if ring_kinds:
            signals.append(FraudSignal("referral_ring", SIGNAL_WEIGHTS["referral_ring"],
                                       {"kinds": sorted(ring_kinds)}))

    since = now - timedelta(hours=campaign.velocity_window_hours)
    recent = selectors.referral_count_by_referrer_since(referrer=referrer, since=since,
                                                        exclude_referral_id=exclude_referral_id)
    # The sign-up being assessed is one more referral in the window.
    if recent + 1 > campaign.velocity_max_referrals:
        signals.append(FraudSignal("velocity", SIGNAL_WEIGHTS["velocity"], {
            "referrals": recent + 1, "limit": campaign.velocity_max_referrals,
            "window_hours": campaign.velocity_window_hours,
        }))

    return fraud_score(signals)


def _self_referral_reason(*, referrer: Any, referred_member: Any | None, referred_email: str) -> str:
    if referred_member is not None and referred_member.customer_id == referrer.customer_id:
        return "customer_id"
    if referrer.email and referred_email and email_normalize(referrer.email) == email_normalize(referred_email):
        return "email"
    return ""
