"""Mounted at ``campaigns/`` by incentiva/urls_tenants.py: the signed-in participant's campaign pages
(apps/campaigns/views/participant.py)."""

from django.urls import path

from apps.campaigns.views.participant import (
    campaign_dashboard,
    campaign_list,
    campaign_live,
    campaign_offer_graphic,
    campaign_redeem,
)

urlpatterns = [
    path("", campaign_list, name="participant-campaigns"),
    path("<uuid:campaign_id>/", campaign_dashboard, name="participant-campaign"),
    path("<uuid:campaign_id>/live/", campaign_live, name="participant-campaign-live"),
    path("<uuid:campaign_id>/redeem/", campaign_redeem, name="participant-campaign-redeem"),
    path("<uuid:campaign_id>/offers/<slug:prize_id>.png", campaign_offer_graphic,
         name="participant-campaign-offer-graphic"),
]
