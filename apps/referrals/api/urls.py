"""Mounted at ``api/loyalty-referral/`` by incentiva/urls_tenants.py (next to apps.loyalty's routes).

``/referrals`` is the seed's name for referral *campaigns*; individual referrals are ``/referral-records``.
"""

from rest_framework.routers import SimpleRouter

from apps.referrals.api.views import (
    FingerprintViewSet,
    FraudReviewQueueViewSet,
    ReferralCampaignViewSet,
    ReferralRecordViewSet,
    ReferralSignupViewSet,
)

router = SimpleRouter(trailing_slash=False)
router.register("referrals", ReferralCampaignViewSet, basename="referral-campaign")
router.register("referral-signups", ReferralSignupViewSet, basename="referral-signup")
router.register("referral-records", ReferralRecordViewSet, basename="referral-record")
router.register("referral-fingerprints", FingerprintViewSet, basename="referral-fingerprint")
router.register("fraud-review-queue", FraudReviewQueueViewSet, basename="fraud-review-queue")

urlpatterns = router.urls
