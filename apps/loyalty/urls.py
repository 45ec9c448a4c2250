"""Mounted at ``me/`` by incentiva/urls_tenants.py: the signed-in member's dashboard."""

from django.urls import path

from apps.loyalty.views import member_dashboard, member_reward_redeem

urlpatterns = [
    path("", member_dashboard, name="member-dashboard"),
    path("redeem", member_reward_redeem, name="member-redeem"),
]
