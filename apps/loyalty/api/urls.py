"""Mounted at ``api/loyalty-referral/`` by incentiva/urls_tenants.py (next to apps.referrals' routes).

The seed's points paths are explicit (``points/history/<customer id>`` before ``points/<customer id>``);
resources use a router without trailing slashes, like the rest of the API.
"""

from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.loyalty.api.views import (
    EarnRuleViewSet,
    MemberViewSet,
    OrderViewSet,
    PointsViewSet,
    ProgramViewSet,
    RedemptionViewSet,
    RewardViewSet,
    TierViewSet,
)

router = SimpleRouter(trailing_slash=False)
router.register("programs", ProgramViewSet, basename="loyalty-program")
router.register("members", MemberViewSet, basename="loyalty-member")
router.register("earn-rules", EarnRuleViewSet, basename="loyalty-earn-rule")
router.register("tiers", TierViewSet, basename="loyalty-tier")
router.register("rewards", RewardViewSet, basename="loyalty-reward")
router.register("redemptions", RedemptionViewSet, basename="loyalty-redemption")
router.register("orders", OrderViewSet, basename="loyalty-order")

urlpatterns = [
    path("points/award", PointsViewSet.as_view({"post": "award"}), name="loyalty-points-award"),
    path("points/award-bulk", PointsViewSet.as_view({"post": "award_bulk"}), name="loyalty-points-award-bulk"),
    path("points/deduct", PointsViewSet.as_view({"post": "deduct"}), name="loyalty-points-deduct"),
    path("points/redeem", PointsViewSet.as_view({"post": "redeem"}), name="loyalty-points-redeem"),
    path("points/transfer", PointsViewSet.as_view({"post": "transfer"}), name="loyalty-points-transfer"),
    path("points/history/<str:customer_id>", PointsViewSet.as_view({"get": "history"}),
         name="loyalty-points-history"),
    path("points/<str:customer_id>", PointsViewSet.as_view({"get": "balance"}), name="loyalty-points-balance"),
    *router.urls,
]
