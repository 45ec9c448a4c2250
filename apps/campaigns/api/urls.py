"""Mounted at ``api/`` by incentiva/urls_tenants.py: /api/campaigns... and /api/participants..., without
trailing slashes."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.campaigns.api.views import CampaignViewSet
from apps.campaigns.api.views_participant import (
    MyCampaignsView,
    MyOffersView,
    MyPointsView,
    MyProgressView,
    MyRedeemView,
    MyTransactionsView,
)

router = SimpleRouter(trailing_slash=False)
router.register("campaigns", CampaignViewSet, basename="campaign")

urlpatterns = [
    *router.urls,
    path("participants/campaigns", MyCampaignsView.as_view(), name="participant-campaigns"),
    path("participants/<uuid:campaign_id>/progress", MyProgressView.as_view(), name="participant-progress"),
    path("participants/<uuid:campaign_id>/points", MyPointsView.as_view(), name="participant-points"),
    path("participants/<uuid:campaign_id>/transactions", MyTransactionsView.as_view(),
         name="participant-transactions"),
    path("participants/<uuid:campaign_id>/offers", MyOffersView.as_view(), name="participant-offers"),
    path("participants/<uuid:campaign_id>/redeem", MyRedeemView.as_view(), name="participant-redeem"),
]
