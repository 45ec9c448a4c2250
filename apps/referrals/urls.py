"""Mounted at ``r/`` by incentiva/urls_tenants.py: the public referral links ``/r/<code>``."""

from django.urls import path

from apps.referrals.views import referral_landing

urlpatterns = [
    path("<str:code>", referral_landing, name="referral-landing"),
]
